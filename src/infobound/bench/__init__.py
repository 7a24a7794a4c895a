"""Benchmarks: each prints a table and writes JSON + PNG through :mod:`infobound.results`."""

"""Bridges to other MI toolkits. Each submodule imports its toolkit lazily; the core never does."""

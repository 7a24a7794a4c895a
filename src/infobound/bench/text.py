"""``infobound bench text``: sentence embeddings of WordNet glosses, InfoNCE vs ML-CPC vs f-MICL at one budget.

The f-MICL paper's text experiment (Lu et al., TMLR 2023, after SimCSE: Gao, Yao & Chen, EMNLP 2021)
trains BERT on a million Wikipedia sentences with dropout noise as the only augmentation and compares
f-MICL with InfoNCE (= SimCSE) on STS. Offline and on CPU, this bench keeps the recipe and swaps the
parts that need a download: the corpus is WordNet 3.0's glosses (:mod:`infobound.data.wordnet`), the
encoder a small transformer or 1-D CNN trained from scratch over a locally counted WordPiece
vocabulary (:mod:`infobound.models.text`), and the evaluation is a linear probe of the 45
lexicographer categories plus *relatedness* (Spearman's ρ between embedding cosine and WordNet path
similarity over fixed synset pairs, the stand-in for STS; :mod:`infobound.eval.text`), each beside
TF-IDF features and the same encoder at random initialisation.

Every objective gets the same encoder, views, batch, epochs, optimiser and seeds: SimCLR's two
views of each definition through one train-mode pass (dropout, plus word dropout, makes them
differ), projection head, and the objective on the projections. Runs are separate processes with
one torch thread each (``workers`` at a time), each in its own directory with checkpoints and
``metrics.json``; finished runs are reused, so an interrupted bench resumes. Output: mean ± std over
seeds as Markdown tables on stdout and in ``text.md``, ``text.json`` and a bar chart ``text.png``.
"""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from infobound.results import (
    format_table,
    read_json,
    save_figure,
    write_json,
    write_text,
)
from infobound.runs import prepare_out

from ._runner import mean_std, run_all
from ._runner import summarise as summarise_runs

# (label, options): InfoNCE is SimCSE's objective; ML-CPC at the α the MNIST-1D bench uses; f-MICL with
# the f-Gaussian similarity (its default) and each divergence of the paper's Table.
OBJECTIVES: list[tuple[str, dict[str, Any]]] = [
    ("InfoNCE (SimCSE)", dict(objective="infonce")),
    ("ML-CPC α=0.1", dict(objective="ml_cpc", alpha=0.1)),
    ("f-MICL KL", dict(objective="fmicl", divergence="kl")),
    ("f-MICL JS", dict(objective="fmicl", divergence="js")),
    ("f-MICL Pearson", dict(objective="fmicl", divergence="pearson")),
    ("f-MICL SH", dict(objective="fmicl", divergence="sq_hellinger")),
    ("f-MICL Tsallis", dict(objective="fmicl", divergence="tsallis")),
    ("f-MICL VLC", dict(objective="fmicl", divergence="vlc")),
]
METRICS = ("linear_acc", "relatedness", "knn_acc", "random_init_linear_acc", "random_init_relatedness",
           "mi_lower_bound", "train_seconds", "cpu_seconds")

# the default size (the whole corpus; not run here: 6-7 CPU-min per epoch estimated from the 20k pilot runs)
FULL = dict(num_train=None, num_labelled=None, num_test=5000, max_length=64, vocab_size=8000, encoder="text_transformer",
            encoder_kwargs=dict(dim=128, layers=2, heads=4, dropout=0.1, token_dropout=0.3), epochs=2, batch_size=256,
            lr=1e-3)
# the setting measured on 2 shared cores (≈ 12 CPU-min a run): the bag of embeddings pre-trained on all ≈ 94k
# training glosses, probes and TF-IDF fit on the 20k labelled ones (docs/text.md "Semi-supervised protocol":
# all glosses and a 30k vocabulary chosen from pilots; 32 epochs since fused Adam halved a step's CPU
# (docs/text.md "Fused Adam"); weighted pooling from the earlier "Recipe search" on 20k glosses; the first two
# words appended (head_tokens=2) and word dropout 0.5 from the fifth session's pilots (docs/text.md "Opening words"))
REDUCED = dict(num_train=None, num_labelled=20000, num_test=5000, max_length=32, vocab_size=30000, encoder="text_cnn",
               encoder_kwargs=dict(dim=128, layers=0, dropout=0.1, token_dropout=0.5, pooling="weighted", head_tokens=2),
               epochs=32, batch_size=128, lr=3e-3)


@dataclass
class RunSpec:
    label: str
    options: dict[str, Any]
    seed: int
    out: Path


def _run_one(spec: RunSpec, splits: Any, settings: dict[str, Any], data_options: dict[str, Any]) -> dict[str, Any]:
    """One pre-training run (one thread); errors are returned, not raised, so one failure does not stop the bench."""
    from ..methods import check_finished_run, train_and_evaluate

    torch.set_num_threads(1)
    for name in ("lightning.pytorch", "lightning.fabric"):  # after the import: Lightning sets INFO on import
        logging.getLogger(name).setLevel(logging.ERROR)
    row: dict[str, Any] = {"config": spec.label, "seed": spec.seed, "error": None}
    done = spec.out / "metrics.json"
    cpu = time.process_time()
    try:
        run = dict(method="simclr", epochs=settings["epochs"], batch_size=settings["batch_size"], seed=spec.seed,
                   few_label_per_class=0, data_options=data_options, lr=settings["lr"], encoder=settings["encoder"],
                   encoder_kwargs={"vocab_size": splits.vocab_size, **settings["encoder_kwargs"]},
                   augment_kwargs={"views": settings["views"]}, **spec.options)
        if done.exists():
            check_finished_run(splits, spec.out, **run)  # a run made before a default changed is not reused
            metrics = read_json(done)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Lightning's worker hints and the InfoNCE ceiling warning, per run
                metrics = train_and_evaluate(splits, spec.out, resume=True, **run)
            metrics["cpu_seconds"] = time.process_time() - cpu  # training + evaluation, this process (one thread)
            write_json(done, metrics)
        row.update({k: metrics.get(k) for k in (*METRICS, "linear_C", "tfidf_linear_acc", "tfidf_relatedness", "mi_ceiling")})
    except Exception:  # noqa: BLE001
        row["error"] = traceback.format_exc(limit=8)
    return row


def _pm(mean: float | None, std: float | None, precision: int = 3) -> str:
    return "—" if mean is None else f"{mean:.{precision}f} ± {std:.{precision}f}"


def summarise(rows: list[dict[str, Any]], labels: list[str]) -> list[dict[str, Any]]:
    """Mean and std over seeds of every metric, one row per objective (in the given order)."""
    return summarise_runs(rows, labels, METRICS)


def _table(summary: list[dict[str, Any]], baselines: dict[str, float]) -> str:
    rows = [{"features": s["config"], "runs": s["runs"], "lexicographer probe": _pm(s["linear_acc"], s["linear_acc_std"]),
             "relatedness ρ": _pm(s["relatedness"], s["relatedness_std"]), "kNN": _pm(s["knn_acc"], s["knn_acc_std"]),
             "MI bound (nats)": _pm(s["mi_lower_bound"], s["mi_lower_bound_std"], 2),
             "CPU s/run": "—" if s["cpu_seconds"] is None else f"{s['cpu_seconds']:.0f}"} for s in summary]
    rows.append({"features": "random init (same encoder)", "runs": baselines.get("random_init_runs", "—"),
                 "lexicographer probe": _pm(baselines.get("random_init_linear_acc"), baselines.get("random_init_linear_acc_std")),
                 "relatedness ρ": _pm(baselines.get("random_init_relatedness"), baselines.get("random_init_relatedness_std"))})
    rows.append({"features": "TF-IDF", "runs": "—", "lexicographer probe": f"{baselines['tfidf_linear_acc']:.3f}",
                 "relatedness ρ": f"{baselines['tfidf_relatedness']:.3f}"})
    if "tfidf_opening_linear_acc" in baselines:
        rows.append({"features": f"TF-IDF + first {baselines['opening_words']} word(s) one-hot", "runs": "—",
                     "lexicographer probe": f"{baselines['tfidf_opening_linear_acc']:.3f}",
                     "relatedness ρ": "—"})
    rows.append({"features": "majority class", "runs": "—", "lexicographer probe": f"{baselines['majority_acc']:.3f}"})
    return format_table(rows, ["features", "runs", "lexicographer probe", "relatedness ρ", "kNN", "MI bound (nats)", "CPU s/run"])


def _plot(summary: list[dict[str, Any]], baselines: dict[str, float], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    panels = [(axes[0], "linear_acc", "lexicographer probe (test accuracy)", "tfidf_linear_acc", "random_init_linear_acc"),
              (axes[1], "relatedness", "relatedness (Spearman ρ vs path similarity)", "tfidf_relatedness",
               "random_init_relatedness")]
    x = np.arange(len(summary))
    for ax, key, name, tfidf, random in panels:
        means = [s[key] if s[key] is not None else 0.0 for s in summary]
        stds = [s[key + "_std"] or 0.0 for s in summary]
        ax.bar(x, means, 0.7, yerr=stds, capsize=3, color="tab:blue", label="learned")
        ax.axhline(baselines[tfidf], color="tab:red", ls="--", label="TF-IDF")
        if key == "linear_acc" and "tfidf_opening_linear_acc" in baselines:
            ax.axhline(baselines["tfidf_opening_linear_acc"], color="tab:red", ls="-.", lw=1,
                       label=f"TF-IDF + first {baselines['opening_words']} word(s)")
        if baselines.get(random) is not None:
            ax.axhline(baselines[random], color="tab:gray", ls=":", label="random init")
        ax.set_xticks(x)
        ax.set_xticklabels([s["config"] for s in summary], rotation=35, ha="right", fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


# a preset's architecture options: dropped when another encoder is named (the bag of embeddings' layers=0
# is no transformer), so that encoder starts from its own defaults; width and dropout carry over
ARCHITECTURE = ("layers", "heads", "ff_dim", "pooling", "kernel_size", "head_tokens")


def resolve_settings(reduced: bool = True, epochs: int | None = None, batch_size: int | None = None,
                     lr: float | None = None, num_train: int | None = -1, encoder: str | None = None,
                     encoder_kwargs: dict[str, Any] | None = None, views: str = "dropout",
                     num_labelled: int | None = -1, vocab_size: int | None = None) -> dict[str, Any]:
    """The preset (``REDUCED`` or ``FULL``) with the given overrides (see :func:`main`); switching the
    encoder drops the preset's architecture options (:data:`ARCHITECTURE`: layers, heads, pooling, ...)."""
    settings: dict[str, Any] = {**(REDUCED if reduced else FULL)}
    preset_kwargs = dict(settings["encoder_kwargs"])
    if encoder is not None and encoder != settings["encoder"]:
        preset_kwargs = {k: v for k, v in preset_kwargs.items() if k not in ARCHITECTURE}
        settings["encoder"] = encoder
    settings["encoder_kwargs"] = {**preset_kwargs, **(encoder_kwargs or {})}
    for key, value in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr), ("vocab_size", vocab_size)):
        if value is not None:
            settings[key] = value
    if num_train != -1:
        settings["num_train"] = num_train
    if num_labelled != -1:
        settings["num_labelled"] = num_labelled
    settings["views"] = views
    return settings


def main(seeds: int = 2, workers: int = 2, reduced: bool = True, epochs: int | None = None,
         batch_size: int | None = None, lr: float | None = None, num_train: int | None = -1,
         num_labelled: int | None = -1, vocab_size: int | None = None, encoder: str | None = None,
         encoder_kwargs: dict[str, Any] | None = None,
         views: str = "dropout", configs: list[str] | None = None, data_dir: str = "/usr/share/wordnet",
         out: Path = Path("results/text"), resume: bool = True, overwrite: bool = False,
         progress: bool | None = None) -> dict[str, Any]:
    """InfoNCE vs ML-CPC vs f-MICL (KL, JS, Pearson, squared Hellinger, Tsallis, VLC) on WordNet glosses.

    Args:
        seeds: training seeds 0 .. seeds-1 per objective (the data split is the same for all: seed 0).
        workers: runs in parallel, one process with one thread each.
        reduced: the setting measured on 2 shared cores (pre-training on all ≈ 94k training glosses, probes
            and TF-IDF on 20,000 labelled ones; 32 tokens, 30,000-piece vocabulary, bag of embeddings =
            text_cnn with 0 layers, weighted pooling, the first two words appended and word dropout 0.5,
            32 epochs, batch 128, ≈ 12 CPU-min a run; probes with C chosen on held-out labelled glosses) instead
            of the default size (all ≈ 94k training glosses labelled, 64 tokens, 2-layer transformer,
            2 epochs, batch 256).
        epochs: overrides the preset's epochs.
        batch_size: overrides the preset's batch size.
        lr: overrides the preset's Adam learning rate.
        num_train: overrides the preset's training glosses (None: all; -1: keep the preset's).
        num_labelled: overrides the preset's labelled glosses: pre-training uses all ``num_train`` glosses,
            the probes and the TF-IDF baseline only this stratified subset of them — the same glosses
            ``num_train=num_labelled`` would keep (None: all are labelled; -1: keep the preset's).
        vocab_size: overrides the preset's WordPiece vocabulary size.
        encoder: overrides the preset's encoder (text_transformer or text_cnn); the preset's architecture
            options (layers, heads, pooling, ...) are then dropped, width and dropout kept.
        encoder_kwargs: overrides of the preset's encoder options (dim, layers, dropout, token_dropout, ...).
        views: dropout (SimCSE), definition_example or lemma_definition.
        configs: only the objectives whose label contains one of these strings (case-insensitive).
        data_dir: the WordNet data files (Debian wordnet-base: /usr/share/wordnet).
        out: output folder: runs/<settings>/<config>/seed<k>/ and text.json, text.md, text.png.
        resume: reuse the finished runs in ``out`` and continue interrupted ones (a run's folder name
            carries every setting that changes it, so other settings start other runs).
        overwrite: delete a non-empty ``out`` first and start over.
        progress: show a progress bar over the runs (default: on a terminal).
    """
    from ..data import load_dataset
    from ..eval.text import random_init_baselines, tfidf_baselines
    from ..models import build_encoder

    torch.set_num_threads(1)
    settings = resolve_settings(reduced, epochs=epochs, batch_size=batch_size, lr=lr, num_train=num_train,
                                encoder=encoder, encoder_kwargs=encoder_kwargs, views=views, num_labelled=num_labelled,
                                vocab_size=vocab_size)
    out = Path(out)
    prepare_out(out, {"bench": "text"}, resume=resume, overwrite=overwrite)
    started = time.perf_counter()
    data_options = {"name": "wordnet", "data_dir": data_dir, "seed": 0, "num_train": settings["num_train"],
                    "num_test": settings["num_test"], "max_length": settings["max_length"],
                    "vocab_size": settings["vocab_size"], "num_labelled": settings["num_labelled"]}
    splits = load_dataset(**data_options)
    # the baselines depend on the data (and the seed) alone: computed once here, shipped to the workers in the cache
    # an encoder that appends its opening words is also compared with TF-IDF given the same word-order cue
    baselines: dict[str, Any] = dict(tfidf_baselines(splits, opening_words=settings["encoder_kwargs"].get("head_tokens", 0)))
    baselines["majority_acc"] = float(torch.bincount(splits.y_test).max() / len(splits.y_test))
    probe_encoder = build_encoder(settings["encoder"], splits.input_shape, vocab_size=splits.vocab_size,
                                  **settings["encoder_kwargs"])
    random_runs = [random_init_baselines(probe_encoder, splits, seed) for seed in range(seeds)]
    for key in ("random_init_linear_acc", "random_init_relatedness"):
        baselines[key], baselines[key + "_std"] = mean_std([r[key] for r in random_runs])
    baselines["random_init_runs"] = seeds

    def keep(label: str) -> bool:
        return not configs or any(c.lower() in label.lower() for c in configs)

    labelled = f"_lab{settings['num_labelled']}" if settings["num_labelled"] is not None else ""
    labelled += f"_v{settings['vocab_size']}" if settings["vocab_size"] != 8000 else ""  # older folders: 8000
    tag = (f"{settings['encoder']}_n{settings['num_train'] or 'all'}{labelled}_L{settings['max_length']}_e{settings['epochs']}"
           f"_b{settings['batch_size']}_lr{settings['lr']:g}"
           f"_{views}_" + "_".join(f"{k}{v}" for k, v in sorted(settings["encoder_kwargs"].items())))
    specs = [RunSpec(label, options, seed, out / "runs" / tag / "".join(ch if ch.isalnum() else "_" for ch in label.lower())
                     / f"seed{seed}") for seed in range(seeds) for label, options in OBJECTIVES if keep(label)]
    # seed-major: an interrupted bench has every objective at seed 0 before any at seed 1
    n_labelled = len(splits.x_train) if splits.labelled is None else len(splits.labelled)
    print(f"bench text: {len(specs)} runs; WordNet glosses {len(splits.x_train)} train ({n_labelled} labelled) / "
          f"{len(splits.x_test)} test, "
          f"{settings['encoder']} {settings['encoder_kwargs']}, {settings['epochs']} epochs, batch "
          f"{settings['batch_size']}, views {views}; {workers} worker(s), one thread each", flush=True)
    rows = run_all(_run_one, [(s, splits, settings, data_options) for s in specs], workers=workers,
                   describe=_describe, desc="bench text", progress=progress)
    order = {(s.label, s.seed): i for i, s in enumerate(specs)}
    rows.sort(key=lambda r: order[(r["config"], r["seed"])])
    summary = summarise(rows, list(dict.fromkeys(s.label for s in specs)))
    header = (f"WordNet 3.0 glosses ({len(splits.x_train)} train, {n_labelled} of them labelled / "
              f"{len(splits.x_test)} test definitions, "
              f"{len(splits.pairs)} relatedness pairs), {settings['encoder']} {settings['encoder_kwargs']}, "
              f"{settings['max_length']} tokens, {settings['epochs']} epochs, batch {settings['batch_size']}, lr {settings['lr']:g}, "
              f"views: {views}; seeds 0..{seeds - 1}, mean ± std")
    text = header + "\n\n" + _table(summary, baselines)
    failures = [r for r in rows if r["error"]]
    if failures:
        text += "\n\nFailed runs:\n" + "\n".join(f"- {r['config']} seed {r['seed']}: {r['error'].strip().splitlines()[-1]}"
                                                 for r in failures)
    print("\n" + text, flush=True)
    results = {"settings": {**settings, "seeds": seeds, "workers": workers, "reduced": reduced, "data": data_options},
               "seconds": time.perf_counter() - started, "baselines": baselines, "objectives": summary, "runs": rows}
    write_json(out / "text.json", results)
    write_text(out / "text.md", text + "\n")
    _plot(summary, baselines, out / "text.png", header if len(header) < 140 else header[:header.index(", views")])
    print(f"\nwrote {out / 'text.json'}, text.md and text.png ({results['seconds']:.0f} s)", flush=True)
    return results


def _describe(row: dict[str, Any]) -> str:
    status = (f"probe {row['linear_acc']:.3f}  relatedness {row['relatedness']:.3f}  {row['train_seconds']:.0f} s"
              if row["error"] is None else "FAILED: " + row["error"].strip().splitlines()[-1])
    return f"{row['config']} seed {row['seed']}: {status}"


__all__ = ["FULL", "OBJECTIVES", "REDUCED", "main", "resolve_settings", "summarise"]

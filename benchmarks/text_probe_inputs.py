"""What a linear probe reads in a trained bag of embeddings: pooled features of its frozen word embeddings.

For a ``text_cnn`` checkpoint with ``layers=0`` (e.g. one of ``bench text``'s runs), probe the lexicographer
category on the bench's data (all glosses, 20k labelled, 30k vocabulary, 32 tokens) from:
``h`` (the encoder's output), ``h`` + max + min over the words (power means, Rücklé et al. 2018), and ``h`` +
the weighted mean of the first k words' embeddings (k = 1, 2, 3, 4, 5, 8). C = 1; "held-out" fits on a
stratified 80 % of the labelled glosses and scores the other 20 % (:func:`infobound.eval.holdout_split`),
"test" fits on all labelled glosses and scores the test split. This is the analysis behind
``TextCNN(head_tokens=...)`` (docs/text.md, "Opening words").

    nice -n 10 python benchmarks/text_probe_inputs.py results/text-e32/runs/<tag>/f_micl_js/seed0/model.ckpt
"""

from __future__ import annotations

import sys

import torch

from infobound.data.wordnet import load_wordnet
from infobound.eval import holdout_split, linear_probe
from infobound.eval.text import path_similarities, relatedness_spearman
from infobound.methods.train import load_method
from infobound.models.text import pool_weights, token_ids
from infobound.results import print_table

WINDOWS = (1, 2, 3, 4, 5, 8)


@torch.no_grad()
def pooled_features(encoder: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """``h`` and other poolings of the frozen word embeddings of ``x``'s definitions."""
    ids = token_ids(x)
    mask = ids != 0
    embedded = encoder.embed(ids)
    scores = encoder.token_score(ids).squeeze(-1) if encoder.token_score is not None else None
    big = torch.finfo(embedded.dtype).max
    out = {"h": encoder(x)[:, :encoder.embed.embedding_dim],
           "max": embedded.masked_fill(~mask.unsqueeze(-1), -big).amax(1),
           "min": embedded.masked_fill(~mask.unsqueeze(-1), big).amin(1)}
    positions = torch.arange(ids.shape[1])
    for k in WINDOWS:
        out[f"first {k}"] = torch.bmm(pool_weights(mask & (positions < k), scores).unsqueeze(1), embedded).squeeze(1)
    return out


def main(checkpoint: str) -> None:
    torch.set_num_threads(1)
    splits = load_wordnet("/usr/share/wordnet", num_train=None, num_test=5000, max_length=32, vocab_size=30000,
                          num_labelled=20000)
    encoder = load_method(checkpoint).encoder.eval()
    if getattr(encoder, "convs", None) is None or len(encoder.convs):
        raise ValueError(f"{checkpoint}: expected a text_cnn bag of embeddings (layers=0)")
    x, y = splits.labelled_train()
    train, test = pooled_features(encoder, x), pooled_features(encoder, splits.x_test)
    fit, val = holdout_split(y)
    similarities = path_similarities(splits)
    inputs = {"h": ["h"], "h + max + min": ["h", "max", "min"], **{f"h + first {k}": ["h", f"first {k}"] for k in WINDOWS}}
    rows = []
    for name, keys in inputs.items():
        a, b = torch.cat([train[k] for k in keys], 1), torch.cat([test[k] for k in keys], 1)
        rows.append({"probe input": name, "width": a.shape[1],
                     "held-out": linear_probe(a[fit], y[fit], a[val], y[val]),
                     "test": linear_probe(a, y, b, splits.y_test),
                     "relatedness": relatedness_spearman(b, splits.pairs, similarities)})
    print_table(rows, precision=3)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

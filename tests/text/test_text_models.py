"""Text encoders: padding does not change an embedding, dropout makes the views, stages end in h."""

from __future__ import annotations

import pytest
import torch

from infobound.models import build_encoder
from infobound.models.text import TextCNN, TextTransformer, mean_pool

ENCODERS = [("text_transformer", dict(dim=16, layers=2, heads=2)), ("text_cnn", dict(dim=16, layers=2)),
            ("text_cnn", dict(dim=16, layers=0))]  # layers=0: the bag of embeddings


def _ids(rows: list[list[int]], length: int) -> torch.Tensor:
    out = torch.zeros(len(rows), length, dtype=torch.int32)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r)
    return out


@pytest.mark.parametrize("name, kw", ENCODERS)
def test_padding_does_not_change_the_embedding(name, kw):
    enc = build_encoder(name, (2, 12), vocab_size=30, **kw).eval()
    sentence = [4, 9, 17, 3, 22]
    alone = enc(_ids([sentence], 5))  # no padding at all: the reference
    padded = enc(_ids([sentence, [7] * 12, [5, 6]], 12))
    assert torch.allclose(padded[0], alone[0], atol=1e-5)
    # [N, 2, L] (definition, example) pairs embed their definition
    pairs = torch.stack([_ids([sentence], 12), _ids([[8, 8, 8]], 12)], dim=1)
    assert torch.allclose(enc(pairs)[0], alone[0], atol=1e-5)


@pytest.mark.parametrize("name, kw", ENCODERS)
def test_dropout_makes_two_views_only_in_train_mode(name, kw):
    enc = build_encoder(name, (2, 10), vocab_size=30, dropout=0.1, **kw)
    x = _ids([[4, 9, 17, 3], [5, 6, 7, 8, 9, 10]], 10)
    enc.train()
    h = enc(torch.cat([x, x]))
    assert not torch.allclose(h[:2], h[2:])  # the same sentences, different dropout masks
    enc.eval()
    h = enc(torch.cat([x, x]))
    assert torch.equal(h[:2], h[2:])


@pytest.mark.parametrize("name, kw", ENCODERS)
def test_token_dropout_keeps_at_least_one_token_and_is_off_in_eval(name, kw):
    enc = build_encoder(name, (10,), vocab_size=30, dropout=0.0, token_dropout=0.9, **kw)
    x = _ids([[4], [5, 6, 7, 8, 9, 10]], 10)
    enc.train()
    h = enc(x)
    assert torch.isfinite(h).all()
    enc.eval()
    reference = build_encoder(name, (10,), vocab_size=30, dropout=0.0, **kw)
    reference.load_state_dict(enc.state_dict())
    assert torch.equal(enc(x), reference.eval()(x))


@pytest.mark.parametrize("name, kw", ENCODERS)
def test_stages_end_in_h_and_random_init_rebuilds(name, kw):
    enc = build_encoder(name, (2, 8), vocab_size=30, **kw).eval()
    x = _ids([[4, 9, 17], [5, 6]], 8)
    blocks = enc.forward_stages(x)
    h = enc(x)
    assert len(blocks) == max(kw["layers"], 1) and torch.equal(blocks[-1], h) and h.shape == (2, enc.output_dim)
    torch.manual_seed(3)
    a = type(enc)(**enc.config)
    torch.manual_seed(3)
    b = build_encoder(name, (2, 8), vocab_size=30, **kw)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_embedding_tables_start_small():
    enc = TextTransformer((8,), vocab_size=500, dim=32, heads=2)
    weight = enc.embed.weight.detach()
    assert 0.015 < float(weight[1:].std()) < 0.025 and float(weight[0].abs().sum()) == 0.0


def test_mean_pool_against_a_loop():
    z = torch.randn(3, 5, 4)
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0]], dtype=torch.bool)
    expected = torch.stack([z[i][mask[i]].mean(0) for i in range(3)])
    assert torch.allclose(mean_pool(z, mask), expected)


def test_bad_inputs():
    with pytest.raises(ValueError, match="divisible by heads"):
        TextTransformer((8,), vocab_size=30, dim=10, heads=4)
    with pytest.raises(ValueError, match="odd kernel_size"):
        TextCNN((8,), vocab_size=30, kernel_size=4)
    enc = TextCNN((8,), vocab_size=30)
    with pytest.raises(ValueError, match="integer token ids"):
        enc(torch.randn(2, 8))
    with pytest.raises(ValueError, match="exceed"):
        TextTransformer((4,), vocab_size=30, dim=8, heads=2)(torch.ones(1, 6, dtype=torch.long))

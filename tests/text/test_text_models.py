"""Text encoders: padding does not change an embedding, dropout makes the views, stages end in h."""

from __future__ import annotations

import pytest
import torch

from infobound.models import build_encoder
from infobound.models.text import TextCNN, TextTransformer, mean_pool, weighted_pool

ENCODERS = [("text_transformer", dict(dim=16, layers=2, heads=2)), ("text_cnn", dict(dim=16, layers=2)),
            ("text_cnn", dict(dim=16, layers=0)),  # layers=0: the bag of embeddings
            ("text_cnn", dict(dim=16, layers=0, pooling="weighted")),
            ("text_cnn", dict(dim=16, layers=0, pooling="weighted", sparse_embeddings=True)),
            ("text_cnn", dict(dim=16, layers=0, pooling="weighted", head_tokens=2)),  # + the opening words
            ("text_cnn", dict(dim=16, layers=2, head_tokens=1))]


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


def test_weighted_pool_against_a_loop():
    z, g = torch.randn(3, 5, 4), torch.randn(3, 5)
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0]], dtype=torch.bool)
    expected = []
    for i in range(3):
        w = [float(torch.exp(g[i, t])) if mask[i, t] else 0.0 for t in range(5)]
        expected.append(sum(w[t] * z[i, t] for t in range(5)) / sum(w))
    assert torch.allclose(weighted_pool(z, mask, g), torch.stack(expected), atol=1e-6)
    assert torch.allclose(weighted_pool(z, mask, torch.zeros(3, 5)), mean_pool(z, mask), atol=1e-6)


def test_weighted_pooling_starts_as_the_mean_and_learns_per_word_scores():
    weighted = TextCNN((6,), vocab_size=30, dim=8, layers=0, pooling="weighted", dropout=0.0).eval()
    plain = TextCNN((6,), vocab_size=30, dim=8, layers=0, dropout=0.0).eval()
    plain.load_state_dict({k: v for k, v in weighted.state_dict().items() if not k.startswith("token_score")})
    x = _ids([[4, 9, 17], [5, 6, 7, 8]], 6)
    assert torch.allclose(weighted(x), plain(x), atol=1e-6)  # random init: the same encoder as mean pooling
    with torch.no_grad():
        weighted.token_score.weight[9] = 50.0  # word 9 takes all the weight of the first sentence
    h = weighted(x)
    assert torch.allclose(h[0], plain(_ids([[9]], 6))[0], atol=1e-5) and torch.allclose(h[1], plain(x)[1], atol=1e-6)


@pytest.mark.parametrize("layers", [0, 1])
def test_head_tokens_append_the_opening_words_pooled_on_their_own(layers):
    enc = TextCNN((8,), vocab_size=30, dim=8, layers=layers, pooling="weighted", dropout=0.0, head_tokens=2).eval()
    plain = TextCNN((8,), vocab_size=30, dim=8, layers=layers, pooling="weighted", dropout=0.0).eval()
    plain.load_state_dict({k: v for k, v in enc.state_dict().items() if not k.startswith("head_norm")})
    with torch.no_grad():
        enc.token_score.weight.normal_()
        plain.token_score.weight.copy_(enc.token_score.weight)
        enc.head_norm.weight.normal_()
    sentences = [[4, 9, 17, 3], [5], [6, 7, 8, 9, 10, 11]]
    h = enc(_ids(sentences, 8))
    assert enc.output_dim == 16 and h.shape == (3, 16)
    assert torch.allclose(h[:, :8], plain(_ids(sentences, 8)), atol=1e-5)  # the sentence part is unchanged
    for i, s in enumerate(sentences):  # the head part, by hand: the weighted mean of the first two positions
        ids = torch.tensor(s)
        z = enc.embed.weight[ids]  # [len, dim]
        for conv in enc.convs:  # the residual convolution over the sentence alone (no padding)
            z = torch.nn.functional.gelu(conv(z.T.unsqueeze(0))[0].T) + z
        w = torch.softmax(enc.token_score.weight[ids[:2], 0], 0)
        assert torch.allclose(h[i, 8:], enc.head_norm((w.unsqueeze(1) * z[:2]).sum(0)), atol=1e-5)
    # the first two words decide the head part: another ending changes only the sentence part
    other = enc(_ids([[4, 9, 20, 21, 22]], 8))[0]
    if layers == 0:
        assert torch.allclose(other[8:], h[0, 8:], atol=1e-5) and not torch.allclose(other[:8], h[0, :8])


def test_bad_inputs():
    with pytest.raises(ValueError, match="pooling"):
        TextCNN((8,), vocab_size=30, pooling="max")
    with pytest.raises(ValueError, match="divisible by heads"):
        TextTransformer((8,), vocab_size=30, dim=10, heads=4)
    with pytest.raises(ValueError, match="odd kernel_size"):
        TextCNN((8,), vocab_size=30, kernel_size=4)
    enc = TextCNN((8,), vocab_size=30)
    with pytest.raises(ValueError, match="integer token ids"):
        enc(torch.randn(2, 8))
    with pytest.raises(ValueError, match="exceed"):
        TextTransformer((4,), vocab_size=30, dim=8, heads=2)(torch.ones(1, 6, dtype=torch.long))

"""Encoders and heads: output shapes, ``output_dim`` and the per-stage block features."""

import pytest
import torch

from infobound.models.encoders import available_encoders, build_encoder, default_encoder
from infobound.models.heads import ProjectionHead, ReconstructionDecoder


@pytest.mark.parametrize("name, shape, blocks", [
    ("mlp", (40,), [256, 256]),
    ("mlp", (1, 8, 8), [256, 256]),
    ("cnn1d", (40,), [32, 32, 64]),
    ("cnn1d", (2, 33), [32, 32, 64]),
    ("resnet18_cifar", (3, 32, 32), [64, 128, 256, 512]),
])
def test_encoder_shapes_and_block_features(name, shape, blocks):
    kw = {"width": 8} if name == "resnet18_cifar" else {}
    enc = build_encoder(name, shape, **kw)
    x = torch.randn(3, *shape)
    h = enc(x)
    h2, feats = enc(x, return_blocks=True)
    width = 8 / 64 if name == "resnet18_cifar" else 1
    assert h.shape == (3, enc.output_dim) and torch.allclose(h, h2)
    assert [f.shape for f in feats] == [(3, int(c * width)) for c in blocks]


def test_resnet18_is_the_cifar_variant():
    enc = build_encoder("resnet18_cifar", (3, 32, 32))
    assert enc.output_dim == 512
    assert 11.0e6 < sum(p.numel() for p in enc.parameters()) < 11.3e6  # ResNet-18 without its fc layer


def test_registry_and_defaults():
    assert set(available_encoders()) == {"mlp", "cnn1d", "resnet18_cifar", "text_transformer", "text_cnn"}
    with pytest.raises(ValueError, match="unknown encoder"):
        build_encoder("vit", (3, 32, 32))
    assert default_encoder((40,)) == "cnn1d"
    assert default_encoder((3, 32, 32)) == "resnet18_cifar"
    assert default_encoder((1, 8, 8)) == "mlp"


def test_heads():
    head = ProjectionHead(128, hidden_dim=64, out_dim=32)
    assert head(torch.randn(5, 128)).shape == (5, 32)
    assert ProjectionHead(16, layers=1, out_dim=4)(torch.randn(2, 16)).shape == (2, 4)
    dec = ReconstructionDecoder(128, (1, 8, 8))
    assert dec(torch.randn(5, 128)).shape == (5, 1, 8, 8)

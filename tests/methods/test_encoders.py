"""Encoders and heads: output shapes, ``output_dim`` and the stage interface (the last stage is h)."""

import pytest
import torch

from torch import nn

from infobound.models.encoders import available_encoders, build_encoder, default_encoder, encoder_stages
from infobound.models.heads import ProjectionHead, ReconstructionDecoder


@pytest.mark.parametrize("name, shape, stages", [
    ("mlp", (40,), [256, 256, 128]),
    ("mlp", (1, 8, 8), [256, 256, 128]),
    ("cnn1d", (40,), [32, 32, 64, 128]),
    ("cnn1d", (2, 33), [32, 32, 64, 128]),
    ("resnet18_cifar", (3, 32, 32), [64, 128, 256, 512]),
    ("vit", (40,), [64, 64, 64, 64]),
    ("vit", (1, 28, 28), [64, 64, 64, 64]),
])
def test_encoder_shapes_and_stages_end_with_h(name, shape, stages):
    kw = {"width": 8} if name == "resnet18_cifar" else {}
    enc = build_encoder(name, shape, **kw).eval()
    x = torch.randn(3, *shape)
    h = enc(x)
    feats = enc.forward_stages(x)
    width = 8 / 64 if name == "resnet18_cifar" else 1
    assert h.shape == (3, enc.output_dim) and torch.equal(h, feats[-1])
    assert [f.shape for f in feats] == [(3, int(c * width)) for c in stages]
    assert torch.equal(encoder_stages(enc, x)[-1], h)


@pytest.mark.parametrize("name, shape", [("mlp", (40,)), ("cnn1d", (40,)), ("resnet18_cifar", (3, 16, 16)), ("vit", (40,))])
def test_every_parameter_that_makes_h_is_reached_by_the_last_three_stages(name, shape):
    """LBE regularises the last three stages: the layers that produce h must get its gradient (InfoCL)."""
    enc = build_encoder(name, shape, **({"width": 4} if name == "resnet18_cifar" else {}))
    sum(s.pow(2).sum() for s in enc.forward_stages(torch.randn(4, *shape))[-3:]).backward()
    missing = [n for n, p in enc.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    # the stages before the last three may be untouched; the head that makes h never is
    assert not [n for n in missing if n.startswith(("out.", "head."))], missing
    makes_h = {"mlp": lambda: enc.out, "cnn1d": lambda: enc.head, "resnet18_cifar": lambda: enc.stages[-1],
               "vit": lambda: enc.norm}[name]()
    assert all(p.grad is not None for p in makes_h.parameters())


def test_stages_of_a_plain_module_and_bad_stage_lists():
    plain = nn.Sequential(nn.Flatten(), nn.Linear(6, 4))
    x = torch.randn(5, 2, 3)
    (only,) = encoder_stages(plain, x)
    assert torch.equal(only, plain(x))

    class Wrong(nn.Module):
        output_dim = 4

        def forward_stages(self, x):
            return [x.flatten(1)]  # last stage is 6 wide, not output_dim

    with pytest.raises(ValueError, match="output_dim = 4"):
        encoder_stages(Wrong(), x)


def test_resnet18_is_the_cifar_variant():
    enc = build_encoder("resnet18_cifar", (3, 32, 32))
    assert enc.output_dim == 512
    assert 11.0e6 < sum(p.numel() for p in enc.parameters()) < 11.3e6  # ResNet-18 without its fc layer


def test_registry_and_defaults():
    assert set(available_encoders()) == {"mlp", "cnn1d", "resnet18_cifar", "vit", "text_transformer", "text_cnn"}
    with pytest.raises(ValueError, match="unknown encoder"):
        build_encoder("no_such_encoder", (3, 32, 32))
    with pytest.raises(ValueError, match="patch_size"):
        build_encoder("vit", (42,))
    assert default_encoder((40,)) == "cnn1d"
    assert default_encoder((3, 32, 32)) == "resnet18_cifar"
    assert default_encoder((1, 8, 8)) == "mlp"


def test_heads():
    head = ProjectionHead(128, hidden_dim=64, out_dim=32)
    assert head(torch.randn(5, 128)).shape == (5, 32)
    assert ProjectionHead(16, layers=1, out_dim=4)(torch.randn(2, 16)).shape == (2, 4)
    dec = ReconstructionDecoder(128, (1, 8, 8))
    assert dec(torch.randn(5, 128)).shape == (5, 1, 8, 8)

"""Every zoo architecture builds, runs a tiny batch and reports its penultimate feature size."""

from functools import lru_cache

import pytest
import torch

from infobound.models.zoo import CRD_PAIRS, available_models, build_model, canonical_name

SMALL = ["mlp_large", "mlp_small", "cnn1d_large", "cnn1d_small"]
CIFAR = [m for m in available_models() if m not in SMALL]


@lru_cache(maxsize=None)
def cifar_model(name):
    return build_model(name, 100, (3, 32, 32)).eval()  # built once, shared by the tests below


@pytest.mark.parametrize("name", CIFAR)
def test_cifar_architectures_forward_shapes(name):
    model = cifar_model(name)
    with torch.no_grad():
        logits, feats = model(torch.randn(2, 3, 32, 32), return_features=True)
        plain = model(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 100) and plain.shape == (2, 100)
    assert feats.shape == (2, model.feature_dim)


@pytest.mark.parametrize("name", SMALL)
@pytest.mark.parametrize("shape", [(40,), (1, 40), (1, 8, 8)])
def test_small_models_take_signals_and_digits(name, shape):
    model = build_model(name, 10, shape).eval()
    with torch.no_grad():
        logits, feats = model(torch.randn(3, *shape), return_features=True)
    assert logits.shape == (3, 10) and feats.shape == (3, model.feature_dim)


def test_crd_parameter_counts_match_the_paper_architectures():
    # Sizes of CRD's CIFAR-100 models (millions of parameters), as their code builds them.
    expected = {"resnet56": 0.86, "resnet20": 0.28, "resnet110": 1.74, "resnet32x4": 7.43, "resnet8x4": 1.23,
                "wrn_40_2": 2.26, "wrn_16_2": 0.70, "wrn_40_1": 0.57, "vgg13": 9.46, "vgg8": 3.97,
                "mobilenetv2": 0.81, "shufflev1": 0.95, "shufflev2": 1.36}
    for name, millions in expected.items():
        count = sum(p.numel() for p in cifar_model(name).parameters()) / 1e6
        assert count == pytest.approx(millions, abs=0.011), name


def test_names_and_pairs():
    assert canonical_name("MobileNetV2") == "mobilenetv2"
    assert canonical_name("wrn-40-2") == "wrn_40_2"
    assert canonical_name("ShuffleV1") == "shufflev1"
    assert len(CRD_PAIRS) == 13
    assert all(t in available_models() and s in available_models() for t, s in CRD_PAIRS)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet9000", 10, (3, 32, 32))
    with pytest.raises(ValueError, match=r"images \[C, H, W\]"):
        build_model("resnet20", 10, (40,))
    with pytest.raises(ValueError, match="num_classes"):
        build_model("mlp_small", 1, (40,))

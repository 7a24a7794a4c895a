"""Batched augmentations: shapes, device, determinism from a seeded generator, what each op does."""

import pytest
import torch

from infobound.data import ImageAugment, SignalAugment, build_augmentation


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_signal_augment_shapes_and_determinism():
    x = torch.randn(16, 40)
    aug = SignalAugment()
    a, b = aug(x, _gen(0)), aug(x, _gen(0))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, aug(x, _gen(1)))
    assert aug(x.unsqueeze(1), _gen(0)).shape == (16, 1, 40)
    with pytest.raises(ValueError):
        aug(torch.randn(2, 1, 1, 40))


def test_signal_shift_is_circular_and_per_sample():
    x = torch.arange(10.0).repeat(64, 1)
    out = SignalAugment(max_shift=3, scale=(1, 1), noise=0, mask_fraction=0, shear=0)(x, _gen(0))
    for row in out:  # every row is a rotation of 0..9 by at most 3 steps
        assert any(torch.equal(row, torch.roll(x[0], s)) for s in range(-3, 4))
    assert len({tuple(r.tolist()) for r in out}) > 1


def test_signal_mask_zeroes_a_window():
    out = SignalAugment(max_shift=0, scale=(1, 1), noise=0, mask_fraction=0.25, mask_prob=1.0, shear=0)(torch.ones(8, 40), _gen(0))
    assert ((out == 0).sum(1) == 10).all()


def test_signal_shear_adds_a_linear_trend_of_bounded_slope():
    x = torch.zeros(256, 40)
    out = SignalAugment(max_shift=0, scale=(1, 1), noise=0, mask_fraction=0, shear=2.0)(x, _gen(0))
    ramp = torch.linspace(-0.5, 0.5, 40)
    slope = out[:, -1] - out[:, 0]  # the trend spans one unit of linspace(-0.5, 0.5)
    assert torch.allclose(out, slope[:, None] * ramp[None], atol=1e-5)  # exactly c · ramp per sample
    assert slope.abs().max() <= 1.0 + 1e-5 and slope.abs().max() > 0.9 and slope.std() > 0.3  # c ~ U(-1, 1)


def test_signal_stretch_resamples_about_the_centre():
    x = torch.zeros(64, 41)
    x[:, 20] = 1.0  # a spike at the centre stays there
    x[:, 25] = 1.0  # a spike 5 steps right moves to 5·s
    same = SignalAugment(max_shift=0, scale=(1, 1), noise=0, mask_fraction=0, shear=0, stretch=(1.0, 1.0))(x, _gen(0))
    assert torch.equal(same, x)
    out = SignalAugment(max_shift=0, scale=(1, 1), noise=0, mask_fraction=0, shear=0, stretch=(2.0, 2.0))(x, _gen(0))
    assert torch.allclose(out[:, 20], torch.ones(64))
    assert torch.allclose(out[:, 30], torch.ones(64)) and torch.allclose(out[:, 29], torch.full((64,), 0.5))  # x[24.5]
    assert float(out[:, 22:29].abs().max()) == 0.0 and float(out[:, 32:].abs().max()) == 0.0  # spikes widen, x2
    assert SignalAugment(stretch=(0.8, 1.25))(torch.randn(512, 40), _gen(1)).isfinite().all()
    with pytest.raises(ValueError, match="stretch"):
        SignalAugment(stretch=(0.0, 1.0))


def test_default_image_augmentation_by_kind_of_image():
    steps = lambda aug: [type(m).__name__ for m in aug.pipeline.children()]  # noqa: E731
    mnist, fashion = build_augmentation("mnist", (1, 28, 28)), build_augmentation("fashion_mnist", (1, 28, 28))
    assert "RandomHorizontalFlip" not in steps(mnist) and "RandomHorizontalFlip" in steps(fashion)  # digits mirror badly
    assert "RandomGrayscale" not in steps(fashion) and "RandomGaussianBlur" not in steps(fashion)
    assert "RandomGaussianBlur" in steps(build_augmentation("image_folder", (3, 96, 96)))  # large: blur
    assert "RandomGaussianBlur" not in steps(build_augmentation("cifar10", (3, 32, 32)))
    assert {"ColorJitter", "RandomGrayscale"} <= set(steps(build_augmentation("cifar10", (3, 32, 32))))
    gray = fashion(torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8), _gen(0))
    assert gray.shape == (8, 1, 28, 28) and 0 <= float(gray.min()) and float(gray.max()) <= 1.0


def test_image_augment_shapes_dtype_determinism_and_global_rng_untouched():
    x = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    aug = build_augmentation("cifar10", (3, 32, 32))
    state = torch.get_rng_state()
    a, b = aug(x, _gen(0)), aug(x, _gen(0))
    assert torch.equal(torch.get_rng_state(), state)
    assert a.shape == (6, 3, 32, 32) and a.dtype == torch.float32 and torch.equal(a, b)
    assert not torch.equal(a, aug(x, _gen(1)))


def test_digits_augment_keeps_single_channel():
    aug = build_augmentation("digits", (1, 8, 8))
    assert isinstance(aug, ImageAugment) and aug(torch.rand(4, 1, 8, 8), _gen(0)).shape == (4, 1, 8, 8)
    assert isinstance(build_augmentation("mnist1d", (40,)), SignalAugment)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_augmentations_stay_on_the_batch_device():
    g = torch.Generator(device="cuda").manual_seed(0)
    assert SignalAugment()(torch.randn(4, 40, device="cuda"), g).device.type == "cuda"
    img = build_augmentation("cifar10", (3, 32, 32)).cuda()
    assert img(torch.rand(4, 3, 32, 32, device="cuda"), g).device.type == "cuda"

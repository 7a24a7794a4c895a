"""Default image augmentation per kind of image: kind detection, what colour jitter does, user overrides."""

import json

import pytest
import torch

from infobound.data import ImageAugment, build_augmentation, image_kind


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _steps(aug):
    return [type(m).__name__ for m in aug.pipeline.children()]


def _step(aug, name):
    return next(m for m in aug.pipeline.children() if type(m).__name__ == name)


@pytest.mark.parametrize("shape, kind", [
    ((1, 28, 28), "grayscale-small"), ((1, 8, 8), "grayscale-small"), ((1, 64, 64), "grayscale-large"),
    ((3, 32, 32), "colour-small"), ((3, 96, 96), "colour-large"), ((3, 63, 500), "colour-small"),  # shorter side
    ((1, 64, 80), "grayscale-large"), ((4, 32, 32), "grayscale-small"),  # not RGB: no colour ops
])
def test_image_kind_from_channels_and_shorter_side(shape, kind):
    assert image_kind(shape).name == kind


@pytest.mark.parametrize("shape", [(28, 28), (1, 0, 28), (1, 1, 28, 28)])
def test_image_kind_rejects_non_images(shape):
    with pytest.raises(ValueError, match="input_shape"):
        image_kind(shape)


# What each kind's default pipeline must hold, written out by hand from docs/ssl.md's table
# ("Augmentation defaults by image kind"), not read from IMAGE_DEFAULTS.
EXPECTED = {
    (1, 28, 28): ["RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter"],
    (1, 64, 64): ["RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter", "RandomGaussianBlur"],
    (3, 32, 32): ["RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter", "RandomGrayscale"],
    (3, 96, 96): ["RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter", "RandomGrayscale", "RandomGaussianBlur"],
}


@pytest.mark.parametrize("shape", list(EXPECTED))
def test_default_pipeline_follows_the_kind(shape):
    aug = build_augmentation("image_folder", shape)
    assert _steps(aug) == EXPECTED[shape]
    crop = _step(aug, "RandomResizedCrop")
    assert tuple(crop.flags["size"]) == shape[1:] and tuple(map(float, crop._param_generator.scale)) == (0.2, 1.0)
    jitter = _step(aug, "ColorJitter")
    if shape[0] == 1:  # saturation and hue mean nothing for one channel
        assert jitter._param_generator.saturation in (0, (1.0, 1.0)) and jitter._param_generator.hue in (0, (0.0, 0.0))
    else:
        assert jitter._param_generator.hue not in (0, (0.0, 0.0)) and jitter._param_generator.saturation != 0
        assert _step(aug, "RandomGrayscale").p == 0.5  # measured: 0.5 beat SimCLR's 0.2 on the colour stand-in
    out = aug(torch.randint(0, 256, (4, *shape), dtype=torch.uint8), _gen(0))
    assert out.shape == (4, *shape) and out.dtype == torch.float32


def _two_tone(n=64, side=32, seed=0):
    """Flat-coloured squares on flat-coloured backgrounds: ``bg + (fg − bg) · mask`` with mid-range tints."""
    g = _gen(seed)
    mask = torch.zeros(n, 1, side, side)
    for i in range(n):  # squares of different sizes and places
        a, b = torch.randint(2, side // 2, (2,), generator=g).tolist()
        w = int(torch.randint(6, side // 2, (1,), generator=g))
        mask[i, :, a:a + w, b:b + w] = 1.0
    fg, bg = 0.25 + 0.5 * torch.rand(n, 3, 1, 1, generator=g), 0.25 + 0.5 * torch.rand(n, 3, 1, 1, generator=g)
    return bg + (fg - bg) * mask, mask.bool()


def test_colour_jitter_changes_colour_but_keeps_shape():
    x, mask = _two_tone()
    aug = ImageAugment(32, crop_scale=(1.0, 1.0), flip=False, jitter=0.8, jitter_prob=1.0, grayscale_prob=0.0)
    out = aug(x, _gen(1))
    # colour statistics move: per-image mean colour and its chromatic part (mean minus its gray level)
    mean_in, mean_out = x.mean((2, 3)), out.mean((2, 3))
    assert ((mean_out - mean_in).abs().max(1).values > 0.03).float().mean() > 0.8
    chroma_in, chroma_out = mean_in - mean_in.mean(1, keepdim=True), mean_out - mean_out.mean(1, keepdim=True)
    assert ((chroma_out - chroma_in).abs().max(1).values > 0.02).float().mean() > 0.7
    # shape kept: each image is still flat on the square and flat off it, the same pixels as before
    m = mask.expand_as(out)
    for img, mk in zip(out, m):
        assert float(img[mk].view(3, -1).std(1).max()) < 1e-4 and float(img[~mk].view(3, -1).std(1).max()) < 1e-4
    inside = out.masked_fill(~m, 0).sum((2, 3)) / m.sum((2, 3))
    distinct = inside - out.masked_fill(m, 0).sum((2, 3)) / (~m).sum((2, 3))
    assert (distinct.abs().max(1).values > 0.02).float().mean() > 0.9  # the square stays visible


def test_random_grayscale_equalises_channels_only_on_colour_images():
    x, _ = _two_tone(16)
    out = ImageAugment(32, crop_scale=(1.0, 1.0), flip=False, jitter=0.0, grayscale_prob=1.0)(x, _gen(0))
    assert torch.allclose(out[:, 0], out[:, 1], atol=1e-6) and torch.allclose(out[:, 1], out[:, 2], atol=1e-6)
    assert "RandomGrayscale" not in _steps(ImageAugment(32, grayscale_prob=1.0, channels=1))


def test_user_override_wins_over_the_kind_default():
    aug = build_augmentation("image_folder", (3, 96, 96), blur_prob=0.0, grayscale_prob=0.0, crop_scale=(0.5, 1.0))
    assert _steps(aug) == ["RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter"]
    assert tuple(map(float, _step(aug, "RandomResizedCrop")._param_generator.scale)) == (0.5, 1.0)
    assert "ColorJitter" not in _steps(build_augmentation("fashion_mnist", (1, 28, 28), jitter=0.0))
    assert "RandomHorizontalFlip" in _steps(build_augmentation("mnist", (1, 28, 28), flip=True))  # dataset rule too
    with pytest.raises(ValueError, match=r"augment_kwargs: \['blur'\] are not ImageAugment settings"):
        build_augmentation("image_folder", (3, 32, 32), blur=0.5)
    with pytest.raises(ValueError, match=r"augment_kwargs: \['shift'\] are not SignalAugment settings"):
        build_augmentation("mnist1d", (40,), shift=3)


def test_cli_augment_kwargs_reach_the_trained_module(tmp_path):
    from infobound.cli import main
    from infobound.methods.train import load_method

    argv = ["pretrain", "--dataset", "digits", "--num_samples", "400", "--epochs", "1", "--batch_size", "64",
            "--encoder", "mlp",
            "--proj_hidden", "32", "--proj_dim", "16", "--few_label_per_class", "0", "--progress", "false",
            "--augment_kwargs", json.dumps({"crop_scale": [0.9, 1.0], "flip": True}), "--out", str(tmp_path / "run")]
    main(argv)
    aug = load_method(tmp_path / "run" / "model.ckpt").augment  # rebuilt from the stored hyper-parameters
    assert "RandomHorizontalFlip" in _steps(aug)  # digits are not flipped by default
    assert tuple(map(float, _step(aug, "RandomResizedCrop")._param_generator.scale)) == pytest.approx((0.9, 1.0))
    with pytest.raises(SystemExit, match="not ImageAugment settings"):
        main(argv[:-1] + [str(tmp_path / "bad")] + ["--augment_kwargs", '{"nope": 1}'])

"""Batched augmentations that run on the batch's own device (no per-sample Python loop).

- :class:`SignalAugment` — 1-D signals ``[N, L]`` or ``[N, C, L]``: random circular shift, amplitude
  scale, additive Gaussian noise and a zeroed contiguous window (masking), each drawn per sample.
- :class:`ImageAugment` — images ``[N, C, H, W]``: kornia's random resized crop, horizontal flip,
  colour jitter and grayscale (SimCLR's recipe; torchvision cannot be installed next to our torch).

Both take an optional ``torch.Generator``: with one, the output is a function of the generator's
seed alone (kornia draws from torch's global RNG, so the image pipeline runs inside a forked RNG
seeded from the generator and leaves the global state untouched).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor, nn

from .datasets import to_float


def _uniform(n: int, low: float, high: float, like: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.rand(n, device=like.device, dtype=like.dtype, generator=generator) * (high - low) + low


class SignalAugment(nn.Module):
    """Per-sample random augmentation of 1-D signals, each step drawn independently per sample:

    1. time stretch by a factor in ``stretch`` about the centre (circular, linear interpolation);
    2. circular shift by up to ``±max_shift`` steps;
    3. amplitude scale in ``scale``;
    4. a linear trend (shear) ``c · linspace(-0.5, 0.5, L)`` with ``c`` uniform in ``±shear / 2``;
    5. additive Gaussian noise of std ``noise``;
    6. with probability ``mask_prob``, a zeroed window of ``mask_fraction`` of the length.

    Steps 1, 2, 4 mirror MNIST-1D's own generator (dilation, translation, shear), i.e. variations
    that do not change the class (Greydanus 2020, ``mnist1d.transform``). The defaults were chosen by
    measurement on MNIST-1D (docs/ssl.md, "Defaults by measurement"): the shear (3, in units of the
    standardised signal) lifts SimCLR's 30-epoch linear probe from ≈ 0.64 to ≈ 0.75; a time stretch,
    larger shifts and no masking all did worse, so stretch is off and the rest kept.
    """

    def __init__(self, max_shift: int = 8, scale: Sequence[float] = (0.8, 1.2), noise: float = 0.1,
                 mask_fraction: float = 0.1, mask_prob: float = 0.5, stretch: Sequence[float] = (1.0, 1.0),
                 shear: float = 3.0) -> None:
        super().__init__()
        if max_shift < 0 or noise < 0 or shear < 0 or not 0 <= mask_fraction <= 1 or not 0 <= mask_prob <= 1:
            raise ValueError("SignalAugment: need max_shift >= 0, noise >= 0, shear >= 0, mask_fraction and mask_prob "
                             "in [0, 1]")
        if len(scale) != 2 or not 0 <= scale[0] <= scale[1]:
            raise ValueError(f"SignalAugment: `scale` must be (low, high) with 0 <= low <= high, got {scale}")
        if len(stretch) != 2 or not 0 < stretch[0] <= stretch[1]:
            raise ValueError(f"SignalAugment: `stretch` must be (low, high) with 0 < low <= high, got {stretch}")
        self.max_shift, self.scale, self.noise = int(max_shift), (float(scale[0]), float(scale[1])), float(noise)
        self.mask_fraction, self.mask_prob = float(mask_fraction), float(mask_prob)
        self.stretch, self.shear = (float(stretch[0]), float(stretch[1])), float(shear)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if x.dim() not in (2, 3):
            raise ValueError(f"SignalAugment expects [N, L] or [N, C, L], got shape {tuple(x.shape)}")
        x = to_float(x)
        n, length = x.shape[0], x.shape[-1]
        view = x if x.dim() == 3 else x.unsqueeze(1)
        pos = torch.arange(length, device=x.device)
        if self.stretch != (1.0, 1.0):
            # out[t] = x[c + (t - c) / s]: a factor s > 1 widens the signal about its centre c.
            factor = _uniform(n, *self.stretch, like=view, generator=generator).view(n, 1)
            centre = (length - 1) / 2
            src = (centre + (pos.to(view.dtype).unsqueeze(0) - centre) / factor) % length
            lo = src.floor().long() % length  # src may round up to exactly `length`
            frac = (src - lo).unsqueeze(1)
            left = view.gather(-1, lo.unsqueeze(1).expand_as(view))
            right = view.gather(-1, ((lo + 1) % length).unsqueeze(1).expand_as(view))
            view = left + frac * (right - left)
        if self.max_shift:
            shift = torch.randint(-self.max_shift, self.max_shift + 1, (n, 1), device=x.device, generator=generator)
            index = (pos.unsqueeze(0) - shift) % length  # out[t] = x[t - shift]: a circular shift per sample
            view = view.gather(-1, index.unsqueeze(1).expand_as(view))
        view = view * _uniform(n, *self.scale, like=view, generator=generator).view(n, 1, 1)
        if self.shear:
            slope = _uniform(n, -self.shear / 2, self.shear / 2, like=view, generator=generator).view(n, 1, 1)
            view = view + slope * torch.linspace(-0.5, 0.5, length, device=x.device, dtype=view.dtype)
        if self.noise:
            view = view + self.noise * torch.randn(view.shape, device=x.device, dtype=view.dtype, generator=generator)
        width = int(round(self.mask_fraction * length))
        if width and self.mask_prob:
            start = torch.randint(0, length - width + 1, (n, 1), device=x.device, generator=generator)
            apply = torch.rand(n, 1, device=x.device, generator=generator) < self.mask_prob
            inside = (pos.unsqueeze(0) >= start) & (pos.unsqueeze(0) < start + width) & apply
            view = view.masked_fill(inside.unsqueeze(1), 0.0)
        return view if x.dim() == 3 else view.squeeze(1)


class ImageAugment(nn.Module):
    """SimCLR's image recipe with kornia (Chen et al. 2020, appendix A): random resized crop to ``size``
    (area ``crop_scale``), horizontal flip, colour jitter (probability ``jitter_prob``, strength ``jitter``
    for brightness, contrast, saturation and ``jitter / 4`` for hue), random grayscale and, for large
    images, Gaussian blur (probability ``blur_prob``, kernel ≈ 10 % of the side, σ in 0.1–2).

    Single-channel images get brightness and contrast jitter only (saturation, hue and grayscale have no
    meaning there); ``jitter=0`` turns jitter off."""

    def __init__(self, size: int | Sequence[int], crop_scale: Sequence[float] = (0.2, 1.0), flip: bool = True,
                 jitter: float = 0.4, jitter_prob: float = 0.8, grayscale_prob: float = 0.2, blur_prob: float = 0.0,
                 channels: int = 3) -> None:
        super().__init__()
        import kornia.augmentation as K

        size = (size, size) if isinstance(size, int) else tuple(size)
        if len(crop_scale) != 2 or not 0 < crop_scale[0] <= crop_scale[1] <= 1:
            raise ValueError(f"ImageAugment: `crop_scale` must be (low, high) with 0 < low <= high <= 1, got {crop_scale}")
        steps: list[nn.Module] = [K.RandomResizedCrop(size, scale=tuple(crop_scale))]
        if flip:
            steps.append(K.RandomHorizontalFlip())
        if jitter > 0 and jitter_prob > 0:
            if channels == 3:
                steps.append(K.ColorJitter(jitter, jitter, jitter, min(jitter / 4, 0.5), p=jitter_prob))
            else:
                steps.append(K.ColorJitter(jitter, jitter, 0.0, 0.0, p=jitter_prob))
        if channels == 3 and grayscale_prob > 0:
            steps.append(K.RandomGrayscale(p=grayscale_prob))
        if blur_prob > 0:
            kernel = max(3, int(0.1 * min(size)) // 2 * 2 + 1)  # odd, about 10 % of the side
            steps.append(K.RandomGaussianBlur((kernel, kernel), (0.1, 2.0), p=blur_prob))
        self.pipeline = K.AugmentationSequential(*steps)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"ImageAugment expects [N, C, H, W], got shape {tuple(x.shape)}")
        x = to_float(x)
        if generator is None:
            return self.pipeline(x)
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            return self.pipeline(x)


NOT_MIRRORED = frozenset({"digits", "mnist"})  # digits change meaning when mirrored
LARGE_SIDE = 64  # images at least this wide count as large (STL-10, ImageNet-like)


@dataclass(frozen=True)
class ImageKind:
    """What picks an image's default augmentation: colour (3 channels) or not, large (shorter side
    ≥ ``LARGE_SIDE``) or not."""

    colour: bool
    large: bool

    @property
    def name(self) -> str:
        """``grayscale-small``, ``grayscale-large``, ``colour-small`` or ``colour-large`` (an IMAGE_DEFAULTS key)."""
        return f"{'colour' if self.colour else 'grayscale'}-{'large' if self.large else 'small'}"


def image_kind(input_shape: Sequence[int]) -> ImageKind:
    """The kind of an image of shape ``(C, H, W)``: colour when C = 3 (any other channel count gets the
    grayscale recipe, whose jitter acts per channel), large when ``min(H, W) >= LARGE_SIDE``."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_kind: `input_shape` must be (C, H, W) with positive sides, got {tuple(input_shape)}")
    channels, height, width = shape
    return ImageKind(colour=channels == 3, large=min(height, width) >= LARGE_SIDE)


# Default ImageAugment settings per kind of image; docs/ssl.md, "Augmentation defaults by image kind",
# has the measurements behind them (benchmarks/image_kinds.py; colour and large on synthetic stand-ins).
# The large kinds' blur (p = 0.5) is SimCLR's ImageNet recipe: the upsampled stand-in did not resolve it.
IMAGE_DEFAULTS: dict[str, dict[str, object]] = {
    "grayscale-small": dict(crop_scale=(0.2, 1.0), flip=True, jitter=0.4, jitter_prob=0.8, grayscale_prob=0.0,
                            blur_prob=0.0),
    "grayscale-large": dict(crop_scale=(0.2, 1.0), flip=True, jitter=0.4, jitter_prob=0.8, grayscale_prob=0.0,
                            blur_prob=0.5),
    # grayscale p = 0.5 (SimCLR: 0.2): on the colour stand-in it beat 0.2 at 8 and 20 epochs (two seeds)
    "colour-small": dict(crop_scale=(0.2, 1.0), flip=True, jitter=0.4, jitter_prob=0.8, grayscale_prob=0.5,
                         blur_prob=0.0),
    "colour-large": dict(crop_scale=(0.2, 1.0), flip=True, jitter=0.4, jitter_prob=0.8, grayscale_prob=0.5,
                         blur_prob=0.5),
}


def _check_options(cls: type, overrides: dict[str, object]) -> None:
    """A clear error for an override that ``cls`` does not take (rather than a TypeError deep in a run)."""
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(overrides) - accepted)
    if unknown:
        raise ValueError(f"augment_kwargs: {unknown} are not {cls.__name__} settings; expected some of "
                         f"{sorted(accepted)}")


def default_image_augment(dataset: str, input_shape: Sequence[int]) -> dict[str, object]:
    """The :class:`ImageAugment` settings ``build_augmentation(dataset, input_shape)`` uses without overrides:
    the kind's entry of ``IMAGE_DEFAULTS`` plus the image size and channels, with two per-dataset exceptions
    (digits are never mirrored; 8 × 8 ``digits`` keep a 50–100 % crop without jitter)."""
    kind = image_kind(input_shape)
    channels, height, width = (int(s) for s in input_shape)
    settings: dict[str, object] = dict(IMAGE_DEFAULTS[kind.name], size=(height, width), channels=channels)
    if dataset in NOT_MIRRORED:
        settings["flip"] = False
    if dataset == "digits":
        settings.update(crop_scale=(0.5, 1.0), jitter=0.0)  # 8×8: a 20 % crop is 3×3 pixels
    return settings


def build_augmentation(dataset: str, input_shape: Sequence[int], **overrides: object) -> nn.Module:
    """The default augmentation for a dataset, by kind of input (every setting overridable by keyword).

    - token ids (wordnet): :class:`~infobound.data.wordnet.TextViews` (dropout views, definition vs example, or lemmas vs definition);
    - signals ``[L]`` / ``[C, L]`` (mnist1d): :class:`SignalAugment` with its defaults;
    - images ``[C, H, W]``: :class:`ImageAugment` with the settings of the image's kind
      (:func:`image_kind`: grayscale / colour, small / large; ``IMAGE_DEFAULTS``), see
      :func:`default_image_augment`. Overrides win over the kind's settings (Python:
      ``augment_kwargs={...}``; CLI: ``--augment_kwargs '{"grayscale_prob": 0}'``).

    No normalisation is added: evaluation feeds un-augmented [0, 1] inputs to the same encoder, whose
    first layers (conv + batch norm) absorb the scale.
    """
    shape = tuple(input_shape)
    if dataset == "wordnet":
        from .wordnet import TextViews

        _check_options(TextViews, overrides)
        return TextViews(**overrides)  # type: ignore[arg-type]
    if len(shape) in (1, 2):
        _check_options(SignalAugment, overrides)
        return SignalAugment(**overrides)  # type: ignore[arg-type]
    if len(shape) != 3:
        raise ValueError(f"no default augmentation for inputs of shape {shape}")
    _check_options(ImageAugment, overrides)
    return ImageAugment(**{**default_image_augment(dataset, shape), **overrides})  # type: ignore[arg-type]

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
LARGE_SIDE = 64  # images at least this wide count as large (STL-10, ImageNet-like): blur added


def build_augmentation(dataset: str, input_shape: Sequence[int], **overrides: object) -> nn.Module:
    """The default augmentation for a dataset, by kind of input (every setting overridable by keyword).

    - token ids (wordnet): :class:`~infobound.data.wordnet.TextViews` (dropout views, definition vs example, or lemmas vs definition);
    - signals ``[L]`` / ``[C, L]`` (mnist1d): :class:`SignalAugment` with its defaults;
    - grayscale images: crop of 20–100 % area, flip except for digits (``digits``, ``mnist``),
      brightness/contrast jitter 0.4 with p = 0.8 (chosen by measurement, docs/ssl.md "Defaults by
      measurement"); large ones (side ≥ 64) also blur with p = 0.5;
    - colour images: SimCLR's recipe — small (CIFAR): crop 0.2–1, flip, colour jitter 0.4 with p = 0.8,
      grayscale p = 0.2; large (STL-10, your own photos, side ≥ 64): plus Gaussian blur with p = 0.5.

    No normalisation is added: evaluation feeds un-augmented [0, 1] inputs to the same encoder, whose
    first layers (conv + batch norm) absorb the scale.
    """
    shape = tuple(input_shape)
    if dataset == "wordnet":
        from .wordnet import TextViews

        return TextViews(**overrides)  # type: ignore[arg-type]
    if len(shape) in (1, 2):
        return SignalAugment(**overrides)  # type: ignore[arg-type]
    if len(shape) != 3:
        raise ValueError(f"no default augmentation for inputs of shape {shape}")
    channels, height, width = shape
    large = min(height, width) >= LARGE_SIDE
    defaults: dict[str, object] = dict(size=(height, width), channels=channels, crop_scale=(0.2, 1.0),
                                       flip=dataset not in NOT_MIRRORED, jitter=0.4, jitter_prob=0.8,
                                       blur_prob=0.5 if large else 0.0)
    if dataset == "digits":
        defaults.update(crop_scale=(0.5, 1.0), jitter=0.0)  # 8×8: a 20 % crop is 3×3 pixels
    return ImageAugment(**{**defaults, **overrides})  # type: ignore[arg-type]

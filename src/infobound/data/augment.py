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
    """Per-sample random circular shift (``±max_shift`` steps), scale in ``scale``, Gaussian noise of std
    ``noise`` and, with probability ``mask_prob``, a zeroed window of ``mask_fraction`` of the length."""

    def __init__(self, max_shift: int = 8, scale: Sequence[float] = (0.8, 1.2), noise: float = 0.1,
                 mask_fraction: float = 0.1, mask_prob: float = 0.5) -> None:
        super().__init__()
        if max_shift < 0 or noise < 0 or not 0 <= mask_fraction <= 1 or not 0 <= mask_prob <= 1:
            raise ValueError("SignalAugment: need max_shift >= 0, noise >= 0, mask_fraction and mask_prob in [0, 1]")
        if len(scale) != 2 or not 0 <= scale[0] <= scale[1]:
            raise ValueError(f"SignalAugment: `scale` must be (low, high) with 0 <= low <= high, got {scale}")
        self.max_shift, self.scale, self.noise = int(max_shift), (float(scale[0]), float(scale[1])), float(noise)
        self.mask_fraction, self.mask_prob = float(mask_fraction), float(mask_prob)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if x.dim() not in (2, 3):
            raise ValueError(f"SignalAugment expects [N, L] or [N, C, L], got shape {tuple(x.shape)}")
        x = to_float(x)
        n, length = x.shape[0], x.shape[-1]
        view = x if x.dim() == 3 else x.unsqueeze(1)
        pos = torch.arange(length, device=x.device)
        if self.max_shift:
            shift = torch.randint(-self.max_shift, self.max_shift + 1, (n, 1), device=x.device, generator=generator)
            index = (pos.unsqueeze(0) - shift) % length  # out[t] = x[t - shift]: a circular shift per sample
            view = view.gather(-1, index.unsqueeze(1).expand_as(view))
        view = view * _uniform(n, *self.scale, like=view, generator=generator).view(n, 1, 1)
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
    """SimCLR's image recipe with kornia: random resized crop to ``size`` (area ``crop_scale``), horizontal
    flip, colour jitter (probability ``jitter_prob``, strength ``jitter``) and random grayscale, then an
    optional per-channel normalisation. Colour steps are skipped for single-channel images."""

    def __init__(self, size: int | Sequence[int], crop_scale: Sequence[float] = (0.2, 1.0), flip: bool = True,
                 jitter: float = 0.4, jitter_prob: float = 0.8, grayscale_prob: float = 0.2, channels: int = 3) -> None:
        super().__init__()
        import kornia.augmentation as K

        size = (size, size) if isinstance(size, int) else tuple(size)
        steps: list[nn.Module] = [K.RandomResizedCrop(size, scale=tuple(crop_scale))]
        if flip:
            steps.append(K.RandomHorizontalFlip())
        if channels == 3 and jitter > 0:
            steps.append(K.ColorJitter(jitter, jitter, jitter, min(jitter / 4, 0.5), p=jitter_prob))
        if channels == 3 and grayscale_prob > 0:
            steps.append(K.RandomGrayscale(p=grayscale_prob))
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


def build_augmentation(dataset: str, input_shape: Sequence[int], **overrides: object) -> nn.Module:
    """The default augmentation for a dataset (overridable by keyword).

    wordnet (token ids): :class:`~infobound.data.wordnet.TextViews` (dropout views, or definition vs example).
    mnist1d / 1-d arrays: :class:`SignalAugment`. digits (8×8): crop of 50–100 % area, no flip (digits are
    not mirror-symmetric), no colour. cifar10/100, stl10: the full SimCLR recipe at the native size. No
    normalisation is added: evaluation feeds un-augmented [0, 1] inputs to the same encoder, whose first
    layers (conv + batch norm) absorb the scale.
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
    if dataset == "digits" or channels == 1:
        defaults = dict(size=(height, width), crop_scale=(0.5, 1.0), flip=False, channels=channels)
    else:
        defaults = dict(size=(height, width), channels=channels)
    return ImageAugment(**{**defaults, **overrides})  # type: ignore[arg-type]

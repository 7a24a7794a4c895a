"""Invertible encoders: coupling flows (NICE / RealNVP) and residual MLPs.

Tschannen et al. (ICLR 2020, §3.1) train *bijective* encoders g1, g2 by maximising an MI bound
between two views. Because a bijection keeps all information, I(g1(x1); g2(x2)) = I(x1; x2) for
every parameter value, so any change in downstream accuracy during training cannot be explained
by mutual information. The flows here follow the paper's construction:

- :class:`AdditiveCoupling` (NICE, Dinh et al. 2015): ``y_b = x_b + t(x_a)``, log-det 0 — the
  paper's "shift-only RealNVP";
- :class:`AffineCoupling` (RealNVP, Dinh et al. 2017): ``y_b = x_b · s(x_a) + t(x_a)`` with the
  paper's positive scale ``s = softplus(·) + 1e-7`` (instead of exp, for numerical stability);
- :class:`Permutation`: a fixed random permutation between couplings (log-det 0);
- :class:`CouplingFlow`: couplings and permutations alternating (the paper: 30 couplings with
  512-512 ReLU shift networks on 392-d MNIST halves).

Every coupling starts at the identity: with the paper's initialisation (all weights from a
truncated normal with std 1e-4, biases 0) it is the identity up to O(1e-12); with ``init_std=None``
the hidden layers keep PyTorch's default initialisation and the output layer starts at exactly 0
(and the affine scale's bias at softplus⁻¹(1)), so the flow is exactly the identity at step 0.

:class:`ResidualMLP` is the paper's "may or may not be invertible" encoder of §3.1 (five residual
layers ``x + W x`` with ReLU, §3.1's Jacobian condition-number study); it is invertible while each
residual branch is a contraction, and training is free to leave that regime.
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

import torch
from torch import Tensor, nn

_SOFTPLUS_INV_ONE = math.log(math.e - 1.0)  # softplus(x) = 1 at this x
_SCALE_EPS = 1e-7


def _check_flat(x: Tensor, dim: int, name: str = "x") -> None:
    if x.dim() != 2 or x.shape[1] != dim:
        raise ValueError(f"`{name}` must have shape [n, {dim}], got {tuple(x.shape)}")


def _conditioner(d_in: int, d_out: int, hidden: Sequence[int], init_std: float | None) -> nn.Sequential:
    """MLP d_in → hidden... → d_out with ReLU; initialised so that its output starts at (almost) zero."""
    dims = [d_in, *hidden, d_out]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    with torch.no_grad():
        if init_std is not None:
            if init_std <= 0:
                raise ValueError(f"`init_std` must be > 0 or None, got {init_std}")
            for lin in linears:  # the paper: truncated normal (±2 std), zero biases
                nn.init.trunc_normal_(lin.weight, std=init_std, a=-2 * init_std, b=2 * init_std)
                nn.init.zeros_(lin.bias)
        else:
            nn.init.zeros_(linears[-1].weight)
            nn.init.zeros_(linears[-1].bias)
    return nn.Sequential(*layers)


class _Coupling(nn.Module):
    """Common part of the couplings: the first ``dim // 2`` coordinates condition the rest."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        if dim < 2:
            raise ValueError(f"a coupling needs dim >= 2, got {dim}")
        self.dim, self.split = dim, dim // 2

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_and_log_det(x)[0]

    def forward_and_log_det(self, x: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse(self, y: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class AdditiveCoupling(_Coupling):
    r"""NICE additive coupling: :math:`y_a = x_a,\ y_b = x_b + t(x_a)`; volume preserving (log-det 0).

    Args:
        dim: input size; the first ``dim // 2`` coordinates are passed through and condition the shift.
        hidden: widths of the shift network's hidden layers (the paper: (512, 512)).
        init_std: std of the truncated-normal initialisation of every layer (the paper: 1e-4), or
            None for default hidden layers and a zero output layer (exact identity at init).
    """

    def __init__(self, dim: int, hidden: Sequence[int] = (512, 512), init_std: float | None = 1e-4) -> None:
        super().__init__(dim)
        self.shift = _conditioner(self.split, dim - self.split, hidden, init_std)

    def forward_and_log_det(self, x: Tensor) -> tuple[Tensor, Tensor]:
        _check_flat(x, self.dim)
        xa, xb = x[:, : self.split], x[:, self.split:]
        y = torch.cat([xa, xb + self.shift(xa)], dim=1)
        return y, x.new_zeros(x.shape[0])

    def inverse(self, y: Tensor) -> Tensor:
        _check_flat(y, self.dim, "y")
        ya, yb = y[:, : self.split], y[:, self.split:]
        return torch.cat([ya, yb - self.shift(ya)], dim=1)


class AffineCoupling(_Coupling):
    r"""RealNVP affine coupling: :math:`y_a = x_a,\ y_b = x_b \odot s(x_a) + t(x_a)`.

    The scale is :math:`s = \mathrm{softplus}(u(x_a)) + 10^{-7} > 0`, the modification Tschannen et
    al. made to RealNVP for stability; log-det = Σ log s. The scale's output bias starts at
    softplus⁻¹(1) so that the coupling is the identity at initialisation.

    Args:
        dim: input size; the first ``dim // 2`` coordinates condition the scale and shift.
        hidden: hidden widths of the network producing (shift, scale).
        init_std: as in :class:`AdditiveCoupling`.
    """

    def __init__(self, dim: int, hidden: Sequence[int] = (512, 512), init_std: float | None = 1e-4) -> None:
        super().__init__(dim)
        self.net = _conditioner(self.split, 2 * (dim - self.split), hidden, init_std)
        with torch.no_grad():
            self.net[-1].bias[dim - self.split:] = _SOFTPLUS_INV_ONE

    def _shift_scale(self, xa: Tensor) -> tuple[Tensor, Tensor]:
        shift, raw = self.net(xa).chunk(2, dim=1)
        return shift, nn.functional.softplus(raw) + _SCALE_EPS

    def forward_and_log_det(self, x: Tensor) -> tuple[Tensor, Tensor]:
        _check_flat(x, self.dim)
        xa, xb = x[:, : self.split], x[:, self.split:]
        shift, scale = self._shift_scale(xa)
        return torch.cat([xa, xb * scale + shift], dim=1), scale.log().sum(dim=1)

    def inverse(self, y: Tensor) -> Tensor:
        _check_flat(y, self.dim, "y")
        ya, yb = y[:, : self.split], y[:, self.split:]
        shift, scale = self._shift_scale(ya)
        return torch.cat([ya, (yb - shift) / scale], dim=1)


class Permutation(nn.Module):
    """A fixed random permutation of the coordinates (a buffer, not a parameter); log-det 0."""

    def __init__(self, dim: int, seed: int | None = None) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        perm = torch.randperm(dim, generator=gen)
        self.register_buffer("perm", perm)
        self.register_buffer("inv_perm", torch.argsort(perm))

    def forward(self, x: Tensor) -> Tensor:
        return x[:, self.perm]

    def forward_and_log_det(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x[:, self.perm], x.new_zeros(x.shape[0])

    def inverse(self, y: Tensor) -> Tensor:
        return y[:, self.inv_perm]


class CouplingFlow(nn.Module):
    """A bijection R^d → R^d: ``num_couplings`` × (coupling, fixed random permutation).

    Args:
        dim: input and output size (``output_dim`` equals ``dim``).
        num_couplings: number of coupling layers (the paper: 30).
        hidden: hidden widths of each coupling's network (the paper: (512, 512)).
        coupling: ``"additive"`` (NICE; the paper's bijective-encoder runs) or ``"affine"`` (RealNVP;
            the paper's adversarial run).
        init_std: see :class:`AdditiveCoupling`.
        seed: seed of the permutations (the weights follow ``torch``'s global RNG).

    Example:
        >>> flow = CouplingFlow(392, num_couplings=4, hidden=(64,))
        >>> x = torch.randn(8, 392)
        >>> torch.allclose(flow.inverse(flow(x)), x, atol=1e-5)
        True
    """

    def __init__(self, dim: int, num_couplings: int = 30, hidden: Sequence[int] = (512, 512),
                 coupling: Literal["additive", "affine"] = "additive", init_std: float | None = 1e-4,
                 seed: int | None = 0) -> None:
        super().__init__()
        if num_couplings < 1:
            raise ValueError(f"`num_couplings` must be >= 1, got {num_couplings}")
        kinds = {"additive": AdditiveCoupling, "affine": AffineCoupling}
        if coupling not in kinds:
            raise ValueError(f"`coupling` must be one of {sorted(kinds)}, got {coupling!r}")
        layers: list[nn.Module] = []
        for i in range(num_couplings):
            layers.append(kinds[coupling](dim, hidden, init_std))
            layers.append(Permutation(dim, None if seed is None else seed * 100003 + i))
        self.layers = nn.ModuleList(layers)
        self.dim = self.output_dim = dim
        self.coupling = coupling

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def forward_and_log_det(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(g(x), log |det ∂g/∂x|)`` per example."""
        log_det = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer.forward_and_log_det(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, y: Tensor) -> Tensor:
        """The exact inverse g⁻¹(y) (up to floating-point rounding)."""
        for layer in reversed(self.layers):
            y = layer.inverse(y)
        return y


class ProductFlow(nn.Module):
    r"""A product bijection (x, y) ↦ (f_X(x), f_Y(y)) of two coupling flows, with its log-det.

    Separate bijections of X and of Y leave the mutual information unchanged,
    I(f_X(X); f_Y(Y)) = I(X; Y), which is what MI estimation by flow Gaussianisation rests on
    (Butakov et al., NeurIPS 2024, Thm. 4.1). The Jacobian is block-diagonal, so
    log|det J(x, y)| = log|det J_{f_X}(x)| + log|det J_{f_Y}(y)|. A variable with one coordinate
    gets the identity (a coupling needs two coordinates; a 1-d bijection is a monotone map, which
    rank standardisation has already spent).

    Args:
        dim_x, dim_y: sizes of X and Y.
        num_couplings: couplings per side (:class:`CouplingFlow`).
        hidden: hidden widths of each coupling's network.
        coupling: ``"affine"`` (RealNVP) or ``"additive"`` (NICE).
        seed: seed of the permutations (the weights follow ``torch``'s global RNG).

    Every coupling starts at exactly the identity (``init_std=None``).
    """

    def __init__(self, dim_x: int, dim_y: int, num_couplings: int = 4, hidden: Sequence[int] = (64, 64),
                 coupling: Literal["additive", "affine"] = "affine", seed: int | None = 0) -> None:
        super().__init__()
        if dim_x < 1 or dim_y < 1:
            raise ValueError(f"`dim_x` and `dim_y` must be >= 1, got {dim_x} and {dim_y}")

        def side(dim: int, offset: int) -> nn.Module | None:
            if dim < 2:
                return None
            return CouplingFlow(dim, num_couplings, hidden, coupling, init_std=None,
                                seed=None if seed is None else seed + offset)

        self.flow_x, self.flow_y = side(dim_x, 0), side(dim_y, 7919)
        self.dim_x, self.dim_y = dim_x, dim_y

    @staticmethod
    def _side(flow: nn.Module | None, a: Tensor) -> tuple[Tensor, Tensor]:
        return (a, a.new_zeros(a.shape[0])) if flow is None else flow.forward_and_log_det(a)

    def forward_x(self, x: Tensor) -> Tensor:
        """f_X(x) alone (the latent of X rows)."""
        _check_flat(x, self.dim_x)
        return self._side(self.flow_x, x)[0]

    def forward_y(self, y: Tensor) -> Tensor:
        """f_Y(y) alone."""
        _check_flat(y, self.dim_y, "y")
        return self._side(self.flow_y, y)[0]

    def forward_and_log_det(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(f_X(x), f_Y(y), log|det J_{f_X}(x)| + log|det J_{f_Y}(y)|)`` for row-aligned pairs."""
        _check_flat(x, self.dim_x)
        _check_flat(y, self.dim_y, "y")
        u, ld_x = self._side(self.flow_x, x)
        v, ld_y = self._side(self.flow_y, y)
        return u, v, ld_x + ld_y

    def inverse(self, u: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """``(f_X⁻¹(u), f_Y⁻¹(v))``."""
        x = u if self.flow_x is None else self.flow_x.inverse(u)
        y = v if self.flow_y is None else self.flow_y.inverse(v)
        return x, y


class ResidualMLP(nn.Module):
    r"""``num_layers`` residual layers :math:`x \leftarrow x + \phi(W_k x + b_k)` of constant width.

    The paper's encoder for the Jacobian condition-number study (§3.1, "bias towards hard-to-invert
    encoders"): five layers of width 392 with ReLU on all but the last layer, weights initialised
    from a truncated normal with std 1e-4 so the map starts at the identity. The Jacobian is
    ``I + W`` products; its condition number measures how close to non-invertible the map becomes.

    Args:
        dim: input and output size.
        num_layers: number of residual layers (the paper: 5).
        init_std: std of the truncated-normal weight initialisation (None: PyTorch's default).
    """

    def __init__(self, dim: int, num_layers: int = 5, init_std: float | None = 1e-4) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"`num_layers` must be >= 1, got {num_layers}")
        self.linears = nn.ModuleList(nn.Linear(dim, dim) for _ in range(num_layers))
        if init_std is not None:
            with torch.no_grad():
                for lin in self.linears:
                    nn.init.trunc_normal_(lin.weight, std=init_std, a=-2 * init_std, b=2 * init_std)
                    nn.init.zeros_(lin.bias)
        self.dim = self.output_dim = dim

    def forward(self, x: Tensor) -> Tensor:
        _check_flat(x, self.dim)
        last = len(self.linears) - 1
        for i, lin in enumerate(self.linears):
            h = lin(x)
            x = x + (torch.relu(h) if i < last else h)
        return x


def jacobian_log_condition(encoder: nn.Module, x: Tensor) -> Tensor:
    """log(σ_max / σ_min) of the encoder's Jacobian at every row of ``x`` ([n, d] → [n]).

    Per-example Jacobians come from ``torch.func.jacrev`` vmapped over the batch; singular values
    from ``torch.linalg.svdvals`` (the paper's ``log σ_1 / σ_392`` panels).
    """
    from torch.func import jacrev, vmap

    was_training = encoder.training
    encoder.eval()
    try:
        jac = vmap(jacrev(lambda v: encoder(v[None])[0]))(x.detach())
    finally:
        encoder.train(was_training)
    sv = torch.linalg.svdvals(jac.detach().double())
    return (sv[:, 0].log() - sv[:, -1].clamp_min(1e-300).log()).to(x.dtype)


__all__ = ["AdditiveCoupling", "AffineCoupling", "CouplingFlow", "Permutation", "ProductFlow", "ResidualMLP",
           "jacobian_log_condition"]

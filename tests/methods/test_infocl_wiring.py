"""InfoCL inside the methods: LBE reaches the layers that make h (every encoder), sees 2N samples, and
the stochastic h = μ + ζε feeds the projector; RC sums the two views' MSEs (the official code)."""

import warnings

import lightning as L
import pytest
import torch
import torch.nn.functional as F

from infobound.methods import build_method


def _step(module, x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # self.log without a trainer
        return module.training_step((x, y), 0)


@pytest.mark.parametrize("encoder, shape", [("mlp", (64,)), ("cnn1d", (40,))])
def test_lbe_runs_and_its_gradient_reaches_the_head_that_makes_h(encoder, shape):
    L.seed_everything(0, verbose=False)
    module = build_method("simclr", shape, 10, encoder=encoder, regularizer="lbe", lam=1.0, online_probe=False,
                          augment_kwargs=None)
    x = torch.randn(16, *shape)
    v1, v2 = module.views(x)
    stages = module.encoder.forward_stages(torch.cat([v1, v2]))
    means = stages[-3:]
    reg = module.regularizer(means)
    reg.backward()
    head = module.encoder.out if encoder == "mlp" else module.encoder.head
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())
    module.zero_grad()
    _step(module, x, torch.randint(0, 10, (16,))).backward()  # the whole step: no crash with `mlp` (the digits default)


def test_lbe_sees_both_views_concatenated_and_the_projector_sees_the_noisy_h():
    L.seed_everything(0, verbose=False)
    module = build_method("simclr", (40,), 10, regularizer="lbe", online_probe=False)
    seen = {}
    module.regularizer.register_forward_pre_hook(lambda m, args: seen.update(means=args[0], samples=args[1]))
    module.projector.register_forward_pre_hook(lambda m, args: seen.update(projected=args[0]))
    x = torch.randn(12, 40)
    _step(module, x, torch.zeros(12, dtype=torch.long))
    assert [m.shape[0] for m in seen["means"]] == [24, 24, 24]  # 2N rows per stage
    mu = seen["means"][-1]
    assert torch.equal(seen["samples"][-1], seen["projected"])  # the sample LBE scores is what the projector sees
    noise = (seen["projected"] - mu).detach()
    assert noise.abs().max() > 0 and noise.std().item() == pytest.approx(0.1, rel=0.15)  # ζ = 0.1
    plain = build_method("simclr", (40,), 10, regularizer="lbe", stochastic=False, online_probe=False)
    assert not plain.stochastic and build_method("simclr", (40,), 10, regularizer="rc").stochastic is False


def test_rc_in_the_method_is_the_sum_over_views():
    L.seed_everything(0, verbose=False)
    module = build_method("simclr", (40,), 10, regularizer="rc", lam=0.5, online_probe=False)
    seen = {}
    module.regularizer.register_forward_hook(lambda m, args, out: seen.update(args=args, out=out))
    _step(module, torch.randn(8, 40), torch.zeros(8, dtype=torch.long))
    (h1, h2), (x1, x2) = seen["args"]
    dec = module.regularizer.decoder
    expected = 0.5 * (F.mse_loss(dec(h1), x1) + F.mse_loss(dec(h2), x2))
    assert seen["out"].item() == pytest.approx(expected.item(), rel=1e-6)

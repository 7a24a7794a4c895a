"""SimCLR and MoCo end to end through Lightning on tiny data: metrics, checkpoints, resume, CLI, probe."""

import csv
import json
import math

import lightning as L
import pytest
import torch

from infobound.cli import main as cli_main
from infobound.data import load_dataset
from infobound.methods import build_method, load_method, train_and_evaluate

TINY = dict(epochs=2, batch_size=64, few_label_per_class=2, proj_hidden=64, proj_dim=32)


@pytest.fixture(scope="module")
def tiny():
    return load_dataset("mnist1d", num_samples=400, seed=0)  # 320 train / 80 test: 5 steps per epoch


def _weights(path):
    return torch.load(path, map_location="cpu", weights_only=False)["state_dict"]


@pytest.mark.parametrize("method, options", [
    ("simclr", dict(objective="infonce")),
    ("simclr", dict(objective="fmicl", divergence="js", regularizer="rc", lam=0.5)),
    ("simclr", dict(objective="au", regularizer="lbe")),
    ("moco", dict(objective="ml_cpc", alpha=0.5, queue_size=96)),
    ("byol", dict(regularizer="lbe")),
    ("barlow_twins", dict(regularizer="rc")),
    ("mocov3", dict(encoder="vit")),
    ("mocov3", dict(objective="fmicl", divergence="js", encoder="mlp", regularizer="lbe")),
])
def test_tiny_runs_end_to_end(tiny, tmp_path, method, options):
    metrics = train_and_evaluate(tiny, tmp_path, method=method, **TINY, **options)
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["linear_acc"] == metrics["linear_acc"]
    for key in ("linear_acc", "knn_acc", "few_label_acc", "online_probe_acc"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["linear_acc"] > 0.2  # 10 classes: chance is 0.1
    assert metrics["epochs"] == 2 and metrics["mi_lower_bound"] is not None
    assert (tmp_path / "model.ckpt").exists() and (tmp_path / "checkpoints" / "last.ckpt").exists()
    with open(tmp_path / "logs" / "metrics.csv") as fh:
        log = list(csv.DictReader(fh))
    assert sum(bool(r["train/mi_nats_step"]) for r in log) == 10  # the MI bound of every step (5 per epoch)
    assert sum(bool(r["train/mi_nats"]) for r in log) == 2  # and its epoch means


def test_moco_queue_fills_and_key_encoder_follows(tiny):
    L.seed_everything(0, verbose=False)
    moco = build_method("moco", tiny.input_shape, 10, objective="infonce", queue_size=100, proj_dim=16)
    before = moco.queue.clone()
    moco._enqueue(torch.nn.functional.normalize(torch.randn(60, 16), dim=1))
    moco._enqueue(torch.nn.functional.normalize(torch.randn(60, 16), dim=1))
    assert int(moco.queue_ptr) == 20 and not torch.equal(moco.queue[:20], before[:20])
    with torch.no_grad():
        next(moco.encoder.parameters()).add_(1.0)
    gap = lambda: float((next(moco.encoder.parameters()) - next(moco.key_encoder.parameters())).abs().max())  # noqa: E731
    old = gap()
    moco._momentum_update()
    assert gap() == pytest.approx(old * moco.hparams.momentum, rel=1e-5)
    assert all(not p.requires_grad for p in moco.key_encoder.parameters())


def test_mocov3_is_the_papers_symmetrised_query_key_cross_entropy(tiny):
    """ctr(q1, k2) + ctr(q2, k1), ctr = cross-entropy of each query's own key among the batch's keys (τ = 0.2)."""
    L.seed_everything(0, verbose=False)
    module = build_method("mocov3", tiny.input_shape, 10, temperature=0.2, proj_dim=16, proj_hidden=32)
    x = tiny.x_train[:12]
    v1, v2 = module.views(x)
    h = module.encoder(torch.cat([v1, v2]))
    out = module.contrastive(h, v1, v2, progress=0.0)
    with torch.no_grad():
        q1, q2 = module.predictor(module.projector(h)).chunk(2)
        k1, k2 = module.key_projector(module.key_encoder(torch.cat([v1, v2]))).chunk(2)

    def ctr(q, k):
        total = 0.0
        for i in range(len(q)):
            logits = [float(torch.nn.functional.cosine_similarity(q[i], k[j], dim=0)) / 0.2 for j in range(len(k))]
            total += -logits[i] + math.log(sum(math.exp(v) for v in logits))
        return total / len(q)

    assert out.loss.item() == pytest.approx(ctr(q1, k2) + ctr(q2, k1), rel=1e-5)
    out.loss.backward()
    assert all(p.grad is None for p in module.key_encoder.parameters())
    assert next(module.predictor.parameters()).grad is not None


class _KillAtEpoch(L.Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == 2:
            raise RuntimeError("killed on purpose")


@pytest.mark.parametrize("method, options", [("simclr", dict(objective="ml_cpc", alpha=10.0, alpha_end=0.1,
                                                           regularizer="lbe")),
                                             ("moco", dict(objective="infonce", queue_size=128)),
                                             ("byol", dict(regularizer="lbe"))])
def test_resume_equals_uninterrupted(tiny, tmp_path, method, options):
    kw = dict(TINY, method=method, **options)
    whole = train_and_evaluate(tiny, tmp_path / "whole", **kw)
    with pytest.raises(RuntimeError, match="killed on purpose"):
        train_and_evaluate(tiny, tmp_path / "killed", callbacks=[_KillAtEpoch(1)], **kw)
    assert not (tmp_path / "killed" / "metrics.json").exists()
    resumed = train_and_evaluate(tiny, tmp_path / "killed", resume=True, **kw)
    a, b = _weights(tmp_path / "whole" / "model.ckpt"), _weights(tmp_path / "killed" / "model.ckpt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    for key in ("linear_acc", "knn_acc", "few_label_acc", "online_probe_acc", "mi_lower_bound"):
        assert resumed[key] == whole[key], key
    # the log keeps the epochs trained before the interruption (Lightning's CSVLogger would drop them)
    logs = [list(csv.DictReader(open(tmp_path / run / "logs" / "metrics.csv"))) for run in ("whole", "killed")]
    steps = [[(r["epoch"], r["step"]) for r in log if r["train/mi_nats_step"]] for log in logs]
    assert steps[0] == steps[1] and len(steps[0]) == 10
    # resuming a finished run only re-evaluates it, and keeps the MI read-out that training logged
    again = train_and_evaluate(tiny, tmp_path / "whole", resume=True, **kw)
    assert again["mi_lower_bound"] is not None and again["mi_lower_bound"] == whole["mi_lower_bound"]


def test_cli_pretrain_with_a_yaml_config_then_probe(tmp_path, capsys):
    out = tmp_path / "run"
    config = tmp_path / "ssl.yaml"
    config.write_text(f"method: simclr\nobjective: ml_cpc\nalpha: 0.5\ndataset: digits\nepochs: 1\n"
                      f"batch_size: 128\nencoder: mlp\nout: {out}\n")
    cli_main(["pretrain", "--config", str(config), "--seed", "1", "--few-label-per-class", "2"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"linear_acc", "knn_acc", "few_label_acc"} <= set(metrics) and metrics["seed"] == 1
    assert metrics["options"]["alpha"] == 0.5 and metrics["dataset"] == "digits"
    capsys.readouterr()
    cli_main(["probe", "--checkpoint", str(out / "model.ckpt"), "--few_label_per_class", "2", "--output",
              str(tmp_path / "probe.json")])
    probed = json.loads((tmp_path / "probe.json").read_text())
    assert probed["linear_acc"] == pytest.approx(metrics["linear_acc"])
    assert probed["knn_acc"] == pytest.approx(metrics["knn_acc"])
    assert load_method(out / "model.ckpt").hparams.objective == "ml_cpc"


def test_bad_options(tiny, tmp_path):
    with pytest.raises(ValueError, match="alpha"):
        train_and_evaluate(tiny, tmp_path, objective="infonce", alpha=0.1, **TINY)
    with pytest.raises(ValueError, match="divergence"):
        train_and_evaluate(tiny, tmp_path, objective="ml_cpc", divergence="kl", **TINY)
    with pytest.raises(ValueError, match="unknown method"):
        train_and_evaluate(tiny, tmp_path, method="no_such_method", **TINY)
    with pytest.raises(ValueError, match="byol trains with its own"):
        train_and_evaluate(tiny, tmp_path, method="byol", objective="infonce", **TINY)
    with pytest.raises(ValueError, match="barlow_twins trains with its own"):
        train_and_evaluate(tiny, tmp_path, method="barlow_twins", temperature=0.2, **TINY)
    with pytest.raises(ValueError, match="mocov3 takes the objective"):
        train_and_evaluate(tiny, tmp_path, method="mocov3", objective="au", **TINY)
    with pytest.raises(ValueError, match="momentum"):
        train_and_evaluate(tiny, tmp_path, method="byol", momentum=1.0, **TINY)
    with pytest.raises(ValueError, match="regularizer"):
        train_and_evaluate(tiny, tmp_path, regularizer="vae", **TINY)


def test_barlow_twins_follows_the_official_forward(tiny):
    """The official code: projector = (Linear without bias → BN → ReLU) × 2 → Linear without bias, run on each
    view on its own; z standardised per view (BatchNorm, no affine); C = z̃1ᵀ z̃2 / N; Σ(1 − C_kk)² + λ Σ C_kl²."""
    L.seed_everything(0, verbose=False)
    lam = 0.01
    bt = build_method("barlow_twins", tiny.input_shape, 10, proj_hidden=48, proj_dim=16, lambda_offdiag=lam).train()
    kinds = [type(m).__name__ for m in bt.projector.modules() if not isinstance(m, (torch.nn.Sequential,))][1:]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert all(m.bias is None for m in bt.projector.modules() if isinstance(m, torch.nn.Linear))
    v1, v2 = torch.randn(32, *tiny.input_shape), torch.randn(32, *tiny.input_shape)
    with torch.no_grad():
        out = bt.contrastive(bt.encoder(torch.cat([v1, v2])), v1, v2, progress=0.0)
        h1, h2 = bt.encoder(torch.cat([v1, v2])).chunk(2)  # the encoder's BatchNorms see both views, as in training
        a = torch.nn.functional.batch_norm(bt.projector(h1).double(), None, None, training=True)
        b = torch.nn.functional.batch_norm(bt.projector(h2).double(), None, None, training=True)
    d = a.shape[1]
    c = [[float(sum(a[i, k] * b[i, m] for i in range(32))) / 32 for m in range(d)] for k in range(d)]
    naive = sum((1 - c[k][k]) ** 2 for k in range(d)) + lam * sum(c[k][m] ** 2 for k in range(d) for m in range(d) if k != m)
    assert out.loss.item() == pytest.approx(naive, rel=1e-4)
    # one projector pass over both views together (BatchNorm statistics of the 2N batch) gives another loss
    with torch.no_grad():
        z1, z2 = bt.projector(torch.cat([h1, h2])).chunk(2)
    assert bt.objective(z1, z2).loss.item() != pytest.approx(naive, rel=1e-3)


def _naive_head(head, x):
    """The official BYOL MLP (Linear → BatchNorm with batch statistics → ReLU → Linear), written out by hand."""
    lin1, bn, _, lin2 = head.net
    a = x @ lin1.weight.t() + lin1.bias
    a = (a - a.mean(0)) / (a.var(0, unbiased=False) + bn.eps).sqrt() * bn.weight + bn.bias
    return a.clamp_min(0) @ lin2.weight.t() + lin2.bias


def test_byol_follows_the_official_forward(tiny):
    """The official code (deepmind-research/byol): each view through online projector → predictor and target encoder →
    projector on its own (their BatchNorms see one view's batch); loss = mean_i (2 − 2 cos(q1_i, t2_i)) + the same
    with the views swapped; only the online branch gets gradients."""
    L.seed_everything(0, verbose=False)
    byol = build_method("byol", tiny.input_shape, 10, proj_hidden=48, proj_dim=16).train()
    assert [type(m).__name__ for m in byol.predictor.net] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert byol.predictor.net[0].in_features == byol.predictor.out_dim == 16
    v1, v2 = torch.randn(24, *tiny.input_shape), torch.randn(24, *tiny.input_shape)
    h = byol.encoder(torch.cat([v1, v2]))
    out = byol.contrastive(h, v1, v2, progress=0.0)
    with torch.no_grad():  # at the start the target is a copy of the online network: use the online weights
        q1, q2 = (_naive_head(byol.predictor, _naive_head(byol.projector, hv)) for hv in h.chunk(2))
        t1, t2 = (_naive_head(byol.projector, byol.encoder(v)) for v in (v1, v2))

    def regress(q, t):
        return sum(2 - 2 * float(q[i] @ t[i]) / float(q[i].norm() * t[i].norm()) for i in range(len(q))) / len(q)

    assert out.loss.item() == pytest.approx(regress(q1, t2) + regress(q2, t1), rel=1e-5)
    out.loss.backward()
    assert all(p.grad is None for p in [*byol.target_encoder.parameters(), *byol.target_projector.parameters()])
    assert next(byol.predictor.parameters()).grad is not None
    # one pass over both views together (BatchNorm statistics of the 2N batch) gives another loss
    with torch.no_grad():
        p1, p2 = _naive_head(byol.predictor, _naive_head(byol.projector, h)).chunk(2)
    assert regress(p1, t2) + regress(p2, t1) != pytest.approx(out.loss.item(), rel=1e-3)


@pytest.mark.parametrize("separate", [False, True])
def test_separate_views_runs_the_encoder_on_each_view(tiny, separate):
    """``separate_views=True`` (the official BYOL / Barlow Twins / MoCo v3 forward): the encoder sees each view's
    batch on its own, so its BatchNorm statistics are per view; False: one pass over both views concatenated."""
    L.seed_everything(0, verbose=False)
    method = build_method("simclr", tiny.input_shape, 10, proj_hidden=32, proj_dim=16, separate_views=separate,
                          online_probe=False).train()
    seen = {}

    def capture(h, v1, v2, progress):
        seen.update(h=h.detach().clone(), v1=v1, v2=v2)
        return type(method).contrastive(method, h, v1, v2, progress)

    method.contrastive = capture
    method.log_dict = method.log = lambda *a, **k: None  # no trainer attached
    method.training_step((tiny.x_train[:48], tiny.y_train[:48]), 0)
    v1, v2 = seen["v1"], seen["v2"]
    with torch.no_grad():  # the same train-mode encoder, called by hand
        per_view = torch.cat([method.encoder(v1), method.encoder(v2)])
        joint = method.encoder(torch.cat([v1, v2]))
    assert not torch.allclose(per_view, joint, atol=1e-4)  # BatchNorm makes the two forwards differ
    assert torch.allclose(seen["h"], per_view if separate else joint, atol=1e-5)


def test_a_finished_run_made_under_another_default_is_not_reused(tiny, tmp_path):
    """settings.json records the module's resolved hyper-parameters, so a run saved when a default
    (here BYOL's momentum) had another value is refused, for resuming and for a bench's reuse alike."""
    from infobound.methods import check_finished_run

    kw = dict(TINY, method="byol", few_label_per_class=0)
    train_and_evaluate(tiny, tmp_path, **kw)
    check_finished_run(tiny, tmp_path, **kw)  # the same settings: reused
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["hparams"]["momentum"] == pytest.approx(0.98)  # the default, never passed explicitly
    saved["hparams"]["momentum"] = 0.996  # as if the run had been made before the default changed
    (tmp_path / "settings.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError, match="hparams.momentum: 0.996 there, 0.98 now"):
        check_finished_run(tiny, tmp_path, **kw)
    with pytest.raises(ValueError, match="hparams.momentum"):
        train_and_evaluate(tiny, tmp_path, resume=True, **kw)

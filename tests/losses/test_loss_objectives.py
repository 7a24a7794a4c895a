"""In-batch objectives against naive loops, the published forms they must equal, and bad inputs."""

import math

import pytest
import torch
import torch.nn.functional as F

from infobound import bounds, losses
from infobound.bounds.divergences import get_divergence


def _views(n=12, d=6, seed=0, corr=0.7):
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, d, generator=g, dtype=torch.float64)
    z2 = corr * z1 + (1 - corr**2) ** 0.5 * torch.randn(n, d, generator=g, dtype=torch.float64)
    return z1.requires_grad_(), z2.requires_grad_()


def _cos(a, b):
    return float(torch.dot(a, b) / (a.norm() * b.norm()))


def _naive_nt_xent(z1, z2, tau):
    """SimCLR's NT-Xent written out: 2n anchors, partner positive, 2n − 2 negatives."""
    views = torch.cat([z1, z2]).detach()
    n2 = views.shape[0]
    total = 0.0
    for i in range(n2):
        partner = (i + n2 // 2) % n2
        logits = [_cos(views[i], views[j]) / tau for j in range(n2) if j != i]
        pos = _cos(views[i], views[partner]) / tau
        total += -(pos - math.log(sum(math.exp(v) for v in logits)))
    return total / n2


def _naive_cross_infonce(z1, z2, tau):
    n = z1.shape[0]
    s = [[_cos(z1[i].detach(), z2[j].detach()) / tau for j in range(n)] for i in range(n)]
    row = sum(s[i][i] - math.log(sum(math.exp(v) for v in s[i])) for i in range(n)) / n
    col = sum(s[j][j] - math.log(sum(math.exp(s[i][j]) for i in range(n))) for j in range(n)) / n
    return math.log(n) + 0.5 * (row + col)


def _naive_ml_cpc(positives, negatives, alpha):
    """Song & Ermon's Eq. 10 with loops: n anchors, one positive and k negatives each."""
    n, k = len(positives), len(negatives[0])
    m = k + 1
    beta = (m - alpha) / (m - 1)
    normaliser = alpha * sum(math.exp(p) for p in positives) + beta * sum(math.exp(v) for row in negatives for v in row)
    return math.log(n * m) + sum(positives) / n - math.log(normaliser)


def test_infonce_simclr_equals_naive_nt_xent():
    z1, z2 = _views()
    out = losses.build_objective("infonce", temperature=0.3)(z1, z2)
    assert out.loss.item() == pytest.approx(_naive_nt_xent(z1, z2, 0.3), abs=1e-9)
    m = 2 * z1.shape[0] - 1
    assert out.ceiling == pytest.approx(math.log(m))
    assert out.mi_lower_bound.item() == pytest.approx(math.log(m) - out.loss.item(), abs=1e-9)
    assert not out.mi_lower_bound.requires_grad


def test_infonce_simclr_equals_pytorch_metric_learning():
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    z1, z2 = _views(n=16, d=8, seed=3)
    ours = losses.InfoNCELoss(temperature=0.2)(z1, z2).loss
    theirs = pml.SelfSupervisedLoss(pml.NTXentLoss(temperature=0.2))(z1, z2)
    assert ours.item() == pytest.approx(theirs.item(), abs=1e-9)


def test_infonce_cross_symmetric_equals_naive():
    z1, z2 = _views(seed=1)
    out = losses.InfoNCELoss(temperature=0.5, negatives="cross")(z1, z2)
    assert out.mi_lower_bound.item() == pytest.approx(_naive_cross_infonce(z1, z2, 0.5), abs=1e-9)
    assert out.ceiling == pytest.approx(math.log(z1.shape[0]))
    one_way = losses.InfoNCELoss(temperature=0.5, negatives="cross", symmetric=False)(z1, z2)
    scores = F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).t() / 0.5
    assert one_way.mi_lower_bound.item() == pytest.approx(bounds.infonce(scores).item(), abs=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 0.1, 3.0])
def test_ml_cpc_cross_equals_naive_and_bound(alpha):
    z1, z2 = _views(seed=2)
    tau = 0.4
    out = losses.MLCPCLoss(alpha=alpha, temperature=tau)(z1, z2)
    n = z1.shape[0]
    s = (F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).t() / tau).detach()
    positives = [float(s[i, i]) for i in range(n)]
    negatives = [[float(s[i, j]) for j in range(n) if j != i] for i in range(n)]
    expected = _naive_ml_cpc(positives, negatives, alpha)
    assert out.mi_lower_bound.item() == pytest.approx(expected, abs=1e-9)
    assert out.mi_lower_bound.item() == pytest.approx(bounds.ml_cpc(s, alpha=alpha).item(), abs=1e-9)
    assert out.ceiling == pytest.approx(math.log(n / alpha))
    assert out.loss.item() == pytest.approx((math.log(n / alpha) - expected) / alpha, abs=1e-9)
    plain = losses.MLCPCLoss(alpha=alpha, temperature=tau, divide_by_alpha=False)(z1, z2)
    assert plain.loss.item() == pytest.approx(math.log(n / alpha) - expected, abs=1e-9)
    assert plain.loss.item() >= 0


def test_ml_cpc_simclr_equals_naive():
    z1, z2 = _views(n=8, seed=4)
    tau, alpha = 0.5, 0.2
    out = losses.MLCPCLoss(alpha=alpha, temperature=tau, negatives="simclr")(z1, z2)
    views = torch.cat([z1, z2]).detach()
    n2 = views.shape[0]
    positives, negatives = [], []
    for i in range(n2):
        partner = (i + n2 // 2) % n2
        positives.append(_cos(views[i], views[partner]) / tau)
        negatives.append([_cos(views[i], views[j]) / tau for j in range(n2) if j not in (i, partner)])
    assert out.mi_lower_bound.item() == pytest.approx(_naive_ml_cpc(positives, negatives, alpha), abs=1e-9)
    assert out.ceiling == pytest.approx(math.log((n2 - 1) / alpha))


def test_ml_cpc_schedule_follows_progress():
    z1, z2 = _views(seed=5)
    objective = losses.build_objective("ml_cpc", alpha=(10.0, 0.1), temperature=0.5)
    n = z1.shape[0]
    assert objective(z1, z2, progress=0.0).ceiling == pytest.approx(math.log(n / 10.0))
    assert objective(z1, z2, progress=1.0).ceiling == pytest.approx(math.log(n / 0.1))
    # without progress it keeps the α of the last progress it saw
    assert objective(z1, z2).ceiling == pytest.approx(math.log(n / 0.1))
    assert losses.build_objective("ml_cpc", alpha="geometric")(z1, z2).ceiling == pytest.approx(math.log(n / 10.0))


@pytest.mark.parametrize("divergence", ["kl", "js", "pearson", "sq_hellinger", "tsallis", "vlc",
                                        "reverse_kl", "neyman", "jeffrey"])
@pytest.mark.parametrize("similarity", ["gaussian", "cosine"])
def test_fmicl_same_view_negatives_equal_the_papers_minibatch_objective(divergence, similarity):
    """(1/N) Σ_i f'(G(x_i, y_i)) − α/(N(N−1)) Σ_{i≠j} f*(f'(G(x_i, x_j))), averaged over the two views' negatives,
    with f, f' and f* written directly in u = G (not in the log-ratio form the library uses)."""
    z1, z2 = _views(n=6, seed=16)
    weight, tau = 40.0, 0.5
    out = losses.FMICLLoss(divergence, weight=weight, similarity=similarity, temperature=tau)(z1, z2)
    a_, b_ = z1.detach(), z2.detach()
    if similarity == "gaussian":
        G = lambda x, y: math.exp(-(2.0 - 2.0 * _cos(x, y)))  # noqa: E731  μ = 1, w = 1
    else:
        G = lambda x, y: math.exp(_cos(x, y) / tau)  # noqa: E731
    f, fp = {  # f(u), f'(u)
        "kl": (lambda u: u * math.log(u), lambda u: math.log(u) + 1),
        "js": (lambda u: u * math.log(u) - (u + 1) * math.log((1 + u) / 2), lambda u: math.log(2 * u / (1 + u))),
        "pearson": (lambda u: (u - 1) ** 2, lambda u: 2 * (u - 1)),
        "sq_hellinger": (lambda u: (math.sqrt(u) - 1) ** 2, lambda u: 1 - u ** -0.5),
        "tsallis": (lambda u: (u ** 2 - 1), lambda u: 2 * u),  # a = 2
        "vlc": (lambda u: (u - 1) ** 2 / (u + 1), lambda u: 1 - 4 / (u + 1) ** 2),
        "reverse_kl": (lambda u: -math.log(u), lambda u: -1 / u),
        "neyman": (lambda u: (1 - u) ** 2 / u, lambda u: 1 - 1 / u ** 2),
        "jeffrey": (lambda u: (u - 1) * math.log(u), lambda u: math.log(u) + 1 - 1 / u),
    }[divergence]
    conj = lambda u: u * fp(u) - f(u)  # noqa: E731  f*(f'(u)) by Fenchel–Young
    n = len(a_)
    pos = sum(fp(G(a_[i], b_[i])) for i in range(n)) / n
    neg = sum(conj(G(v[i], v[j])) for v in (a_, b_) for i in range(n) for j in range(n) if i != j) / (2 * n * (n - 1))
    assert out.loss.item() == pytest.approx(-(pos - weight * neg), rel=1e-7, abs=1e-7)
    # the MI read-out stays the NWJ bound on cross-view pairs
    v = lambda i, j: math.log(G(a_[i], b_[j]))  # noqa: E731
    nwj = sum(v(i, i) + 1 for i in range(n)) / n - sum(math.exp(v(i, j)) for i in range(n) for j in range(n)
                                                        if i != j) / (n * (n - 1))
    assert out.mi_lower_bound.item() == pytest.approx(nwj, abs=1e-9)


def test_fmicl_default_negatives_are_the_papers_same_view_pairs():
    z1, z2 = _views(n=6, seed=17)
    default, same, cross = (losses.FMICLLoss("js", **kw)(z1, z2).loss.item()
                            for kw in ({}, {"negatives": "same"}, {"negatives": "cross"}))
    assert default == same and default != pytest.approx(cross)


@pytest.mark.parametrize("divergence", ["kl", "js", "pearson", "sq_hellinger", "tsallis", "vlc"])
@pytest.mark.parametrize("negatives", ["cross", "simclr"])
def test_fmicl_equals_naive(divergence, negatives):
    z1, z2 = _views(n=7, seed=6)
    weight, width = 40.0, 1.0
    out = losses.build_objective("fmicl", divergence=divergence, weight=weight, negatives=negatives)(z1, z2)
    div = get_divergence(divergence)
    if negatives == "cross":
        anchors, partners = z1.detach(), z2.detach()
    else:
        anchors, partners = torch.cat([z1, z2]).detach(), torch.cat([z2, z1]).detach()
    n = anchors.shape[0]
    v = lambda i, j: -width * (2.0 - 2.0 * _cos(anchors[i], partners[j]))  # noqa: E731  log G, μ = 1
    own = (lambda i: (i + n // 2) % n) if negatives == "simclr" else (lambda i: None)  # noqa: E731
    pairs = [(i, j) for i in range(n) for j in range(n) if j != i and j != own(i)]
    t = lambda fn, x: float(fn(torch.tensor(x, dtype=torch.float64)))  # noqa: E731
    objective = (sum(t(div.f_prime, v(i, i)) for i in range(n)) / n
                 - weight * sum(t(div.conjugate_of_f_prime, v(i, j)) for i, j in pairs) / len(pairs))
    nwj = sum(v(i, i) + 1 for i in range(n)) / n - sum(math.exp(v(i, j)) for i, j in pairs) / len(pairs)
    assert out.loss.item() == pytest.approx(-objective, rel=1e-9, abs=1e-9)
    assert out.mi_lower_bound.item() == pytest.approx(nwj, abs=1e-9)
    assert out.ceiling == pytest.approx(1.0)


def test_fmicl_weight_one_is_the_f_divergence_bound():
    z1, z2 = _views(seed=7)
    critic_scores = -(2.0 - 2.0 * F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).t())
    for divergence in ("kl", "js", "vlc"):
        out = losses.FMICLLoss(divergence=divergence, weight=1.0, negatives="cross")(z1, z2)
        assert out.loss.item() == pytest.approx(-bounds.f_divergence(critic_scores, divergence).item(), abs=1e-10)


def test_fmicl_kl_gaussian_is_alignment_uniformity():
    """KL + f-Gaussian: loss = w·align − 1 − log μ + α μ exp(U), U the log-mean Gaussian kernel over the
    negatives: within each view (the paper's, Wang & Isola's uniformity) or across views."""
    z1, z2 = _views(seed=8)
    w, mu, alpha = 2.0, 1.5, 40.0
    a, b = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    align = (a - b).pow(2).sum(1).mean()
    uniformity = lambda x: torch.pdist(x).pow(2).mul(-w).exp().mean().log()  # noqa: E731  Wang & Isola
    same = losses.FMICLLoss("kl", weight=alpha, inverse_width=w, mu=mu)(z1, z2)
    expected = w * align - 1 - math.log(mu) + alpha * mu * 0.5 * (uniformity(a).exp() + uniformity(b).exp())
    assert same.loss.item() == pytest.approx(expected.item(), abs=1e-9)
    cross = losses.FMICLLoss("kl", weight=alpha, inverse_width=w, mu=mu, negatives="cross")(z1, z2)
    uniformity_cross = bounds.log_mean_exp_offdiag(-w * torch.cdist(a, b).pow(2))
    expected = w * align - 1 - math.log(mu) + alpha * mu * uniformity_cross.exp()
    assert cross.loss.item() == pytest.approx(expected.item(), abs=1e-9)


def test_au_equals_wang_isola_reference():
    z1, z2 = _views(seed=9)
    out = losses.build_objective("au")(z1, z2)
    x, y = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    align = (x - y).norm(p=2, dim=1).pow(2).mean()
    uniform = lambda v: torch.pdist(v, p=2).pow(2).mul(-2.0).exp().mean().log()  # noqa: E731
    assert out.loss.item() == pytest.approx((align + (uniform(x) + uniform(y)) / 2).item(), abs=1e-10)
    kernel_scores = -2.0 * torch.cdist(x, y).pow(2)
    assert out.mi_lower_bound.item() == pytest.approx(bounds.infonce(kernel_scores).item(), abs=1e-9)
    assert out.ceiling == pytest.approx(math.log(z1.shape[0]))
    sqrt_align = losses.AlignmentUniformityLoss(align_alpha=1.0, uniformity_weight=0.0)(z1, z2)
    assert sqrt_align.loss.item() == pytest.approx((x - y).norm(dim=1).mean().item(), abs=1e-9)


@pytest.mark.parametrize("name", ["infonce", "ml_cpc", "fmicl", "au"])
def test_objectives_pickle(name):
    """ddp_spawn and torch.save(module) pickle the loss with the model."""
    import pickle

    objective = pickle.loads(pickle.dumps(losses.build_objective(name)))
    z1, z2 = _views(seed=11)
    assert objective(z1, z2).loss.item() == pytest.approx(losses.build_objective(name)(z1, z2).loss.item())


CASES = [("infonce", {}), ("infonce", {"negatives": "cross"}), ("ml_cpc", {"alpha": 0.1}),
         ("ml_cpc", {"alpha": 0.5, "negatives": "simclr"}), ("fmicl", {"divergence": "js"}),
         ("fmicl", {"divergence": "pearson", "negatives": "simclr"}), ("au", {})]


@pytest.mark.parametrize("name,kwargs", CASES)
def test_gradients_finite_also_for_collapsed_features(name, kwargs):
    objective = losses.build_objective(name, **kwargs)
    z1, z2 = _views(n=10, d=5, seed=10)
    collapsed = torch.ones(10, 5, dtype=torch.float64, requires_grad=True)
    for a, b in ((z1, z2), (collapsed, collapsed)):
        out = objective(a, b)
        out.loss.backward()
        assert torch.isfinite(out.loss) and torch.isfinite(out.mi_lower_bound)
        assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
        assert out.loss.dim() == 0 and out.mi_lower_bound.dim() == 0 and isinstance(out.ceiling, float)


@pytest.mark.parametrize("name", ["infonce", "ml_cpc", "fmicl", "au"])
def test_bad_inputs_raise_clear_errors(name):
    objective = losses.build_objective(name)
    z = torch.randn(6, 4)
    with pytest.raises(ValueError, match="same shape"):
        objective(z, torch.randn(6, 5))
    with pytest.raises(ValueError, match="same shape"):
        objective(z, torch.randn(5, 4))
    with pytest.raises(ValueError, match="at least 2"):
        objective(z[:1], z[:1])
    with pytest.raises(ValueError, match=r"shape \[n, d\]"):
        objective(torch.randn(6), torch.randn(6))
    bad = z.clone()
    bad[2, 1] = float("nan")
    with pytest.raises(ValueError, match="`z2` contains non-finite"):
        objective(z, bad)
    with pytest.raises(TypeError):
        objective(z.long(), z.long())


def test_bad_configuration_raises():
    with pytest.raises(ValueError, match="unknown objective"):
        losses.build_objective("barlow")
    with pytest.raises(ValueError, match="negatives"):
        losses.build_objective("infonce", negatives="all")
    with pytest.raises(ValueError, match="alpha"):
        losses.build_objective("ml_cpc", alpha=0.0)
    with pytest.raises(ValueError, match="alpha"):  # α must not exceed m = n
        losses.build_objective("ml_cpc", alpha=10.0)(torch.randn(4, 3), torch.randn(4, 3))
    with pytest.raises(ValueError, match="temperature"):
        losses.build_objective("infonce", temperature=0.0)
    with pytest.raises(ValueError, match="divergence"):
        losses.build_objective("fmicl", divergence="no_such_divergence")
    with pytest.raises(ValueError, match="similarity"):
        losses.build_objective("fmicl", similarity="l1")
    with pytest.raises(ValueError, match="negatives"):
        losses.build_objective("fmicl", negatives="all")
    assert losses.available_objectives() == ["au", "fmicl", "infonce", "ml_cpc"]
    assert isinstance(losses.build_objective("NT-Xent"), losses.InfoNCELoss)

"""ML-CPC's fresh-batch ("g") variant against a naive loop of the official estimator."""

import math

import pytest
import torch

from infobound import bounds


def _official(f, g, alpha):
    """ML-CPC repo, mutual-information-estimation/estimators.py `multilabel_infonce_lower_bound(f, alpha, g)`, as a loop."""
    n = f.shape[0]
    first = sum(float(f[i, i]) for i in range(n)) / n
    rows = []
    for i in range(n):
        row = 0.0
        if alpha > 0:
            row += alpha * sum(math.exp(float(f[i, j])) for j in range(n))
        if alpha < 1:
            row += (1 - alpha) * sum(math.exp(float(g[i, j])) for j in range(n))
        rows.append(row)
    return first - (math.log(sum(rows)) - 2 * math.log(n))


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_fresh_ml_cpc_equals_the_official_estimator(alpha):
    torch.manual_seed(0)
    f, g = torch.randn(6, 6, dtype=torch.float64) * 2, torch.randn(6, 6, dtype=torch.float64)
    assert bounds.ml_cpc_fresh(f, g, alpha).item() == pytest.approx(_official(f, g, alpha), abs=1e-10)


def test_alpha_one_is_ml_cpc_and_bad_inputs_raise():
    torch.manual_seed(1)
    f, g = torch.randn(5, 5, dtype=torch.float64), torch.randn(5, 5, dtype=torch.float64)
    assert bounds.ml_cpc_fresh(f, g, 1.0).item() == pytest.approx(bounds.ml_cpc(f, 1.0).item(), abs=1e-12)
    with pytest.raises(ValueError, match="alpha"):
        bounds.ml_cpc_fresh(f, g, 1.5)
    with pytest.raises(ValueError, match="fresh_scores"):
        bounds.ml_cpc_fresh(f, torch.randn(4, 5), 0.5)
    g_nan = g.clone()
    g_nan[0, 0] = float("nan")
    with pytest.raises(ValueError, match="fresh_scores"):
        bounds.ml_cpc_fresh(f, g_nan, 0.5)

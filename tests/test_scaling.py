"""helpers.scaling: power-law fits, parameter and FLOP counts, timing helpers (Chapter 12)."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import scaling
from helpers.models import count_parameters, mlp


def test_power_law_recovers_exponent_and_prefactor():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    k, a = scaling.fit_power_law(x, 3.0 * x**1.5)
    assert math.isclose(k, 1.5, rel_tol=1e-9) and math.isclose(a, 3.0, rel_tol=1e-9)


def test_power_law_drops_nan_and_rejects_bad_input():
    k, _ = scaling.fit_power_law([1, 2, 4, 8], [2, 4, np.nan, 16])
    assert math.isclose(k, 1.0, rel_tol=1e-9)
    with pytest.raises(ValueError, match="positive"):
        scaling.fit_power_law([1, 2], [0, 1])
    with pytest.raises(ValueError, match="two finite"):
        scaling.fit_power_law([1, 2], [1, np.nan])
    with pytest.raises(ValueError, match="same length"):
        scaling.fit_power_law([1, 2, 3], [1, 2])


def test_power_law_over_repeats_gives_mean_and_spread():
    rows = [{"repeat": r, "x": x, "y": x ** (1 + 0.1 * r)} for r in range(3) for x in (1, 2, 4)]
    law = scaling.power_law_over_repeats(pd.DataFrame(rows), "x", "y")
    assert math.isclose(law["exponent"], 1.1, rel_tol=1e-9)
    assert math.isclose(law["sd"], 0.1, rel_tol=1e-6)
    with pytest.raises(ValueError, match="no column"):
        scaling.power_law_over_repeats(pd.DataFrame(rows), "x", "missing")


def test_parameter_count_matches_torch():
    for sizes in ([64, 10], [64, 32, 10], [5, 7, 3, 2]):
        model = mlp(sizes[0], sizes[1:-1], sizes[-1])
        assert scaling.mlp_parameters(sizes) == count_parameters(model)
    with pytest.raises(ValueError, match="at least two"):
        scaling.mlp_parameters([64])
    with pytest.raises(ValueError):
        scaling.mlp_parameters([64, 0, 10])


def test_six_n_d_rule_and_exact_count():
    assert scaling.training_flops(10, 3) == 180.0
    with pytest.raises(ValueError):
        scaling.training_flops(-1, 3)
    model = mlp(64, [128], 10)
    X, y = torch.randn(32, 64), torch.randint(10, (32,))
    counted = scaling.counted_flops(model, X, y)
    # forward 2BW for both layers, weight gradients 2BW, input gradient only for the second layer
    assert counted == 2 * 32 * (64 * 128 + 128 * 10) * 2 + 2 * 32 * 128 * 10
    assert scaling.counted_flops(model, X, y, backward=False) == 2 * 32 * (64 * 128 + 128 * 10)
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(TypeError):
        scaling.counted_flops("not a model", X, y)


def test_threads_context_restores_the_setting():
    before = torch.get_num_threads()
    with scaling.threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError):
        with scaling.threads(0):
            pass


def test_timers_return_positive_numbers():
    assert scaling.matmul_flops_per_second(64, repeats=2) > 0
    X, y = torch.randn(100, 8), torch.randint(3, (100,))
    assert scaling.seconds_per_step(mlp(8, [4], 3), X, y, batch_size=10, steps=2, warmup=1) > 0
    assert scaling.seconds_per_step(mlp(8, [4], 3), X, y, batch_size=10, steps=2, warmup=1,
                                    autocast_dtype=torch.bfloat16) > 0
    with pytest.raises(ValueError, match="batch_size"):
        scaling.seconds_per_step(mlp(8, [4], 3), X, y, batch_size=1000)
    with pytest.raises(ValueError):
        scaling.matmul_flops_per_second(4)


def test_profile_step_lists_the_matrix_products():
    X, y = torch.randn(64, 16), torch.randint(4, (64,))
    table = scaling.profile_step(mlp(16, [32], 4), X, y, steps=2, top=5)
    assert list(table.columns) == ["operator", "calls per step", "self CPU ms per step", "share"]
    assert len(table) == 5 and table["share"].between(0, 1).all()


def _toy_data(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=g)
    y = (X[:, 0] > 0).long()
    return (X[: n // 2], y[: n // 2]), (X[n // 2 :], y[n // 2 :])


def test_time_to_target_stops_at_the_target_and_reports_misses():
    train, val = _toy_data()
    hit = scaling.time_to_target(lambda: mlp(4, [8], 2), train, val, target=0.8, max_epochs=50, lr=1e-2)
    assert hit["reached"] and hit["epochs to target"] < 50 and hit["seconds to target"] > 0
    miss = scaling.time_to_target(lambda: mlp(4, [8], 2), train, val, target=1.0, max_epochs=2, lr=1e-6)
    assert not miss["reached"] and math.isnan(miss["seconds to target"]) and miss["seconds per epoch"] > 0
    with pytest.raises(ValueError, match="target"):
        scaling.time_to_target(lambda: mlp(4, [8], 2), train, val, target=80)


def test_training_time_sweep_has_one_row_per_repeat_and_value():
    table = scaling.training_time_sweep("width", [1, 2], lambda v, s: {"seconds per epoch": v + s}, [0, 10])
    assert list(table["value"]) == [1, 2, 1, 2] and list(table["repeat"]) == [0, 0, 10, 10]
    assert list(table["seconds per epoch"]) == [1, 2, 11, 12]
    with pytest.raises(ValueError):
        scaling.training_time_sweep("width", [], lambda v, s: {}, [0])

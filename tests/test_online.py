"""helpers.online: drift streams, prequential evaluation, retraining policies, monitoring and human review."""

from __future__ import annotations

import numpy as np
import pytest
from river import drift, linear_model
from sklearn.linear_model import LogisticRegression, SGDClassifier

from helpers.online import (
    active_learning_curve,
    alarm_report,
    alarm_threshold,
    drift_stream,
    errors_found,
    inject_label_errors,
    prequential,
    recovery_time,
    review_order,
    rolling_mean,
    run_policy,
    window_signals,
)


def test_drift_stream_swaps_then_drifts_gradually():
    X, y, rule = drift_stream(900, seed=0, label_noise=0.0)
    assert X.shape == (900, 2) and set(np.unique(y)) == {0, 1}
    assert (rule[:300] == 0).all() and (rule[300:500] == 1).all() and (rule[-50:] == 2).all()
    assert np.array_equal(y[300:500], (X[300:500, 1] <= X[300:500, 0]).astype(int))  # labels swapped
    between = rule[560:640]
    assert 0 < (between == 2).mean() < 1  # gradual: the two rules mix
    with pytest.raises(ValueError, match="abrupt_at"):
        drift_stream(100, abrupt_at=80, gradual_at=50)
    with pytest.raises(ValueError, match="label_noise"):
        drift_stream(100, label_noise=0.6)


def test_prequential_with_river_and_scikit_learn():
    X, y, _ = drift_stream(600, seed=1)
    river_correct = prequential(linear_model.LogisticRegression(), X[:200], y[:200])
    assert river_correct.shape == (200,) and set(np.unique(river_correct)) <= {0.0, 1.0}
    sgd_correct = prequential(SGDClassifier(loss="log_loss", random_state=0), X[:200], y[:200], classes=[0, 1],
                              batch_size=20)
    assert (sgd_correct[:20] == 0).all() and sgd_correct[100:].mean() > 0.6


def test_prequential_refuses_unseen_classes_without_classes():
    X = np.random.default_rng(0).normal(size=(60, 2))
    y = np.r_[np.zeros(20, int), np.ones(20, int), np.full(20, 2)]
    with pytest.raises(ValueError, match="pass classes="):
        prequential(SGDClassifier(), X, y, batch_size=30)
    with pytest.raises(ValueError, match="label 2 at position 40"):
        prequential(SGDClassifier(), X, y, classes=[0, 1], batch_size=30)
    prequential(SGDClassifier(), X, y, classes=[0, 1, 2], batch_size=30)  # fine with every class given
    with pytest.raises(TypeError, match="learn_one"):
        prequential(object(), X, y)


def test_rolling_mean_and_recovery_time():
    assert np.allclose(rolling_mean([1, 0, 1, 1], 2), [1, 0.5, 0.5, 1])
    correct = np.r_[np.ones(100), np.zeros(50), np.ones(200)]
    # wrong on examples 100..149: the window of 20 ending at 168 holds one mistake (149), 19/20 = 0.95
    assert recovery_time(correct, 100, reference=1.0, window=20, tolerance=0.05) == 68
    assert recovery_time(np.r_[np.ones(100), np.zeros(100)], 100, 1.0, window=20) == 100  # never


@pytest.fixture(scope="module")
def stream():
    return drift_stream(1500, seed=0)


@pytest.mark.parametrize("policy", ["train once", "scheduled", "triggered", "online"])
def test_policies_run_and_count_labels(stream, policy):
    X, y, _ = stream
    run = run_policy(policy, X, y, initial=200, period=300, window=100, audit_rate=0.2,
                     online_model=linear_model.LogisticRegression(), detector=drift.PageHinkley(threshold=10, mode="up"))
    correct = run["correct"]
    assert np.isnan(correct[:200]).all() and not np.isnan(correct[200:]).any()
    if policy == "train once":
        assert run["labels"] == 200 and np.nanmean(correct[500:1000]) < 0.3  # the swap breaks it
    if policy == "scheduled":
        assert run["labels"] == 200 + 100 * len(run["retrains"]) and run["retrains"][0] == 500
    if policy == "triggered":
        assert run["retrains"] and min(run["retrains"]) > 500  # it fires after the swap, not before
    if policy == "online":
        assert run["labels"] == 1500


def test_run_policy_rejects_bad_arguments(stream):
    X, y, _ = stream
    with pytest.raises(ValueError, match="policy must be"):
        run_policy("sometimes", X, y)
    with pytest.raises(ValueError, match="online_model"):
        run_policy("online", X, y)
    with pytest.raises(ValueError, match="initial"):
        run_policy("train once", X, y, initial=0)


def test_monitoring_signals_and_alarms():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    shifted = X.copy()
    shifted[200:, 0] += 3
    signals = window_signals(model, shifted, y, X.mean(axis=0), np.array([0.5, 0.5]), window=50)
    assert set(signals) == {"input shift", "confidence drop", "class-frequency shift", "audited error"}
    assert all(len(v) == 8 for v in signals.values())
    assert signals["input shift"][4:].min() > signals["input shift"][:4].max()
    threshold = alarm_threshold(signals["input shift"][:4], 0.0)
    report = alarm_report(signals["input shift"], threshold, drift_window=4)
    assert report == {"false alarm rate": 0.0, "detection delay": 50.0, "detection rate": 1.0}
    assert np.isnan(alarm_report(np.zeros(8), 1.0, 4)["detection delay"])
    with pytest.raises(ValueError, match="at least 2"):
        alarm_threshold([1.0], 0.05)
    with pytest.raises(ValueError, match="full window"):
        window_signals(model, X[:10], y[:10], X.mean(axis=0), np.array([0.5, 0.5]), window=50)


def test_active_learning_curve_grows_the_labelled_set():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    for strategy in ("random", "uncertainty"):
        sizes, scores = active_learning_curve(X, y, X, y, strategy=strategy, start=4, step=4, budget=20, seed=0)
        assert sizes == [4, 8, 12, 16, 20] and all(0 <= s <= 1 for s in scores)
    with pytest.raises(ValueError, match="strategy"):
        active_learning_curve(X, y, X, y, strategy="query by committee")
    with pytest.raises(ValueError, match="budget"):
        active_learning_curve(X, y, X, y, start=1)


def test_label_review_finds_injected_errors():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 1, size=(150, 2)), rng.normal(2, 1, size=(150, 2))]
    y = np.r_[np.zeros(150, int), np.ones(150, int)]
    noisy, is_error = inject_label_errors(y, 0.1, 2, seed=0)
    assert is_error.sum() == 30 and (noisy[is_error] != y[is_error]).all() and (noisy[~is_error] == y[~is_error]).all()
    order = review_order(X, noisy)
    assert errors_found(order, is_error, 30) > 20
    with pytest.raises(ValueError, match="reviewed"):
        errors_found(order, is_error, 0)
    with pytest.raises(ValueError, match="rate"):
        inject_label_errors(y, 1.5, 2)

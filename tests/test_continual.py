"""helpers.continual: scenarios, strategies, accuracy-matrix measures and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.continual import (
    ReplayMemory,
    Strategy,
    allowed_outputs,
    average_accuracy,
    backward_transfer,
    distillation_loss,
    ewc_penalty,
    ewc_proximal_step,
    fisher_diagonal,
    forgetting,
    learning_accuracy,
    merge_anchor,
    n_outputs,
    split_digits,
    split_tasks,
    summarize,
    targets,
    train_sequentially,
    tune,
)
from helpers.models import mlp


@pytest.fixture(scope="module")
def tasks():
    return split_digits(seed=0)


@pytest.fixture(scope="module")
def two_tasks():
    return split_digits(seed=0, task_classes=((0, 1), (2, 3)))


def test_split_digits_makes_disjoint_tasks(tasks):
    assert [t.classes for t in tasks] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    for t in tasks:
        for which in ("train", "val", "test"):
            X, y = t.split(which)
            assert X.shape[1] == 64 and set(y.tolist()) == set(t.classes)
    assert 200 < len(tasks[0].y_train) < 230


def test_overlapping_and_empty_tasks_are_refused():
    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.tile(np.arange(4), 10)
    splits = {w: (X, y) for w in ("train", "val", "test")}
    with pytest.raises(ValueError, match="class 1 is in task 0 and in task 1"):
        split_tasks(splits, ((0, 1), (1, 2)))
    with pytest.raises(ValueError, match="no classes"):
        split_tasks(splits, ((0, 1), ()))
    with pytest.raises(ValueError, match="no examples"):
        split_tasks(splits, ((0, 7),))
    with pytest.raises(ValueError, match="keys"):
        split_tasks({"train": (X, y)}, ((0, 1),))


def test_scenarios_set_outputs_targets_and_masks(tasks):
    assert n_outputs(tasks, "class") == 10 and n_outputs(tasks, "task") == 10 and n_outputs(tasks, "domain") == 2
    t = tasks[1]
    assert set(targets(t, t.y_train, "domain").tolist()) == {0, 1}
    assert torch.equal(targets(t, t.y_train, "class"), t.y_train)
    assert allowed_outputs(t, "task", 10).nonzero().flatten().tolist() == [2, 3]
    assert allowed_outputs(t, "class", 10).all()
    with pytest.raises(ValueError, match="scenario"):
        n_outputs(tasks, "classes")


def test_measures_of_an_accuracy_matrix():
    R = np.array([[0.9, 0.1, 0.0], [0.5, 0.8, 0.0], [0.3, 0.6, 0.95]])
    assert average_accuracy(R) == pytest.approx((0.3 + 0.6 + 0.95) / 3)
    assert forgetting(R) == pytest.approx(((0.9 - 0.3) + (0.8 - 0.6)) / 2)
    assert backward_transfer(R) == pytest.approx(((0.3 - 0.9) + (0.6 - 0.8)) / 2)
    assert learning_accuracy(R) == pytest.approx((0.9 + 0.8 + 0.95) / 3)
    assert forgetting([[0.7]]) == 0.0 and backward_transfer([[0.7]]) == 0.0
    improving = np.array([[0.6, 0.0], [0.8, 0.9]])
    assert backward_transfer(improving) == pytest.approx(0.2) and forgetting(improving) == pytest.approx(-0.2)
    with pytest.raises(ValueError, match="square"):
        average_accuracy(np.ones((2, 3)))


def test_strategy_validates_its_settings():
    with pytest.raises(ValueError, match="strategy must be one of"):
        Strategy("icarl")
    with pytest.raises(ValueError, match="empty memory"):
        Strategy("replay", memory_per_class=0)
    with pytest.raises(ValueError, match="lr > 0"):
        Strategy("naive", lr=0)
    assert Strategy("ewc").with_(ewc_lambda=5.0).ewc_lambda == 5.0


def test_replay_memory_keeps_a_few_per_class_and_refuses_to_replay_when_empty():
    memory = ReplayMemory()
    with pytest.raises(ValueError, match="empty"):
        memory.tensors()
    X, y = torch.randn(30, 4), torch.tensor([0] * 20 + [1] * 10)
    memory.add(X, y, task_index=0, per_class=3, generator=torch.Generator().manual_seed(0))
    Xm, ym, tm = memory.tensors()
    assert Xm.shape == (6, 4) and sorted(ym.tolist()) == [0, 0, 0, 1, 1, 1] and (tm == 0).all()
    assert memory.nbytes() == 6 * 4 * 4 + 6 * 8
    with pytest.raises(ValueError, match="per_class"):
        memory.add(X, y, 1, 0, torch.Generator())


def test_fisher_is_nonnegative_and_shaped_like_the_weights():
    torch.manual_seed(0)
    model = mlp(5, [8], 3)
    fisher = fisher_diagonal(model, torch.randn(50, 5), generator=torch.Generator().manual_seed(0))
    for name, p in model.named_parameters():
        assert fisher[name].shape == p.shape and (fisher[name] >= 0).all()
    assert sum(f.sum() for f in fisher.values()) > 0
    with pytest.raises(ValueError, match="non-empty"):
        fisher_diagonal(model, torch.randn(0, 5))


def test_merged_anchor_has_the_same_penalty_gradient_as_separate_ones():
    torch.manual_seed(0)
    model = mlp(3, [4], 2)
    params = dict(model.named_parameters())
    anchors = [({k: torch.randn_like(v) for k, v in params.items()}, {k: torch.rand_like(v) for k, v in params.items()})
               for _ in range(2)]
    separate = sum(ewc_penalty(model, f, w) for w, f in anchors)
    grads_separate = torch.autograd.grad(separate, list(params.values()))
    fisher, anchor = merge_anchor(None, None, anchors[0][1], anchors[0][0])
    fisher, anchor = merge_anchor(fisher, anchor, anchors[1][1], anchors[1][0])
    grads_merged = torch.autograd.grad(ewc_penalty(model, fisher, anchor), list(params.values()))
    for a, b in zip(grads_separate, grads_merged):
        assert torch.allclose(a, b, atol=1e-5)


def test_proximal_step_pulls_weights_to_the_anchor_without_overshooting():
    torch.manual_seed(0)
    model = mlp(3, [4], 2)
    anchor = {k: torch.zeros_like(v) for k, v in model.named_parameters()}
    fisher = {k: torch.ones_like(v) for k, v in model.named_parameters()}
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    ewc_proximal_step(model, fisher, anchor, step=1.0)
    for k, v in model.named_parameters():
        assert torch.allclose(v, before[k] / 2)  # halfway for step * F = 1
    ewc_proximal_step(model, fisher, anchor, step=1e9)
    assert all(v.abs().max() < 1e-6 for v in model.parameters())  # frozen at the anchor, no divergence


def test_distillation_is_zero_when_student_matches_teacher():
    logits = torch.randn(6, 4)
    assert distillation_loss(logits, logits, torch.tensor([0, 1])).abs() < 1e-6
    assert distillation_loss(logits, torch.randn(6, 4), torch.tensor([0, 1, 2])) > 0


def test_naive_forgets_and_replay_remembers(two_tasks):
    naive = train_sequentially(two_tasks, "class", Strategy("naive"), seed=0)["val"]
    replay = train_sequentially(two_tasks, "class", Strategy("replay"), seed=0)["val"]
    assert naive.shape == (2, 2) and naive[0, 0] > 0.9 and naive[1, 1] > 0.9
    assert replay[1, 0] > naive[1, 0] + 0.3


@pytest.mark.parametrize("name", ["ewc", "lwf", "joint"])
def test_every_strategy_runs_in_every_scenario(two_tasks, name):
    for scenario in ("task", "domain", "class"):
        R = train_sequentially(two_tasks, scenario, Strategy(name, epochs=2, ewc_lambda=100.0), seed=0,
                               evaluate_on=("val", "test"))
        assert set(R) == {"val", "test"}
        assert np.all((R["test"][-1] >= 0) & (R["test"][-1] <= 1))
        if name == "joint":
            assert np.isnan(R["val"][0]).all() and np.isnan(summarize(R["val"])["forgetting"])


def test_train_sequentially_rejects_bad_arguments(two_tasks):
    with pytest.raises(TypeError, match="Strategy"):
        train_sequentially(two_tasks, "class", "naive")
    with pytest.raises(ValueError, match="evaluate_on"):
        train_sequentially(two_tasks, "class", Strategy(), evaluate_on=("dev",))
    with pytest.raises(ValueError, match="empty"):
        train_sequentially([], "class", Strategy())


def test_tune_reports_the_best_and_whether_it_is_on_the_edge(two_tasks):
    result = tune(two_tasks, "task", Strategy("naive", epochs=2), "lr", [0.001, 0.02, 0.05], seed=0)
    assert len(result["scores"]) == 3 and result["best"] in (0.001, 0.02, 0.05)
    assert not result["on_edge"] or result["best_index"] in (0, 2)
    flat = tune(two_tasks, "task", Strategy("naive", epochs=2), "lr", [0.02, 0.021, 0.022], seed=0, tolerance=1.0)
    assert not flat["on_edge"]  # an edge that wins by less than the tolerance is a tie
    with pytest.raises(ValueError, match="at least 3"):
        tune(two_tasks, "task", Strategy(), "lr", [0.01, 0.02])
    with pytest.raises(ValueError, match="no field"):
        tune(two_tasks, "task", Strategy(), "momentum", [1, 2, 3])

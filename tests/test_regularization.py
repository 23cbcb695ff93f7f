"""helpers.regularization: penalties, the weight report and the overfitting table."""

import pytest
import torch
from torch import nn

from helpers.models import mlp
from helpers.regularization import (
    Penalized,
    accuracy_row,
    overfitting_table,
    penalised_weights,
    weight_penalty,
    weight_report,
)


def _model():
    torch.manual_seed(0)
    return mlp(3, [4], 2)


def test_penalties_sum_weights_but_not_biases():
    model = _model()
    w1, w2 = model[0].weight, model[2].weight
    assert len(penalised_weights(model)) == 2
    assert torch.allclose(weight_penalty(model, "l2"), (w1**2).sum() + (w2**2).sum())
    assert torch.allclose(weight_penalty(model, "l1"), w1.abs().sum() + w2.abs().sum())
    weight_penalty(model).backward()
    assert torch.allclose(model[0].weight.grad, 2 * w1.detach())
    assert model[0].bias.grad is None


def test_penalized_loss_adds_the_penalty_only_in_training_mode():
    model = _model()
    X, y = torch.randn(5, 3), torch.tensor([0, 1, 0, 1, 1])
    base = nn.CrossEntropyLoss()
    loss = Penalized(base, model, l1=0.1, l2=0.01)
    expected = base(model(X), y) + 0.1 * weight_penalty(model, "l1") + 0.01 * weight_penalty(model, "l2")
    assert torch.allclose(loss(model(X), y), expected)
    model.eval()
    assert torch.allclose(loss(model(X), y), base(model(X), y))


def test_weight_report_counts_near_zero_weights():
    model = _model()
    with torch.no_grad():
        model[0].weight.zero_()
    report = weight_report(model, tol=1e-6)
    assert report["n_weights"] == 12 + 8
    assert report["fraction_near_zero"] == pytest.approx(12 / 20)
    assert report["l2_norm"] == pytest.approx(float(model[2].weight.detach().norm()), rel=1e-5)
    assert report["max_abs"] == pytest.approx(float(model[2].weight.detach().abs().max()))


def test_accuracy_row_and_table():
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    right, half = torch.tensor([0, 1, 0, 1]), torch.tensor([0, 1, 1, 0])
    row = accuracy_row(model, (X, right), (X, half), (X, right))
    assert row == {"train accuracy": 1.0, "validation accuracy": 0.5, "gap": 0.5, "test accuracy": 1.0}
    table = overfitting_table({"identity": row})
    assert list(table.columns) == ["train accuracy", "validation accuracy", "gap", "test accuracy"]
    assert table.loc["identity", "gap"] == 0.5


def test_bad_inputs_get_clear_errors():
    model = _model()
    with pytest.raises(ValueError, match="'l1' or 'l2'"):
        weight_penalty(model, "l3")
    with pytest.raises(TypeError, match="torch.nn.Module"):
        weight_penalty("not a model")
    with pytest.raises(ValueError, match="no weight matrices"):
        weight_penalty(nn.ReLU())
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        Penalized(nn.MSELoss(), model, l2=-1.0)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        Penalized("mse", model)
    with pytest.raises(ValueError, match="tol must be > 0"):
        weight_report(model, tol=0)
    with pytest.raises(TypeError, match="pair"):
        accuracy_row(model, torch.zeros(2, 3), None, None)
    with pytest.raises(ValueError, match="non-empty dict"):
        overfitting_table({})
    with pytest.raises(ValueError, match="lacks"):
        overfitting_table({"m": {"gap": 0.1}})

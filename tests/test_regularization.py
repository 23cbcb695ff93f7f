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


# --------------------------------------------------------------------------
# Many networks trained side by side
# --------------------------------------------------------------------------

import numpy as np  # noqa: E402

from helpers.regularization import ManyMLPs, noisy_subset, train_many  # noqa: E402
from helpers.train import EarlyStopping, History  # noqa: E402


def _toy_data(k=1, n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 6, generator=g)
    y = (X[:, 0] + X[:, 1] > 1).long() + (X[:, 2] > 0.7).long()
    Xv = torch.rand(30, 6, generator=g)
    yv = (Xv[:, 0] + Xv[:, 1] > 1).long() + (Xv[:, 2] > 0.7).long()
    return X.expand(k, -1, -1), y.expand(k, -1), (Xv, yv)


def test_many_mlps_start_like_their_seed_and_map_shapes():
    model = ManyMLPs([6, 5, 3], seeds=[1, 2, 1])
    assert torch.equal(model.weights[0][0], model.weights[0][2]) and not torch.equal(model.weights[0][0],
                                                                                      model.weights[0][1])
    assert model.weights[0].abs().max() <= 6**-0.5
    assert model(torch.rand(4, 6)).shape == (3, 4, 3)
    assert model(torch.rand(3, 4, 6)).shape == (3, 4, 3)
    picked = model.subset([2, 1])
    assert torch.equal(picked.weights[1][0], model.weights[1][2]) and picked.dropout.shape == (2,)
    with pytest.raises(ValueError, match="one probability"):
        ManyMLPs([6, 3], seeds=[0, 1], dropout=[0.5])


def test_train_many_is_the_loop_of_fit_for_each_network():
    """One network of the batch follows a hand-written loop: Adam, decoupled decay, its own batches."""
    X, y, val = _toy_data(k=1)
    lr, wd, epochs, batch = 0.01, 0.5, 3, 16
    runs = train_many(X, y, val, hidden=[5], n_classes=3, seeds=[7], weight_decay=wd, epochs=epochs, lr=lr,
                      batch_size=batch)
    start = ManyMLPs([6, 5, 3], seeds=[7])
    net = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    with torch.no_grad():
        for layer, w, b in zip((net[0], net[2]), start.weights, start.biases):
            layer.weight.copy_(w[0].T)
            layer.bias.copy_(b[0])
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    shuffler = torch.Generator().manual_seed(8)
    for _ in range(epochs):
        order = torch.randperm(40, generator=shuffler)
        for first in range(0, 40, batch):
            idx = order[first:first + batch]
            loss = nn.functional.cross_entropy(net(X[0][idx]), y[0][idx])
            optimizer.zero_grad()
            loss.backward()
            with torch.no_grad():
                net[0].weight.mul_(1 - lr * wd)
                net[2].weight.mul_(1 - lr * wd)
            optimizer.step()
    assert torch.allclose(runs.model.weights[0][0], net[0].weight.detach().T, atol=1e-5)
    assert torch.allclose(runs.model.biases[1][0], net[2].bias.detach(), atol=1e-5)


def test_networks_in_one_batch_do_not_interact():
    X, y, val = _toy_data(k=3)
    together = train_many(X, y, val, hidden=[8], n_classes=3, seeds=[0, 0, 1], weight_decay=[0.0, 1.0, 0.0],
                          l1=[0.0, 0.0, 1e-3], epochs=4, lr=0.01)
    alone = train_many(X[:1], y[:1], val, hidden=[8], n_classes=3, seeds=[0], epochs=4, lr=0.01)
    assert torch.allclose(together.model.weights[0][0], alone.model.weights[0][0], atol=1e-5)
    assert not torch.allclose(together.model.weights[0][0], together.model.weights[0][1])
    norms = [float(together.model.weights[0][i].detach().norm()) for i in range(2)]
    assert norms[1] < norms[0], "weight decay shrinks the second network's weights"
    assert together.val_loss.shape == (4, 3) and together.accuracy(*val).shape == (3,)
    assert together.accuracy(*val, networks=[2]).shape == (1,)


def test_early_stopping_inside_train_many_matches_the_callback():
    X, y, val = _toy_data(k=2)
    runs = train_many(X, y, val, hidden=[32], n_classes=3, seeds=[0, 1], epochs=40, lr=0.05, patience=3)
    for k in range(2):
        stopper, history = EarlyStopping(patience=3), History()
        stopper.on_train_begin(None)
        for loss in runs.val_loss[:, k]:
            history.epoch.append(len(history) + 1)
            history.val_loss.append(float(loss))
            if stopper.on_epoch_end(history, None):
                break
        assert runs.stop_epoch[k] == len(history)
        assert runs.best_epoch[k] == 1 + int(np.argmin(history.val_loss))


def test_noisy_subset_draws_rows_and_corrupts_labels_reproducibly():
    X, y = torch.arange(1000.0).unsqueeze(1), torch.arange(1000) % 10
    Xs, noisy, clean = noisy_subset(X, y, 500, 0.4, seed=3, n_classes=10)
    assert Xs.shape == (500, 1) and torch.equal(clean, Xs[:, 0].long() % 10)
    wrong = float((noisy != clean).float().mean())
    assert 0.3 < wrong < 0.42  # 40% replaced, a tenth of those by the right class
    again = noisy_subset(X, y, 500, 0.4, seed=3, n_classes=10)
    assert torch.equal(again[1], noisy)
    with pytest.raises(ValueError, match="more than"):
        noisy_subset(X, y, 2000, 0.1, seed=0, n_classes=10)

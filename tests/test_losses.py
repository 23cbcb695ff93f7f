"""Each loss in helpers.losses against torch.nn.functional, and its bad-input errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers import losses

torch.manual_seed(0)
N, C = 37, 5


@pytest.fixture
def regression():
    g = torch.Generator().manual_seed(1)
    p = torch.randn(N, generator=g) * 3
    y = torch.randn(N, generator=g) * 3
    return p, y


@pytest.fixture
def classification():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(N, C, generator=g) * 4
    labels = torch.randint(0, C, (N,), generator=g)
    return logits, labels


@pytest.fixture
def binary():
    g = torch.Generator().manual_seed(3)
    scores = torch.randn(N, generator=g) * 4
    targets = torch.randint(0, 2, (N,), generator=g).float()
    return scores, targets


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# Against torch.nn.functional
# --------------------------------------------------------------------------


def test_regression_losses_match_torch(regression):
    p, y = regression
    close(losses.mse(p, y), F.mse_loss(p, y))
    close(losses.mae(p, y), F.l1_loss(p, y))
    for delta in (0.5, 1.0, 3.0):
        close(losses.huber(p, y, delta=delta), F.huber_loss(p, y, delta=delta))


def test_regression_gradients_match_torch(regression):
    p, y = regression
    for ours, theirs in [(losses.mse, F.mse_loss), (losses.mae, F.l1_loss), (losses.huber, F.huber_loss)]:
        a = p.clone().requires_grad_()
        b = p.clone().requires_grad_()
        ours(a, y).backward()
        theirs(b, y).backward()
        close(a.grad, b.grad)


def test_cross_entropy_family_matches_torch(classification):
    logits, labels = classification
    close(losses.cross_entropy(logits, labels), F.cross_entropy(logits, labels))
    close(losses.log_softmax(logits), F.log_softmax(logits, dim=1))
    weights = torch.tensor([0.2, 1.0, 3.0, 0.5, 2.0])
    close(losses.weighted_cross_entropy(logits, labels, weights), F.cross_entropy(logits, labels, weight=weights))
    for s in (0.0, 0.1, 0.3):
        close(
            losses.label_smoothed_cross_entropy(logits, labels, s),
            F.cross_entropy(logits, labels, label_smoothing=s),
        )


def test_cross_entropy_gradient_matches_torch(classification):
    logits, labels = classification
    a = logits.clone().requires_grad_()
    b = logits.clone().requires_grad_()
    losses.cross_entropy(a, labels).backward()
    F.cross_entropy(b, labels).backward()
    close(a.grad, b.grad)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, 0.0, 1000.0]])
    labels = torch.tensor([2, 2])
    close(losses.cross_entropy(logits, labels), F.cross_entropy(logits, labels))
    assert torch.isfinite(losses.cross_entropy(logits, labels))


def test_focal_loss(classification):
    logits, labels = classification
    # gamma = 0 is cross-entropy (weighted or not)
    close(losses.focal_loss(logits, labels, gamma=0.0), F.cross_entropy(logits, labels))
    weights = torch.tensor([0.2, 1.0, 3.0, 0.5, 2.0])
    close(
        losses.focal_loss(logits, labels, gamma=0.0, class_weights=weights),
        F.cross_entropy(logits, labels, weight=weights),
    )
    # the definition, built from torch's per-sample cross-entropy
    ce = F.cross_entropy(logits, labels, reduction="none")
    expected = ((1 - torch.exp(-ce)) ** 2 * ce).mean()
    close(losses.focal_loss(logits, labels, gamma=2.0), expected)
    # down-weights every example, so it is never above cross-entropy
    assert losses.focal_loss(logits, labels, gamma=2.0) <= F.cross_entropy(logits, labels)


def test_multiclass_hinge_matches_torch(classification):
    logits, labels = classification
    for margin in (1.0, 2.5):
        close(losses.multiclass_hinge(logits, labels, margin), F.multi_margin_loss(logits, labels, margin=margin))


def test_mse_on_probabilities_matches_torch(classification):
    logits, labels = classification
    expected = C * F.mse_loss(F.softmax(logits, dim=1), F.one_hot(labels, C).float())
    close(losses.mse_on_probabilities(logits, labels), expected)


def test_binary_losses_match_torch(binary):
    scores, targets = binary
    close(losses.binary_cross_entropy(scores, targets), F.binary_cross_entropy_with_logits(scores, targets))
    close(losses.binary_cross_entropy(scores, targets.long()), F.binary_cross_entropy_with_logits(scores, targets))
    two_columns = torch.stack([torch.zeros_like(scores), scores], dim=1)
    close(losses.hinge(scores, targets), 2 * F.multi_margin_loss(two_columns, targets.long()))


def test_binary_cross_entropy_is_stable_for_huge_logits():
    scores = torch.tensor([200.0, -200.0, 200.0])
    targets = torch.tensor([0.0, 1.0, 1.0])
    value = losses.binary_cross_entropy(scores, targets)
    assert torch.isfinite(value)
    close(value, F.binary_cross_entropy_with_logits(scores, targets))


def test_losses_work_as_fit_loss_fn():
    from helpers.train import fit

    X = torch.randn(64, 3)
    y = (X[:, 0] > 0).long()
    model = torch.nn.Linear(3, 2)
    history = fit(model, (X, y), loss_fn=losses.focal_loss, epochs=2, device="cpu", progress=False)
    assert len(history) == 2 and np.isfinite(history.train_loss).all()


# --------------------------------------------------------------------------
# Class weights, calibration, data
# --------------------------------------------------------------------------


def test_balanced_class_weights_match_sklearn():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0] * 90 + [1] * 8 + [2] * 2)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    close(losses.balanced_class_weights(y), torch.tensor(expected, dtype=torch.float32))
    # each class carries the same total weight
    w = losses.balanced_class_weights(torch.as_tensor(y))
    totals = torch.bincount(torch.as_tensor(y), weights=w[torch.as_tensor(y)])
    close(totals, torch.full((3,), 100 / 3, dtype=totals.dtype))
    assert losses.balanced_class_weights(y, n_classes=4)[3] == 0


# --------------------------------------------------------------------------
# Bad input: clear errors
# --------------------------------------------------------------------------


def test_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="same shape"):
        losses.mse(torch.zeros(4, 1), torch.zeros(4))
    with pytest.raises(ValueError, match="labels must have shape"):
        losses.cross_entropy(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(n_samples, n_classes\)"):
        losses.cross_entropy(torch.zeros(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="one logit per sample"):
        losses.binary_cross_entropy(torch.zeros(4, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="one per class"):
        losses.weighted_cross_entropy(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), torch.ones(2))


def test_wrong_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="integer tensor of class indices"):
        losses.cross_entropy(torch.zeros(4, 3), torch.zeros(4))
    with pytest.raises(TypeError, match="float tensors"):
        losses.huber(torch.zeros(4, dtype=torch.long), torch.zeros(4))
    with pytest.raises(TypeError, match="logits must be a float"):
        losses.focal_loss(torch.zeros(4, 3, dtype=torch.long), torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError, match="torch.Tensor"):
        losses.mae(np.zeros(4), torch.zeros(4))
    with pytest.raises(TypeError, match="integers"):
        losses.balanced_class_weights(np.array([0.0, 1.0]))


def test_labels_out_of_range_is_a_value_error():
    with pytest.raises(ValueError, match=r"0\.\.2"):
        losses.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"0\.\.2"):
        losses.label_smoothed_cross_entropy(torch.zeros(2, 3), torch.tensor([-1, 0]))
    with pytest.raises(ValueError, match="0 or 1"):
        losses.binary_cross_entropy(torch.zeros(2), torch.tensor([0.0, 2.0]))
    with pytest.raises(ValueError, match="0 or 1"):
        losses.hinge(torch.zeros(2), torch.tensor([-1.0, 1.0]))


def test_nan_is_a_value_error():
    with pytest.raises(ValueError, match="NaN"):
        losses.mse(torch.tensor([1.0, float("nan")]), torch.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        losses.huber(torch.zeros(2), torch.tensor([float("nan"), 0.0]))
    with pytest.raises(ValueError, match="NaN"):
        losses.cross_entropy(torch.tensor([[float("nan"), 0.0]]), torch.tensor([0]))
    with pytest.raises(ValueError, match="NaN"):
        losses.binary_cross_entropy(torch.tensor([float("inf")]), torch.tensor([1.0]))
    # the checks can be skipped, e.g. inside a long training run
    assert torch.isnan(losses.mse(torch.tensor([float("nan")]), torch.zeros(1), check=False))


def test_bad_hyperparameters():
    logits, labels = torch.zeros(2, 3), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="delta"):
        losses.huber(torch.zeros(2), torch.zeros(2), delta=0)
    with pytest.raises(ValueError, match="smoothing"):
        losses.label_smoothed_cross_entropy(logits, labels, smoothing=1.0)
    with pytest.raises(ValueError, match="gamma"):
        losses.focal_loss(logits, labels, gamma=-1)
    with pytest.raises(ValueError, match="empty"):
        losses.mse(torch.zeros(0), torch.zeros(0))


# --------------------------------------------------------------------------
# Fair comparisons: the bare training loop, the best rate of a grid, temperature scaling
# --------------------------------------------------------------------------


def test_train_is_reproducible_and_reports_each_epoch():
    torch.manual_seed(0)
    X, y = torch.randn(64, 3), torch.randint(0, 2, (64,))

    def run():
        torch.manual_seed(1)
        model = torch.nn.Linear(3, 2)
        curve = losses.train(model, losses.cross_entropy, X, y, lr=0.1, epochs=4, batch_size=16, seed=5,
                             on_epoch_end=lambda epoch, m: (epoch, losses.cross_entropy(m(X), y).item()))
        return model, curve

    (first, curve), (second, _) = run(), run()
    assert torch.equal(first.weight, second.weight), "same seed, same minibatch order, same weights"
    assert [epoch for epoch, _ in curve] == [1, 2, 3, 4]
    assert curve[-1][1] < curve[0][1], "the loss should go down"
    with pytest.raises(ValueError):
        losses.train(first, losses.cross_entropy, X, y, lr=0.0, epochs=1, batch_size=16)


def test_train_stops_when_the_loss_blows_up():
    X, y = torch.randn(32, 2) * 100, torch.randn(32)
    model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Flatten(0))
    curve = losses.train(model, losses.mse, X, y, lr=1e6, epochs=50, batch_size=8, on_epoch_end=lambda e, m: e)
    assert len(curve) < 50


def test_best_on_grid_picks_the_best_mean_and_flags_the_edge():
    import pandas as pd

    sweep = pd.DataFrame({"loss": ["a"] * 6 + ["b"] * 6, "lr": [0.1, 0.1, 1, 1, 10, 10] * 2,
                          "seed": [0, 1] * 6,
                          "score": [0.5, 0.6, 0.9, 0.8, 0.7, 0.7, 0.1, 0.2, 0.3, 0.4, 0.8, 0.9]})
    best = losses.best_on_grid(sweep, "score")
    assert best.loc["a", "lr"] == 1 and not best.loc["a", "on_edge"]
    assert abs(best.loc["a", "mean"] - 0.85) < 1e-9 and best.loc["a", "sd"] > 0
    assert best.loc["b", "lr"] == 10 and best.loc["b", "on_edge"]
    lowest = losses.best_on_grid(sweep, "score", higher_is_better=False)
    assert lowest.loc["a", "lr"] == 0.1 and lowest.loc["a", "on_edge"]


def test_fit_temperature_recovers_a_known_temperature_and_keeps_predictions():
    g = torch.Generator().manual_seed(0)
    true_logits = torch.randn(4000, 5, generator=g) * 2
    labels = torch.distributions.Categorical(logits=true_logits).sample()
    temperature = losses.fit_temperature(true_logits * 3, labels)  # logits 3x too sharp: T should be about 3
    assert abs(temperature - 3) < 0.3
    assert torch.equal((true_logits * 3 / temperature).argmax(1), true_logits.argmax(1))
    with pytest.raises(TypeError):
        losses.fit_temperature(true_logits, labels.float())

"""Chapter 4: loss functions written from scratch, a few lines each.

A loss turns "how wrong is the model on this batch?" into one number that
training pushes down. Each function below is the formula, in PyTorch, plus
checks that fail with a clear message on bad input. The tests compare every
one with its ``torch.nn.functional`` counterpart.

Regression (predictions and targets: float tensors of the same shape, e.g. (n,)):

- ``mse``    mean squared error          mean (p - y)^2
- ``mae``    mean absolute error         mean |p - y|
- ``huber``  squared near 0, linear beyond ``delta``

Classification from *logits* (raw scores, any real number):

- ``cross_entropy``                  logits (n, C), labels (n,) int64 in 0..C-1
- ``weighted_cross_entropy``         the same, each class weighted
- ``label_smoothed_cross_entropy``   the same, targets softened
- ``focal_loss``                     the same, easy examples down-weighted
- ``multiclass_hinge``               margin loss of multi-class SVMs
- ``mse_on_probabilities``           squared error between softmax and one-hot (Brier score)
- ``binary_cross_entropy``           one logit per sample (n,), targets (n,) 0/1
- ``hinge``                          one score per sample (n,), targets (n,) 0/1

Every function returns the *mean* over the batch (a 0-d tensor), so any of
them can be passed to ``helpers.train.fit`` as ``loss_fn``.

Also here: ``balanced_class_weights`` (the usual weights against class
imbalance). The two data sets Chapter 4 uses, ``make_outlier_regression``
and ``make_imbalanced``, are in ``helpers.data``. Calibration (do predicted probabilities match how
often the model is right?) is measured with ``helpers.metrics``.

The input checks read values (NaN, label range), which on a GPU makes the
CPU wait for the device once per call; pass ``check=False`` to skip them in a
long training run once the data is known to be clean.
"""

from __future__ import annotations

import torch

from helpers.checks import as_labels, check_finite_tensor, check_number, check_positive, check_tensor

# --------------------------------------------------------------------------
# Input checks: each raises TypeError / ValueError saying what was expected
# --------------------------------------------------------------------------


def _check_regression(predictions, targets, check: bool = True) -> None:
    check_tensor(predictions, "predictions")
    check_tensor(targets, "targets")
    if not predictions.is_floating_point() or not targets.is_floating_point():
        raise TypeError(
            f"predictions and targets must be float tensors, got {predictions.dtype} and {targets.dtype}"
        )
    if predictions.shape != targets.shape:
        raise ValueError(
            f"predictions and targets must have the same shape, got {tuple(predictions.shape)} "
            f"and {tuple(targets.shape)} (a model with one output gives (n, 1): squeeze it to (n,))"
        )
    if predictions.numel() == 0:
        raise ValueError("the batch is empty: predictions and targets have 0 elements")
    if check:
        check_finite_tensor(predictions, "predictions")
        check_finite_tensor(targets, "targets")


def _check_logits_and_labels(logits, labels, check: bool = True) -> int:
    """Check (n, C) logits against (n,) integer labels; return C."""
    check_tensor(logits, "logits")
    check_tensor(labels, "labels")
    if not logits.is_floating_point():
        raise TypeError(f"logits must be a float tensor, got {logits.dtype}")
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (n_samples, n_classes), got {tuple(logits.shape)}")
    if labels.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise TypeError(
            f"labels must be an integer tensor of class indices (torch.int64), got {labels.dtype}; "
            "for 0/1 float targets use binary_cross_entropy"
        )
    if labels.shape != logits.shape[:1]:
        raise ValueError(
            f"labels must have shape (n_samples,) = ({logits.shape[0]},) to match logits "
            f"{tuple(logits.shape)}, got {tuple(labels.shape)}"
        )
    if logits.shape[0] == 0:
        raise ValueError("the batch is empty: logits and labels have 0 samples")
    n_classes = logits.shape[1]
    if check:
        check_finite_tensor(logits, "logits")
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= n_classes:
            raise ValueError(
                f"labels must lie in 0..{n_classes - 1} (logits have {n_classes} columns), "
                f"got values from {low} to {high}"
            )
    return n_classes


def _check_binary(scores, targets, check: bool = True) -> None:
    check_tensor(scores, "scores")
    check_tensor(targets, "targets")
    if not scores.is_floating_point():
        raise TypeError(f"scores (logits) must be a float tensor, got {scores.dtype}")
    if scores.ndim != 1:
        raise ValueError(
            f"scores must have shape (n_samples,): one logit per sample, got {tuple(scores.shape)}"
        )
    if targets.shape != scores.shape:
        raise ValueError(f"targets must have shape {tuple(scores.shape)} like the scores, got {tuple(targets.shape)}")
    if targets.dtype == torch.bool or targets.is_complex():
        raise TypeError(f"targets must be 0/1 numbers (float or int), got {targets.dtype}")
    if scores.numel() == 0:
        raise ValueError("the batch is empty: scores and targets have 0 elements")
    if check:
        check_finite_tensor(scores, "scores")
        if not ((targets == 0) | (targets == 1)).all():
            raise ValueError("targets must be 0 or 1 for binary classification")


# --------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------


def mse(predictions: torch.Tensor, targets: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """Mean squared error: mean of (p - y)^2 over all elements.

    ``predictions``, ``targets``: float tensors of the same shape, e.g. (n,).
    Returns a 0-d tensor in squared target units. Same as ``F.mse_loss``.
    """
    _check_regression(predictions, targets, check)
    return ((predictions - targets) ** 2).mean()


def mae(predictions: torch.Tensor, targets: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """Mean absolute error: mean of |p - y| (target units). Same as ``F.l1_loss``."""
    _check_regression(predictions, targets, check)
    return (predictions - targets).abs().mean()


def huber(predictions: torch.Tensor, targets: torch.Tensor, delta: float = 1.0, *, check: bool = True) -> torch.Tensor:
    """Huber loss: r^2 / 2 for residuals |r| <= delta, delta (|r| - delta / 2) beyond.

    Quadratic (like MSE) for small residuals, linear (like MAE) for large
    ones, so an outlier's pull is capped at ``delta``. ``delta`` is in target
    units. Same as ``F.huber_loss(p, y, delta=delta)``.
    """
    _check_regression(predictions, targets, check)
    check_positive(delta, "delta")
    r = (predictions - targets).abs()
    return torch.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)).mean()


# --------------------------------------------------------------------------
# Classification with C classes: logits (n, C), labels (n,) int64
# --------------------------------------------------------------------------


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """log p = z - logsumexp(z) per row, computed stably: (n, C) -> (n, C).

    Subtracting the row maximum first keeps exp() from overflowing for
    large logits; it does not change the result.
    """
    shifted = logits - logits.max(dim=1, keepdim=True).values.detach()
    return shifted - shifted.exp().sum(dim=1, keepdim=True).log()


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """Cross-entropy: mean of -log p_y, with p = softmax(logits).

    ``logits`` (n, C) float, ``labels`` (n,) int64 in 0..C-1. Returns a 0-d
    tensor in nats. Same as ``F.cross_entropy(logits, labels)``.
    """
    _check_logits_and_labels(logits, labels, check)
    log_p = log_softmax(logits)
    return -log_p.gather(1, labels.long().unsqueeze(1)).mean()


def weighted_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, class_weights: torch.Tensor, *, check: bool = True
) -> torch.Tensor:
    """Cross-entropy where a sample of class c counts ``class_weights[c]`` times.

    ``class_weights`` (C,) positive floats, e.g. from
    :func:`balanced_class_weights`. Like PyTorch, the weighted sum is divided
    by the sum of the weights of the batch's samples, so the loss stays a
    weighted *mean*. Same as ``F.cross_entropy(logits, labels, weight=class_weights)``.
    """
    n_classes = _check_logits_and_labels(logits, labels, check)
    check_tensor(class_weights, "class_weights")
    if class_weights.shape != (n_classes,):
        raise ValueError(f"class_weights must have shape ({n_classes},), one per class, got {tuple(class_weights.shape)}")
    if check and not (class_weights >= 0).all():
        raise ValueError("class_weights must be non-negative")
    w = class_weights.to(logits.dtype)[labels.long()]  # (n,): each sample's weight
    nll = -log_softmax(logits).gather(1, labels.long().unsqueeze(1)).squeeze(1)
    return (w * nll).sum() / w.sum()


def label_smoothed_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, smoothing: float = 0.1, *, check: bool = True
) -> torch.Tensor:
    """Cross-entropy against softened targets: 1 - s + s/C on the true class, s/C elsewhere.

    The target is never a hard 1, so the model gains nothing from pushing
    one logit ever higher. ``smoothing`` s in [0, 1). Same as
    ``F.cross_entropy(logits, labels, label_smoothing=s)``.
    """
    n_classes = _check_logits_and_labels(logits, labels, check)
    check_number(smoothing, "smoothing", low=0.0, high=1.0, high_open=True)
    log_p = log_softmax(logits)
    targets = torch.full_like(log_p, smoothing / n_classes)
    targets.scatter_(1, labels.long().unsqueeze(1), 1 - smoothing + smoothing / n_classes)
    return -(targets * log_p).sum(dim=1).mean()


def focal_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    gamma: float = 2.0,
    class_weights: torch.Tensor | None = None,
    *,
    check: bool = True,
) -> torch.Tensor:
    """Focal loss (Lin et al. 2017): mean of -(1 - p_y)^gamma log p_y.

    The factor (1 - p_y)^gamma is near 0 for examples the model already gets
    right with confidence, so training focuses on the hard ones. ``gamma=0``
    gives cross-entropy. ``class_weights`` (C,), optional, multiply each
    sample's term by its class weight (the paper's alpha); the result is then
    divided by the batch's total weight, as in ``weighted_cross_entropy``.
    """
    n_classes = _check_logits_and_labels(logits, labels, check)
    check_number(gamma, "gamma", low=0.0)
    log_p_y = log_softmax(logits).gather(1, labels.long().unsqueeze(1)).squeeze(1)  # (n,)
    terms = -((1 - log_p_y.exp()) ** gamma) * log_p_y
    if class_weights is None:
        return terms.mean()
    check_tensor(class_weights, "class_weights")
    if class_weights.shape != (n_classes,):
        raise ValueError(f"class_weights must have shape ({n_classes},), one per class, got {tuple(class_weights.shape)}")
    w = class_weights.to(logits.dtype)[labels.long()]
    return (w * terms).sum() / w.sum()


def multiclass_hinge(logits: torch.Tensor, labels: torch.Tensor, margin: float = 1.0, *, check: bool = True) -> torch.Tensor:
    """Multi-class hinge loss: sum over wrong classes j of max(0, margin - z_y + z_j), divided by C.

    Zero once the true class's score beats every other by ``margin``: the
    loss stops caring, which is why its scores are not probabilities. Same as
    ``F.multi_margin_loss(logits, labels, margin=margin)``.
    """
    n_classes = _check_logits_and_labels(logits, labels, check)
    check_positive(margin, "margin")
    z_y = logits.gather(1, labels.long().unsqueeze(1))  # (n, 1)
    violations = (margin - z_y + logits).clamp(min=0)  # (n, C); the true class gives exactly `margin`
    return (violations.sum(dim=1) - margin).mean() / n_classes


def mse_on_probabilities(logits: torch.Tensor, labels: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """Squared error between softmax(logits) and the one-hot label, summed over classes, mean over samples.

    This is the Brier score (Brier 1950). ``logits`` (n, C), ``labels`` (n,).
    Equals ``C * F.mse_loss(softmax(logits), one_hot(labels))``.
    """
    n_classes = _check_logits_and_labels(logits, labels, check)
    p = log_softmax(logits).exp()
    one_hot = torch.nn.functional.one_hot(labels.long(), n_classes).to(p.dtype)
    return ((p - one_hot) ** 2).sum(dim=1).mean()


# --------------------------------------------------------------------------
# Binary classification: one logit per sample (n,), targets (n,) 0/1
# --------------------------------------------------------------------------


def binary_cross_entropy(scores: torch.Tensor, targets: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """Binary cross-entropy from logits: mean of -[y log s(z) + (1 - y) log(1 - s(z))], s = sigmoid.

    Written as max(z, 0) - z y + log(1 + exp(-|z|)), which never takes the
    log of 0 however large |z| is. ``scores`` (n,) float logits, ``targets``
    (n,) 0/1. Same as ``F.binary_cross_entropy_with_logits``.
    """
    _check_binary(scores, targets, check)
    y = targets.to(scores.dtype)
    return (scores.clamp(min=0) - scores * y + torch.log1p(torch.exp(-scores.abs()))).mean()


def hinge(scores: torch.Tensor, targets: torch.Tensor, margin: float = 1.0, *, check: bool = True) -> torch.Tensor:
    """Binary hinge loss (linear SVM): mean of max(0, margin - t z), with t = +1 for y = 1, -1 for y = 0.

    ``scores`` (n,) float, ``targets`` (n,) 0/1. Equals
    ``2 * F.multi_margin_loss(stack([0, z]), y)``.
    """
    _check_binary(scores, targets, check)
    check_positive(margin, "margin")
    t = 2 * targets.to(scores.dtype) - 1
    return (margin - t * scores).clamp(min=0).mean()


# --------------------------------------------------------------------------
# Class weights
# --------------------------------------------------------------------------


def balanced_class_weights(labels, n_classes: int | None = None) -> torch.Tensor:
    """Weights n / (C * count_c): each class then carries the same total weight.

    ``labels`` (n,) integer array or tensor. Returns a float32 tensor (C,);
    the same rule as scikit-learn's ``class_weight="balanced"``. A class that
    never occurs gets weight 0.
    """
    labels = torch.as_tensor(as_labels(labels, "labels"))
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    if int(labels.max()) >= n_classes:
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got a label {int(labels.max())}")
    counts = torch.bincount(labels.long(), minlength=n_classes).float()
    weights = len(labels) / (n_classes * counts.clamp(min=1))
    return torch.where(counts > 0, weights, torch.zeros_like(weights))


# --------------------------------------------------------------------------
# Comparing losses fairly: each loss trained at its own learning rates
# --------------------------------------------------------------------------


def train(
    model: torch.nn.Module,
    loss_fn,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    lr: float,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    optimizer=torch.optim.SGD,
    on_epoch_end=None,
) -> list:
    """Train ``model`` in place with minibatches of ``batch_size`` drawn in an order fixed by ``seed``.

    The bare loop of Chapter 1 (no validation, no history): cheap enough to
    run once per learning rate of a grid, per loss, per seed. ``optimizer``
    is a class called as ``optimizer(model.parameters(), lr=lr)``.
    ``on_epoch_end(epoch, model)``, if given, is called after every epoch
    (counted from 1) and its results are returned as a list. A run whose
    loss becomes NaN or infinite stops early (its model is then useless).
    """
    check_positive(lr, "lr")
    opt = optimizer(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    n, results = len(y), []
    for epoch in range(1, epochs + 1):
        model.train()
        for idx in torch.randperm(n, generator=order).split(batch_size):
            loss = loss_fn(model(X[idx]), y[idx])
            if not torch.isfinite(loss):
                return results
            opt.zero_grad()
            loss.backward()
            opt.step()
        if on_epoch_end is not None:
            model.eval()
            with torch.no_grad():
                results.append(on_epoch_end(epoch, model))
    return results


def best_on_grid(sweep, score: str, by: str = "loss", higher_is_better: bool = True):
    """The learning rate with the best mean ``score`` over seeds, for each ``by`` group of a sweep.

    ``sweep``: a DataFrame with one row per (``by``, ``lr``, seed) run and a
    column ``score``. Returns a DataFrame indexed by ``by`` with columns
    ``lr`` (the best), ``mean`` and ``sd`` of the score at that rate over the
    seeds, and ``on_edge``: True when the best rate is the smallest or the
    largest of that group's grid (then widen the grid before trusting it).
    """
    import pandas as pd

    rows = {}
    for name, group in sweep.groupby(by, sort=False):
        stats = group.groupby("lr")[score].agg(["mean", "std"])
        best = stats["mean"].idxmax() if higher_is_better else stats["mean"].idxmin()
        rows[name] = {"lr": float(best), "mean": float(stats.loc[best, "mean"]),
                      "sd": float(stats.loc[best, "std"]),
                      "on_edge": bool(best in (stats.index.min(), stats.index.max()))}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(by)


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, grid=None) -> float:
    """The temperature T > 0 that minimises the cross-entropy of softmax(logits / T) on (logits, labels).

    Temperature scaling (Guo et al. 2017): fitted on *validation* logits, then
    applied to the test logits. Dividing every logit by the same T never
    changes which class is largest, so accuracy stays exactly the same; only
    the confidence moves (T > 1 softens, T < 1 sharpens). A search over a
    fine grid of T from 0.05 to 20 (log-spaced) is enough for one number.
    """
    _check_logits_and_labels(logits, labels)
    grid = torch.logspace(-1.3, 1.3, 261) if grid is None else torch.as_tensor(grid, dtype=torch.float32)
    logits = logits.detach().float()
    nll = torch.stack([cross_entropy(logits / t, labels, check=False) for t in grid])
    return float(grid[int(nll.argmin())])

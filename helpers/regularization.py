"""Chapter 6: regularization: weight penalties, a report on their size, the "Overfitting" table, many networks at once.

- ``weight_penalty(model, "l2")``: the sum of squared weights (``"l1"``: of absolute
  weights), biases excluded, ready to add to a loss;
- ``Penalized(loss_fn, model, l1=..., l2=...)``: a loss for ``helpers.train.fit``
  that adds those penalties while the model trains (not while it is validated);
- ``weight_report(model)``: how big the weights are and how many are (nearly) zero;
- ``accuracy_row`` and ``overfitting_table``: train / validation / test accuracy
  and the train-validation gap, one row per model;
- ``noisy_subset``: a random training set of n rows with a fraction of wrong labels;
- ``train_many`` (with ``ManyMLPs``): many small MLPs trained at once, each with its own
  seed, data, weight decay, L1 strength and dropout rate, early stopping recorded on
  the way: what makes grids times seeds affordable on a CPU.

Only weight matrices and convolution kernels (tensors with 2 or more dimensions)
are penalised: biases shift a unit's output and do not make a model more
flexible, so the usual practice leaves them alone.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from helpers.checks import check_model, check_number, check_positive, check_positive_int

PENALTIES = ("l1", "l2")


def penalised_weights(model: nn.Module) -> list[torch.Tensor]:
    """The model's weight tensors that regularization acts on (2 or more dimensions; no biases)."""
    check_model(model)
    return [p for p in model.parameters() if p.ndim >= 2]


def weight_penalty(model: nn.Module, kind: str = "l2") -> torch.Tensor:
    """``sum w**2`` (``kind="l2"``) or ``sum |w|`` (``kind="l1"``) over the model's weights.

    Returns a scalar tensor that autograd can differentiate, so
    ``loss + strength * weight_penalty(model)`` trains with the penalty.
    """
    if kind not in PENALTIES:
        raise ValueError(f"kind must be 'l1' or 'l2', got {kind!r}")
    weights = penalised_weights(model)
    if not weights:
        raise ValueError("the model has no weight matrices to penalise")
    if kind == "l2":
        return sum((w**2).sum() for w in weights)
    return sum(w.abs().sum() for w in weights)


class Penalized:
    """``loss_fn(outputs, y) + l1 * sum|w| + l2 * sum w**2`` while ``model`` trains.

    ``helpers.train.fit`` calls the same loss for training batches and for the
    validation set; the penalty is added only in training mode
    (``model.training``), so the validation loss stays comparable across
    penalty strengths.
    """

    def __init__(self, loss_fn: Callable, model: nn.Module, *, l1: float = 0.0, l2: float = 0.0):
        if not callable(loss_fn):
            raise TypeError("loss_fn must be callable, e.g. nn.CrossEntropyLoss()")
        check_model(model)
        for name, value in (("l1", l1), ("l2", l2)):
            check_number(value, name, low=0.0)
        self.loss_fn, self.model, self.l1, self.l2 = loss_fn, model, float(l1), float(l2)

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        loss = self.loss_fn(outputs, targets)
        if self.model.training:
            if self.l1:
                loss = loss + self.l1 * weight_penalty(self.model, "l1")
            if self.l2:
                loss = loss + self.l2 * weight_penalty(self.model, "l2")
        return loss


def weight_report(model: nn.Module, tol: float = 1e-2) -> dict:
    """Size of the model's weights (biases excluded), as plain numbers.

    Returns ``n_weights``, ``l2_norm`` (sqrt of the sum of squares),
    ``l1_norm`` (sum of absolute values), ``max_abs`` and
    ``fraction_near_zero`` (share of weights with ``|w| < tol``).
    """
    check_positive(tol, "tol")
    weights = penalised_weights(model)
    if not weights:
        raise ValueError("the model has no weight matrices to report on")
    flat = torch.cat([w.detach().flatten().float().cpu() for w in weights])
    return {
        "n_weights": int(flat.numel()),
        "l2_norm": float(flat.square().sum().sqrt()),
        "l1_norm": float(flat.abs().sum()),
        "max_abs": float(flat.abs().max()),
        "fraction_near_zero": float((flat.abs() < tol).float().mean()),
    }


def accuracy_row(model: nn.Module, train, val, test) -> dict:
    """Accuracy of ``model`` on the three splits (pairs ``(X, y)``) and the train-validation gap.

    The model is scored in evaluation mode (dropout off), batch by batch.
    """
    from helpers.train import predict

    check_model(model)
    row = {}
    for name, split in (("train", train), ("validation", val), ("test", test)):
        if not isinstance(split, (tuple, list)) or len(split) != 2:
            raise TypeError(f"{name} must be a pair (X, y), got {type(split).__name__}")
        X, y = split
        predicted = predict(model, X).argmax(dim=1)
        row[f"{name} accuracy"] = float((predicted == torch.as_tensor(y).cpu()).float().mean())
    row["gap"] = row["train accuracy"] - row["validation accuracy"]
    return {k: row[k] for k in ("train accuracy", "validation accuracy", "gap", "test accuracy")}


def overfitting_table(rows: dict[str, dict]) -> pd.DataFrame:
    """The "Overfitting" table: one row per method, from ``{method: accuracy_row(...)}``."""
    if not isinstance(rows, dict) or not rows:
        raise ValueError("rows must be a non-empty dict {method name: accuracy_row(...)}")
    columns = ["train accuracy", "validation accuracy", "gap", "test accuracy"]
    for name, row in rows.items():
        missing = [c for c in columns if c not in row]
        if missing:
            raise ValueError(f"row {name!r} lacks {missing}; build rows with accuracy_row")
    frame = pd.DataFrame.from_dict(rows, orient="index")[columns]
    frame.index.name = "method"
    return frame


# --------------------------------------------------------------------------
# Many small networks trained side by side (for fair comparisons over seeds and grids)
# --------------------------------------------------------------------------


class ManyMLPs(nn.Module):
    """``K`` independent MLPs (ReLU, optional dropout) evaluated in one batched call.

    Layer ``i`` holds ``weights[i]`` of shape (K, fan_in, fan_out) and ``biases[i]``
    of shape (K, fan_out); ``forward`` maps (K, n, inputs), or (n, inputs) shared by
    all networks, to logits (K, n, outputs). Network ``k`` starts from weights drawn
    like ``nn.Linear``'s (uniform in ±1/sqrt(fan_in)) with its own ``seeds[k]``, so
    networks with the same seed start from the same weights. ``dropout[k]`` is
    network ``k``'s dropout probability after every hidden layer (in training mode).
    """

    def __init__(self, sizes: list[int], seeds, dropout=None):
        super().__init__()
        if len(sizes) < 2:
            raise ValueError("sizes lists the inputs, the hidden widths and the outputs, e.g. [64, 128, 10]")
        seeds = [int(s) for s in seeds]
        generators = [torch.Generator().manual_seed(s) for s in seeds]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = fan_in**-0.5
            w = torch.stack([(torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound for g in generators])
            b = torch.stack([(torch.rand(fan_out, generator=g) * 2 - 1) * bound for g in generators])
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))
        p = torch.zeros(len(seeds)) if dropout is None else torch.as_tensor(dropout, dtype=torch.float32)
        if p.shape != (len(seeds),) or (p < 0).any() or (p >= 1).any():
            raise ValueError("dropout needs one probability in [0, 1) per network")
        self.register_buffer("dropout", p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2:
            x = x.unsqueeze(0).expand(len(self.dropout), -1, -1)
        keep = (1 - self.dropout)[:, None, None]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b.unsqueeze(1), x, w)
            if i < last:
                x = torch.relu(x)
                if self.training and bool((self.dropout > 0).any()):
                    x = x * (torch.rand_like(x) < keep) / keep  # inverted dropout, network by network
        return x

    def subset(self, networks) -> "ManyMLPs":
        """A copy holding only the networks listed in ``networks`` (indices), in that order."""
        networks = torch.as_tensor(networks, dtype=torch.long)
        picked = copy.deepcopy(self)
        with torch.no_grad():
            for params in (picked.weights, picked.biases):
                for i, p in enumerate(params):
                    params[i] = nn.Parameter(p[networks].clone())
        picked.dropout = self.dropout[networks].clone()
        return picked


@dataclass
class ManyRuns:
    """What :func:`train_many` returns; arrays have one entry per network (last axis)."""

    model: ManyMLPs  # the weights after the last epoch
    early_stopped: ManyMLPs  # the weights early stopping keeps (best validation loss before it stops)
    train_loss: np.ndarray  # (epochs, K), mean training loss of each epoch, penalty excluded
    val_loss: np.ndarray  # (epochs, K)
    stop_epoch: np.ndarray  # (K,), the epoch after which early stopping stops (the last if never)
    best_epoch: np.ndarray  # (K,), the epoch whose weights early_stopped holds (1-based)

    def accuracy(self, X, y, *, networks=None, early_stopping: bool = False) -> np.ndarray:
        """Accuracy of the networks (all, or the indices ``networks``) on ``(X, y)``, in evaluation mode.

        ``X`` (n, inputs) and ``y`` (n,) are shared by the networks, or ``X`` is
        (K, n, inputs) and ``y`` (K, n): one data set per network. Only the networks
        asked for see the data, so a test set can be scored for the chosen ones alone.
        """
        model = self.early_stopped if early_stopping else self.model
        if networks is not None:
            model = model.subset(networks)
        model.eval()
        device = model.dropout.device
        with torch.no_grad():
            predicted = model(torch.as_tensor(X, dtype=torch.float32).to(device)).argmax(-1)
        return (predicted == torch.as_tensor(y).to(device)).float().mean(-1).cpu().numpy()


def noisy_subset(X, y, n: int, noise: float, seed: int, n_classes: int):
    """``n`` rows of ``(X, y)`` drawn at random by ``seed``, with about a fraction ``noise`` of labels wrong.

    Each label is replaced, with probability ``noise``, by a class drawn at random
    (which can be the right one by chance). Returns ``(X_n, noisy_labels, true_labels)``.
    """
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    check_positive_int(n, "n")
    check_number(noise, "noise", low=0.0, high=1.0)
    if n > len(y):
        raise ValueError(f"n = {n} is more than the {len(y)} rows available")
    generator = torch.Generator().manual_seed(int(seed))
    rows = torch.randperm(len(y), generator=generator)[:n]
    clean = y[rows].clone()
    noisy = clean.clone()
    replace = torch.rand(n, generator=generator) < noise
    noisy[replace] = torch.randint(0, n_classes, (int(replace.sum()),), generator=generator)
    return X[rows], noisy, clean


def train_many(
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    val,
    *,
    hidden: list[int],
    n_classes: int,
    seeds,
    weight_decay=0.0,
    l1=0.0,
    dropout=0.0,
    epochs: int = 100,
    lr: float = 2e-3,
    batch_size: int = 32,
    patience: int = 10,
    device: str | torch.device | None = None,
) -> ManyRuns:
    """Train K MLPs at once, network ``k`` on ``(X_train[k], y_train[k])`` with its own settings.

    ``X_train`` is (K, n, inputs), ``y_train`` (K, n) integer labels, ``val = (X, y)``
    one validation set for all. ``seeds``, ``weight_decay``, ``l1`` and ``dropout``
    give one value per network (a single number is used for all). Each network gets
    the loop of ``helpers.train.fit``: Adam on the cross-entropy plus ``l1 * sum|w|``,
    AdamW-style decoupled decay ``w <- (1 - lr * weight_decay) w`` of its weight
    matrices (not its biases) before every step, and mini-batches shuffled by its seed.
    The networks do not interact: the summed loss gives each one its own gradient, and
    Adam's update is element-wise. Training the K networks in one batched model is
    what makes many seeds times many grid values affordable on a CPU.

    Early stopping with ``patience`` is recorded without cutting training short:
    ``early_stopped`` holds each network's best-validation-loss weights among the
    epochs up to its stop, ``model`` the weights after ``epochs`` epochs.

    ``device`` is chosen as in ``helpers.device`` (CUDA, then MPS, then CPU). On a CPU
    the networks train on one thread: their matrices are small, and a second thread
    mostly waits, which costs CPU time without saving much wall time.
    """
    from helpers.device import choose_device

    device = choose_device(device)
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        return _train_many(X_train, y_train, val, hidden, n_classes, seeds, weight_decay, l1, dropout, epochs, lr,
                           batch_size, patience, device)
    finally:
        torch.set_num_threads(threads)


def _train_many(X_train, y_train, val, hidden, n_classes, seeds, weight_decay, l1, dropout, epochs, lr, batch_size,
                patience, device) -> ManyRuns:
    X_train, y_train = torch.as_tensor(X_train, dtype=torch.float32), torch.as_tensor(y_train)
    if X_train.ndim != 3 or y_train.shape != X_train.shape[:2]:
        raise ValueError(f"X_train must be (K, n, inputs) and y_train (K, n); got {tuple(X_train.shape)} "
                         f"and {tuple(y_train.shape)}")
    k, n = X_train.shape[:2]

    def per_network(value, name):
        values = torch.as_tensor(value, dtype=torch.float32).flatten()
        values = values.expand(k).clone() if values.numel() == 1 else values
        if values.shape != (k,) or (values < 0).any():
            raise ValueError(f"{name} needs one value >= 0 per network ({k}), or one for all")
        return values

    weight_decay, l1, dropout = (per_network(v, name) for v, name in
                                 ((weight_decay, "weight_decay"), (l1, "l1"), (dropout, "dropout")))
    seeds = [int(s) for s in np.broadcast_to(np.asarray(seeds), (k,))]
    check_positive_int(epochs, "epochs")
    check_positive_int(patience, "patience")
    X_val, y_val = torch.as_tensor(val[0], dtype=torch.float32).to(device), torch.as_tensor(val[1]).to(device)
    X_train, y_train, l1 = X_train.to(device), y_train.to(device), l1.to(device)

    model = ManyMLPs([X_train.shape[2], *hidden, n_classes], seeds, dropout).to(device)
    early_stopped = copy.deepcopy(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    shufflers = [torch.Generator().manual_seed(s + 1) for s in seeds]
    rows = torch.arange(k, device=device)[:, None]
    decay = (1 - lr * weight_decay)[:, None, None].to(device)
    best_loss = torch.full((k,), math.inf, device=device)
    waited = torch.zeros(k, dtype=torch.long, device=device)
    stopped = torch.zeros(k, dtype=torch.bool, device=device)
    stop_epoch = torch.full((k,), epochs, device=device)
    best_epoch = torch.zeros(k, dtype=torch.long, device=device)
    train_losses, val_losses = [], []
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.stack([torch.randperm(n, generator=g) for g in shufflers]).to(device)
        epoch_loss = torch.zeros(k, device=device)
        for first in range(0, n, batch_size):
            idx = order[:, first:first + batch_size]
            logits = model(X_train[rows, idx])
            data_loss = nn.functional.cross_entropy(
                logits.reshape(-1, n_classes), y_train[rows, idx].reshape(-1), reduction="none"
            ).view(k, -1).mean(1)
            loss = data_loss.sum()
            if bool((l1 > 0).any()):
                loss = loss + sum((l1 * w.abs().sum((1, 2))).sum() for w in model.weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                for w in model.weights:
                    w.mul_(decay)
            optimizer.step()
            epoch_loss += data_loss.detach() * idx.shape[1]
        train_losses.append(epoch_loss / n)
        model.eval()
        with torch.no_grad():
            logits = model(X_val)
            loss_now = nn.functional.cross_entropy(
                logits.reshape(-1, n_classes), y_val.repeat(k), reduction="none").view(k, -1).mean(1)
        val_losses.append(loss_now)
        improved = (loss_now < best_loss) & ~stopped
        waited = torch.where(improved, torch.zeros_like(waited), waited + (~stopped).long())
        best_loss = torch.where(improved, loss_now, best_loss)
        best_epoch[improved] = epoch
        with torch.no_grad():
            for kept, now in zip(early_stopped.parameters(), model.parameters()):
                kept[improved] = now[improved]
        newly_stopped = ~stopped & (waited >= patience)
        stop_epoch[newly_stopped] = epoch
        stopped |= newly_stopped
    return ManyRuns(model, early_stopped, torch.stack(train_losses).cpu().numpy(),
                    torch.stack(val_losses).cpu().numpy(), stop_epoch.cpu().numpy(), best_epoch.cpu().numpy())

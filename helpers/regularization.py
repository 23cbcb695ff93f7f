"""Chapter 6: regularization: penalties on the weights, a report on their size, the "Overfitting" table.

- ``weight_penalty(model, "l2")``: the sum of squared weights (``"l1"``: of absolute
  weights), biases excluded, ready to add to a loss;
- ``Penalized(loss_fn, model, l1=..., l2=...)``: a loss for ``helpers.train.fit``
  that adds those penalties while the model trains (not while it is validated);
- ``weight_report(model)``: how big the weights are and how many are (nearly) zero;
- ``accuracy_row`` and ``overfitting_table``: train / validation / test accuracy
  and the train-validation gap, one row per model.

Only weight matrices and convolution kernels (tensors with 2 or more dimensions)
are penalised: biases shift a unit's output and do not make a model more
flexible, so the usual practice leaves them alone.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd
import torch
from torch import nn

from helpers.checks import check_model, check_number, check_positive

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

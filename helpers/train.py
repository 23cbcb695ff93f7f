"""The training loop: ``fit`` a PyTorch model and get back its ``History``.

One epoch of ``fit`` does what Chapter 1 writes by hand:

    for each mini-batch (X_b, y_b) of a shuffled training set:
        predictions = model(X_b)
        loss = loss_fn(predictions, y_b)      # how wrong are we?
        loss.backward()                       # gradients of the loss
        optimizer.step(); zero the gradients  # a small step downhill

then it measures the validation loss and metric and asks the callbacks
(early stopping, ...) whether to go on.

Design choices, and why:

- Small data sets live on the device as tensors and are batched by slicing
  a shuffled index. A per-sample ``DataLoader`` costs about twice as much
  per step on data this small.
- Each step only keeps its loss and outputs; they are scored once per epoch
  and read back with one ``.item()``. Calling ``loss.item()`` every step
  would make the CPU wait for the GPU each time, and computing the metric
  batch by batch costs several small operations per step.
- On CUDA the forward pass runs under autocast (bfloat16 where the GPU
  supports it, else float16 with a gradient scaler), a data set too big for
  the GPU's memory is sent one batch at a time from pinned memory, and
  2-D convolutional models use the channels-last layout. None of this
  happens on the CPU, where it would be slower (see ``helpers.device``).
- A NaN or infinite loss stops training with a message naming the usual
  causes; an interrupt (the stop button, Ctrl-C) stops it too. Either way
  the model keeps its best weights and you keep the history so far.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn

from helpers.data import check_features_and_targets
from helpers.device import choose_device, keep_on_device, mixed_precision_dtype, use_channels_last

PROGRESS_ENV_VAR = "HELPERS_PROGRESS"

# --------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------


@dataclass
class History:
    """What happened during training, one entry per finished epoch.

    Losses are means over the samples of each split; ``seconds`` is the wall
    time of each epoch (training and validation together).
    """

    metric_name: str | None = None
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stop_reason: str = "finished all epochs"

    def __len__(self) -> int:
        return len(self.epoch)

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds))

    @property
    def stopped_early(self) -> bool:
        return self.stop_reason != "finished all epochs"

    def last(self, key: str) -> float:
        """The last recorded value of ``key`` (e.g. ``"val_metric"``)."""
        values = getattr(self, key)
        if not values:
            raise ValueError(f"history has no {key!r} values yet")
        return values[-1]

    def best(self, key: str = "val_loss") -> float:
        """The best value of ``key``: the lowest loss, or the highest metric."""
        values = [v for v in getattr(self, key) if not math.isnan(v)]
        if not values:
            raise ValueError(f"history has no {key!r} values yet")
        return min(values) if "loss" in key else max(values)

    def as_frame(self):
        """The history as a pandas DataFrame indexed by epoch."""
        import pandas as pd

        columns = {"train_loss": self.train_loss, "val_loss": self.val_loss, "lr": self.lr, "seconds": self.seconds}
        if self.metric_name:
            columns[f"train_{self.metric_name}"] = self.train_metric
            columns[f"val_{self.metric_name}"] = self.val_metric
        columns = {k: v for k, v in columns.items() if len(v) == len(self.epoch)}
        return pd.DataFrame(columns, index=pd.Index(self.epoch, name="epoch"))

    def plot(self, axes=None, title: str | None = None):
        """Draw the learning curves (see ``helpers.plots.plot_history``)."""
        from helpers.plots import plot_history

        return plot_history(self, axes=axes, title=title)


# --------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------


class Callback:
    """Something ``fit`` calls at the end of every epoch.

    Return ``True`` from ``on_epoch_end`` to stop training; set
    ``stop_reason`` to say why.
    """

    stop_reason = "stopped by a callback"

    def on_train_begin(self, model: nn.Module) -> None:
        pass

    def on_epoch_end(self, history: History, model: nn.Module) -> bool:
        return False


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``monitor`` is ``"val_loss"`` (lower is better) or ``"val_metric"``
    (higher is better). ``fit`` restores the best weights at the end.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, monitor: str = "val_loss"):
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be a positive integer, got {patience!r}")
        if monitor not in ("val_loss", "val_metric"):
            raise ValueError(f"monitor must be 'val_loss' or 'val_metric', got {monitor!r}")
        self.patience, self.min_delta, self.monitor = patience, min_delta, monitor

    def on_train_begin(self, model):
        self.best, self.waited = None, 0

    def on_epoch_end(self, history, model):
        value = getattr(history, self.monitor)[-1]
        sign = 1 if self.monitor == "val_loss" else -1
        if self.best is None or sign * (self.best - value) > self.min_delta:
            self.best, self.waited = value, 0
            return False
        self.waited += 1
        if self.waited >= self.patience:
            self.stop_reason = f"early stopping: {self.monitor} did not improve for {self.patience} epochs"
            return True
        return False


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


def _accuracy_count(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Number of correct predictions in a batch (summed later, divided once)."""
    if outputs.ndim == 1 or outputs.shape[1] == 1:  # one logit per sample: binary classification
        predicted = (outputs.reshape(targets.shape) > 0).to(targets.dtype)
    else:
        predicted = outputs.argmax(dim=1)
    return (predicted == targets).sum()


def _absolute_error_sum(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return (outputs.reshape(targets.shape).float() - targets).abs().sum()


METRICS: dict[str, Callable] = {"accuracy": _accuracy_count, "mae": _absolute_error_sum}


def _resolve_metric(metric):
    if metric is None or callable(metric):
        name = None if metric is None else getattr(metric, "__name__", "metric")
        return name, metric
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}, a callable or None")
    return metric, METRICS[metric]


# --------------------------------------------------------------------------
# Evaluation and prediction (batch-wise, any device)
# --------------------------------------------------------------------------


def _model_device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def predict(model: nn.Module, X, batch_size: int = 1024) -> torch.Tensor:
    """The model's raw outputs for ``X`` (n, ...), computed batch-wise; returned on the CPU."""
    if isinstance(X, np.ndarray):
        X = torch.as_tensor(X, dtype=torch.float32)
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a tensor or NumPy array, got {type(X).__name__}")
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must have shape (n_samples, n_features, ...) with n_samples > 0, got {tuple(X.shape)}")
    device = _model_device(model)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs = [model(X[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(X), batch_size)]
    model.train(was_training)
    return torch.cat(outputs)


def evaluate(model: nn.Module, X, y, loss_fn: Callable, metric="accuracy", batch_size: int = 1024) -> dict:
    """Mean loss and metric of ``model`` on ``(X, y)``, as plain floats."""
    X, y = _as_tensors(X, y)
    metric_name, metric_fn = _resolve_metric(metric)
    outputs = predict(model, X, batch_size=batch_size)
    y = y.cpu()
    result = {"loss": float(loss_fn(_shape_for_loss(outputs, y), y))}
    if metric_fn is not None:
        result[metric_name] = float(metric_fn(outputs, y)) / len(y)
    return result


# --------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------


def _as_tensors(X, y):
    if isinstance(X, np.ndarray):
        X = torch.as_tensor(X, dtype=torch.float32)
    if isinstance(y, np.ndarray):
        y = torch.as_tensor(y, dtype=torch.int64 if y.dtype.kind in "iub" else torch.float32)
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"X and y must be tensors or NumPy arrays, got {type(X).__name__} and {type(y).__name__}")
    check_features_and_targets(X, y)
    return X, y


def _unpack(data, what: str):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{what} must be a pair (X, y) of tensors or arrays, got {type(data).__name__}")
    return _as_tensors(*data)


def _show_progress(progress: bool | None) -> bool:
    """Progress bars by default only where a person is watching.

    Set ``HELPERS_PROGRESS=0`` to silence them (the course's test and build
    commands do, so committed notebooks carry no progress bars).
    """
    if progress is not None:
        return bool(progress)
    if os.environ.get(PROGRESS_ENV_VAR) is not None:
        return os.environ[PROGRESS_ENV_VAR] not in ("0", "", "false", "False")
    return "ipykernel" in sys.modules or sys.stderr.isatty()


def _shape_for_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    # A regression model usually outputs (n, 1) while targets are (n,).
    if outputs.ndim == 2 and outputs.shape[1] == 1 and targets.ndim == 1 and targets.is_floating_point():
        return outputs.squeeze(1)
    return outputs


DIVERGED_MESSAGE = (
    "training stopped at epoch {epoch}: the {which} loss became {value}. "
    "Usual causes: a learning rate that is too high (try 10x smaller), "
    "unscaled inputs (standardise the features), or a log/division of zero in a custom loss. "
    "The model keeps the weights of its best epoch (its starting weights if none finished)."
)


def fit(
    model: nn.Module,
    train,
    val=None,
    *,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    epochs: int = 10,
    batch_size: int = 64,
    metric="accuracy",
    callbacks: Iterable[Callback] = (),
    scheduler=None,
    scheduler_step: str = "epoch",
    device: str | torch.device | None = None,
    mixed_precision: bool | str = "auto",
    restore_best: bool = True,
    progress: bool | None = None,
) -> History:
    """Train ``model`` on ``train = (X, y)`` for ``epochs`` epochs; return its :class:`History`.

    Parameters
    ----------
    train, val
        Pairs ``(X, y)`` of tensors or arrays: ``X`` (n, ...) float features,
        ``y`` (n,) integer labels or float targets. ``val`` is optional.
    loss_fn
        e.g. ``nn.CrossEntropyLoss()`` or ``nn.MSELoss()``.
    optimizer
        A ``torch.optim`` optimizer over ``model.parameters()``; by default
        Adam with learning rate ``lr``.
    metric
        ``"accuracy"``, ``"mae"``, ``None``, or ``f(outputs, y) -> tensor``
        giving the batch *sum* of the metric (it is averaged per epoch).
    callbacks
        e.g. ``[EarlyStopping(patience=5)]``.
    scheduler, scheduler_step
        A ``torch.optim.lr_scheduler`` object, stepped after every
        ``"epoch"`` or every ``"batch"``.
    device
        Where to train; by default the best available (see ``helpers.device``).
    mixed_precision
        ``"auto"`` uses autocast on CUDA only; ``True``/``False`` force it.
    restore_best
        Load the weights of the epoch with the lowest validation loss (the
        lowest training loss without ``val``) when training ends.
    progress
        Show a progress bar; by default only in interactive sessions.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError("loss_fn must be callable, e.g. nn.CrossEntropyLoss()")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if scheduler_step not in ("epoch", "batch"):
        raise ValueError(f"scheduler_step must be 'epoch' or 'batch', got {scheduler_step!r}")
    if mixed_precision not in ("auto", True, False):
        raise ValueError(f"mixed_precision must be 'auto', True or False, got {mixed_precision!r}")
    metric_name, metric_fn = _resolve_metric(metric)
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be helpers.train.Callback objects, got {type(cb).__name__}")

    device = choose_device(device)
    X_train, y_train = _unpack(train, "train")
    X_val = y_val = None
    if val is not None:
        X_val, y_val = _unpack(val, "val")
    nbytes = sum(t.nbytes for t in (X_train, y_train, X_val, y_val) if t is not None)
    home = device if keep_on_device(nbytes, device) else torch.device("cpu")
    X_train, y_train = X_train.to(home), y_train.to(home)
    if X_val is not None:
        X_val, y_val = X_val.to(home), y_val.to(home)
    model.to(device)
    if use_channels_last(model, device):
        model.to(memory_format=torch.channels_last)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    amp_dtype = mixed_precision_dtype(device) if mixed_precision == "auto" else None
    if mixed_precision is True:
        amp_dtype = mixed_precision_dtype(device) or torch.bfloat16
    use_amp = amp_dtype is not None
    scaler = torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None
    autocast = torch.autocast(device.type, dtype=amp_dtype) if use_amp else contextlib.nullcontext()

    history = History(metric_name=metric_name)
    # Until an epoch finishes with a finite loss, the "best" weights are the starting ones.
    best_loss = math.inf
    best_state = _copy_of_weights(model) if restore_best else None
    n = len(X_train)

    for cb in callbacks:
        cb.on_train_begin(model)
    bar = None
    if _show_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, unit="epoch", leave=False)

    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            batch_losses, batch_outputs = [], []
            order = torch.randperm(n, device=X_train.device)
            for first in range(0, n, batch_size):
                idx = order[first : first + batch_size]
                X_b, y_b = _rows(X_train, idx, device), _rows(y_train, idx, device)
                with autocast:
                    outputs = model(X_b)
                    loss = loss_fn(_shape_for_loss(outputs, y_b), y_b)
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    optimizer.step()
                if scheduler is not None and scheduler_step == "batch":
                    scheduler.step()
                batch_losses.append(loss.detach())
                if metric_fn is not None:
                    batch_outputs.append(outputs.detach())
            if scheduler is not None and scheduler_step == "epoch":
                scheduler.step()

            # One read-back per epoch: the only place the CPU waits for the device.
            history.epoch.append(epoch)
            history.train_loss.append(_mean_loss(batch_losses, batch_size, n))
            if metric_fn is not None:
                with torch.no_grad():
                    metric_sum = metric_fn(torch.cat(batch_outputs), _rows(y_train, order, device))
                history.train_metric.append(float(metric_sum) / n)
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            if X_val is not None:
                val_result = _evaluate_on_device(model, X_val, y_val, loss_fn, metric_fn, batch_size, device, autocast)
                history.val_loss.append(val_result[0])
                if metric_fn is not None:
                    history.val_metric.append(val_result[1])
            history.seconds.append(time.perf_counter() - start)

            watched = history.val_loss[-1] if X_val is not None else history.train_loss[-1]
            if not math.isfinite(history.train_loss[-1]) or not math.isfinite(watched):
                which = "training" if not math.isfinite(history.train_loss[-1]) else "validation"
                value = history.train_loss[-1] if which == "training" else watched
                history.stop_reason = DIVERGED_MESSAGE.format(epoch=epoch, which=which, value=value)
                warnings.warn(history.stop_reason, RuntimeWarning, stacklevel=2)
                break
            if watched < best_loss:
                best_loss, history.best_epoch = watched, epoch
                if restore_best:
                    best_state = _copy_of_weights(model)
            if bar is not None:
                shown = {"loss": f"{history.train_loss[-1]:.4f}"}
                if history.val_metric:
                    shown[f"val_{metric_name}"] = f"{history.val_metric[-1]:.4f}"
                bar.set_postfix(shown, refresh=False)
                bar.update(1)  # redraws at most every 0.1 s
            stops = [cb for cb in callbacks if cb.on_epoch_end(history, model)]
            if stops:
                history.stop_reason = stops[0].stop_reason
                break
    except KeyboardInterrupt:
        history.stop_reason = f"interrupted by the user after {len(history)} finished epochs"
        print(f"fit: {history.stop_reason}; keeping the best weights and the history so far.")
    finally:
        if bar is not None:
            bar.close()
        # Trim a half-recorded epoch (an interrupt between appends) so every list has one entry per epoch.
        _trim_to_complete_epochs(history, has_val=X_val is not None, has_metric=metric_fn is not None)
        if restore_best and best_state is not None:
            model.load_state_dict(best_state)
    return history


def _rows(data: torch.Tensor, idx: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The rows ``idx`` of ``data``, on ``device``.

    Data kept on the device is simply indexed. Data left in CPU memory (too
    big for the GPU) is gathered into page-locked memory, from which the copy
    to the GPU runs in the background (``non_blocking``) while the GPU works.
    """
    if data.device == device:
        return data[idx]
    pinned = device.type == "cuda"
    rows = torch.empty((len(idx), *data.shape[1:]), dtype=data.dtype, pin_memory=pinned)
    torch.index_select(data, 0, idx.to(data.device), out=rows)
    return rows.to(device, non_blocking=pinned)


def _mean_loss(batch_losses: list[torch.Tensor], batch_size: int, n: int) -> float:
    """Mean loss over the epoch's ``n`` samples; the last batch may be smaller."""
    losses = torch.stack(batch_losses).float()
    sizes = torch.full_like(losses, batch_size)
    sizes[-1] = n - batch_size * (len(batch_losses) - 1)
    return (losses * sizes).sum().item() / n


def _copy_of_weights(model: nn.Module) -> dict:
    """A snapshot of the model's weights (a deep copy, on the same device)."""
    return {
        name: value.detach().clone() if isinstance(value, torch.Tensor) else copy.deepcopy(value)
        for name, value in model.state_dict().items()
    }


def _trim_to_complete_epochs(history: History, has_val: bool, has_metric: bool) -> None:
    lists = [history.train_loss, history.lr, history.seconds]
    if has_metric:
        lists.append(history.train_metric)
    if has_val:
        lists.append(history.val_loss)
        if has_metric:
            lists.append(history.val_metric)
    complete = min([len(history.epoch)] + [len(values) for values in lists])
    for values in lists + [history.epoch]:
        del values[complete:]


def _evaluate_on_device(model, X, y, loss_fn, metric_fn, batch_size, device, autocast):
    """Mean loss and metric over ``(X, y)``, read back from the device once."""
    model.eval()
    eval_batch = max(batch_size, 1024)
    with torch.no_grad(), autocast:
        outputs = torch.cat(
            [model(X[first : first + eval_batch].to(device, non_blocking=True)) for first in range(0, len(X), eval_batch)]
        )
        y = y.to(device)
        loss = loss_fn(_shape_for_loss(outputs, y), y).float()
        metric_sum = metric_fn(outputs, y) if metric_fn is not None else None
    model.train()
    return loss.item(), (float(metric_sum) / len(X) if metric_fn is not None else math.nan)

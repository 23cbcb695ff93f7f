"""The training loops the benchmark compares, each as one function.

Every loop trains the model it is given for ``epochs`` epochs on the same
data with the same batch size and optimizer (Adam), measures the validation
accuracy after every epoch, and returns a :class:`Run`: the wall-clock time
at the end of each epoch (after its validation), counted from the moment the
loop was called, and the validation accuracy of each epoch.

From a ``Run`` the benchmark derives

- the steady cost per optimizer step: the time of epochs 2..E divided by
  their steps (the first epoch carries one-off set-up costs);
- the time to a target validation accuracy: the end of the first epoch that
  reaches it, counted from the call (set-up included: the learner waits for it).
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn


@dataclass
class Case:
    """One model on one data set: what every loop trains."""

    name: str
    make_model: callable
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    batch_size: int
    lr: float
    epochs: int
    target: float  # validation accuracy for "time to target"

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.X_train) // self.batch_size)


@dataclass
class Run:
    epoch_end: list[float] = field(default_factory=list)  # wall-clock seconds since the call
    epoch_end_cpu: list[float] = field(default_factory=list)  # CPU seconds of this process since the call
    val_acc: list[float] = field(default_factory=list)


class _Clock:
    """Epoch-end timestamps; on CUDA waits for the device first so times are real."""

    def __init__(self, device: torch.device):
        self.device = device
        self.run = Run()
        self.start, self.start_cpu = time.perf_counter(), time.process_time()

    def epoch_done(self, val_acc: float) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.run.epoch_end.append(time.perf_counter() - self.start)
        self.run.epoch_end_cpu.append(time.process_time() - self.start_cpu)
        self.run.val_acc.append(float(val_acc))


def _val_accuracy(model, X_val, y_val) -> float:
    model.eval()
    with torch.no_grad():
        # count / n in double precision, as every loop here does: a float32 mean of
        # 342 hits in 360 is 0.94999999, below a target of 0.95.
        acc = (model(X_val).argmax(dim=1) == y_val).sum().item() / len(y_val)
    model.train()
    return acc


# --------------------------------------------------------------------------
# 1. the reference: a hand-written loop that slices tensors on the device
# --------------------------------------------------------------------------


def reference(case: Case, model: nn.Module, device: torch.device) -> Run:
    clock = _Clock(device)
    X, y = case.X_train.to(device), case.y_train.to(device)
    X_val, y_val = case.X_val.to(device), case.y_val.to(device)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=case.lr)
    loss_fn = nn.CrossEntropyLoss()
    n, b = len(X), case.batch_size
    for _ in range(case.epochs):
        model.train()
        order = torch.randperm(n, device=device)
        for first in range(0, n, b):
            idx = order[first : first + b]
            loss = loss_fn(model(X[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        clock.epoch_done(_val_accuracy(model, X_val, y_val))
    return clock.run


# --------------------------------------------------------------------------
# 2. a hand-written loop over DataLoader(TensorDataset): what most tutorials do
# --------------------------------------------------------------------------


def dataloader(case: Case, model: nn.Module, device: torch.device) -> Run:
    from torch.utils.data import DataLoader, TensorDataset

    clock = _Clock(device)
    loader = DataLoader(TensorDataset(case.X_train, case.y_train), batch_size=case.batch_size, shuffle=True)
    X_val, y_val = case.X_val.to(device), case.y_val.to(device)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=case.lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(case.epochs):
        model.train()
        for X_b, y_b in loader:
            X_b, y_b = X_b.to(device), y_b.to(device)
            loss = loss_fn(model(X_b), y_b)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        clock.epoch_done(_val_accuracy(model, X_val, y_val))
    return clock.run


# --------------------------------------------------------------------------
# 3. helpers.train.fit, with its progress bar and history on
# --------------------------------------------------------------------------


def helpers_fit(case: Case, model: nn.Module, device: torch.device, optimizer=None) -> Run:
    from helpers.train import Callback, fit

    clock = _Clock(device)

    class Recorder(Callback):
        def on_epoch_end(self, history, model):
            clock.epoch_done(history.val_metric[-1])
            return False

    # The progress bar is drawn as for a learner, into a buffer so the benchmark's output stays readable.
    with contextlib.redirect_stderr(io.StringIO()):
        fit(
            model,
            (case.X_train, case.y_train),
            (case.X_val, case.y_val),
            loss_fn=nn.CrossEntropyLoss(),
            optimizer=optimizer,
            lr=case.lr,
            epochs=case.epochs,
            batch_size=case.batch_size,
            metric="accuracy",
            callbacks=[Recorder()],
            device=device,
            progress=True,
        )
    return clock.run


def helpers_fit_fused_adam(case: Case, model: nn.Module, device: torch.device) -> Run:
    """``fit`` given Adam's fused kernel: one kernel per step instead of several per tensor.

    Since fit's default optimizer became fused Adam where the device has it
    (``helpers.train.default_optimizer``), this row and ``helpers.train.fit``
    run the same optimizer; it stays to show that passing it explicitly costs nothing.
    """
    optimizer = torch.optim.Adam(model.to(device).parameters(), lr=case.lr, fused=True)
    return helpers_fit(case, model, device, optimizer=optimizer)


def fused_adam_available(device: torch.device) -> bool:
    try:
        torch.optim.Adam([torch.zeros(1, device=device, requires_grad=True)], fused=True)
        return True
    except (RuntimeError, TypeError, ValueError):
        return False


# --------------------------------------------------------------------------
# 4. skorch and PyTorch Lightning (optional: bench/requirements.txt)
# --------------------------------------------------------------------------


def skorch_net(case: Case, model: nn.Module, device: torch.device) -> Run:
    from skorch import NeuralNetClassifier
    from skorch.callbacks import Callback
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    clock = _Clock(device)

    class Recorder(Callback):
        def on_epoch_end(self, net, **kwargs):
            clock.epoch_done(net.history[-1, "valid_acc"])

    net = NeuralNetClassifier(
        model,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=case.lr,
        batch_size=case.batch_size,
        max_epochs=case.epochs,
        train_split=predefined_split(Dataset(case.X_val, case.y_val)),
        iterator_train__shuffle=True,
        callbacks=[Recorder()],
        device=str(device),
        verbose=0,
    )
    net.fit(case.X_train, case.y_train)
    return clock.run


def lightning_trainer(case: Case, model: nn.Module, device: torch.device) -> Run:
    import lightning as L
    from torch.utils.data import DataLoader, TensorDataset

    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    clock = _Clock(device)

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = model
            self.loss_fn = nn.CrossEntropyLoss()
            self.correct = self.seen = 0

        def training_step(self, batch, batch_idx):
            X_b, y_b = batch
            return self.loss_fn(self.model(X_b), y_b)

        def validation_step(self, batch, batch_idx):
            X_b, y_b = batch
            self.correct += (self.model(X_b).argmax(dim=1) == y_b).sum()
            self.seen += len(y_b)

        def on_validation_epoch_end(self):
            self.val_acc = float(self.correct) / self.seen
            self.correct = self.seen = 0

        def on_train_epoch_end(self):
            clock.epoch_done(self.val_acc)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=case.lr)

    train_loader = DataLoader(TensorDataset(case.X_train, case.y_train), batch_size=case.batch_size, shuffle=True)
    val_loader = DataLoader(TensorDataset(case.X_val, case.y_val), batch_size=1024)
    trainer = L.Trainer(
        max_epochs=case.epochs,
        accelerator="gpu" if device.type == "cuda" else "cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "consider more num_workers" and similar advice
        trainer.fit(Module(), train_loader, val_loader)
    return clock.run


# --------------------------------------------------------------------------
# 5. scikit-learn's MLPClassifier (the MLP case only)
# --------------------------------------------------------------------------


def sklearn_mlp(case: Case, model: nn.Module, device: torch.device, seed: int = 0) -> Run:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    hidden = tuple(m.out_features for m in model if isinstance(m, nn.Linear))[:-1]
    X, y = case.X_train.numpy(), case.y_train.numpy()
    X_val, y_val = case.X_val.numpy(), case.y_val.numpy()
    classes = np.unique(y)
    clock = _Clock(torch.device("cpu"))
    clf = MLPClassifier(
        hidden_layer_sizes=hidden,
        solver="adam",
        alpha=0.0,  # no weight decay, like the PyTorch loops
        batch_size=case.batch_size,
        learning_rate_init=case.lr,
        shuffle=True,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(case.epochs):
            clf.partial_fit(X, y, classes=classes)  # one epoch of mini-batch Adam
            clock.epoch_done(clf.score(X_val, y_val))
    return clock.run


def available_methods(case_name: str, device: torch.device = torch.device("cpu")) -> dict:
    """The loops that can run here, by the name the table shows."""
    methods = {
        "reference (tensor slicing)": reference,
        "DataLoader loop": dataloader,
        "helpers.train.fit": helpers_fit,
    }
    if fused_adam_available(device):
        methods["fit + fused Adam"] = helpers_fit_fused_adam
    try:
        import skorch  # noqa: F401

        methods["skorch"] = skorch_net
    except ImportError:
        pass
    try:
        import lightning  # noqa: F401

        methods["Lightning"] = lightning_trainer
    except ImportError:
        pass
    if case_name == "mlp":
        methods["scikit-learn MLPClassifier"] = sklearn_mlp
    return methods

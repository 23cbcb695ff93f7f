"""Unit tests of helpers.train: fit, History, callbacks, evaluate and predict."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers.models import mlp
from helpers.train import Callback, EarlyStopping, History, evaluate, fit, predict


def blobs(n=200, seed=0):
    """Three well-separated classes in 4-D: any sensible model learns them."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    centres = torch.tensor([[3.0, 0, 0, 0], [0, 3.0, 0, 0], [0, 0, 3.0, 0]])
    X = centres[y] + 0.5 * torch.randn(n, 4, generator=g)
    return X, y


def regression_data(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)
    y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(n, generator=g)
    return X, y


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_weights(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def classifier(seed=0):
    torch.manual_seed(seed)
    return mlp(4, [16], 3)


# --------------------------------------------------------------------------
# A normal run
# --------------------------------------------------------------------------


def test_fit_learns_and_records_one_entry_per_epoch():
    X, y = blobs()
    history = fit(classifier(), (X[:150], y[:150]), (X[150:], y[150:]), loss_fn=nn.CrossEntropyLoss(),
                  lr=1e-2, epochs=15, batch_size=32, progress=False)
    assert isinstance(history, History)
    assert len(history) == 15 and history.epoch == list(range(1, 16))
    for key in ("train_loss", "val_loss", "train_metric", "val_metric", "lr", "seconds"):
        assert len(getattr(history, key)) == 15, key
    assert history.metric_name == "accuracy"
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.last("val_metric") > 0.9
    assert history.stop_reason == "finished all epochs" and not history.stopped_early
    assert history.best_epoch is not None


def test_epoch_loss_and_metric_match_a_hand_computation():
    """The epoch's mean loss weights the smaller last batch correctly (n=10, batch 4)."""
    X, y = blobs(n=10)
    model = classifier()
    # lr=0: the weights never change, so every batch sees the same model.
    history = fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
                  epochs=1, batch_size=4, progress=False, restore_best=False)
    with torch.no_grad():
        outputs = model(X)
    assert history.train_loss[0] == pytest.approx(nn.CrossEntropyLoss()(outputs, y).item(), rel=1e-5)
    assert history.train_metric[0] == pytest.approx((outputs.argmax(1) == y).float().mean().item())


def test_fit_accepts_numpy_arrays_and_a_custom_metric():
    X, y = blobs()

    def correct(outputs, targets):
        return (outputs.argmax(dim=1) == targets).sum()

    history = fit(classifier(), (X.numpy(), y.numpy()), (X.numpy(), y.numpy()), loss_fn=nn.CrossEntropyLoss(),
                  metric=correct, epochs=2, progress=False)
    assert history.metric_name == "correct"
    assert 0.0 <= history.val_metric[-1] <= 1.0


def test_regression_with_mae_and_outputs_of_shape_n_by_1():
    X, y = regression_data()
    torch.manual_seed(0)
    model = mlp(3, [], 1)  # a linear model
    history = fit(model, (X[:150], y[:150]), (X[150:], y[150:]), loss_fn=nn.MSELoss(), metric="mae",
                  lr=5e-2, epochs=40, batch_size=32, progress=False)
    assert history.metric_name == "mae"
    assert history.val_loss[-1] < 0.1 * history.val_loss[0]
    assert history.best("val_metric") == max(history.val_metric)  # "best" of a metric is its highest value
    result = evaluate(model, X[150:], y[150:], loss_fn=nn.MSELoss(), metric="mae")
    assert result["loss"] == pytest.approx(min(history.val_loss), rel=1e-4)  # the best weights were restored


def test_metric_none_records_losses_only():
    X, y = blobs()
    history = fit(classifier(), (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), metric=None, epochs=2, progress=False)
    assert history.metric_name is None and history.train_metric == [] and history.val_metric == []
    assert len(history.val_loss) == 2


def test_fit_without_validation_tracks_the_training_loss():
    X, y = blobs()
    history = fit(classifier(), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=3, progress=False)
    assert history.val_loss == [] and len(history.train_loss) == 3
    assert history.best_epoch == int(np.argmin(history.train_loss)) + 1


def test_restore_best_loads_the_weights_of_the_best_epoch():
    X, y = blobs()
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, history, model):
            snapshots[history.epoch[-1]] = weights(model)
            return False

    model = classifier()
    # A learning rate this high makes the validation loss jump about, so the best epoch is rarely the last.
    history = fit(model, (X[:150], y[:150]), (X[150:], y[150:]), loss_fn=nn.CrossEntropyLoss(),
                  optimizer=torch.optim.SGD(model.parameters(), lr=2.0), epochs=8, callbacks=[Snapshot()],
                  progress=False)
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    assert same_weights(weights(model), snapshots[history.best_epoch])


def test_restore_best_false_keeps_the_last_weights():
    X, y = blobs()
    last = {}

    class Snapshot(Callback):
        def on_epoch_end(self, history, model):
            last.update(weights(model))
            return False

    model = classifier()
    fit(model, (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(model.parameters(), lr=2.0),
        epochs=5, callbacks=[Snapshot()], restore_best=False, progress=False)
    assert same_weights(weights(model), last)


# --------------------------------------------------------------------------
# Callbacks, early stopping, schedulers
# --------------------------------------------------------------------------


def test_early_stopping_stops_and_says_why():
    X, y = blobs()
    model = classifier()
    # lr=0: the validation loss never improves after the first epoch.
    history = fit(model, (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
                  epochs=50, callbacks=[EarlyStopping(patience=3)], progress=False)
    assert len(history) == 4  # the first epoch sets the best, three more without improvement
    assert history.stopped_early and "early stopping" in history.stop_reason


def test_early_stopping_on_the_metric_and_its_bad_arguments():
    X, y = blobs()
    history = fit(classifier(), (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), lr=1e-2, epochs=200,
                  callbacks=[EarlyStopping(patience=2, monitor="val_metric")], progress=False)
    assert history.stopped_early and len(history) < 200
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="monitor"):
        EarlyStopping(monitor="accuracy")


def test_epoch_scheduler_changes_the_learning_rate_each_epoch():
    X, y = blobs()
    model = classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), optimizer=optimizer, scheduler=scheduler,
                  epochs=3, progress=False)
    assert history.lr == pytest.approx([0.05, 0.025, 0.0125])


def test_batch_scheduler_steps_once_per_batch():
    X, y = blobs(n=100)
    model = classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (1 + step))
    history = fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), optimizer=optimizer, scheduler=scheduler,
                  scheduler_step="batch", epochs=2, batch_size=25, progress=False)
    assert history.lr == pytest.approx([1 / 5, 1 / 9])  # 4 batches per epoch


def test_a_callback_can_stop_training():
    class StopAfterTwo(Callback):
        stop_reason = "enough"

        def on_epoch_end(self, history, model):
            return len(history) == 2

    X, y = blobs()
    history = fit(classifier(), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=10, callbacks=[StopAfterTwo()],
                  progress=False)
    assert len(history) == 2 and history.stop_reason == "enough"


# --------------------------------------------------------------------------
# Things going wrong
# --------------------------------------------------------------------------


def test_nan_loss_stops_with_a_message_and_keeps_the_best_weights():
    X, y = blobs()

    class PoisonAfterTwo(Callback):
        """After epoch 2, make the weights NaN: the next epoch's loss is NaN."""

        def on_epoch_end(self, history, model):
            if len(history) == 2:
                self.good = weights(model)
                with torch.no_grad():
                    for p in model.parameters():
                        p.fill_(float("nan"))
            return False

    poison = PoisonAfterTwo()
    model = classifier()
    with pytest.warns(RuntimeWarning, match="learning rate"):
        history = fit(model, (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), lr=1e-3, epochs=10,
                      callbacks=[poison], progress=False)
    assert len(history) == 3 and math.isnan(history.train_loss[-1])
    assert "training stopped at epoch 3" in history.stop_reason and "nan" in history.stop_reason
    assert history.best_epoch == 2
    assert same_weights(weights(model), poison.good)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_nan_in_the_first_epoch_restores_the_starting_weights():
    X, y = blobs()
    model = classifier()
    start = weights(model)
    with pytest.warns(RuntimeWarning, match="became"):
        history = fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(model.parameters(), lr=1e30),
                      epochs=5, batch_size=8, progress=False)
    assert history.best_epoch is None and len(history) == 1
    assert same_weights(weights(model), start)


def test_keyboard_interrupt_keeps_the_best_weights_and_the_history(capsys):
    X, y = blobs()

    class Interrupt(Callback):
        def on_epoch_end(self, history, model):
            if len(history) == 1:
                self.after_one = weights(model)
            if len(history) == 3:
                raise KeyboardInterrupt  # what the notebook's stop button does
            return False

    interrupt = Interrupt()
    model = classifier()
    history = fit(model, (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), lr=1e-2, epochs=10, callbacks=[interrupt],
                  progress=False)
    assert len(history) == 3 and "interrupted" in history.stop_reason
    assert all(len(getattr(history, k)) == 3 for k in ("train_loss", "val_loss", "val_metric", "seconds"))
    best = weights(model)
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    if history.best_epoch == 1:
        assert same_weights(best, interrupt.after_one)
    assert "keeping the best weights" in capsys.readouterr().out


def test_interrupt_during_the_first_epoch_keeps_the_starting_weights():
    X, y = blobs()
    model = classifier()
    start = weights(model)
    calls = {"n": 0}

    def loss_fn(outputs, targets):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return nn.functional.cross_entropy(outputs, targets)

    history = fit(model, (X, y), loss_fn=loss_fn, epochs=5, batch_size=16, progress=False)
    assert len(history) == 0 and history.train_loss == [] and "interrupted" in history.stop_reason
    assert same_weights(weights(model), start)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"model": "not a model"}, TypeError, "torch.nn.Module"),
        ({"loss_fn": "mse"}, TypeError, "loss_fn"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": 2.5}, ValueError, "epochs"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"scheduler_step": "step"}, ValueError, "scheduler_step"),
        ({"metric": "f1"}, ValueError, "unknown metric"),
        ({"callbacks": [lambda h, m: False]}, TypeError, "Callback"),
        ({"mixed_precision": "yes"}, ValueError, "mixed_precision"),
        ({"device": "tpu"}, ValueError, "unknown device"),
        ({"train": ([1, 2], [0, 1])}, TypeError, "tensors or NumPy arrays"),
        ({"train": torch.zeros(4, 2)}, TypeError, "pair"),
        ({"train": (torch.zeros(4, 2), torch.zeros(3, dtype=torch.long))}, ValueError, "different lengths"),
        ({"train": (torch.zeros(4), torch.zeros(4, dtype=torch.long))}, ValueError, "n_samples, n_features"),
        ({"train": (torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))}, ValueError, "empty"),
        ({"train": (torch.full((4, 2), float("nan")), torch.zeros(4, dtype=torch.long))}, ValueError, "NaN"),
        ({"val": (torch.zeros(4, 2), torch.zeros(5, dtype=torch.long))}, ValueError, "different lengths"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, error, match):
    X, y = blobs(n=8)
    arguments = {"model": mlp(4, [4], 3), "train": (X, y), "loss_fn": nn.CrossEntropyLoss(), "epochs": 1,
                 "progress": False}
    arguments.update(kwargs)
    model, train = arguments.pop("model"), arguments.pop("train")
    with pytest.raises(error, match=match):
        fit(model, train, **arguments)


# --------------------------------------------------------------------------
# Progress bar, History, evaluate and predict
# --------------------------------------------------------------------------


def test_progress_bar_shows_the_latest_epoch(monkeypatch, capsys):
    import tqdm.auto

    shown = []

    class RecordingBar(tqdm.auto.tqdm):
        def update(self, n=1):
            shown.append(str(self.postfix))
            return super().update(n)

    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    X, y = blobs()
    history = fit(classifier(), (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=2, progress=True)
    assert len(shown) == 2
    # When the bar moves to epoch 2, it already shows epoch 2's numbers.
    assert f"{history.train_loss[-1]:.4f}" in shown[-1] and "val_accuracy" in shown[-1]
    assert "epoch" in capsys.readouterr().err


def test_progress_follows_the_environment_variable(monkeypatch, capsys):
    X, y = blobs()
    monkeypatch.setenv("HELPERS_PROGRESS", "0")
    fit(classifier(), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=1)
    assert capsys.readouterr().err == ""


def test_history_helpers():
    X, y = blobs()
    history = fit(classifier(), (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=3, progress=False)
    frame = history.as_frame()
    assert list(frame.index) == [1, 2, 3] and "val_accuracy" in frame.columns
    assert history.best("val_loss") == min(history.val_loss)
    assert history.total_seconds == pytest.approx(sum(history.seconds))
    with pytest.raises(ValueError, match="no 'val_loss'"):
        History().last("val_loss")


def test_predict_and_evaluate():
    X, y = blobs()
    model = classifier()
    fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), lr=1e-2, epochs=10, progress=False)
    outputs = predict(model, X.numpy(), batch_size=7)
    assert outputs.shape == (200, 3) and outputs.device.type == "cpu"
    assert model.training  # predict puts the model back in its mode
    result = evaluate(model, X, y, loss_fn=nn.CrossEntropyLoss())
    assert result["accuracy"] == pytest.approx((outputs.argmax(1) == y).float().mean().item())
    with pytest.raises(TypeError, match="tensor or NumPy"):
        predict(model, [[0.0] * 4])
    with pytest.raises(ValueError, match="n_samples"):
        predict(model, torch.zeros(0, 4))


# --------------------------------------------------------------------------
# Precision and placement, as fit applies the decisions of helpers.device
# --------------------------------------------------------------------------


class RecordOutputDtype(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.dtypes = inner, set()

    def forward(self, x):
        out = self.inner(x)
        if self.training:
            self.dtypes.add(out.dtype)
        return out


def test_no_autocast_on_the_cpu_by_default():
    X, y = blobs()
    model = RecordOutputDtype(classifier())
    fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=1, device="cpu", progress=False)
    assert model.dtypes == {torch.float32}


def test_mixed_precision_true_uses_bfloat16_autocast():
    X, y = blobs()
    model = RecordOutputDtype(classifier())
    history = fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=2, device="cpu", mixed_precision=True,
                  progress=False)
    assert model.dtypes == {torch.bfloat16}
    assert all(math.isfinite(v) for v in history.train_loss)


def test_float16_autocast_comes_with_a_gradient_scaler(monkeypatch):
    """What fit does on a GPU without bfloat16, exercised on the CPU."""
    import helpers.train as train

    monkeypatch.setattr(train, "mixed_precision_dtype", lambda device: torch.float16)
    scalers = []
    real_scaler = torch.amp.GradScaler

    def recording_scaler(*args, **kwargs):
        scalers.append(real_scaler(*args, **kwargs))
        return scalers[-1]

    monkeypatch.setattr(torch.amp, "GradScaler", recording_scaler)
    X, y = blobs()
    model = RecordOutputDtype(classifier())
    history = fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), lr=1e-2, epochs=3, device="cpu", progress=False)
    assert model.dtypes == {torch.float16} and len(scalers) == 1
    assert history.train_loss[-1] < history.train_loss[0]


def test_fit_asks_whether_the_data_fits_on_the_device(monkeypatch):
    import helpers.train as train

    asked = []
    monkeypatch.setattr(train, "keep_on_device", lambda nbytes, device: asked.append((nbytes, device)) or True)
    X, y = blobs(n=10)
    fit(classifier(), (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=1, device="cpu", progress=False)
    assert asked == [(2 * (X.nbytes + y.nbytes), torch.device("cpu"))]


def test_rows_gathers_batches_of_data_left_in_cpu_memory():
    """Data that stays on the host is gathered row by row and sent to the device."""
    from helpers.train import _rows

    X = torch.arange(20.0).reshape(10, 2)
    idx = torch.tensor([3, 0, 7])
    assert torch.equal(_rows(X, idx, torch.device("cpu")), X[idx])  # same device: plain indexing
    sent = _rows(X, idx, torch.device("meta"))  # "meta": a device that is not the CPU, on any machine
    assert sent.device.type == "meta" and sent.shape == (3, 2) and sent.dtype == X.dtype


def test_channels_last_is_applied_when_the_device_module_says_so(monkeypatch):
    import helpers.train as train

    monkeypatch.setattr(train, "use_channels_last", lambda model, device: True)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    X = torch.randn(32, 1, 6, 6)
    y = torch.arange(32) % 3
    fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=1, device="cpu", progress=False)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_accuracy_of_a_single_logit_column_thresholds_at_zero():
    """A binary model often outputs (n, 1); its accuracy must not argmax over one column."""
    from helpers.train import METRICS

    outputs = torch.tensor([[2.0], [-1.0], [0.5], [-3.0]])
    targets = torch.tensor([1.0, 0.0, 0.0, 0.0])
    assert METRICS["accuracy"](outputs, targets).item() == 3

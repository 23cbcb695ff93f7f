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


# --------------------------------------------------------------------------
# augment: a function applied to every training batch
# --------------------------------------------------------------------------


def test_augment_sees_every_training_batch_on_the_device_and_never_validation():
    X, y = blobs()
    seen = []

    def record(X_b, y_b):
        seen.append((len(X_b), X_b.device.type, y_b.dtype))
        return X_b, y_b

    model = classifier()
    history = fit(model, (X[:150], y[:150]), (X[150:], y[150:]), loss_fn=nn.CrossEntropyLoss(), epochs=2,
                  batch_size=32, augment=record, device="cpu", restore_best=False, progress=False)
    assert [size for size, _, _ in seen] == [32, 32, 32, 32, 22] * 2  # 150 training samples per epoch, none of val
    assert {device for _, device, _ in seen} == {"cpu"} and {dtype for _, _, dtype in seen} == {torch.int64}
    clean = evaluate(model, X[150:], y[150:], loss_fn=nn.CrossEntropyLoss())
    assert history.val_loss[-1] == pytest.approx(clean["loss"], rel=1e-5)  # validation saw the data as it is


def test_augment_changes_what_the_model_trains_on():
    """Zeroing every training batch: the model can only learn the class frequencies."""
    X, y = blobs()
    history = fit(classifier(), (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), lr=1e-2, epochs=10,
                  augment=lambda X_b, y_b: (torch.zeros_like(X_b), y_b), progress=False)
    assert max(history.val_metric) < 0.5  # three balanced classes: about 1/3
    plain = fit(classifier(), (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), lr=1e-2, epochs=10, progress=False)
    assert plain.last("val_metric") > 0.9


def test_soft_labels_train_and_their_accuracy_compares_argmaxes():
    X, y = blobs()

    def one_hot(X_b, y_b):  # MixUp with a mixing weight of 1: soft labels equal to the hard ones
        return X_b, nn.functional.one_hot(y_b, 3).float()

    def run(augment):
        model = classifier()
        torch.manual_seed(1)
        # lr=0: both runs see the same model on the same batches, so outputs and metric agree exactly.
        return fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
                   epochs=2, batch_size=32, augment=augment, progress=False)

    hard, soft = run(None), run(one_hot)
    assert soft.train_metric == hard.train_metric
    assert soft.train_loss == pytest.approx(hard.train_loss, rel=1e-6)

    def mixup(X_b, y_b):
        lam = 0.7
        perm = torch.randperm(len(X_b))
        soft_y = nn.functional.one_hot(y_b, 3).float()
        return lam * X_b + (1 - lam) * X_b[perm], lam * soft_y + (1 - lam) * soft_y[perm]

    history = fit(classifier(), (X[:150], y[:150]), (X[150:], y[150:]), loss_fn=nn.CrossEntropyLoss(), lr=1e-2,
                  epochs=15, batch_size=32, augment=mixup, progress=False)
    assert history.train_loss[-1] < history.train_loss[0]
    assert all(0.0 <= v <= 1.0 for v in history.train_metric)
    assert history.last("val_metric") > 0.9


@pytest.mark.parametrize(
    "augment, match",
    [
        (lambda X_b, y_b: X_b, "pair"),
        (lambda X_b, y_b: (X_b, y_b, None), "pair"),
        (lambda X_b, y_b: (X_b.numpy(), y_b), "pair"),
        (lambda X_b, y_b: (X_b[:-1], y_b[:-1]), "keep the batch size"),
        (lambda X_b, y_b: (torch.cat([X_b, X_b]), torch.cat([y_b, y_b])), "keep the batch size"),
        (lambda X_b, y_b: (X_b, y_b[:, None]), "labels of shape"),
        (lambda X_b, y_b: (X_b, nn.functional.one_hot(y_b, 5).float()), r"labels of shape \(\d+, 5\).*\(\d+, 3\)"),
        (lambda X_b, y_b: (X_b, nn.functional.one_hot(y_b, 3)), "float soft labels"),  # integer one-hot
    ],
)
def test_an_augment_that_breaks_the_batch_gets_a_clear_error(augment, match):
    X, y = blobs(n=40)
    with pytest.raises(ValueError, match=match):
        fit(classifier(), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=1, augment=augment, progress=False)
    with pytest.raises(TypeError, match="augment"):
        fit(classifier(), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=1, augment="flip", progress=False)


# --------------------------------------------------------------------------
# Checkpoints: an interrupted run, resumed, ends exactly as an uninterrupted one
# --------------------------------------------------------------------------


def noisy_augment(X_b, y_b):
    """Draws from torch's, NumPy's and Python's generators: a resumed run must restore all three."""
    import random

    scale = 0.05 * (1 + random.random()) * float(np.random.rand())
    return X_b + scale * torch.randn_like(X_b), y_b


def run_with(checkpoint=None, resume=False, epochs=8, scheduler=False, early_stopping=False, extra_callbacks=()):
    """A run that uses every source of randomness: shuffling, dropout, augmentation."""
    import random

    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    X, y = blobs()
    model = mlp(4, [16], 3, dropout=0.2)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5) if scheduler else None
    callbacks = [EarlyStopping(patience=2, min_delta=0.02)] if early_stopping else []
    history = fit(model, (X[:150], y[:150]), (X[150:], y[150:]), loss_fn=nn.CrossEntropyLoss(), optimizer=optimizer,
                  scheduler=schedule, epochs=epochs, batch_size=16, augment=noisy_augment,
                  callbacks=callbacks + list(extra_callbacks), checkpoint=checkpoint, resume=resume, progress=False)
    return history, model


def assert_same_run(a, b):
    (history_a, model_a), (history_b, model_b) = a, b
    for key in ("epoch", "train_loss", "val_loss", "train_metric", "val_metric", "lr"):
        assert getattr(history_a, key) == getattr(history_b, key), key
    assert history_a.best_epoch == history_b.best_epoch and history_a.stop_reason == history_b.stop_reason
    assert same_weights(weights(model_a), weights(model_b))


class InterruptAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, history, model):
        if history.epoch[-1] == self.epoch:
            raise KeyboardInterrupt
        return False


@pytest.mark.parametrize("scheduler", [False, True])
def test_fit_k_epochs_then_resume_to_n_equals_n_epochs(tmp_path, scheduler):
    path = tmp_path / "run.pt"
    uninterrupted = run_with(epochs=8, scheduler=scheduler)
    first = run_with(path, epochs=3, scheduler=scheduler)
    assert len(first[0]) == 3 and path.exists()
    resumed = run_with(path, resume=True, epochs=8, scheduler=scheduler)
    assert_same_run(resumed, uninterrupted)
    assert len(resumed[0].seconds) == 8


def test_an_interrupted_run_with_early_stopping_resumes_exactly(tmp_path, capsys):
    path = tmp_path / "run.pt"
    full_history, _ = full = run_with(epochs=30, scheduler=True, early_stopping=True)
    assert full_history.stopped_early and len(full_history) >= 4  # the stop must come after the interrupt
    k = len(full_history) // 2
    interrupted, _ = run_with(path, epochs=30, scheduler=True, early_stopping=True, extra_callbacks=[InterruptAt(k)])
    assert len(interrupted) == k and "interrupted" in interrupted.stop_reason
    # The interrupt came before epoch k's checkpoint: the file holds epoch k-1 and the resumed run redoes epoch k.
    resumed = run_with(path, resume=True, epochs=30, scheduler=True, early_stopping=True)
    assert_same_run(resumed, full)
    # Resuming a run that early stopping ended trains nothing more.
    again = run_with(path, resume=True, epochs=30, scheduler=True, early_stopping=True)
    assert_same_run(again, full)
    assert "nothing to resume" in capsys.readouterr().out


def test_resume_without_a_file_starts_fresh_and_says_so(tmp_path, capsys):
    path = tmp_path / "new" / "run.pt"
    fresh = run_with(path, resume=True, epochs=3)
    assert "no checkpoint" in capsys.readouterr().out and path.exists()
    assert_same_run(fresh, run_with(epochs=3))
    assert [p.name for p in path.parent.iterdir()] == ["run.pt"]  # no temporary file left behind


def test_resume_at_the_last_epoch_trains_nothing(tmp_path):
    path = tmp_path / "run.pt"
    done = run_with(path, epochs=3)
    assert_same_run(run_with(path, resume=True, epochs=3), done)


def test_checkpoints_load_with_weights_only(tmp_path):
    from helpers.checkpoint import load_checkpoint

    path = tmp_path / "run.pt"
    history, model = run_with(path, epochs=2, early_stopping=True)
    state = torch.load(path, weights_only=True)
    assert state["epoch"] == 2 and state["optimizer_type"] == "Adam"
    assert state["history"]["train_loss"] == history.train_loss
    assert state["callbacks"][0]["name"] == "EarlyStopping" and "waited" in state["callbacks"][0]["state"]
    assert set(state["rng"]) == {"torch", "numpy", "python"}
    assert load_checkpoint(path)["epoch"] == 2


def file_bytes(path):
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "not a checkpoint"])
def test_a_damaged_checkpoint_is_a_clear_error_and_stays_as_it_is(tmp_path, damage):
    path = tmp_path / "run.pt"
    run_with(path, epochs=2)
    if damage == "truncate":
        path.write_bytes(file_bytes(path)[: len(file_bytes(path)) // 2])
        match = "could not be read"
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage" * 100)
        match = "could not be read"
    else:
        torch.save({"weights": torch.zeros(3)}, path)
        match = "not a checkpoint written by save_checkpoint"
    before = file_bytes(path)
    with pytest.raises(ValueError, match=match):
        run_with(path, resume=True, epochs=4)
    assert file_bytes(path) == before


def test_a_checkpoint_of_another_architecture_lists_what_differs(tmp_path):
    path = tmp_path / "run.pt"
    run_with(path, epochs=2)
    before = file_bytes(path)
    X, y = blobs()
    other = mlp(4, [8], 3)
    start = weights(other)
    with pytest.raises(ValueError, match=r"different architecture.*0\.weight: file \(16, 4\) vs model \(8, 4\)"):
        fit(other, (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=4, checkpoint=path, resume=True,
            progress=False)
    deeper = mlp(4, [16, 16], 3)
    with pytest.raises(ValueError, match=r"4\.weight"):
        fit(deeper, (X, y), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=4, checkpoint=path, resume=True,
            progress=False)
    assert file_bytes(path) == before and same_weights(weights(other), start)


def test_resume_refuses_what_does_not_match(tmp_path):
    path = tmp_path / "run.pt"
    run_with(path, epochs=3)
    before = file_bytes(path)
    X, y = blobs()

    def resume(**kwargs):
        torch.manual_seed(0)
        model = mlp(4, [16], 3, dropout=0.2)
        arguments = dict(loss_fn=nn.CrossEntropyLoss(), epochs=8, checkpoint=path, resume=True, progress=False)
        arguments.update(kwargs)
        optimizer = arguments.pop("optimizer", lambda m: torch.optim.Adam(m.parameters()))(model)
        fit(model, (X[:150], y[:150]), (X[150:], y[150:]), optimizer=optimizer, **arguments)

    with pytest.raises(ValueError, match="already trained 3 epochs, more than epochs=2"):
        resume(epochs=2)
    with pytest.raises(ValueError, match="trained with Adam, this run uses SGD"):
        resume(optimizer=lambda m: torch.optim.SGD(m.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="callbacks"):
        resume(callbacks=[EarlyStopping()])
    model = mlp(4, [16], 3, dropout=0.2)
    optimizer = torch.optim.Adam(model.parameters())
    with pytest.raises(ValueError, match="scheduler None, this run with StepLR"):
        fit(model, (X[:150], y[:150]), (X[150:], y[150:]), loss_fn=nn.CrossEntropyLoss(), optimizer=optimizer,
            scheduler=torch.optim.lr_scheduler.StepLR(optimizer, 1), epochs=8, checkpoint=path, resume=True,
            progress=False)
    with pytest.raises(ValueError, match="metric"):
        resume(metric=None)
    with pytest.raises(ValueError, match="resume=True needs checkpoint"):
        fit(mlp(4, [16], 3), (X, y), loss_fn=nn.CrossEntropyLoss(), resume=True, progress=False)
    assert file_bytes(path) == before


def test_a_crash_while_writing_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    import helpers.checkpoint as checkpoint

    path = tmp_path / "run.pt"
    checkpoint.save_checkpoint(path, epoch=1, weights=torch.ones(3))
    before = file_bytes(path)

    def crash(obj, file):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save_checkpoint(path, epoch=2, weights=torch.zeros(3))
    assert file_bytes(path) == before and [p.name for p in tmp_path.iterdir()] == ["run.pt"]


def test_save_and_load_checkpoint_and_their_bad_inputs(tmp_path):
    from helpers.checkpoint import load_checkpoint, save_checkpoint

    path = tmp_path / "state.pt"
    save_checkpoint(path, epoch=3, losses=[0.5, 0.25], nested={"w": torch.arange(3.0)}, note=None)
    state = load_checkpoint(str(path))
    assert state["epoch"] == 3 and state["losses"] == [0.5, 0.25] and torch.equal(state["nested"]["w"], torch.arange(3.0))
    with pytest.raises(TypeError, match="weights_only"):
        save_checkpoint(path, model=nn.Linear(2, 2))  # a module, not its state_dict
    with pytest.raises(TypeError, match="path"):
        save_checkpoint(3, epoch=1)
    with pytest.raises(ValueError, match="name a file"):
        save_checkpoint(tmp_path, epoch=1)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_checkpoint(tmp_path / "missing.pt")


def test_save_and_load_weights_including_a_backbone_with_a_new_head(tmp_path):
    from helpers.checkpoint import load_weights, save_weights

    path = tmp_path / "weights.pt"
    torch.manual_seed(0)
    trained = mlp(4, [16], 3)
    save_weights(trained, path)
    assert set(torch.load(path, weights_only=True)) == set(trained.state_dict())
    copy_of = mlp(4, [16], 3)
    result = load_weights(copy_of, path)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert same_weights(weights(copy_of), weights(trained))

    # A backbone: the same first layer, a new head (another name) that keeps its own weights.
    new = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Identity(), nn.Linear(16, 5))
    head = weights(new)["3.weight"]
    with pytest.raises(ValueError, match="2.weight"):
        load_weights(new, path)  # strict: the names differ
    with pytest.raises(ValueError, match=r"3\.weight|2\.weight"):
        load_weights(nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 5)), path, strict=False)  # shapes
    backbone_only = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 7), nn.Linear(7, 5))
    with pytest.raises(ValueError, match=r"2\.weight: file \(3, 16\) vs model \(7, 16\)"):
        load_weights(backbone_only, path, strict=False)
    result = load_weights(new, path, strict=False)
    assert sorted(result.missing_keys) == ["3.bias", "3.weight"] and sorted(result.unexpected_keys) == ["2.bias", "2.weight"]
    assert torch.equal(new[0].weight, trained[0].weight) and torch.equal(weights(new)["3.weight"], head)

    # A checkpoint of fit works too: its current weights are loaded.
    run_path = tmp_path / "run.pt"
    _, model = run_with(run_path, epochs=2)
    target = mlp(4, [16], 3, dropout=0.2)
    load_weights(target, run_path)
    assert same_weights(weights(target), torch.load(run_path, weights_only=True)["model"])


# --------------------------------------------------------------------------
# Data that does not fit the model: clear errors from the first batch
# --------------------------------------------------------------------------


def test_x_of_the_wrong_width_names_both_shapes():
    X, y = blobs(n=20)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(n, 4\).*X has shape \(20, 5\)"):
        fit(classifier(), (torch.cat([X, X[:, :1]], dim=1), y), loss_fn=nn.CrossEntropyLoss(), epochs=1,
            progress=False)
    conv = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(3))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(n, 3, height, width\).*\(20, 1, 8, 8\)"):
        fit(conv, (torch.zeros(20, 1, 8, 8), y), loss_fn=nn.CrossEntropyLoss(), epochs=1, progress=False)


def test_labels_beyond_the_models_classes_name_both_numbers():
    X, y = blobs(n=20)
    y = y.clone()
    y[3] = 5
    with pytest.raises(ValueError, match="labels go up to 5 but the model outputs 3 scores"):
        fit(classifier(), (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=1, progress=False)
    X_val, y_val = blobs(n=10)
    y_val[0] = 3
    with pytest.raises(ValueError, match="labels go up to 3"):
        fit(classifier(), blobs(n=20), (X_val, y_val), loss_fn=nn.CrossEntropyLoss(), epochs=1, progress=False)


def test_the_first_batch_check_changes_nothing():
    """The check runs the model in eval mode without gradients: no RNG draw, no BatchNorm update."""
    X, y = blobs()

    def run():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
        torch.manual_seed(1)
        generator_before = torch.get_rng_state()
        return model, generator_before

    model, state = run()
    from helpers.train import _check_data_fits_model

    before = weights(model)
    assert _check_data_fits_model(model, X, y, None, torch.device("cpu"), torch.autocast("cpu", enabled=False)) == 3
    assert torch.equal(torch.get_rng_state(), state) and same_weights(weights(model), before) and model.training

"""Checks of fit's GPU path that only a CUDA machine can run: ``python -m bench.gpu_smoke``.

Part of bench/gpu_check.sh. Each check prints one line and the results go
to ``bench/results/gpu_smoke.md``; the exit status is 1 if any check fails.

1. the data set stays on the GPU and the model trains there;
2. autocast uses bfloat16 where the GPU supports it, else float16 with a
   gradient scaler, and either way the model learns;
3. a data set "too big for the GPU" (forced) stays in CPU memory, batches
   travel from pinned memory, and training gives the same quality;
4. a 2-D convolutional model is trained in the channels-last layout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch import nn

import helpers.train as train
from helpers.data import load
from helpers.device import describe, mixed_precision_dtype
from helpers.models import mlp

RESULTS = Path(__file__).resolve().parent / "results"


def digits():
    ds = load("digits", seed=0).standardized()
    return ds.tensors("train"), ds.tensors("val")


def check_on_device(lines):
    (X, y), val = digits()
    torch.manual_seed(0)
    model = mlp(64, [32], 10)
    seen = []
    model.register_forward_hook(lambda m, i, o: seen.append((i[0].device.type, o.dtype)) if m.training else None)
    start = time.perf_counter()
    history = train.fit(model, (X, y), val, loss_fn=nn.CrossEntropyLoss(), epochs=20, progress=False)
    seconds = time.perf_counter() - start
    dtype = mixed_precision_dtype(torch.device("cuda"))
    ok = next(model.parameters()).is_cuda and {d for d, _ in seen} == {"cuda"} and {t for _, t in seen} == {dtype}
    ok = ok and history.last("val_metric") > 0.9
    lines.append((ok, f"data and model on the GPU, autocast {dtype}: val accuracy {history.last('val_metric'):.3f}, "
                      f"{seconds:.2f} s for 20 epochs"))
    return history.last("val_metric")


def check_float16_with_scaler(lines):
    (X, y), val = digits()
    torch.manual_seed(0)
    model = mlp(64, [32], 10)
    original = train.mixed_precision_dtype
    train.mixed_precision_dtype = lambda device: torch.float16  # as on a GPU without bfloat16
    try:
        history = train.fit(model, (X, y), val, loss_fn=nn.CrossEntropyLoss(), epochs=20, progress=False)
    finally:
        train.mixed_precision_dtype = original
    ok = history.last("val_metric") > 0.9
    lines.append((ok, f"float16 autocast with a gradient scaler: val accuracy {history.last('val_metric'):.3f}"))


def check_pinned_batches(lines, on_device_accuracy):
    (X, y), val = digits()
    torch.manual_seed(0)
    model = mlp(64, [32], 10)
    copies = []
    original_rows, original_keep = train._rows, train.keep_on_device

    def rows(data, idx, device):
        copies.append(data.device.type)
        return original_rows(data, idx, device)

    train._rows, train.keep_on_device = rows, (lambda nbytes, device, free_bytes=None: False)
    try:
        start = time.perf_counter()
        history = train.fit(model, (X, y), val, loss_fn=nn.CrossEntropyLoss(), epochs=20, progress=False)
        seconds = time.perf_counter() - start
    finally:
        train._rows, train.keep_on_device = original_rows, original_keep
    accuracy = history.last("val_metric")
    ok = set(copies) == {"cpu"} and abs(accuracy - on_device_accuracy) < 0.05
    lines.append((ok, f"data kept in CPU memory, pinned batches: val accuracy {accuracy:.3f}, {seconds:.2f} s"))


def check_channels_last(lines):
    torch.manual_seed(0)
    X = torch.randn(2048, 3, 32, 32)
    y = (X[:, 0].mean(dim=(1, 2)) > 0).long()
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 2),
    )
    layouts = []
    model[2].register_forward_hook(
        lambda m, i, o: layouts.append(o.is_contiguous(memory_format=torch.channels_last)) if m.training else None
    )
    history = train.fit(model, (X, y), loss_fn=nn.CrossEntropyLoss(), epochs=5, batch_size=128, progress=False)
    ok = model[0].weight.is_contiguous(memory_format=torch.channels_last) and all(layouts)
    ok = ok and history.train_loss[-1] < history.train_loss[0]
    lines.append((ok, f"Conv2d model trained channels-last: train loss {history.train_loss[0]:.3f} -> "
                      f"{history.train_loss[-1]:.3f}"))


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA GPU here: nothing to check")
        return 2
    lines: list[tuple[bool, str]] = []
    accuracy = check_on_device(lines)
    check_float16_with_scaler(lines)
    check_pinned_batches(lines, accuracy)
    check_channels_last(lines)
    report = [f"# GPU checks of helpers.train.fit", "", f"- device: {describe(torch.device('cuda'))}", ""]
    report += [f"- {'ok' if ok else 'FAILED'}: {text}" for ok, text in lines]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gpu_smoke.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0 if all(ok for ok, _ in lines) else 1


if __name__ == "__main__":
    sys.exit(main())

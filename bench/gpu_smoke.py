"""Checks of fit's GPU path that only a CUDA machine can run: ``python -m bench.gpu_smoke``.

Part of bench/gpu_check.sh. Each check prints one line and the results go
to ``bench/results/gpu_smoke.md``; the exit status is 1 if any check fails.

1. the data set stays on the GPU and the model trains there;
2. autocast uses bfloat16 where the GPU supports it, else float16 with a
   gradient scaler, and either way the model learns;
3. a data set "too big for the GPU" (forced) stays in CPU memory, batches
   travel from pinned memory, and training gives the same quality;
4. a 2-D convolutional model is trained in the channels-last layout.

``python -m bench.gpu_smoke --scaling`` instead measures Chapter 12's numbers on the GPU
(the matrix-product peak in float32, TF32 and bfloat16; the time of a training step and
its achieved FLOP/s as an MLP grows, in float32 and bfloat16 autocast; the time to a target
accuracy on digits as the width grows) and writes ``bench/results/scaling_gpu.md``, which
the chapter shows when it exists.
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


def _cuda_seconds(fn, repeats: int = 10) -> float:
    """Median seconds of ``fn()`` on the GPU, timed with CUDA events after a warm-up."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    return sorted(times)[len(times) // 2]


def scaling_report() -> int:
    """Chapter 12 on the GPU: peak, achieved FLOP/s per model size, bf16, time to target."""
    from helpers import scaling

    if not torch.cuda.is_available():
        print("no CUDA GPU here: nothing to measure")
        return 2
    device = torch.device("cuda")
    lines = ["# Chapter 12 on a GPU", "", f"- device: {describe(device)}; torch {torch.__version__}", ""]

    lines += ["## Matrix-product peak (8192 x 8192)", "", "| dtype | TFLOP/s |", "|---|---|"]
    size = 8192
    for name, dtype, tf32 in (("float32", torch.float32, False), ("TF32", torch.float32, True),
                              ("bfloat16", torch.bfloat16, False)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        a = torch.randn(size, size, device=device, dtype=dtype)
        b = torch.randn(size, size, device=device, dtype=dtype)
        seconds = _cuda_seconds(lambda: a @ b)
        lines.append(f"| {name} | {2 * size**3 / seconds / 1e12:.1f} |")
        del a, b
    torch.backends.cuda.matmul.allow_tf32 = False

    lines += ["", "## One training step of an MLP 1024 -> width x 2 -> 10, batch 4096 (SGD)", "",
              "| width | parameters | float32 ms | bf16 autocast ms | bf16 speed-up | achieved TFLOP/s (bf16, 6N per example) |",
              "|---|---|---|---|---|---|"]
    X = torch.randn(4096, 1024, device=device)
    y = torch.randint(10, (4096,), device=device)
    for width in (256, 1024, 4096, 8192):
        torch.manual_seed(0)
        model = mlp(1024, [width, width], 10).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
        n_params = sum(p.numel() for p in model.parameters())
        timings = {}
        for amp in (False, True):
            def step():
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                    loss = nn.functional.cross_entropy(model(X), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            timings[amp] = _cuda_seconds(step)
        achieved = scaling.training_flops(n_params, len(X)) / timings[True] / 1e12
        lines.append(f"| {width} | {n_params:,} | {1000 * timings[False]:.2f} | {1000 * timings[True]:.2f} | "
                     f"{timings[False] / timings[True]:.2f} | {achieved:.1f} |")

    lines += ["", "## Time to 92% validation accuracy on digits (Adam, lr 3e-3, batch 64, median of 3)", "",
              "| width | seconds per epoch | seconds to target |", "|---|---|---|"]
    (X_train, y_train), val = digits()
    for width in (32, 128, 512, 2048):
        results = [scaling.time_to_target(lambda: mlp(64, [width], 10), (X_train, y_train), val, target=0.92,
                                          max_epochs=60, lr=3e-3, seed=seed, device=device) for seed in range(3)]
        per_epoch = sorted(r["seconds per epoch"] for r in results)[1]
        to_target = sorted(r["seconds to target"] for r in results)[1]
        lines.append(f"| {width} | {per_epoch:.4f} | {to_target:.3f} |")
    lines += ["", "On a GPU a small model's step is bound by kernel launches and Python, not arithmetic:",
              "the time per epoch hardly grows with the width until the matrices are large.", ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scaling_gpu.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def main() -> int:
    if "--scaling" in sys.argv[1:]:
        return scaling_report()
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

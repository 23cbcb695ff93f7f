"""The training-loop benchmark: ``python -m bench`` (or ``make bench``).

Trains the same small MLP (digits) and the same small 1-D CNN (MNIST-1D)
with every loop of ``bench.loops``, in one process, and writes

- ``bench/results/loop_benchmark.csv``: the table the book shows;
- ``bench/results/loop_benchmark.md``: the same table, the machine, the
  settings and the verdict on the targets.

Each repeat runs every loop once, in a rotated order, so that a noisy
neighbour slows all loops alike; the table reports medians over repeats,
and each ratio is the median of the per-repeat ratios to the reference run
of the same repeat. See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from bench.loops import Case, Run, available_methods

RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE = "reference (tensor slicing)"
FIT = "helpers.train.fit"
DATALOADER = "DataLoader loop"
SKLEARN = "scikit-learn MLPClassifier"
FUSED = "fit + fused Adam"

COLUMNS = [
    "model",
    "method",
    "us/step",
    "x ref",
    "CPU us/step",
    "CPU x ref",
    "s to target",
    "x ref (to target)",
    "CPU s to target",
    "CPU x ref (to target)",
    "epochs to target",
    "final val acc",
]


def make_cases(mlp_epochs: int, cnn_epochs: int, which: list[str]) -> list[Case]:
    from helpers.data import load
    from helpers.models import CNN1D, mlp

    cases = []
    if "mlp" in which:
        digits = load("digits", seed=0).standardized()
        cases.append(
            Case("mlp", lambda: mlp(64, [32], 10), *digits.tensors("train"), *digits.tensors("val"),
                 batch_size=64, lr=1e-3, epochs=mlp_epochs, target=0.95)
        )
    if "cnn" in which:
        signals = load("mnist1d", seed=0).standardized()
        cases.append(
            Case("cnn", lambda: CNN1D(channels=32), *signals.tensors("train"), *signals.tensors("val"),
                 batch_size=64, lr=3e-3, epochs=cnn_epochs, target=0.70)
        )
    return cases


# --------------------------------------------------------------------------
# From runs to numbers
# --------------------------------------------------------------------------


def per_step_us(times: list[float], steps_per_epoch: int) -> float:
    """Steady cost of a step: epochs 2..E (the first carries the set-up)."""
    return (times[-1] - times[0]) / ((len(times) - 1) * steps_per_epoch) * 1e6


def to_target(run: Run, target: float, cpu: bool = False) -> tuple[float, int | None]:
    """(seconds, epochs) until the validation accuracy first reaches ``target``."""
    times = run.epoch_end_cpu if cpu else run.epoch_end
    for epoch, acc in enumerate(run.val_acc):
        if acc >= target:
            return times[epoch], epoch + 1
    return math.inf, None


def median(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def summarise(case: Case, runs: dict[str, list[Run]]) -> list[dict]:
    """One table row per method; ratios are paired with the reference run of the same repeat."""
    steps = case.steps_per_epoch
    ref_runs = runs[REFERENCE]
    rows = []
    for method, method_runs in runs.items():
        wall = [per_step_us(r.epoch_end, steps) for r in method_runs]
        cpu = [per_step_us(r.epoch_end_cpu, steps) for r in method_runs]
        ref_wall = [per_step_us(r.epoch_end, steps) for r in ref_runs]
        ref_cpu = [per_step_us(r.epoch_end_cpu, steps) for r in ref_runs]
        targets = [to_target(r, case.target) for r in method_runs]
        ref_targets = [to_target(r, case.target) for r in ref_runs]
        cpu_targets = [to_target(r, case.target, cpu=True)[0] for r in method_runs]
        ref_cpu_targets = [to_target(r, case.target, cpu=True)[0] for r in ref_runs]
        seconds = median([t for t, _ in targets])
        epochs = median([e if e is not None else math.inf for _, e in targets])
        rows.append(
            {
                "model": case.name,
                "method": method,
                "us/step": median(wall),
                "x ref": median([w / r for w, r in zip(wall, ref_wall)]),
                "CPU us/step": median(cpu),
                "CPU x ref": median([c / r for c, r in zip(cpu, ref_cpu)]),
                "s to target": seconds,
                "x ref (to target)": median([t / r for (t, _), (r, _) in zip(targets, ref_targets)]),
                "CPU s to target": median(cpu_targets),
                "CPU x ref (to target)": median([t / r for t, r in zip(cpu_targets, ref_cpu_targets)]),
                "epochs to target": epochs,
                "final val acc": median([r.val_acc[-1] for r in method_runs]),
            }
        )
    return rows


def fmt(column: str, value) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "not reached"
    if column in ("us/step", "CPU us/step"):
        return f"{value:.0f}"
    if column in ("s to target", "CPU s to target"):
        return f"{value:.3f}"
    if column == "epochs to target":
        return f"{value:g}"
    return f"{value:.2f}"


# --------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------


def environment(threads: int, device: torch.device) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version(), "torch": torch.__version__}
    for package in ("sklearn", "skorch", "lightning"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            versions[package] = "not installed"
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{cpu}, {os.cpu_count()} cores"
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "device": f"{device.type}: {where}",
            "torch threads": threads, **versions}


def verdict(rows: list[dict]) -> list[str]:
    lines = []
    by = {(r["model"], r["method"]): r for r in rows}
    for model in dict.fromkeys(r["model"] for r in rows):
        fit, dl = by.get((model, FIT)), by.get((model, DATALOADER))
        if fit:
            for clock in ("x ref", "CPU x ref"):
                ok = "met" if fit[clock] <= 1.10 else "MISSED"
                lines.append(f"- {model}: fit costs {fit[clock]:.2f}x the reference per step ({clock}); target <= 1.10x: {ok}")
        if fit and dl:
            for clock in ("x ref", "CPU x ref"):
                speedup = dl[clock] / fit[clock]
                ok = "met" if speedup >= 1.45 or model != "mlp" else "MISSED"
                goal = "; target >= 1.45x: " + ok if model == "mlp" else ""
                lines.append(f"- {model}: the DataLoader loop costs {dl[clock]:.2f}x the reference ({clock}), "
                             f"fit is {speedup:.2f}x faster than it{goal}")
        sk = by.get((model, SKLEARN))
        for name in (FIT, FUSED):
            mine = by.get((model, name))
            if mine and sk:
                lines.append(
                    f"- {model}: {name} vs scikit-learn: time to target {fmt('s to target', mine['s to target'])} s "
                    f"vs {fmt('s to target', sk['s to target'])} s wall, {fmt('s to target', mine['CPU s to target'])} s "
                    f"vs {fmt('s to target', sk['CPU s to target'])} s CPU (epochs {fmt('epochs to target', mine['epochs to target'])} "
                    f"vs {fmt('epochs to target', sk['epochs to target'])}); per step {mine['us/step']:.0f} vs "
                    f"{sk['us/step']:.0f} us wall, {mine['CPU us/step']:.0f} vs {sk['CPU us/step']:.0f} us CPU"
                )
    return lines


def write_reports(rows: list[dict], env: dict, settings: dict, out: Path, name: str) -> None:
    import csv

    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{name}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([fmt(c, row[c]) for c in COLUMNS])
    lines = ["# Training-loop benchmark", "", "Written by `python -m bench`; see bench/README.md.", ""]
    lines += [f"- {k}: {v}" for k, v in {**env, **settings}.items()]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(fmt(c, row[c]) for c in COLUMNS) + " |" for row in rows]
    lines += ["", "## Targets", ""] + verdict(rows) + [""]
    (out / f"{name}.md").write_text("\n".join(lines))
    # For the book (book/cost.md includes it): the conditions and the verdict, no heading.
    summary = [f"- {k}: {v}" for k, v in {**env, **settings}.items() if k != "command"]
    (out / f"{name}_summary.md").write_text("\n".join(["Measured on:", ""] + summary + ["", "Targets:", ""]
                                                      + verdict(rows)) + "\n")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of every loop per model (default 5)")
    parser.add_argument("--mlp-epochs", type=int, default=30)
    parser.add_argument("--cnn-epochs", type=int, default=12)
    parser.add_argument("--models", default="mlp,cnn", help="comma-separated subset of mlp,cnn")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch (and BLAS) threads; default: torch's own choice")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the tables (default bench/results)")
    parser.add_argument("--name", default="loop_benchmark", help="file name of the tables, without extension")
    parser.add_argument("--quick", action="store_true", help="1 repeat of few epochs: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.mlp_epochs, args.cnn_epochs = 1, 3, 2
    if args.repeats < 1 or args.mlp_epochs < 2 or args.cnn_epochs < 2:
        parser.error("need at least 1 repeat and 2 epochs (the first epoch is not timed per step)")

    from threadpoolctl import threadpool_limits

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    device = torch.device(args.device)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    rows = []
    with threadpool_limits(limits=threads):  # scikit-learn's BLAS gets the same threads as torch
        for case in make_cases(args.mlp_epochs, args.cnn_epochs, args.models.split(",")):
            methods = available_methods(case.name, device)
            runs: dict[str, list[Run]] = {name: [] for name in methods}
            names = list(methods)
            for repeat in range(args.repeats):
                shift = repeat % len(names)
                for name in names[shift:] + names[:shift]:  # rotate the order every repeat
                    torch.manual_seed(repeat)
                    model = case.make_model()
                    started = time.perf_counter()
                    runs[name].append(methods[name](case, model, device))
                    print(f"{case.name} repeat {repeat + 1}/{args.repeats} {name}: "
                          f"{time.perf_counter() - started:.2f} s", file=sys.stderr)
            rows += summarise(case, runs)
    settings = {
        "repeats": args.repeats,
        "epochs": f"mlp {args.mlp_epochs}, cnn {args.cnn_epochs}",
        "load average (1 min) before / after": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    env = environment(threads, device)
    out = args.out
    if args.quick and out == RESULTS:  # a smoke test must not overwrite the committed tables
        import tempfile

        out = Path(tempfile.gettempdir()) / "bench-quick"
    write_reports(rows, env, settings, out, args.name)
    print((out / f"{args.name}.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The book's time budget: ``python -m bench.budget`` (or ``make budget``).

Runs every chapter ``notebooks/NN_*.ipynb`` top to bottom with papermill, at
its default parameters (or those given with ``-p NAME=VALUE``), one after
the other, each in a fresh worker process, and writes

- ``bench/results/notebook_budget.csv``: notebook, seconds, peak memory, device, ...
- ``bench/results/notebook_budget.md``: the same, the machine, and the verdict
  against the budget (each chapter <= 60 s on a 2-core CPU, the book <= 12 min).

The committed notebooks are not touched: the executed copies go to a
temporary folder. A worker's peak memory is read from
``getrusage(RUSAGE_CHILDREN)`` after its kernel has exited, so it is the
kernel's true peak resident memory, not a sample.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RESULTS = Path(__file__).resolve().parent / "results"
BUDGET_PER_NOTEBOOK_S = 60
BUDGET_BOOK_S = 12 * 60
COLUMNS = ["notebook", "seconds", "CPU seconds", "peak memory (MB)", "device", "status"]
DEVICE_LINE = re.compile(r"device: (.+?) \| seed")  # what helpers.device.setup() prints


def parse_parameters(pairs: list[str]) -> dict:
    """``["BUDGET=4", "SEED=1"]`` -> ``{"BUDGET": 4, "SEED": 1}``."""
    parameters = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise SystemExit(f"parameters look like NAME=VALUE, got {pair!r}")
        try:
            parameters[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parameters[name] = value
    return parameters


def device_of(executed: Path) -> str:
    """The device the chapter reported (the line ``setup()`` prints), else ``"?"``."""
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            match = DEVICE_LINE.search(str(output.get("text", "")))
            if match:
                return match.group(1)
    return "?"


def run_one(notebook: Path, parameters: dict, timeout: int) -> dict:
    """Execute one notebook in this process's kernel child; return its row. (The worker's job.)"""
    import papermill

    os.environ.setdefault("HELPERS_PROGRESS", "0")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    executed = Path(tempfile.mkdtemp(prefix="budget-")) / notebook.name
    status = "ok"
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook), str(executed), parameters=parameters or None, kernel_name="python3",
            cwd=str(notebook.parent), progress_bar=False, log_output=False, execution_timeout=timeout,
        )
    except Exception as error:  # a failing chapter is reported, not fatal to the whole run
        status = f"failed: {type(error).__name__}: {str(error).splitlines()[0][:120] if str(error) else ''}"
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel, reaped when papermill shut it down
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return {
        "notebook": notebook.name,
        "seconds": seconds,
        "CPU seconds": usage.ru_utime + usage.ru_stime,
        "peak memory (MB)": usage.ru_maxrss * scale / 1e6,
        "device": device_of(executed) if executed.exists() else "?",
        "status": status,
    }


def run_in_worker(notebook: Path, parameters: list[str], timeout: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "row.json"
        command = [sys.executable, "-m", "bench.budget", "--worker", str(notebook), "--row", str(result),
                   "--timeout", str(timeout)]
        for pair in parameters:
            command += ["-p", pair]
        subprocess.run(command, cwd=ROOT, check=False)
        if not result.exists():
            return {"notebook": notebook.name, "seconds": float("nan"), "CPU seconds": float("nan"),
                    "peak memory (MB)": float("nan"), "device": "?", "status": "failed: the worker crashed"}
        return json.loads(result.read_text())


def fmt(column: str, value) -> str:
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.0f}" if column == "peak memory (MB)" else f"{value:.1f}"
    return str(value)


def write_reports(rows: list[dict], parameters: list[str], out: Path, stem: str, loads: list[float]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    total = {"notebook": "whole book", "seconds": sum(r["seconds"] for r in rows),
             "CPU seconds": sum(r["CPU seconds"] for r in rows),
             "peak memory (MB)": max((r["peak memory (MB)"] for r in rows), default=float("nan")),
             "device": "", "status": f"{sum(r['status'] == 'ok' for r in rows)}/{len(rows)} ok"}
    with open(out / f"{stem}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for row in rows + [total]:
            writer.writerow([fmt(c, row[c]) for c in COLUMNS])
    over = [r["notebook"] for r in rows if not r["seconds"] <= BUDGET_PER_NOTEBOOK_S]
    import torch

    lines = [
        "# Notebook budget", "", "Written by `python -m bench.budget`; see bench/README.md.", "",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}",
        f"- parameters: {' '.join(parameters) if parameters else 'the defaults'}; "
        f"threads: {os.environ.get('OMP_NUM_THREADS', 'torch default')}",
        f"- load average (1 min) before each notebook: min {min(loads, default=0):.1f}, max {max(loads, default=0):.1f}",
        "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(fmt(c, r[c]) for c in COLUMNS) + " |" for r in rows + [total]]
    verdict = [
        f"- each notebook <= {BUDGET_PER_NOTEBOOK_S} s: " + ("met" if not over else "MISSED by " + ", ".join(over)),
        f"- whole book <= {BUDGET_BOOK_S} s: " + ("met" if total["seconds"] <= BUDGET_BOOK_S else "MISSED")
        + f" ({total['seconds']:.0f} s)",
    ]
    (out / f"{stem}.md").write_text("\n".join(lines + ["", "## Budget", ""] + verdict + [""]))
    # For the book (book/cost.md includes it): the conditions and the verdict, no heading.
    (out / f"{stem}_summary.md").write_text("\n".join(["Measured on:", ""] + lines[4:8] + ["", "Budget:", ""] + verdict) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.budget", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("-p", "--parameter", dest="parameters", action="append", default=[], metavar="NAME=VALUE",
                        help="a papermill parameter, e.g. -p BUDGET=4 (default: the notebook's own)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="notebook_budget", help="file name of the tables, without extension")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit the kernels' torch/OpenMP threads (OMP_NUM_THREADS); default: no limit")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--row", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # one notebook, in its own process, so RUSAGE_CHILDREN is its kernel alone
        row = run_one(args.worker.resolve(), parse_parameters(args.parameters), args.timeout)
        args.row.write_text(json.dumps(row))
        return 0

    parse_parameters(args.parameters)  # fail early on a malformed one
    if args.threads:  # inherited by each worker and its kernel
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        parser.error(f"no notebooks found in {NOTEBOOKS}")
    rows, loads = [], []
    for notebook in notebooks:
        loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"))
        row = run_in_worker(notebook, args.parameters, args.timeout)
        rows.append(row)
        print(f"{row['notebook']}: {row['seconds']:.1f} s, {row['CPU seconds']:.1f} CPU s, "
              f"{row['peak memory (MB)']:.0f} MB, {row['device']}, {row['status']}", file=sys.stderr)
    write_reports(rows, args.parameters, args.out, args.name, loads)
    print((args.out / f"{args.name}.md").read_text())
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

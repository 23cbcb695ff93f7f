"""Measurements of the course's cost, run by hand (not by the test suite).

- ``python -m bench``: the training-loop benchmark (``helpers.train.fit``
  against a hand-written loop, a DataLoader loop, skorch, Lightning and
  scikit-learn), written to ``bench/results/loop_benchmark.{csv,md}``.
- ``python -m bench.budget``: every chapter run at its default parameters,
  timed, written to ``bench/results/notebook_budget.{csv,md}``.
- ``bench/gpu_check.sh``: both, plus the chapters at GPU-sized parameters,
  on a CUDA machine.

See bench/README.md.
"""

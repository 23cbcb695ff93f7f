"""helpers.parallel_search: workers sharing one Optuna study through a journal file (Chapter 12)."""

import math

import pytest

from helpers import parallel_search as ps


def test_validation_error_and_bad_input():
    assert ps.validation_error(1.0, "quadratic") < ps.validation_error(1.0, "linear")
    assert math.isclose(ps.best_on_grid(), min(ps.validation_error(a, f) for a in ps.ALPHAS
                                                for f in ("linear", "quadratic")))
    with pytest.raises(ValueError, match="features"):
        ps.validation_error(1.0, "cubic")
    with pytest.raises(ValueError, match="alpha"):
        ps.validation_error(0.0, "linear")
    with pytest.raises(ValueError):
        ps.run_workers("x.log", "s", 0)


def test_two_workers_finish_the_grid_with_the_best_value(tmp_path):
    journal = tmp_path / "study.log"
    ps.run_workers(journal, "grid", 2, trial_seconds=0.0, timeout=120)
    table = ps.trials_table(journal, "grid")
    done = table[table["state"] == "COMPLETE"]
    assert len(done.drop_duplicates(["alpha", "features"])) == 16
    assert math.isclose(done["value"].min(), ps.best_on_grid())
    assert set(done["worker"]) <= {"worker 0", "worker 1"}
    assert ps.search_seconds(table) >= 0
    # a new worker on the finished study has nothing left to do, and the study is unchanged
    ps.run_workers(journal, "grid", 1, trial_seconds=0.0, timeout=120)
    again = ps.trials_table(journal, "grid")
    assert len(again[again["state"] == "COMPLETE"].drop_duplicates(["alpha", "features"])) == 16

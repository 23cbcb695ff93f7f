"""Chapter 7's checks reject plausible wrong answers (broken ones: tests/test_exercises.py)."""


import numpy as np

from helpers.exercises import ch07_hyperparameters as ex
from notebook_support import chapter_solutions

SOLUTIONS = chapter_solutions("07_hyperparameters")  # the notebook's own solution cells


def test_prediction_check_accepts_only_smaller_and_explains_why():
    assert ex.q1.evaluate(SOLUTIONS["prediction_raw"]).status == "correct"
    assert ex.q1.evaluate(" Smaller ").status == "correct"
    assert "steeper" in ex.q1.evaluate("larger").message
    assert "curvature" in ex.q1.evaluate("about the same").message
    for wrong in ("bigger", 3):
        result = ex.q1.evaluate(wrong)
        assert result.status == "incorrect" and "one of" in result.message


def test_diagnosis_check_names_why_each_wrong_letter_is_wrong():
    assert ex.q2.evaluate(SOLUTIONS["diagnosis"]).status == "correct"
    assert ex.q2.evaluate("b").status == "correct"
    assert "not tuned" in ex.q2.evaluate("A").message
    assert "standard deviation" in ex.q2.evaluate("C").message
    assert "test set" in ex.q2.evaluate("D").message
    assert "one letter" in ex.q2.evaluate("E").message
    assert "one letter" in ex.q2.evaluate(2).message


def test_full_batch_check_runs_the_experiment_and_says_what_went_wrong():
    assert ex.q5.evaluate(SOLUTIONS["full_batch_lr"]).status == "correct"
    too_small = ex.q5.evaluate(0.1)
    assert too_small.status == "incorrect" and "larger" in too_small.message
    too_large = ex.q5.evaluate(30.0)
    assert too_large.status == "incorrect" and "diverged" in too_large.message
    assert "positive" in ex.q5.evaluate(-1.0).message
    assert "far beyond" in ex.q5.evaluate(1e6).message
    assert ex.q5.evaluate("fast").status == "incorrect"


def test_log_uniform_check_rejects_uniform_sampling_and_global_rng():
    def uniform(low, high, size, rng):
        return rng.uniform(low, high, size)

    def global_rng(low, high, size, rng):
        return np.exp(np.random.uniform(np.log(low), np.log(high), size))

    def wrong_size(low, high, size, rng):
        return np.exp(rng.uniform(np.log(low), np.log(high), size + 1))

    assert "uniform sampling" in ex.q3.evaluate(uniform).message
    assert "rng" in ex.q3.evaluate(global_rng).message
    assert ex.q3.evaluate(wrong_size).status == "incorrect"


class _OneMistake:
    """A trial that passes every call on to the real one, except the one the mistake changes."""

    def __init__(self, trial, mistake):
        self.trial, self.mistake = trial, mistake

    def suggest_float(self, name, low, high, log=False):
        if self.mistake == "linear lr":
            log = False
        if self.mistake == "renamed" and name == "lr":
            name = "learning_rate"
        return self.trial.suggest_float(name, low, high, log=log)

    def suggest_categorical(self, name, choices):
        if self.mistake == "int batch":
            return self.trial.suggest_int(name, min(choices), max(choices))
        return self.trial.suggest_categorical(name, choices)

    def __getattr__(self, name):
        return getattr(self.trial, name)


def test_space_check_rejects_linear_lr_int_batch_and_wrong_names():
    right = SOLUTIONS["my_space"]  # the notebook's space, with one mistake each below

    def linear_lr(trial):
        return right(_OneMistake(trial, "linear lr"))

    def int_batch(trial):
        return right(_OneMistake(trial, "int batch"))

    def renamed(trial):
        return right(_OneMistake(trial, "renamed"))

    assert "log scale" in ex.q4.evaluate(linear_lr).message
    assert "suggest_categorical" in ex.q4.evaluate(int_batch).message
    assert "'lr'" in ex.q4.evaluate(renamed).message
    assert ex.q4.evaluate(lambda trial: [1, 2, 3]).status == "incorrect"

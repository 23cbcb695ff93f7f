"""Chapter 7's checks reject plausible wrong answers (broken ones: tests/test_exercises.py)."""

import math

import numpy as np

from helpers.exercises import ch07_hyperparameters as ex
from notebook_support import chapter_solutions

SOLUTIONS = chapter_solutions("07_hyperparameters")  # the notebook's own solution cells


def test_bowl_check_rejects_missing_start_missing_curvature_and_wrong_sign():
    def no_start(lr, curvature, w0, steps):
        w, out = w0, []
        for _ in range(steps):
            w = w - lr * curvature * w
            out.append(w)
        return np.array(out)

    def no_curvature(lr, curvature, w0, steps):
        w = [w0]
        for _ in range(steps):
            w.append(w[-1] - lr * w[-1])
        return np.array(w)

    def ascent(lr, curvature, w0, steps):
        w = [w0]
        for _ in range(steps):
            w.append(w[-1] + lr * curvature * w[-1])
        return np.array(w)

    result = ex.q1.evaluate(no_start)
    assert result.status == "incorrect" and "w0" in result.message
    result = ex.q1.evaluate(no_curvature)
    assert result.status == "incorrect" and "curvature" in result.message
    assert ex.q1.evaluate(ascent).status == "incorrect"


def test_scaled_lr_check_rejects_inverted_ratio_wrong_sqrt_and_no_error():
    def inverted(base_lr, base_b, b, rule="linear"):
        return base_lr * base_b / b

    def sqrt_is_linear(base_lr, base_b, b, rule="linear"):
        if rule not in ("linear", "sqrt"):
            raise ValueError(rule)
        return base_lr * b / base_b

    def never_raises(base_lr, base_b, b, rule="linear"):
        return base_lr * (b / base_b if rule == "linear" else math.sqrt(b / base_b))

    assert "upside down" in ex.q2.evaluate(inverted).message
    assert "square root" in ex.q2.evaluate(sqrt_is_linear).message
    assert "ValueError" in ex.q2.evaluate(never_raises).message


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


def test_reported_accuracy_check_rejects_best_test_and_validation_score():
    assert "best *test*" in ex.q5.evaluate(lambda r: float(r["test accuracy"].max())).message
    assert "validation accuracy" in ex.q5.evaluate(lambda r: float(r["val accuracy"].max())).message
    # positional lookup breaks when the rows are shuffled
    positional = ex.q5.evaluate(lambda r: float(r["test accuracy"].iloc[2]))
    assert positional.status == "incorrect"

"""Chapter 2's checks accept the reference solutions and reject plausible wrong answers."""

import numpy as np
from sklearn.model_selection import train_test_split

from helpers.exercises import ch02_data_preparation as ex
from notebook_support import chapter_solutions

# The reference solutions: the notebook's own solution cells.
SOLUTIONS = chapter_solutions("02_data_preparation")
group_split = SOLUTIONS["group_split"]


def test_reference_solutions_pass():
    for question in (ex.q1, ex.q2, ex.q3, ex.q4, ex.q5):
        result = question.evaluate(SOLUTIONS[question.answer_name])
        assert result.correct, f"{question.name}: {result}"


# --------------------------------------------------------------------------
# Plausible wrong answers
# --------------------------------------------------------------------------


def test_prediction_check_rejects_the_other_choices_and_junk():
    for wrong, word in [("higher", "standard deviation"), ("lower", "optimistic")]:
        result = ex.q1.evaluate(wrong)
        assert result.status == "incorrect" and word in result.message, (wrong, result)
    assert ex.q1.evaluate(" About the same ").correct
    for junk in ("same", 0.0, ["higher"]):
        result = ex.q1.evaluate(junk)
        assert result.status == "incorrect" and "one of" in result.message, (junk, result)
    assert ex.q1.evaluate(None).status == "not attempted"


def test_impute_check_rejects_own_means_zeros_and_missing_indicator():
    def own_means(X_train, X):
        missing = np.isnan(X)
        return np.hstack([np.where(missing, np.nanmean(X, axis=0), X), missing.astype(float)])

    def zeros(X_train, X):
        missing = np.isnan(X)
        return np.hstack([np.where(missing, 0.0, X), missing.astype(float)])

    def no_indicator(X_train, X):
        return np.where(np.isnan(X), np.nanmean(X_train, axis=0), X)

    def in_place(X_train, X):
        missing = np.isnan(X)
        X[missing] = np.take(np.nanmean(X_train, axis=0), np.nonzero(missing)[1])
        return np.hstack([X, missing.astype(float)])

    for wrong, word in [(own_means, "training"), (zeros, "0"), (no_indicator, "indicator"), (in_place, "copy")]:
        result = ex.q2.evaluate(wrong)
        assert result.status == "incorrect" and word in result.message, (wrong.__name__, result)


def test_diagnosis_check_explains_each_wrong_letter():
    for letter, word in [("A", "pipeline"), ("C", "worse"), ("D", "dummy")]:
        result = ex.q3.evaluate(letter)
        assert result.status == "incorrect" and word in result.message, (letter, result)
    assert ex.q3.evaluate(" b ").correct
    for junk in ("E", "copies", 2):
        assert "one letter" in ex.q3.evaluate(junk).message


def test_group_split_check_rejects_row_splits_unseeded_masks_and_row_fractions():
    def row_split(groups, test_fraction, seed):
        idx = np.arange(len(groups))
        train, test = train_test_split(idx, test_size=test_fraction, random_state=seed)
        return train, test

    def ignores_seed(groups, test_fraction, seed):
        return group_split(groups, test_fraction, 0)

    def masks(groups, test_fraction, seed):
        train, test = group_split(groups, test_fraction, seed)
        mask = np.zeros(len(groups), bool)
        mask[test] = True
        return ~mask, mask

    def groups_until_row_fraction(groups, test_fraction, seed):
        shuffled = np.random.default_rng(seed).permutation(np.unique(groups))
        test = []
        for name in shuffled:  # whole groups until a fraction of the *rows* is reached
            if len(test) >= test_fraction * len(groups):
                break
            test.extend(np.flatnonzero(groups == name))
        test = np.array(sorted(test))
        return np.setdiff1d(np.arange(len(groups)), test), test

    def loses_rows(groups, test_fraction, seed):
        train, test = group_split(groups, test_fraction, seed)
        return train[:-1], test

    def crashes(groups, test_fraction, seed):
        raise ValueError("not yet")

    assert "both sides" in ex.q4.evaluate(row_split).message
    assert "seed" in ex.q4.evaluate(ignores_seed).message
    assert "integer" in ex.q4.evaluate(masks).message
    result = ex.q4.evaluate(groups_until_row_fraction)
    assert result.status == "incorrect" and "whole groups" in result.message, result
    assert "exactly one" in ex.q4.evaluate(loses_rows).message
    result = ex.q4.evaluate(crashes)
    assert result.status == "incorrect" and "ValueError" in result.message
    assert ex.q4.evaluate(lambda groups, test_fraction, seed: None).status == "not attempted"


def test_scaling_experiment_check_rejects_untuned_divergent_and_wrong_claims():
    right = {"centre only": 1e-5, "scale only": 0.3, "more important": "scale"}
    assert ex.q5.evaluate(right).correct
    assert ex.q5.evaluate({**right, "centre only": 1e-6, "scale only": 1.0}).correct  # a decade grid's best values
    cases = [
        ({**right, "centre only": 1e-3}, "diverges"),  # the standardised features' kind of rate
        ({**right, "scale only": 1e3}, "diverges"),
        ({**right, "centre only": 1e-9}, "wider grid"),  # stopped at the small end of a narrow grid
        ({**right, "scale only": 10.0}, "wider grid"),
        ({**right, "more important": "centre"}, "disagree"),
        ({**right, "more important": "both"}, '"centre" or "scale"'),
        ({**right, "scale only": -0.1}, "positive"),
        ({**right, "scale only": "0.3"}, "positive"),
        ({"centre only": 1e-5, "scale only": 0.3}, "keys"),
        ([1e-5, 0.3, "scale"], "keys"),
    ]
    for answer, word in cases:
        result = ex.q5.evaluate(answer)
        assert result.status == "incorrect" and word in result.message, (answer, result)
    assert ex.q5.evaluate(None).status == "not attempted"

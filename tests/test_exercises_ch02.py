"""Chapter 2's checks accept the reference solutions and reject plausible wrong answers."""

import numpy as np
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split

from helpers.exercises import ch02_data_preparation as ex
from notebook_support import chapter_solutions

# The reference solutions: the notebook's own solution cells.
SOLUTIONS = chapter_solutions("02_data_preparation")
stratified_split = SOLUTIONS["stratified_split"]


def test_reference_solutions_pass():
    for question in (ex.q1, ex.q2, ex.q3, ex.q4):
        result = question.evaluate(SOLUTIONS[question.answer_name])
        assert result.correct, f"{question.name}: {result}"


# --------------------------------------------------------------------------
# Plausible wrong answers
# --------------------------------------------------------------------------


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
        result = ex.q1.evaluate(wrong)
        assert result.status == "incorrect" and word in result.message, (wrong.__name__, result)


def test_one_hot_check_rejects_ordinal_codes_and_crashing_on_unknowns():
    def ordinal(values, categories):
        return np.array([categories.index(v) for v in values], dtype=float)

    def crashes_on_unknown(values, categories):
        out = np.zeros((len(values), len(categories)))
        for row, value in enumerate(values):
            out[row, categories.index(value)] = 1
        return out

    assert "ordinal" in ex.q2.evaluate(ordinal).message
    result = ex.q2.evaluate(crashes_on_unknown)
    assert result.status == "incorrect" and "zeros" in result.message


def test_stratified_split_check_rejects_random_and_unseeded_splits():
    def not_stratified(y, test_fraction, seed):
        idx = np.arange(len(y))
        train, test = train_test_split(idx, test_size=test_fraction, random_state=seed)
        return train, test

    def ignores_seed(y, test_fraction, seed):
        return stratified_split(y, test_fraction, 0)

    def masks(y, test_fraction, seed):
        train, test = stratified_split(y, test_fraction, seed)
        mask = np.zeros(len(y), bool)
        mask[test] = True
        return ~mask, mask

    assert ex.q3.evaluate(not_stratified).status == "incorrect"
    assert "seed" in ex.q3.evaluate(ignores_seed).message
    assert "integer" in ex.q3.evaluate(masks).message


def test_honest_score_check_rejects_leaky_selection_and_a_constant():
    def leaky(X, y, k):
        X_selected = SelectKBest(f_classif, k=k).fit_transform(X, y)
        return float(cross_val_score(LogisticRegression(), X_selected, y, cv=5).mean())

    result = ex.q4.evaluate(leaky)
    assert result.status == "incorrect" and "noise" in result.message
    assert ex.q4.evaluate(lambda X, y, k: 0.5).status == "incorrect"
    assert ex.q4.evaluate(lambda X, y, k: 50.0).status == "incorrect"

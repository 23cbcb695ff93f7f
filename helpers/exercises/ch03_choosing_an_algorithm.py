"""Exercises of Chapter 3, "Choosing an algorithm".

    import helpers.exercises.ch03_choosing_an_algorithm as ex
    ex.q1.check()   # after setting knn1_train_accuracy

- q1 ``knn1_train_accuracy`` (predict, then run): the training accuracy of 1-nearest neighbour;
- q2 ``gini`` (implement): the impurity a decision tree minimises;
- q3 ``next_grid`` (diagnose): a tuning run whose best value sits on the grid's edge;
- q4 ``best_threshold`` (implement): the best split of one feature, as a tree's root finds it;
- q5 ``linear_svm_result`` (experiment): tune the linear SVM by cross-validation; the check reruns it.

Every checker builds its own inputs; none depends on the notebook's state.
"""

from __future__ import annotations

import numpy as np

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number

# --------------------------------------------------------------------------
# Independent references: scikit-learn's own decision tree
# --------------------------------------------------------------------------


def _gini_by_sklearn(labels):
    """The Gini impurity of a node holding ``labels``: the root impurity of a tree fitted to them."""
    from sklearn.tree import DecisionTreeClassifier

    labels = np.asarray(labels)
    tree = DecisionTreeClassifier(max_depth=1).fit(np.zeros((len(labels), 1)), labels)
    return float(tree.tree_.impurity[0])


def _split_impurity(x, y, threshold):
    left, right = y[x <= threshold], y[x > threshold]
    if len(left) == 0 or len(right) == 0:
        return np.inf
    return (len(left) * _gini_by_sklearn(left) + len(right) * _gini_by_sklearn(right)) / len(y)


def _best_impurity(x, y):
    """The weighted impurity of the root split of scikit-learn's depth-1 tree (a stump)."""
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=1).fit(x[:, None], y).tree_
    if tree.node_count == 1:  # nothing to split
        return float(tree.impurity[0])
    sizes = tree.n_node_samples[1:3]
    return float((sizes * tree.impurity[1:3]).sum() / sizes.sum())


# --------------------------------------------------------------------------
# q1: predict, then run: 1-nearest neighbour on its own training data
# --------------------------------------------------------------------------


def _knn1_train_accuracy() -> float:
    """The training accuracy of 1-NN on the digits' training split (every image is its own nearest point)."""
    from sklearn.neighbors import KNeighborsClassifier

    from helpers.data import load

    digits = load("digits", seed=0)
    model = KNeighborsClassifier(n_neighbors=1).fit(digits.train.X, digits.train.y)
    return float(model.score(digits.train.X, digits.train.y))


def _check_knn1(prediction):
    value = expect_number(prediction, "your predicted accuracy")
    if value > 1.5:
        raise Incorrect("give the accuracy as a fraction between 0 and 1 (e.g. 0.9 for 90%), not a percentage")
    if not 0 <= value <= 1:
        raise Incorrect("an accuracy lies between 0 and 1")
    actual = _knn1_train_accuracy()
    if abs(value - actual) > 0.01:
        raise Incorrect(
            f"the run below disagrees with {value:.3f}. Which training point is nearest to a training "
            "image, when that image itself is among the stored points?"
        )


q1 = Exercise(
    name="Exercise 1 (predict, then run: 1-NN on its training data)",
    kind="predict",
    answer_name="knn1_train_accuracy",
    checker=_check_knn1,
    hints=[
        "k-NN stores the training set. When you ask it about a training image, that image is stored too.",
        "The distance from a point to itself is 0: nothing can be closer.",
    ],
    success="1-NN remembers every training point, so its training accuracy tells nothing about new data.",
)

# --------------------------------------------------------------------------
# q2: Gini impurity
# --------------------------------------------------------------------------


def _check_gini(gini):
    expect_callable(gini, "a function gini(labels)")
    cases = [
        np.array([0, 0, 0, 0]),
        np.array([0, 1, 0, 1]),
        np.array([0, 0, 0, 1]),
        np.array([2, 0, 1, 2, 2, 1]),
        np.array([5, 7, 9]),
    ]
    for labels in cases:
        value = expect_number(call_answer(gini, labels), "the impurity")
        expect_close(value, _gini_by_sklearn(labels), what=f"gini({labels.tolist()})")


q2 = Exercise(
    name="Exercise 2 (Gini impurity)",
    kind="implement",
    answer_name="gini",
    checker=_check_gini,
    hints=[
        "First find the fraction p_k of the labels that belong to each class k; np.unique(labels, return_counts=True) helps.",
        "The impurity is 1 minus the sum of the squared fractions: 0 for a pure node, 0.5 for a 50/50 node of two classes.",
    ],
    success="a pure node scores 0, and a tree's split is the one that lowers this most.",
)

# --------------------------------------------------------------------------
# q4: the best threshold on one feature
# --------------------------------------------------------------------------


def _check_best_threshold(best_threshold):
    expect_callable(best_threshold, "a function best_threshold(x, y)")
    rng = np.random.default_rng(5)
    cases = [
        (np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 1, 1])),
        (np.array([5.0, 1.0, 4.0, 2.0, 3.0, 6.0]), np.array([1, 0, 1, 0, 1, 0])),
        (np.round(rng.normal(size=60), 2), rng.integers(0, 3, 60)),
    ]
    x_noisy = rng.normal(size=80)
    cases.append((x_noisy, (x_noisy + rng.normal(0, 0.5, 80) > 0.3).astype(int)))
    for x, y in cases:
        answer = call_answer(best_threshold, x, y)
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise Incorrect("return a pair (threshold, impurity)")
        threshold = expect_number(answer[0], "the threshold")
        impurity = expect_number(answer[1], "the weighted impurity")
        actual = _split_impurity(x, y, threshold)
        if not np.isfinite(actual):
            raise Incorrect(f"threshold {threshold} puts every sample on one side; a split must leave samples on both sides")
        if actual > _best_impurity(x, y) + 1e-9:
            raise Incorrect(
                "a better threshold exists: try every midpoint between consecutive sorted values "
                "and keep the one with the lowest weighted impurity"
            )
        expect_close(impurity, actual, what="the impurity you return for your threshold")


q4 = Exercise(
    name="Exercise 4 (best split)",
    kind="implement",
    answer_name="best_threshold",
    checker=_check_best_threshold,
    hints=[
        "Candidate thresholds are the midpoints between consecutive distinct sorted values of x.",
        "For each candidate t, split the labels into those with x <= t and the rest; weight each half's "
        "Gini impurity by its share of the samples, add the two, and keep the candidate with the smallest sum.",
    ],
    success="a decision tree repeats this search over every feature, then inside each half.",
)


# --------------------------------------------------------------------------
# q3: diagnose a grid whose best value sits on the edge
# --------------------------------------------------------------------------

# A colleague's tuning run of an RBF SVM: first-fold accuracy for each C of the grid.
COLLEAGUE_GRID = {0.01: 0.412, 0.1: 0.884, 1.0: 0.957}


def _check_next_grid(next_grid):
    if isinstance(next_grid, dict):
        next_grid = list(next_grid)
    if not isinstance(next_grid, (list, tuple, np.ndarray)) or len(next_grid) == 0:
        raise Incorrect("next_grid should be a list of values of C, e.g. [0.5, 2.0, 8.0]")
    values = [expect_number(v, "each value of C") for v in next_grid]
    if any(v <= 0 for v in values):
        raise Incorrect("C must be positive: it is the inverse of a penalty strength")
    if len(values) < 3:
        raise Incorrect("give at least three values, so that the best one can be in the middle of the grid")
    best = max(COLLEAGUE_GRID, key=COLLEAGUE_GRID.get)
    if max(values) <= best:
        if min(values) < min(COLLEAGUE_GRID):
            raise Incorrect("accuracy rises with C all the way to the grid's largest value; smaller values "
                            "were already worse, so the search should go the other way")
        raise Incorrect(f"the best C, {best:g}, sits on the upper edge of the grid: a larger C may be better "
                        "still, so the next grid must reach beyond it")
    if not any(np.isclose(v, best) for v in values):
        raise Incorrect(f"keep the current best, C = {best:g}, in the new grid, so you can see whether "
                        "larger values beat it")
    if max(values) < 3 * best:
        raise Incorrect("reach further: a step at least as large as the grid's own (x10) tells you whether the "
                        "rise goes on; a value just above the edge may differ by less than the noise")


q3 = Exercise(
    name="Exercise 3 (diagnose a grid)",
    kind="diagnose",
    answer_name="next_grid",
    checker=_check_next_grid,
    hints=[
        "Where in the grid does the best value sit, and what does that say about values outside the grid?",
        "Accuracy still rises at the grid's largest C. Search on that side, keep the current best for "
        "comparison, and step as boldly as the grid did.",
    ],
    success="when the best value sits on an edge, widen the grid until the best sits inside it.",
)

# --------------------------------------------------------------------------
# q5: an experiment: tune the linear SVM by cross-validation
# --------------------------------------------------------------------------


def _rerun_linear_svm(grid):
    from sklearn.svm import LinearSVC

    from helpers.compare import tune_by_cv
    from helpers.data import load

    settings = dict(select_on="first fold", n_folds=3, seed=0)  # as the exercise asks the learner
    return tune_by_cv(lambda C: LinearSVC(C=C), {"C": list(grid)}, load("digits", seed=0), **settings)


def _check_linear_svm(result):
    if not isinstance(result, dict) or not {"grid", "C", "cv_accuracy"} <= set(result):
        raise Incorrect('linear_svm_result should be a dict with the keys "grid", "C" and "cv_accuracy"')
    grid = result["grid"]
    if not isinstance(grid, (list, tuple, np.ndarray)) or not 3 <= len(grid) <= 6:
        raise Incorrect("the grid should be a list of 3 to 6 values of C")
    grid = [expect_number(v, "each value of C in the grid") for v in grid]
    if any(v <= 0 for v in grid) or len(set(grid)) != len(grid):
        raise Incorrect("the values of C must be positive and different")
    if grid != sorted(grid):
        raise Incorrect("list the grid in increasing order, so its edges are its first and last values")
    C = expect_number(result["C"], "the chosen C")
    accuracy = expect_number(result["cv_accuracy"], "the CV accuracy")
    if not any(np.isclose(C, v) for v in grid):
        raise Incorrect("the chosen C should be one of the values of your grid")
    rerun = _rerun_linear_svm(grid)
    if not np.isclose(rerun.best["C"], C):
        raise Incorrect(f"rerunning your grid, the check chose C = {rerun.best['C']:g}, not {C:g}: choose the "
                        "value with the best held-out (first-fold) accuracy, not the best training accuracy")
    if rerun.on_edge():
        raise Incorrect(f"the chosen C = {C:g} sits on the edge of your grid: widen it beyond that edge and run again")
    if abs(accuracy - rerun.mean) > 0.005:
        raise Incorrect(f"the check's rerun gives a CV accuracy of {rerun.mean:.3f} for C = {C:g}, not "
                        f"{accuracy:.3f}: report the mean over all three folds (result.mean)")


q5 = Exercise(
    name="Exercise 5 (tune the linear SVM)",
    kind="experiment",
    answer_name="linear_svm_result",
    checker=_check_linear_svm,
    hints=[
        "Section 3 tuned every family with the same function; the linear SVM only needs its own make "
        "function and its own grid of C.",
        "Start with a grid spaced by factors of 10; if the best value lands on an edge, move or widen the "
        "grid and run again. The mean over the folds is a property of the result tune_by_cv returns.",
    ],
    success="the linear SVM, tuned, lands near logistic regression: both draw straight boundaries.",
)

EXERCISES = [q1, q2, q3, q4, q5]

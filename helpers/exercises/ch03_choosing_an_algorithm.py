"""Exercises of Chapter 3, "Choosing an algorithm".

    import helpers.exercises.ch03_choosing_an_algorithm as ex
    ex.q1.check()   # after defining knn_predict

- q1 ``knn_predict``: k-nearest neighbours from scratch;
- q2 ``gini``: the impurity a decision tree minimises;
- q3 ``best_threshold``: the best split of one feature, as a tree's root finds it;
- q4 ``choose_depth``: pick a tree depth on validation, not training, accuracy.

Every checker builds its own inputs; none depends on the notebook's state.
"""

from __future__ import annotations

import numpy as np

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number

# --------------------------------------------------------------------------
# Independent references: scikit-learn's own k-NN and decision tree
# --------------------------------------------------------------------------


def _knn_by_sklearn(X_train, y_train, X_query, k):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X_train, y_train).predict(X_query)


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
# q1: k-nearest neighbours from scratch
# --------------------------------------------------------------------------


def _check_knn(knn_predict):
    expect_callable(knn_predict, "a function knn_predict(X_train, y_train, X_query, k)")
    rng = np.random.default_rng(3)
    X_train = rng.normal(size=(40, 2))
    y_train = (X_train[:, 0] * X_train[:, 1] > 0).astype(int)  # a checkerboard: no line separates it
    X_query = rng.normal(size=(25, 2))
    for k in (1, 3, 7):
        result = np.asarray(call_answer(knn_predict, X_train, y_train, X_query, k))
        if result.shape != (len(X_query),):
            raise Incorrect(f"expected one label per query point, shape ({len(X_query)},), got shape {result.shape}")
        expected = _knn_by_sklearn(X_train, y_train, X_query, k)
        wrong = int((result != expected).sum())
        if wrong:
            raise Incorrect(
                f"with k={k}, {wrong} of {len(X_query)} labels differ from a majority vote of the "
                "k nearest training points (nearest = smallest Euclidean distance)"
            )
    # three classes, to catch an answer that only works for 0/1 labels
    y3 = rng.integers(0, 3, len(X_train))
    result = np.asarray(call_answer(knn_predict, X_train, y3, X_query, 1))
    if not np.array_equal(result, _knn_by_sklearn(X_train, y3, X_query, 1)):
        raise Incorrect("with three classes and k=1 each query should get the label of its single nearest point")


q1 = Exercise(
    name="Exercise 1 (k-nearest neighbours)",
    answer_name="knn_predict",
    checker=_check_knn,
    hints=[
        "Compute all squared distances at once with broadcasting: give the query points and the training "
        "points each a new axis, so their difference has shape (n_query, n_train, n_features).",
        "Sorting each query's row of distances (argsort) gives its nearest training points; the majority "
        "vote of their labels is the most frequent one (count them with bincount).",
    ],
    success="prediction means a distance to every training point: that is why k-NN predicts slowly.",
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
    answer_name="gini",
    checker=_check_gini,
    hints=[
        "First find the fraction p_k of the labels that belong to each class k; np.unique(labels, return_counts=True) helps.",
        "The impurity is 1 minus the sum of the squared fractions: 0 for a pure node, 0.5 for a 50/50 node of two classes.",
    ],
    success="a pure node scores 0, and a tree's split is the one that lowers this most.",
)

# --------------------------------------------------------------------------
# q3: the best threshold on one feature
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


q3 = Exercise(
    name="Exercise 3 (best split)",
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
# q4: choose a depth on validation accuracy
# --------------------------------------------------------------------------


def _check_choose_depth(choose_depth):
    expect_callable(choose_depth, "a function choose_depth(depths, train_accuracy, val_accuracy)")
    cases = [
        ([1, 2, 4, 8, 16], [0.5, 0.7, 0.85, 0.97, 1.0], [0.48, 0.66, 0.74, 0.71, 0.69], 4),
        ([2, 3, 5, 10], [0.6, 0.8, 0.9, 1.0], [0.61, 0.80, 0.80, 0.75], 3),  # a tie: the simpler tree
        ([12, 3, 6], [1.0, 0.8, 0.9], [0.70, 0.75, 0.75], 3),  # depths need not be sorted
    ]
    for depths, train_accuracy, val_accuracy, expected in cases:
        answer = expect_number(call_answer(choose_depth, depths, train_accuracy, val_accuracy), "a depth")
        if answer == depths[int(np.argmax(train_accuracy))] and answer != expected:
            raise Incorrect(
                "you picked the depth with the best *training* accuracy: the deepest tree memorises "
                "its training set, so training accuracy cannot tell you how it does on new data"
            )
        if answer != expected:
            raise Incorrect(
                "pick the depth with the highest validation accuracy; "
                "when two depths tie, prefer the smaller (simpler) tree"
            )


q4 = Exercise(
    name="Exercise 4 (choosing a depth)",
    answer_name="choose_depth",
    checker=_check_choose_depth,
    hints=[
        "Only one of the two accuracy lists says how the tree does on data it was not fitted on.",
        "Find the highest validation accuracy; of the depths that reach it, return the smallest "
        "(the simpler tree).",
    ],
    success="the training accuracy was never needed: it only grows with depth.",
)

EXERCISES = [q1, q2, q3, q4]

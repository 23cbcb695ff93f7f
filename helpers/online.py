"""Chapter 11: learning from a stream while the world changes, and the humans who keep watch.

1. **Streams with concept drift.** :func:`drift_stream` draws points in the unit square whose
   labelling rule changes twice: an *abrupt* label swap, then a *gradual* drift to a third rule
   (mixed in with a sigmoid probability, as river's ``ConceptDriftStream`` does).
2. **Prequential evaluation** (test on each example, then learn from it):
   :func:`prequential` for a river model (``predict_one`` / ``learn_one``) or a scikit-learn
   model with ``partial_fit``.
3. **Retraining policies** (:func:`run_policy`): train once, retrain on a schedule, retrain when
   a ``river.drift`` detector (ADWIN by default) fires on the errors of a small audited sample,
   or learn from every label online. :func:`recovery_time` measures how long each takes to
   recover after a drift.
4. **Humans in the loop**: label-free monitoring signals with an alarm threshold set on
   drift-free data (:func:`window_signals`, :func:`alarm_threshold`, :func:`alarm_report`);
   active learning (:func:`active_learning_curve`); and ranking suspicious labels for review
   (:func:`review_order`, :func:`errors_found`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

POLICIES = ("train once", "scheduled", "triggered", "online")


# --------------------------------------------------------------------------
# 1. A stream with an abrupt and a gradual drift
# --------------------------------------------------------------------------


def _concept(X: np.ndarray, which: int) -> np.ndarray:
    """The three labelling rules: 0: above the diagonal; 1: the same, labels swapped; 2: above the anti-diagonal."""
    if which == 0:
        return (X[:, 1] > X[:, 0]).astype(int)
    if which == 1:
        return (X[:, 1] <= X[:, 0]).astype(int)
    return (X[:, 0] + X[:, 1] > 1).astype(int)


def drift_stream(n: int = 3000, seed: int = 0, abrupt_at: int | None = None, gradual_at: int | None = None,
                 gradual_width: int | None = None, label_noise: float = 0.05):
    """A stream of ``n`` points ``X`` (n, 2) uniform in the unit square, labels ``y`` (n,) in {0, 1}.

    Rule 0 until ``abrupt_at`` (default n/3), then rule 1 (every label swapped: an abrupt drift),
    then, around ``gradual_at`` (default 2n/3), rule 2 takes over gradually: example ``t`` follows
    rule 2 with probability ``1 / (1 + exp(-4 (t - gradual_at) / gradual_width))`` (default width
    n/10), the mixing of river's ``ConceptDriftStream``. ``label_noise`` of the labels are flipped.
    Returns ``(X, y, rule)`` with ``rule`` (n,) the rule each example followed.
    """
    if not isinstance(n, (int, np.integer)) or n < 30:
        raise ValueError(f"n must be an integer of at least 30, got {n!r}")
    abrupt_at = n // 3 if abrupt_at is None else abrupt_at
    gradual_at = 2 * n // 3 if gradual_at is None else gradual_at
    gradual_width = max(1, n // 10) if gradual_width is None else gradual_width
    if not 0 < abrupt_at < gradual_at < n:
        raise ValueError(f"need 0 < abrupt_at < gradual_at < n, got {abrupt_at}, {gradual_at}, {n}")
    if not 0 <= label_noise < 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5), got {label_noise}")
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 2))
    t = np.arange(n)
    p_new = 1 / (1 + np.exp(-4 * (t - gradual_at) / gradual_width))
    rule = np.where(t < abrupt_at, 0, np.where(rng.uniform(size=n) < p_new, 2, 1))
    y = np.select([rule == 0, rule == 1, rule == 2], [_concept(X, 0), _concept(X, 1), _concept(X, 2)])
    flip = rng.uniform(size=n) < label_noise
    return X, np.where(flip, 1 - y, y), rule


# --------------------------------------------------------------------------
# 2. Prequential evaluation
# --------------------------------------------------------------------------


def _as_dict(x: np.ndarray) -> dict:
    return {f"x{i}": float(v) for i, v in enumerate(x)}


def prequential(model, X, y, classes=None, batch_size: int = 1) -> np.ndarray:
    """Test-then-train: for each example (or batch) predict, record whether it was right, then learn.

    ``model`` is a river classifier (``predict_one`` / ``learn_one``; X rows become dicts
    ``{"x0": ..., "x1": ...}``) or a scikit-learn estimator with ``partial_fit`` (fed ``batch_size``
    rows at a time). scikit-learn needs every class up front: pass ``classes``; without it the classes
    of the first batch are used and a label outside them raises ``ValueError``.
    Returns ``correct`` (n,): 1.0 where the prediction made *before* learning the example was right
    (the very first batch of a scikit-learn model, which cannot predict yet, counts as wrong).
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(y) == 0:
        raise ValueError(f"expected X (n, d) and y (n,) with n > 0, got {X.shape} and {y.shape}")
    correct = np.zeros(len(y))
    if hasattr(model, "learn_one"):
        for i, (x, label) in enumerate(zip(X, y)):
            x = _as_dict(x)
            correct[i] = float(model.predict_one(x) == label)
            model.learn_one(x, label)
        return correct
    if not hasattr(model, "partial_fit"):
        raise TypeError(f"model must have learn_one (river) or partial_fit (scikit-learn), got {type(model).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    known = np.unique(y[:batch_size]) if classes is None else np.asarray(classes)
    unseen = np.setdiff1d(np.unique(y), known)
    if len(unseen):
        first = int(np.flatnonzero(np.isin(y, unseen))[0])
        raise ValueError(
            f"label {np.asarray(y[first]).tolist()!r} at position {first} is not among the classes {known.tolist()} "
            f"{'of the first batch' if classes is None else 'given'}: scikit-learn's partial_fit must know every "
            "class in advance, so pass classes=[...] with all the labels the stream can hold"
        )
    for start in range(0, len(y), batch_size):
        rows = slice(start, start + batch_size)
        if start > 0:
            correct[rows] = model.predict(X[rows]) == y[rows]
        model.partial_fit(X[rows], y[rows], classes=known)
    return correct


def rolling_mean(values, window: int = 100) -> np.ndarray:
    """Mean of the last ``window`` values at each position (fewer at the start), shape (n,)."""
    values = np.asarray(values, dtype=float)
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    t = np.arange(1, len(values) + 1)
    start = np.maximum(0, t - window)
    return (cumulative[t] - cumulative[start]) / (t - start)


# --------------------------------------------------------------------------
# 3. Retraining policies
# --------------------------------------------------------------------------


def _fit(X, y, base):
    if len(np.unique(y)) < 2:  # a window with one class: predict it
        return ("constant", int(y[0]))
    return clone(base).fit(X, y)


def _predict(model, X):
    if isinstance(model, tuple):
        return np.full(len(X), model[1])
    return model.predict(X)


def run_policy(policy: str, X, y, *, initial: int = 300, period: int = 500, window: int = 200,
               audit_rate: float = 0.1, detector=None, online_model=None, base=None, seed: int = 0) -> dict:
    """Deploy a model on the stream ``X`` (n, d), ``y`` (n,) under a retraining ``policy``.

    Every policy first trains on the ``initial`` labelled examples. Then:

    - ``"train once"``: never again;
    - ``"scheduled"``: every ``period`` examples, the last ``window`` examples are labelled and the
      model is retrained on them;
    - ``"triggered"``: a random ``audit_rate`` of the examples is labelled by a human; the audited
      errors feed a ``river.drift`` detector (a fresh ``ADWIN()`` unless ``detector`` is given); when
      it fires, the next ``window`` examples are labelled and the model is retrained on them;
    - ``"online"``: ``online_model`` (a river classifier) learns from every label (prequential).

    Batch retraining fits a clone of ``base`` (default: scikit-learn's ``LogisticRegression``).
    Returns ``{"correct": (n,) 0/1 after ``initial`` (NaN before), "labels": labels used,
    "retrains": positions of retraining}``.
    """
    from river import drift as river_drift

    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    n = len(y)
    if not 0 < initial < n:
        raise ValueError(f"initial must be between 1 and n - 1 = {n - 1}, got {initial}")
    if period < 1 or window < 1 or not 0 < audit_rate <= 1:
        raise ValueError("period and window must be >= 1 and audit_rate in (0, 1]")
    base = LogisticRegression() if base is None else base
    correct = np.full(n, np.nan)
    if policy == "online":
        if online_model is None:
            raise ValueError("the online policy needs online_model=, a river classifier")
        for x, label in zip(X[:initial], y[:initial]):
            online_model.learn_one(_as_dict(x), label)
        correct[initial:] = prequential(online_model, X[initial:], y[initial:])
        return {"correct": correct, "labels": n, "retrains": []}

    model = _fit(X[:initial], y[:initial], base)
    labels, retrains = initial, []
    if policy == "train once":
        correct[initial:] = _predict(model, X[initial:]) == y[initial:]
        return {"correct": correct, "labels": labels, "retrains": retrains}
    if policy == "scheduled":
        t = initial
        while t < n:
            stop = min(n, t + period)
            correct[t:stop] = _predict(model, X[t:stop]) == y[t:stop]
            if stop < n:
                model = _fit(X[stop - window : stop], y[stop - window : stop], base)
                labels += window
                retrains.append(stop)
            t = stop
        return {"correct": correct, "labels": labels, "retrains": retrains}

    # triggered: predictions of the current model, audits, a detector, and a labelling window when it fires
    rng = np.random.default_rng(seed)
    detector = river_drift.ADWIN() if detector is None else detector
    audited = rng.uniform(size=n) < audit_rate
    predictions = _predict(model, X)
    collecting_until = None
    for t in range(initial, n):
        correct[t] = predictions[t] == y[t]
        if collecting_until is not None:
            if t + 1 == collecting_until:  # the requested window is labelled: retrain, reset the detector
                model = _fit(X[t + 1 - window : t + 1], y[t + 1 - window : t + 1], base)
                predictions[t + 1 :] = _predict(model, X[t + 1 :]) if t + 1 < n else predictions[t + 1 :]
                labels += window
                retrains.append(t + 1)
                detector = clone_detector(detector)
                collecting_until = None
            continue
        if audited[t]:
            labels += 1
            detector.update(float(not correct[t]))
            if detector.drift_detected:
                collecting_until = min(n, t + 1 + window)
    return {"correct": correct, "labels": labels, "retrains": retrains}


def clone_detector(detector):
    """A fresh detector with the same settings (river objects clone themselves)."""
    return detector.clone()


def recovery_time(correct, drift_at: int, reference: float, window: int = 100, tolerance: float = 0.05) -> int:
    """Examples after ``drift_at`` until the rolling accuracy (over ``window``) is back within
    ``tolerance`` of ``reference`` (e.g. the accuracy before the drift) and the first ``window``
    examples after the drift have passed; ``len(correct) - drift_at`` if it never recovers."""
    acc = rolling_mean(np.nan_to_num(np.asarray(correct, dtype=float)), window)
    for t in range(drift_at + window, len(acc)):
        if acc[t] >= reference - tolerance:
            return t - drift_at
    return len(acc) - drift_at


# --------------------------------------------------------------------------
# 4. Humans in the loop: monitoring without labels, active learning, label review
# --------------------------------------------------------------------------

SIGNALS = ("input shift", "confidence drop", "class-frequency shift", "audited error")


def window_signals(model, X, y, train_mean: np.ndarray, train_class_freq: np.ndarray, window: int = 50,
                   audit: np.ndarray | None = None) -> dict:
    """Monitoring signals per window of ``window`` consecutive examples of ``X`` (n, d).

    Without labels: ``"input shift"``, the distance between the window's mean input and the training
    mean ``train_mean`` (d,); ``"confidence drop"``, 1 minus the mean top predicted probability;
    ``"class-frequency shift"``, the total-variation distance between the window's predicted-class
    frequencies and ``train_class_freq`` (k,). With labels: ``"audited error"``, the error rate on
    the examples of ``audit`` (a boolean mask, all by default) whose labels ``y`` a human supplied.
    Each is an array (n // window,), larger meaning more suspicious.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if len(X) < window or window < 1:
        raise ValueError(f"need at least one full window of {window} examples, got {len(X)}")
    n_windows = len(X) // window
    proba = model.predict_proba(X[: n_windows * window])
    predicted = model.classes_[proba.argmax(axis=1)]
    audit = np.ones(len(y), dtype=bool) if audit is None else np.asarray(audit, dtype=bool)
    signals = {name: np.zeros(n_windows) for name in SIGNALS}
    for w in range(n_windows):
        rows = slice(w * window, (w + 1) * window)
        signals["input shift"][w] = np.linalg.norm(X[rows].mean(axis=0) - train_mean)
        signals["confidence drop"][w] = 1 - proba[rows].max(axis=1).mean()
        freq = np.array([(predicted[rows] == c).mean() for c in model.classes_])
        signals["class-frequency shift"][w] = 0.5 * np.abs(freq - train_class_freq).sum()
        seen = audit[rows]
        signals["audited error"][w] = (predicted[rows][seen] != y[rows][seen]).mean() if seen.any() else 0.0
    return signals


def alarm_threshold(calibration: np.ndarray, false_alarm_rate: float = 0.05) -> float:
    """The threshold that drift-free ``calibration`` windows exceed with probability ``false_alarm_rate``:
    their ``1 - false_alarm_rate`` quantile."""
    calibration = np.asarray(calibration, dtype=float)
    if calibration.ndim != 1 or len(calibration) < 2:
        raise ValueError("calibration needs the signal of at least 2 drift-free windows")
    if not 0 <= false_alarm_rate < 1:
        raise ValueError(f"false_alarm_rate must be in [0, 1), got {false_alarm_rate}")
    return float(np.quantile(calibration, 1 - false_alarm_rate))


def alarm_report(signal: np.ndarray, threshold: float, drift_window: int, window: int = 50) -> dict:
    """How an alarm ``signal > threshold`` behaves on a monitored stream whose drift starts at window
    ``drift_window``: the false-alarm rate on the windows before it, and the detection delay (in
    examples, counted from the drift to the end of the first alarming window; NaN if it never fires),
    and the detection rate, the share of the drifted windows that raise the alarm."""
    signal = np.asarray(signal, dtype=float)
    if not 0 < drift_window < len(signal):
        raise ValueError(f"drift_window must be inside the signal's {len(signal)} windows, got {drift_window}")
    alarms = signal > threshold
    after = np.flatnonzero(alarms[drift_window:])
    delay = float((after[0] + 1) * window) if len(after) else float("nan")
    return {"false alarm rate": float(alarms[:drift_window].mean()), "detection delay": delay,
            "detection rate": float(alarms[drift_window:].mean())}


def _uncertainty(proba: np.ndarray) -> np.ndarray:
    """Margin uncertainty: 1 minus the gap between the two most probable classes."""
    top = np.sort(proba, axis=1)
    return 1 - (top[:, -1] - top[:, -2])


def active_learning_curve(X_pool, y_pool, X_eval, y_eval, strategy: str = "uncertainty", start: int = 10,
                          step: int = 10, budget: int = 100, seed: int = 0, base=None) -> tuple[list, list]:
    """Label examples of a pool a few at a time and record the accuracy on ``X_eval``, ``y_eval``.

    Starts from ``start`` random labelled examples (at least one per class); each round a human
    labels ``step`` more, chosen at ``"random"`` or by ``"uncertainty"`` (the smallest margin between
    the model's two most probable classes), until ``budget`` labels. Returns (labels, accuracies).
    """
    if strategy not in ("random", "uncertainty"):
        raise ValueError(f"strategy must be 'random' or 'uncertainty', got {strategy!r}")
    X_pool, y_pool = np.asarray(X_pool), np.asarray(y_pool)
    classes = np.unique(y_pool)
    if not len(classes) <= start <= budget <= len(y_pool) or step < 1:
        raise ValueError(f"need n_classes={len(classes)} <= start <= budget <= pool size and step >= 1")
    rng = np.random.default_rng(seed)
    first = [rng.choice(np.flatnonzero(y_pool == c)) for c in classes]
    rest = rng.permutation(np.setdiff1d(np.arange(len(y_pool)), first))
    labelled = list(first) + list(rest[: start - len(first)])
    base = LogisticRegression(max_iter=300) if base is None else base
    sizes, scores = [], []
    while True:
        model = clone(base).fit(X_pool[labelled], y_pool[labelled])
        sizes.append(len(labelled))
        scores.append(float(model.score(X_eval, y_eval)))
        if len(labelled) >= budget:
            return sizes, scores
        unlabelled = np.setdiff1d(np.arange(len(y_pool)), labelled)
        k = min(step, budget - len(labelled))
        if strategy == "random":
            chosen = rng.choice(unlabelled, size=k, replace=False)
        else:
            chosen = unlabelled[np.argsort(-_uncertainty(model.predict_proba(X_pool[unlabelled])))[:k]]
        labelled += list(chosen)


def inject_label_errors(y, rate: float, n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Flip a fraction ``rate`` of the labels ``y`` (n,) to another class at random.
    Returns (noisy labels, boolean mask of the flipped examples)."""
    y = np.asarray(y)
    if not 0 < rate < 1:
        raise ValueError(f"rate must be in (0, 1), got {rate}")
    rng = np.random.default_rng(seed)
    flipped = np.zeros(len(y), dtype=bool)
    flipped[rng.choice(len(y), size=int(round(rate * len(y))), replace=False)] = True
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, n_classes, size=flipped.sum())) % n_classes
    return noisy, flipped


def review_order(X, y_given, base=None, folds: int = 3, seed: int = 0) -> np.ndarray:
    """Indices of the examples, most suspicious first: those whose given label gets the lowest
    out-of-fold predicted probability (each example scored by a model that did not train on it)."""
    X, y_given = np.asarray(X), np.asarray(y_given)
    base = LogisticRegression(max_iter=300) if base is None else base
    proba = cross_val_predict(base, X, y_given, cv=folds, method="predict_proba")
    classes = np.unique(y_given)
    p_given = proba[np.arange(len(y_given)), np.searchsorted(classes, y_given)]
    return np.argsort(p_given, kind="stable")


def errors_found(order: np.ndarray, is_error: np.ndarray, reviewed: int = 100) -> int:
    """How many real label errors a human finds after reviewing the first ``reviewed`` examples of ``order``."""
    order, is_error = np.asarray(order), np.asarray(is_error, dtype=bool)
    if not 0 < reviewed <= len(order):
        raise ValueError(f"reviewed must be between 1 and {len(order)}, got {reviewed}")
    return int(is_error[order[:reviewed]].sum())

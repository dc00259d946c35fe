"""A classifier check for labelled sets: a sample is valid when a classifier names its class with confidence.

When a set carries labels (scikit-learn's digits; MNIST with its labels
file; any set a loader gives labels), a rule-free structural check is at hand:
fit a classifier on the training items, and call a decoded sample valid when
its top class probability reaches a threshold. The class is the reason, so a
verdict reads ``classifier: looks like '7' (probability 0.97)`` or
``classifier: no class reaches 0.9 (best '3' at 0.41)``.

The classifier is scikit-learn's random forest (100 trees), fitted on the
thresholded items (what the checks see), at most :data:`MAX_FIT_ITEMS` of
them (a seeded subsample beyond); its probability is the share of trees that
vote for a class, so the default threshold :data:`DEFAULT_THRESHOLD` = 0.5
reads "most trees name the same class". Any estimator with
``predict_proba`` may be passed instead. Measured on the digits (5-fold,
held out): 81% of unseen digits pass, 28% of pixel blends of two digits and
1 of 500 random bitmaps. Discriminative classifiers can be sure of nonsense:
a calibrated SVM or a logistic regression passed 63-64% of the random bitmaps
at a threshold of 0.8, which is why genval does not use them.

In a rule file it is a table::

    [classifier]
    threshold = 0.5      # optional; default 0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genval._utils.budget import chunk_rows
from genval._utils.files import resolve_rng
from genval.data._bitmap_set import BitmapSet
from genval.errors import ParameterError

__all__ = ["DEFAULT_THRESHOLD", "MAX_FIT_ITEMS", "ClassifierCheck"]

DEFAULT_THRESHOLD = 0.5
MAX_FIT_ITEMS = 10_000


@dataclass(frozen=True, eq=False)
class ClassifierCheck:
    """A classifier fitted on a labelled set, judging samples by their top class probability.

    Build it with :meth:`fit`.

    Attributes
    ----------
    estimator : fitted scikit-learn classifier with ``predict_proba``
    threshold : float
        A sample passes when its top class probability is at least this.
    classes : tuple of str
    name : str
        The check's name in reports, ``"classifier"``.

    Examples
    --------
    >>> from genval import load_dataset
    >>> digits = load_dataset("digits")
    >>> check = ClassifierCheck.fit(digits, random_state=0)
    >>> check.classes[:3], check.reason(digits.X[0])[:30]
    (('0', '1', '2'), "classifier: looks like '0' (pr")
    """

    estimator: object
    threshold: float
    classes: tuple[str, ...]
    name: str = "classifier"

    @classmethod
    def fit(cls, training: BitmapSet, threshold: float = DEFAULT_THRESHOLD, estimator=None,
            random_state=0) -> "ClassifierCheck":
        """Fit ``estimator`` (default: a random forest of 100 trees) on the set's thresholded items and labels.

        Raises
        ------
        ParameterError
            When the set has no labels, fewer than two classes, or the threshold is not in (0, 1].
        """
        if training.labels is None:
            raise ParameterError(f"the classifier check needs a labelled set, and {training.title or 'this set'} "
                                 "has no labels (give a labels file with --labels)")
        threshold = float(threshold)
        if not 0 < threshold <= 1:
            raise ParameterError(f"the classifier threshold must be a probability in (0, 1], got {threshold}")
        labels = np.asarray(training.labels)
        if len(np.unique(labels)) < 2:
            raise ParameterError("the classifier check needs at least two classes among the labels")
        X = training.binary().astype(float)
        rng = resolve_rng(random_state)
        if len(X) > MAX_FIT_ITEMS:
            keep = np.sort(rng.choice(len(X), MAX_FIT_ITEMS, replace=False))
            X, labels = X[keep], labels[keep]
        if estimator is None:
            from sklearn.ensemble import RandomForestClassifier

            estimator = RandomForestClassifier(100, random_state=int(rng.integers(2**31 - 1)))
        estimator.fit(X, labels)
        return cls(estimator, threshold, tuple(str(c) for c in estimator.classes_))

    def probabilities(self, X) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` of samples ``(n, n_pixels)``, in chunks."""
        X = (np.asarray(X) > 0.5).astype(float)  # judged as the checks see it, thresholded
        X = X.reshape(1, -1) if X.ndim == 1 else X
        step = chunk_rows(8 * (X.shape[1] + 2 * len(self.classes)))
        return np.concatenate([self.estimator.predict_proba(X[i:i + step]) for i in range(0, len(X), step)]) \
            if len(X) else np.zeros((0, len(self.classes)))

    def passes(self, X) -> np.ndarray:
        """Per sample: the top class probability reaches the threshold."""
        return self.probabilities(X).max(axis=1) >= self.threshold

    def reason(self, x) -> str:
        """One sample's verdict in words, naming its top class."""
        p = self.probabilities(x)[0]
        top = int(p.argmax())
        if p[top] >= self.threshold:
            return f"{self.name}: looks like '{self.classes[top]}' (probability {p[top]:.2f})"
        return (f"{self.name}: no class reaches {self.threshold:g} (best '{self.classes[top]}' at {p[top]:.2f}), "
                "expected one class to be clear")

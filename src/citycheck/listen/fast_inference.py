"""Prediction of a fitted classifier pipeline without sklearn's per-call overhead.

:meth:`sklearn.pipeline.Pipeline.predict_proba` on one text costs about 4 ms, nearly all of it
input validation and the bookkeeping of a dozen estimator calls (a batch of 300 texts costs
0.2 ms a text).  A hotline classifies one text per request, so this module reads what the
fitted pipeline of :func:`citycheck.listen.classifier.make_pipeline` learned — the TF-IDF
vocabularies and idf weights, the block weights, the keyword list, the linear models'
coefficients and the sigmoid calibrators — once, and computes the same numbers directly:

1. each TF-IDF block: the vectoriser's own analyser (``build_analyzer``: same preprocessing,
   white-space folding and character n-grams as ``transform``), counts of the n-grams in the
   vocabulary, ``1 + log tf`` when sublinear, times idf, L2-normalised, times the block weight;
2. the catalogue keyword block (:class:`~citycheck.listen.classifier.KeywordHits`) likewise;
3. the union row L2-normalised (the pipeline's ``Normalizer``);
4. all linear scores at once: the row's few non-zero columns of one stacked coefficient matrix
   (every fold's SVM of the calibrated ensemble side by side), plus the intercepts;
5. the probabilities exactly as sklearn forms them: per fold, Platt's sigmoid of each class
   score, normalised over the classes (uniform when all are zero), values just above 1 set to 1,
   and the folds averaged; or logistic regression's softmax (binary: the logistic function).

The results equal sklearn's up to floating-point summation order (about 1e-15); the tests
compare both on every text of the real data sets.  A pipeline of another shape is not compiled
(:func:`compile_pipeline` returns None) and is run by sklearn as before.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import LabelEncoder, Normalizer
from sklearn.svm import LinearSVC
from sklearn.utils.extmath import softmax

from citycheck.listen.nbsvm import NBSVMClassifier


@dataclass(frozen=True)
class _TfidfBlock:
    """One fitted TF-IDF block of the feature union, its columns offset into the union."""

    analyze: Callable[[str], list[str]]
    columns: dict[str, int]  # n-gram -> column of the union
    idf: np.ndarray | None  # idf of the block's columns (by column - offset); None: use_idf off
    offset: int
    sublinear: bool
    l2: bool
    weight: float


@dataclass(frozen=True)
class _KeywordBlock:
    """The catalogue keyword counts of the feature union."""

    keywords: tuple[str, ...]
    offset: int
    weight: float


@dataclass(frozen=True)
class _Calibrated:
    """One fold of a sigmoid-calibrated ensemble: where its scores sit, and their calibrators."""

    scores: slice  # columns of the stacked score matrix
    classes: np.ndarray  # the class index each score column calibrates
    a: np.ndarray  # sigmoid slopes, one per score column
    b: np.ndarray  # sigmoid offsets


@dataclass(frozen=True)
class CompiledPipeline:
    """The numbers of a fitted classifier pipeline, for fast prediction (see module docstring).

    Build it with :func:`compile_pipeline`.
    """

    classes: np.ndarray
    tfidf: tuple[_TfidfBlock, ...]
    keywords: _KeywordBlock | None
    n_features: int
    coef: np.ndarray  # (n_features, n_scores): every linear model side by side
    intercept: np.ndarray  # (n_scores,)
    calibrated: tuple[_Calibrated, ...]  # empty: logistic regression
    binary_logistic: bool

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The pipeline's feature row of ``text`` before the classifier, as columns and values.

        Parameters
        ----------
        text
            One text as the pipeline receives it (columns joined by ``join_text``).

        Returns
        -------
        tuple of numpy.ndarray
            Column indices (int64) and their values (float64), zeros left out; the row is
            L2-normalised like the pipeline's ``Normalizer`` output.
        """
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for block in self.tfidf:
            get = block.columns.get
            counts = Counter(block.analyze(text)).items()
            hits = [(j, n) for g, n in counts if (j := get(g)) is not None]
            if not hits:
                continue
            c = np.fromiter((j for j, _ in hits), np.int64, len(hits))
            v = np.fromiter((n for _, n in hits), np.float64, len(hits))
            if block.sublinear:
                v = np.log(v) + 1.0
            if block.idf is not None:
                v = v * block.idf[c - block.offset]
            if block.l2:
                v = v / math.sqrt(float(v @ v))
            cols.append(c)
            vals.append(v * block.weight if block.weight != 1.0 else v)
        if self.keywords is not None:
            kw = [(j, n) for j, k in enumerate(self.keywords.keywords) if (n := text.count(k))]
            if kw:
                c = np.fromiter((j for j, _ in kw), np.int64, len(kw)) + self.keywords.offset
                v = 1.0 + np.log(np.fromiter((n for _, n in kw), np.float64, len(kw)))
                v = v / math.sqrt(float(v @ v))
                cols.append(c)
                vals.append(v * self.keywords.weight if self.keywords.weight != 1.0 else v)
        if not cols:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        c = np.concatenate(cols) if len(cols) > 1 else cols[0]
        v = np.concatenate(vals) if len(vals) > 1 else vals[0]
        norm = math.sqrt(float(v @ v))
        return c, (v / norm if norm > 0 else v)

    def scores(self, texts: list[str]) -> np.ndarray:
        """Every linear model's scores for each text: (n_texts, n_scores)."""
        out = np.empty((len(texts), self.coef.shape[1]))
        for i, t in enumerate(texts):
            c, v = self.features(t)
            out[i] = v @ self.coef[c] + self.intercept
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Class probabilities, one row per text, classes in :attr:`classes` order."""
        s = self.scores(list(texts))
        n = len(self.classes)
        if not self.calibrated:  # logistic regression
            if self.binary_logistic:
                p = expit(s[:, 0])
                return np.vstack([1 - p, p]).T
            return softmax(s, copy=False)
        total = np.zeros((len(s), n))
        for fold in self.calibrated:
            proba = np.zeros((len(s), n))
            proba[:, fold.classes] = expit(-(fold.a * s[:, fold.scores] + fold.b))
            if n == 2:
                proba[:, 0] = 1.0 - proba[:, 1]
            else:
                den = proba.sum(axis=1)[:, None]
                proba = np.divide(proba, den, out=np.full_like(proba, 1 / n), where=den != 0)
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            total += proba
        total /= len(self.calibrated)
        return total


def _linear(estimator: object) -> tuple[np.ndarray, np.ndarray] | None:
    """(coef, intercept) such that ``decision_function(X) = X @ coef.T + intercept`` as columns
    (one column for a binary LinearSVC, the classes' own columns for NB-SVM); None if unknown."""
    if type(estimator) is LinearSVC:
        return np.asarray(estimator.coef_), np.asarray(estimator.intercept_, np.float64)
    if type(estimator) is NBSVMClassifier:
        coef, icpt = np.asarray(estimator.coef_), np.asarray(estimator.intercept_)
        if len(estimator.classes_) == 2:  # decision_function: the second class's score
            return coef[1:], icpt[1:]
        return coef, icpt
    return None


def _tfidf_block(vec: TfidfVectorizer, offset: int, weight: float) -> _TfidfBlock | None:
    if vec.analyzer != "char" or vec.binary or vec.norm not in ("l2", None):
        return None
    if vec.dtype not in (np.float64, float):
        return None
    return _TfidfBlock(
        analyze=vec.build_analyzer(),
        columns={g: int(j) + offset for g, j in vec.vocabulary_.items()},
        idf=np.asarray(vec.idf_, np.float64) if vec.use_idf else None,
        offset=offset,
        sublinear=bool(vec.sublinear_tf),
        l2=vec.norm == "l2",
        weight=weight,
    )


def compile_pipeline(pipeline: Pipeline) -> CompiledPipeline | None:
    """The fast predictor of a pipeline built by ``make_pipeline`` and fitted; None if the
    pipeline has another shape (its own ``predict_proba`` is then the one to use).

    Parameters
    ----------
    pipeline
        ``FeatureUnion`` of char TF-IDF blocks and keyword counts, ``Normalizer(l2)``, then a
        sigmoid-calibrated LinearSVC / NB-SVM ensemble or a logistic regression.

    Returns
    -------
    CompiledPipeline or None
    """
    # Deferred: classifier imports this module.
    from citycheck.listen.classifier import KeywordHits

    steps = [s for _, s in pipeline.steps]
    if len(steps) != 3:
        return None
    union, normalizer, clf = steps
    if type(union) is not FeatureUnion or type(normalizer) is not Normalizer:
        return None
    if normalizer.norm != "l2":
        return None
    weights = union.transformer_weights or {}
    tfidf: list[_TfidfBlock] = []
    keywords: _KeywordBlock | None = None
    offset = 0
    for name, tr in union.transformer_list:
        w = float(weights.get(name, 1.0))
        if type(tr) is TfidfVectorizer:
            block = _tfidf_block(tr, offset, w)
            if block is None:
                return None
            tfidf.append(block)
            offset += len(tr.vocabulary_)
        elif type(tr) is KeywordHits and keywords is None:
            keywords = _KeywordBlock(tuple(tr.vocabulary_), offset, w)
            offset += len(tr.vocabulary_)
        else:
            return None
    classes = np.asarray(clf.classes_)
    coefs: list[np.ndarray] = []
    intercepts: list[np.ndarray] = []
    folds: list[_Calibrated] = []
    binary_logistic = False
    if type(clf) is CalibratedClassifierCV:
        if clf.method != "sigmoid":
            return None
        col = 0
        for cc in clf.calibrated_classifiers_:
            lin = _linear(cc.estimator)
            if lin is None:
                return None
            coef, icpt = lin
            k = coef.shape[0]
            idx = LabelEncoder().fit(classes).transform(cc.estimator.classes_)
            if len(classes) == 2:
                idx = idx[:1] + 1  # the binary scores are the second class's
            if len(cc.calibrators) != k or len(idx) != k:
                return None
            a = np.array([float(c.a_) for c in cc.calibrators])
            b = np.array([float(c.b_) for c in cc.calibrators])
            coefs.append(coef)
            intercepts.append(icpt)
            folds.append(_Calibrated(slice(col, col + k), idx, a, b))
            col += k
    elif type(clf) is LogisticRegression:
        coefs.append(np.asarray(clf.coef_))
        intercepts.append(np.asarray(clf.intercept_, np.float64))
        binary_logistic = len(classes) == 2
    else:
        return None
    coef = np.ascontiguousarray(np.vstack(coefs).T)
    if coef.shape[0] != offset:
        return None
    return CompiledPipeline(
        classes=classes,
        tfidf=tuple(tfidf),
        keywords=keywords,
        n_features=offset,
        coef=coef,
        intercept=np.concatenate(intercepts),
        calibrated=tuple(folds),
        binary_logistic=binary_logistic,
    )

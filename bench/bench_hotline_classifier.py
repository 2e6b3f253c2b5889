"""Hotline classifier: 5-fold macro-F1 of candidate models on the labelled Chinese messages and
on the NYC 311 sample, the chosen pipeline's numbers, and the low-confidence queue trade-off.

The Chinese messages have no licence: they are read from ../shared/data and nothing trained on
them is written anywhere.

    python bench/bench_hotline_classifier.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import make_pipeline as sk_pipeline
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from citycheck.listen.classifier import join_text, make_pipeline  # noqa: E402
from citycheck.listen.model_selection import default_grid, nested_cv  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "hotline"
CV = StratifiedKFold(5, shuffle=True, random_state=0)


def candidates() -> dict[str, object]:
    def tf(analyzer: str, ngram: tuple[int, int]) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=analyzer, ngram_range=ngram, sublinear_tf=True)

    return {
        "chosen: char 1-2 + calibrated LinearSVC": make_pipeline(),
        "char 1-3 + LinearSVC": sk_pipeline(tf("char", (1, 3)), LinearSVC(class_weight="balanced")),
        "char_wb 1-3 + LogisticRegression": sk_pipeline(
            tf("char_wb", (1, 3)), LogisticRegression(C=10, max_iter=2000)
        ),
        "char 1-2 + ComplementNB": sk_pipeline(tf("char", (1, 2)), ComplementNB(alpha=0.3)),
        "char 1-2 + Ridge": sk_pipeline(tf("char", (1, 2)), RidgeClassifier()),
    }


def report(name: str, texts: list[str], labels: list[str]) -> None:
    print(f"\n{name}: {len(texts)} rows, {len(set(labels))} classes")
    for model_name, model in candidates().items():
        t = time.perf_counter()
        s = cross_val_score(model, texts, labels, cv=CV, scoring="f1_macro")
        print(
            f"  {model_name:<42} macro-F1 {s.mean():.4f} ± {s.std():.4f}  "
            f"({time.perf_counter() - t:.1f} s)"
        )


def queue_tradeoff(texts: list[str], labels: list[str]) -> None:
    y = np.asarray(labels)
    proba = cross_val_predict(make_pipeline(), texts, y, cv=CV, method="predict_proba")
    classes = np.unique(y)
    pred, conf = classes[proba.argmax(1)], proba.max(1)
    print(
        "\n  low-confidence queue (out-of-fold): threshold, auto-dispatched share, accuracy "
        "of auto-dispatched, accuracy of queued"
    )
    for thr in (0.4, 0.5, 0.6, 0.7):
        k = conf >= thr
        print(
            f"  {thr:.1f}  {k.mean():.3f}  {(pred[k] == y[k]).mean():.3f}  "
            f"{(pred[~k] == y[~k]).mean():.3f}"
        )


def nested(name: str, table: pd.DataFrame, columns: list[str], labels: list[str], kw) -> None:
    """Outer 5-fold macro-F1 of `hotline train`'s selection (inner 3-fold over the grid)."""
    t = time.perf_counter()
    res = nested_cv(table, columns, labels, default_grid(bool(kw)), keywords=kw)
    print(
        f"\n{name}: nested CV (outer 5 folds, inner 3) macro-F1 {res.mean:.4f} ± {res.std:.4f} "
        f"({time.perf_counter() - t:.0f} s)"
    )
    for row, cand in zip(res.as_rows(), res.chosen, strict=True):
        print(
            f"  fold {row['fold']}: {row['macro_f1']:.4f}  chosen {cand.label()} "
            f"(inner {row['inner_f1']:.4f})"
        )


def main() -> None:
    cn = pd.read_csv(DATA / "cn_messages_labelled.csv", dtype=str)
    texts = join_text(cn, ["留言主题", "留言详情"])
    report("Chinese messages (一级分类; text 留言主题 + 留言详情)", texts, cn["一级分类"].tolist())
    queue_tradeoff(texts, cn["一级分类"].tolist())
    tax = pd.read_csv(DATA / "cn_message_taxonomy.csv", dtype=str)
    kw = tuple(sorted(set(tax["二级分类"].dropna()) | set(tax["三级分类"].dropna())))
    nested("Chinese messages", cn, ["留言主题", "留言详情"], cn["一级分类"].tolist(), kw)
    nyc = pd.read_csv(DATA / "nyc311_2011_sample.csv", dtype=str, keep_default_na=False)
    for label in ("Complaint Type", "Agency"):
        counts = nyc[label].value_counts()
        sub = nyc[nyc[label].isin(counts[counts >= 5].index)]
        report(
            f"NYC 311 ({label}; text Descriptor + Location Type; classes with >= 5 rows)",
            join_text(sub, ["Descriptor", "Location Type"]),
            sub[label].tolist(),
        )
        nested(f"NYC 311 ({label})", sub, ["Descriptor", "Location Type"], sub[label].tolist(), ())


if __name__ == "__main__":
    main()

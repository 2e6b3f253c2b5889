"""Hotline classifier: 5-fold macro-F1 of candidate models on the labelled Chinese messages and
on the NYC 311 sample, the nested-CV figure of `hotline train`'s whole select-then-fit procedure
(outer 5 folds, inner 5, the 8- or 16-setting grid), per-class F1 of its out-of-fold predictions,
and the low-confidence queue trade-off.

The Chinese messages have no licence: they are read from ../shared/data and nothing trained on
them is written anywhere.  Each part takes a few minutes on 2 cores; run them one by one:

    python bench/bench_hotline_classifier.py cn        # plain CV, queue, nested without keywords
    python bench/bench_hotline_classifier.py cn-kw     # nested with the catalogue's keywords
    python bench/bench_hotline_classifier.py nyc       # NYC Complaint Type: plain CV and nested
    python bench/bench_hotline_classifier.py nyc-agency
    python bench/bench_hotline_classifier.py cn --seed 1 --nested-only   # other outer splits
    python bench/bench_hotline_classifier.py cn --rule one_se --nested-only
"""

from __future__ import annotations

import argparse
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

from sklearn.metrics import f1_score  # noqa: E402

from citycheck.listen.classifier import full_text, join_text, make_pipeline  # noqa: E402
from citycheck.listen.model_selection import default_grid, nested_cv  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "hotline"
CV = StratifiedKFold(5, shuffle=True, random_state=0)


def candidates() -> dict[str, object]:
    def tf(analyzer: str, ngram: tuple[int, int]) -> TfidfVectorizer:
        # the same text as ours: the columns' separator read as a space, lower-cased
        return TfidfVectorizer(
            analyzer=analyzer, ngram_range=ngram, sublinear_tf=True, preprocessor=full_text
        )

    return {
        "char 1-2 + calibrated LinearSVC (old default)": make_pipeline(),
        "char 1-2 + title block + calibrated NB-SVM C=0.5": make_pipeline(
            model="nbsvm", C=0.5, title_weight=1.0
        ),
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
            f"  {model_name:<50} macro-F1 {s.mean():.4f} ± {s.std():.4f}  "
            f"({time.perf_counter() - t:.1f} s)"
        )


def queue_tradeoff(texts: list[str], labels: list[str]) -> None:
    y = np.asarray(labels)
    model = make_pipeline(model="nbsvm", C=0.5, title_weight=1.0)
    proba = cross_val_predict(model, texts, y, cv=CV, method="predict_proba")
    classes = np.unique(y)
    pred, conf = classes[proba.argmax(1)], proba.max(1)
    print(
        "\n  low-confidence queue (out-of-fold, NB-SVM C=0.5 + title block): threshold, "
        "auto-dispatched share, accuracy of auto-dispatched, accuracy of queued"
    )
    for thr in (0.4, 0.5, 0.6, 0.7):
        k = conf >= thr
        print(
            f"  {thr:.1f}  {k.mean():.3f}  {(pred[k] == y[k]).mean():.3f}  "
            f"{(pred[~k] == y[~k]).mean():.3f}"
        )


def nested(
    name: str,
    table: pd.DataFrame,
    columns: list[str],
    labels: list[str],
    kw: tuple[str, ...],
    seed: int,
    rule: str,
    inner: int = 5,
) -> None:
    """Outer 5-fold macro-F1 of `hotline train`'s selection (inner 5-fold over the grid)."""
    t = time.perf_counter()
    grid = default_grid(bool(kw))
    res = nested_cv(table, columns, labels, grid, keywords=kw, seed=seed, rule=rule, inner=inner)
    print(
        f"\n{name}: nested CV (outer 5 folds, inner {inner}, {len(grid)} settings, rule {rule}, "
        f"seed {seed}) macro-F1 {res.mean:.4f} ± {res.std:.4f} "
        f"({time.perf_counter() - t:.0f} s)"
    )
    for row, cand in zip(res.as_rows(), res.chosen, strict=True):
        print(
            f"  fold {row['fold']}: {row['macro_f1']:.4f}  chosen {cand.label()} "
            f"(inner {row['inner_f1']:.4f})"
        )
    y = np.asarray(labels)
    classes = sorted(set(labels))
    f1 = f1_score(y, res.predicted, labels=classes, average=None)
    worst = np.argsort(f1)[:8]
    print(
        "  out-of-fold F1 of the weakest classes (support): "
        + ", ".join(f"{classes[i]} {f1[i]:.2f} ({(y == classes[i]).sum()})" for i in worst)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=("cn", "cn-kw", "nyc", "nyc-agency"))
    ap.add_argument("--seed", type=int, default=0, help="outer/inner split seed")
    ap.add_argument("--rule", choices=("best", "one_se"), default="best")
    ap.add_argument("--nested-only", action="store_true")
    ap.add_argument("--inner", type=int, default=5, help="inner folds (hotline train: 5)")
    args = ap.parse_args()
    if args.part.startswith("cn"):
        cn = pd.read_csv(DATA / "cn_messages_labelled.csv", dtype=str)
        columns, labels = ["留言主题", "留言详情"], cn["一级分类"].tolist()
        texts = join_text(cn, columns)
        print(f"labels: {cn['一级分类'].value_counts().to_dict()}")
        kw: tuple[str, ...] = ()
        if args.part == "cn-kw":
            tax = pd.read_csv(DATA / "cn_message_taxonomy.csv", dtype=str)
            kw = tuple(sorted(set(tax["二级分类"].dropna()) | set(tax["三级分类"].dropna())))
        elif not args.nested_only:
            report("Chinese messages (一级分类; text 留言主题 + 留言详情)", texts, labels)
            queue_tradeoff(texts, labels)
        name = "Chinese messages" + (" + catalogue keywords" if kw else "")
        nested(name, cn, columns, labels, kw, args.seed, args.rule, args.inner)
        return
    nyc = pd.read_csv(DATA / "nyc311_2011_sample.csv", dtype=str, keep_default_na=False)
    label = "Agency" if args.part == "nyc-agency" else "Complaint Type"
    counts = nyc[label].value_counts()
    sub = nyc[nyc[label].isin(counts[counts >= 5].index)]
    columns = ["Descriptor", "Location Type"]
    if not args.nested_only:
        report(
            f"NYC 311 ({label}; text Descriptor + Location Type; classes with >= 5 rows)",
            join_text(sub, columns),
            sub[label].tolist(),
        )
    nyc_labels = sub[label].tolist()
    nested(f"NYC 311 ({label})", sub, columns, nyc_labels, (), args.seed, args.rule, args.inner)


if __name__ == "__main__":
    main()

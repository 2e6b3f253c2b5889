"""Recurring problems (未诉先办): themes found from text and category together, with evidence.

Texts are turned into character n-gram TF-IDF vectors (works for Chinese without a word
segmenter, and for English), clustered within each category (agglomerative clustering on cosine
distance for up to ``max_agglomerative`` orders of a category, mini-batch k-means beyond), and a
theme is *recurring* when it comes back in at least ``min_months`` months and ``min_places``
places. Each theme carries its evidence: distinctive terms, the orders closest to its centre,
counts by month (the trend) and by place, positions where the orders have them. Terms are the
n-grams whose share of the theme's orders most exceeds their share of all orders.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from citycheck.io.errors import InputError
from citycheck.listen.analytics.frames import normalise_orders

__all__ = ["Themes", "find_themes"]

log = logging.getLogger(__name__)

# masked place names (A市, A3区), numbers, latin letters and punctuation are not theme words
_NOT_A_TERM = re.compile(
    r"[0-9０-９\s\W_]|[A-Z][0-9]*[区县市]|^[A-Za-z]{1,2}$|[A-Za-z][\u4e00-\u9fff]|[\u4e00-\u9fff][A-Za-z]"
)
# boilerplate of requests that says nothing about the problem
_STOP = (
    "请问",
    "关于",
    "请求",
    "什么",
    "为何",
    "为什么",
    "能否",
    "希望",
    "现在",
    "问题",
    "要求",
    "如何",
    "是否",
    "我们",
    "你们",
    "领导",
    "尊敬",
    "的",
)


@dataclass(frozen=True)
class Themes:
    """Output of :func:`find_themes`.

    Attributes
    ----------
    themes : DataFrame
        One row per theme: ``theme``, ``category``, ``terms`` (distinctive n-grams, best first),
        ``orders``, ``months``, ``places``, ``first``, ``last``, ``recurring``, ``examples``
        (texts of the orders nearest the centre), ``order_ids``; recurring themes first, then by
        size.
    by_month : DataFrame
        ``theme``, ``month`` (Period), ``orders``: the trend of each theme.
    by_place : DataFrame
        ``theme``, ``place``, ``orders``.
    assignment : Series
        Theme id per order (index of the orders), -1 for orders in no theme.
    """

    themes: pd.DataFrame
    by_month: pd.DataFrame
    by_place: pd.DataFrame
    assignment: pd.Series


def _vectorise(texts: pd.Series, ngram: tuple[int, int], max_features: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        analyzer="char",
        ngram_range=ngram,
        max_features=max_features,
        sublinear_tf=True,
        min_df=2,
    )
    X = vec.fit_transform(texts.to_numpy())
    return vec, X


def _cluster(X, threshold: float, max_agglomerative: int, target_size: int, seed: int):
    """Cluster labels per row; rows without any known n-gram get -1."""
    from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans

    labels = np.full(X.shape[0], -1, dtype=int)
    live = np.flatnonzero(np.asarray(X.getnnz(axis=1)) > 0)
    n = len(live)
    if n < 2:
        labels[live] = 0
        return labels
    if n <= max_agglomerative:
        model = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
        )
        labels[live] = model.fit_predict(X[live].toarray())
    else:
        k = max(2, n // target_size)
        labels[live] = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3).fit_predict(
            X[live]
        )
    return labels


def find_themes(
    orders: pd.DataFrame,
    *,
    text: str = "text",
    category: str | None = "category",
    place: str = "area",
    ngram: tuple[int, int] = (2, 3),
    max_features: int = 20_000,
    threshold: float = 0.9,
    min_orders: int = 3,
    min_months: int = 2,
    min_places: int = 2,
    n_terms: int = 5,
    n_examples: int = 3,
    max_agglomerative: int = 5_000,
    target_size: int = 50,
    seed: int = 0,
) -> Themes:
    """Find themes in the orders' text within each category, and mark the recurring ones.

    Parameters
    ----------
    orders : DataFrame
        Orders table with text.
    text, category, place : str
        Columns of the text, the category (None: cluster all orders together) and the place.
    ngram : (int, int)
        Character n-gram lengths.
    max_features : int
        Vocabulary size of the TF-IDF.
    threshold : float
        Cosine distance at which agglomerative clustering stops merging (lower: tighter themes).
    min_orders, min_months, min_places : int
        A theme needs ``min_orders``; it is recurring with ``min_months`` distinct months and
        ``min_places`` distinct places (places that are "" do not count).
    n_terms, n_examples : int
        Evidence sizes.
    max_agglomerative, target_size : int
        Above ``max_agglomerative`` orders in a category, mini-batch k-means with clusters of
        about ``target_size`` is used instead.
    seed : int

    Returns
    -------
    Themes
    """
    o = normalise_orders(orders).set_index(orders.index)
    if text not in o.columns:
        raise InputError("find_themes", "text", text, "no such column")
    texts = o[text].fillna("").astype(str)
    if (texts.str.len() == 0).all():
        raise InputError("find_themes", text, "", "every text is empty")
    vec, X = _vectorise(texts, ngram, max_features)
    vocab, present = _term_matrix(texts, X, vec)
    good_term = np.array(
        [not _NOT_A_TERM.search(t) and not any(w in t for w in _STOP) for t in vocab]
    )
    corpus_share = np.asarray(present.mean(axis=0)).ravel()
    assignment = pd.Series(-1, index=o.index, dtype=np.int64)
    groups = (
        [(None, np.arange(len(o)))]
        if category is None
        else [
            (c, np.flatnonzero((o[category] == c).to_numpy())) for c in sorted(o[category].unique())
        ]
    )
    rows, months, places = [], [], []
    next_id = 0
    month = o["requested_at"].dt.to_period("M")
    for cat, pos in groups:
        if len(pos) < min_orders:
            continue
        Xc = X[pos]
        labels = _cluster(Xc, threshold, max_agglomerative, target_size, seed)
        for k in np.unique(labels[labels >= 0]):
            m = pos[labels == k]
            if len(m) < min_orders:
                continue
            tid = next_id
            next_id += 1
            idx = o.index[m]
            assignment.loc[idx] = tid
            centre = np.asarray(X[m].mean(axis=0)).ravel()
            # distinctive terms: written in many of the theme's orders, few of the others
            share = np.asarray(present[m].mean(axis=0)).ravel()
            lift = np.where(good_term, share - corpus_share, -np.inf)
            terms = vocab[np.argsort(-lift)[: n_terms * 3]].tolist()
            terms = _drop_overlaps(terms, texts.iloc[m])[:n_terms]
            sims = X[m] @ centre
            near = m[np.argsort(-np.asarray(sims).ravel())[:n_examples]]
            title_col = "title" if "title" in o.columns else text
            sub = o.loc[idx]
            sub_places = (
                sub[place].astype(str) if place in sub.columns else pd.Series("", index=idx)
            )
            n_places = int(sub_places[sub_places != ""].nunique())
            n_months = int(month.loc[idx].nunique())
            rows.append(
                {
                    "theme": tid,
                    "category": cat if cat is not None else "",
                    "terms": terms,
                    "orders": len(m),
                    "months": n_months,
                    "places": n_places,
                    "first": sub["requested_at"].min(),
                    "last": sub["requested_at"].max(),
                    "recurring": n_months >= min_months and n_places >= min_places,
                    "examples": o[title_col].iloc[near].astype(str).str.slice(0, 80).tolist(),
                    "order_ids": sub["order_id"].tolist(),
                    "lat": float(sub["lat"].mean()) if sub["lat"].notna().any() else np.nan,
                    "lon": float(sub["lon"].mean()) if sub["lon"].notna().any() else np.nan,
                }
            )
            months.append(
                month.loc[idx]
                .value_counts()
                .rename("orders")
                .rename_axis("month")
                .reset_index()
                .assign(theme=tid)
            )
            places.append(
                sub_places[sub_places != ""]
                .value_counts()
                .rename("orders")
                .rename_axis("place")
                .reset_index()
                .assign(theme=tid)
            )
    themes = pd.DataFrame(rows)
    if len(themes):
        themes = themes.sort_values(["recurring", "orders"], ascending=False).reset_index(drop=True)
    by_month = (
        pd.concat(months, ignore_index=True)[["theme", "month", "orders"]]
        .sort_values(["theme", "month"])
        .reset_index(drop=True)
        if months
        else pd.DataFrame(columns=["theme", "month", "orders"])
    )
    by_place = (
        pd.concat(places, ignore_index=True)[["theme", "place", "orders"]]
        if places
        else pd.DataFrame(columns=["theme", "place", "orders"])
    )
    log.info(
        "%d themes, %d recurring", len(themes), int(themes.get("recurring", pd.Series()).sum())
    )
    return Themes(themes=themes, by_month=by_month, by_place=by_place, assignment=assignment)


def _term_matrix(texts: pd.Series, X, vec) -> tuple[np.ndarray, Any]:
    """Candidate theme terms and their presence per order: character n-grams for Chinese text,
    words (3+ letters, English stop words removed) for text that is mostly Latin script."""
    sample = "".join(texts.head(2000))
    latin = sum(c.isascii() and c.isalpha() for c in sample)
    han = sum("\u4e00" <= c <= "\u9fff" for c in sample)
    if latin > 4 * han:
        from sklearn.feature_extraction.text import CountVectorizer

        words = CountVectorizer(
            binary=True, lowercase=True, stop_words="english", token_pattern=r"(?u)\b[a-zA-Z]{3,}\b"
        )
        present = words.fit_transform(texts.to_numpy()).astype(np.float32)
        return np.array(words.get_feature_names_out(), dtype=object), present
    return np.array(vec.get_feature_names_out(), dtype=object), (X > 0).astype(np.float32)


def _drop_overlaps(terms: list[str], texts: pd.Series) -> list[str]:
    """Merge n-grams that chain (用人单 + 人单位 -> 用人单位) when the merged string is written
    in every one of the theme's texts that has the kept n-gram; drop n-grams inside a kept one."""

    def n(term: str) -> int:
        return int(texts.str.contains(term, regex=False).sum())

    kept: list[str] = []
    for t in terms:
        placed = False
        for i, k in enumerate(kept):
            if t in k:
                placed = True
            elif k in t:
                kept[i], placed = t, True
            else:
                for merged in (
                    k + t[-1] if k.endswith(t[:-1]) else None,
                    t[0] + k if k.startswith(t[1:]) else None,
                ):
                    if merged and n(merged) >= n(k):
                        kept[i], placed = merged, True
                        break
            if placed:
                break
        if not placed:
            kept.append(t)
    return kept

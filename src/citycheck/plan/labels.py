"""Chinese and English labels of the planning views (report section and dashboard panel).

The texts live in the one label table (:data:`citycheck.labels.LABELS`, keys ``plan.view.*``);
this module keeps the planning views' accessors.
"""

from __future__ import annotations

from citycheck.labels import labels_under

__all__ = ["PLANNING_LABELS", "planning_label", "planning_labels"]

#: key → (Chinese, English)
PLANNING_LABELS: dict[str, tuple[str, str]] = labels_under("plan.view")


def planning_label(key: str, lang: str) -> str:
    """One planning label in ``lang`` ("zh" or "en"); unknown keys come back as given."""
    pair = PLANNING_LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def planning_labels(lang: str) -> dict[str, str]:
    """Every planning label in ``lang``."""
    return {k: planning_label(k, lang) for k in PLANNING_LABELS}

"""Diagnosis: the problem list (问题清单) from graded values."""

from __future__ import annotations

import pandas as pd

from citycheck.evaluate.catalogue import catalogue

__all__ = ["LEVEL_ORDER", "PROBLEM_COLUMNS", "problem_list"]

#: Finest level first.
LEVEL_ORDER = ("dwelling", "compound", "neighbourhood", "district")


#: The columns of the problem list, in the order of problems.csv and results.json.
PROBLEM_COLUMNS: tuple[str, ...] = (
    "indicator",
    "zh",
    "en",
    "dimension",
    "scope",
    "value",
    "grade",
    "threshold",
    "gap",
    "normalised",
    "unit",
    "source",
    "red_line",
    "units_failing",
    "units_total",
    "worst_level",
    "worst_units",
)


def problem_list(graded: pd.DataFrame, *, worst_n: int = 5) -> pd.DataFrame:
    """Every indicator that fails, with where it fails worst.

    An indicator is a problem when its district value fails (scope "district"), or when the
    district passes or lacks a grade but some smaller units fail (scope "local").

    Parameters
    ----------
    graded : DataFrame
        Output of :func:`citycheck.evaluate.scoring.grade_values`.
    worst_n : int
        How many worst units to list.

    Returns
    -------
    DataFrame
        One row per problem: ``indicator``, ``zh``, ``en``, ``dimension``, ``scope``, ``value``
        (district), ``grade``, ``threshold``, ``gap``, ``unit``, ``source``, ``red_line``,
        ``units_failing``, ``units_total``, ``worst_level``, ``worst_units`` (list of dicts with
        ``unit_id`` and ``value``), ordered red lines first, then by normalised score.
    """
    cat = catalogue()
    rows = []
    for iid, sub in graded.groupby("indicator", sort=False):
        ind = cat[iid]
        district = sub[sub["level"] == "district"]
        d_grade = district["grade"].iloc[0] if len(district) else "no data"
        finer = sub[sub["level"] != "district"]
        worst_level = None
        worst: list[dict[str, object]] = []
        failing = 0
        total = 0
        for level in LEVEL_ORDER[:-1][::-1]:  # neighbourhood before compound: the planning unit
            lv = finer[finer["level"] == level]
            if lv.empty:
                continue
            fails = lv[lv["grade"] == "fail"].sort_values("normalised")
            if fails.empty and worst_level is not None:
                continue
            worst_level = level
            failing = len(fails)
            total = int(lv["grade"].isin(["pass", "warning", "fail"]).sum())
            worst = [
                {"unit_id": str(u), "value": float(v)}
                for u, v in zip(
                    fails["unit_id"].head(worst_n), fails["value"].head(worst_n), strict=True
                )
            ]
            if failing:
                break
        if d_grade == "fail":
            scope = "district"
        elif failing:
            scope = "local"
        else:
            continue
        drow = district.iloc[0] if len(district) else None
        rows.append(
            {
                "indicator": iid,
                "zh": ind.zh,
                "en": ind.en,
                "dimension": ind.dimension,
                "scope": scope,
                "value": float(drow["value"]) if drow is not None else float("nan"),
                "grade": d_grade,
                "threshold": ind.threshold_text(),
                "gap": float(drow["gap"]) if drow is not None else float("nan"),
                "normalised": float(drow["normalised"]) if drow is not None else float("nan"),
                "unit": ind.unit,
                "source": ind.source,
                "red_line": ind.red_line,
                "units_failing": failing,
                "units_total": total,
                "worst_level": worst_level,
                "worst_units": worst,
            }
        )
    out = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))
    if out.empty:
        return out
    out["_scope"] = (out["scope"] != "district").astype(int)
    out = out.sort_values(["red_line", "_scope", "normalised"], ascending=[False, True, True])
    return out.drop(columns="_scope").reset_index(drop=True)

"""The report's lifeline section: pipe risk map, top renewal projects, criticality, alarms.

Built from ``RUN/lifeline/`` (see :mod:`citycheck.io.lifeline_folder`); absent when the run
folder has no lifeline results. Every label in Chinese and English.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from citycheck.io.lifeline_folder import LifelineRun, read_lifeline_run
from citycheck.labels import labels_under
from citycheck.lifeline.monitoring.alarms import KIND_NAMES, LEVEL_NAMES

__all__ = ["LIFELINE_LABELS", "lifeline_section", "risk_classes"]

#: Section labels (zh, en).
LIFELINE_LABELS: dict[str, tuple[str, str]] = labels_under("report.lifeline")


def _l(key: str, lang: str, **kw: Any) -> str:
    zh, en = LIFELINE_LABELS[key]
    return (zh if lang == "zh" else en).format(**kw)


def risk_classes(risk: pd.Series, k: int = 4) -> np.ndarray:
    """Risk class of each pipe: 0 for no risk, 1..k for the quantiles of the positive risks.

    Most pipes inside loops cut nobody off (zero consequence); splitting only the positive
    risks keeps the classes informative. NaN -> -1.
    """
    r = pd.to_numeric(risk, errors="coerce")
    out = np.full(len(r), -1, dtype=int)
    ok = r.notna().to_numpy()
    pos = (r > 0).to_numpy()
    out[ok & ~pos] = 0
    if pos.any():
        ranks = r[pos].rank(method="min", pct=True).to_numpy()
        out[pos] = 1 + np.minimum((ranks * k - 1e-9).astype(int), k - 1)
    return out


def _risk_map(data: LifelineRun, lang: str) -> str | None:
    """PNG data URI of the pipes coloured by risk class."""
    if data.pipes is None or data.risk is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from citycheck.report.fonts import register_cjk_font

    family = [register_cjk_font(), "DejaVu Sans"]
    merged = data.pipes.merge(data.risk[["pipe_id", "risk_residents_yr"]], on="pipe_id", how="left")
    cls = risk_classes(merged["risk_residents_yr"])
    palette = {0: "#c8c8c8", 1: "#fecc5c", 2: "#fd8d3c", 3: "#f03b20", 4: "#bd0026"}
    segs = [np.asarray(g.coords)[:, :2] for g in merged.geometry]
    colours = [palette.get(int(c), "#eeeeee") for c in cls]
    widths = [0.6 + 0.5 * max(c, 0) for c in cls]
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=110)
    ax.add_collection(LineCollection(segs, colors=colours, linewidths=widths))
    ax.autoscale()
    ax.set_aspect("equal")
    ax.set_axis_off()
    r = pd.to_numeric(merged["risk_residents_yr"], errors="coerce")
    for c in range(5):
        sel = r[cls == c]
        if len(sel):
            text = "0" if c == 0 else f"{sel.min():.3g}–{sel.max():.3g}"
            ax.plot([], [], color=palette[c], lw=2, label=text)
    legend = ax.legend(title=_l("risk_unit", lang), loc="best", title_fontsize=7,
                       prop={"family": family, "size": 7})  # fmt: skip
    legend.get_title().set_fontfamily(family)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _fmt(x: Any, digits: int = 1) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    if np.isnan(v):
        return "—"
    return f"{v:,.{digits}f}"


def lifeline_section(
    run: str | Path, lang: str, *, top_n: int = 10, with_map: bool = True
) -> dict[str, Any] | None:
    """Everything the lifeline section shows, or None when the run has no lifeline results.

    Parameters
    ----------
    run : path
        Run folder.
    lang : {"zh", "en"}
    top_n : int
        Rows in each ranking table.
    with_map : bool
        Draw the risk map (a PNG data URI); the dashboard draws its own.
    """
    data = read_lifeline_run(run)
    if data is None:
        return None
    out: dict[str, Any] = {
        "title": _l("title", lang),
        "note": _l("note", lang),
        "L": {k: _l(k, lang, n=top_n) for k in LIFELINE_LABELS},
        "map": _risk_map(data, lang) if with_map else None,
        "risk": [],
        "renewal": [],
        "criticality": [],
        "alarms": None,
    }
    if data.risk is not None:
        top = data.risk.sort_values("risk_residents_yr", ascending=False).head(top_n)
        out["risk"] = [
            {
                "pipe": r.pipe_id,
                "p_failure": _fmt(r.p_failure_yr, 4),
                "consequence": _fmt(r.consequence_residents, 0),
                "risk": _fmt(r.risk_residents_yr, 1),
            }
            for r in top.itertuples()
        ]
    if data.renewal is not None:
        ren = data.renewal.head(top_n)
        name_col = "name_zh" if lang == "zh" else "name_en"
        out["renewal"] = [
            {
                "project": r.project_id,
                "name": getattr(r, name_col, "") or "",
                "length_m": _fmt(r.length_m, 0),
                "cost": _fmt(r.cost_cny / 1e4, 1),
                "benefit": _fmt(r.benefit_residents_yr, 1),
                "selected": _l("yes" if bool(r.selected) else "no", lang),
            }
            for r in ren.itertuples()
        ]
    if data.criticality is not None:
        crit = data.criticality.sort_values("unmet_m3_per_day", ascending=False).head(top_n)
        out["criticality"] = [
            {
                "pipe": r.scenario,
                "unmet": _fmt(r.unmet_m3_per_day, 1),
                "unmet_share": f"{float(r.unmet_share) * 100:.1f} %",
                "residents": _fmt(r.residents_affected, 0),
                "method": _l(str(getattr(r, "method", "simulated")), lang),
            }
            for r in crit.itertuples()
        ]
    if data.alarms is not None:
        active = data.alarms[data.alarms["closed_ts"].isna()]
        i = 0 if lang == "zh" else 1
        out["alarms"] = [
            {
                "sensor": r.sensor_id,
                "kind": KIND_NAMES.get(r.kind, (r.kind, r.kind))[i],
                "level": LEVEL_NAMES.get(int(r.level), (str(r.level),) * 2)[i],
                "opened": datetime.fromtimestamp(int(r.opened_ts), UTC).strftime("%Y-%m-%d %H:%M"),
                "work_order": "" if pd.isna(r.work_order) else str(r.work_order),
                "order_status": "" if pd.isna(r.order_status) else str(r.order_status),
            }
            for r in active.itertuples()
        ]
    return out

"""Maps and charts of a run, drawn with matplotlib from the run's own data (no remote tiles).

Every function returns a PNG as a ``data:`` URI so the HTML report is one self-contained file.
Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), so they are safe in a
web server's threads too.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from citycheck.categories import categories
from citycheck.evaluate.catalogue import DIMENSIONS, dimensions
from citycheck.evaluate.scoring import OVERALL_CUTS
from citycheck.labels import label
from citycheck.report.fonts import register_cjk_font
from citycheck.report.layers import MapLayers, life_circle_missing

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "before_after_chart",
    "dimension_bars",
    "dimension_radar",
    "distribution_chart",
    "facilities_map",
    "gap_map",
    "life_circle_gap_map",
    "png_uri",
    "unit_map",
]

GRADE_COLOURS = {
    "pass": "#2e7d32",
    "warning": "#f9a825",
    "fail": "#c62828",
    "info": "#78909c",
    "no data": "#cfd8dc",
}
_CAT_COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
    "#e6550d", "#31a354", "#756bb1", "#636363", "#9c9ede",
]  # fmt: skip


def _with_cjk(func: Callable[P, R]) -> Callable[P, R]:
    """Draw with the CJK font (a matplotlib rc context; global settings are left alone)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        family = register_cjk_font()
        rc: dict[RcKeyType, Any] = {
            "font.family": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,
        }
        with matplotlib.rc_context(rc):
            return func(*args, **kwargs)

    return wrapper


def _figure(w: float = 7.0, h: float = 6.0) -> Figure:
    fig = Figure(figsize=(w, h), dpi=110)
    fig.set_layout_engine("constrained")
    return fig


def png_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _rings(gdf: gpd.GeoDataFrame) -> tuple[list[np.ndarray], np.ndarray]:
    """Exterior rings of (Multi)Polygons as arrays, and the row each ring belongs to."""
    parts = shapely.get_parts(gdf.geometry.to_numpy(), return_index=True)
    geoms, owner = parts
    rings = shapely.get_exterior_ring(geoms)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    splits = np.flatnonzero(np.diff(ring_idx)) + 1
    return np.split(coords, splits), owner[np.unique(ring_idx)]


def _polys(ax: Any, gdf: gpd.GeoDataFrame, colours: Any, zorder: int, alpha: float = 1.0) -> None:
    """Draw many polygons as one PolyCollection (fast for thousands of buildings)."""
    if not len(gdf):
        return
    rings, owner = _rings(gdf)
    fc = np.asarray(colours, dtype=object)
    face = fc[owner] if fc.ndim and len(fc) == len(gdf) else colours
    ax.add_collection(
        PolyCollection(rings, facecolors=face, edgecolors="none", zorder=zorder, alpha=alpha)
    )


def _base(ax: Any, layers: MapLayers, *, buildings: bool = True) -> None:
    if layers.green is not None and len(layers.green):
        layers.green.plot(ax=ax, color="#dcedc8", linewidth=0, zorder=1)
    if layers.water is not None and len(layers.water):
        layers.water.plot(ax=ax, color="#90caf9", linewidth=0, zorder=2)
    if layers.streets is not None and len(layers.streets):
        s = layers.streets
        major = s["highway"].isin(
            ["motorway", "trunk", "primary", "secondary", "tertiary",
             "motorway_link", "trunk_link", "primary_link", "secondary_link"]
        ) if "highway" in s else pd.Series(False, index=s.index)  # fmt: skip
        s[~major].plot(ax=ax, color="#b0b0b0", linewidth=0.4, zorder=3)
        s[major].plot(ax=ax, color="#8d8d8d", linewidth=1.1, zorder=3)
    if buildings and len(layers.buildings):
        _polys(ax, layers.buildings, "#d7ccc8", 4)
    district = layers.units.get("district")
    if district is not None and len(district):
        district.boundary.plot(ax=ax, color="#37474f", linewidth=1.0, zorder=9)


def _frame(ax: Any, layers: MapLayers) -> None:
    district = layers.units.get("district")
    ref = district if district is not None and len(district) else layers.buildings
    if len(ref):
        x0, y0, x1, y1 = ref.total_bounds
        pad = 0.03 * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    _scale_bar(ax)


def _scale_bar(ax: Any) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span = (x1 - x0) / 5
    nice = [50, 100, 200, 250, 500, 1000, 2000, 5000, 10000]
    length = max([n for n in nice if n <= span] or [nice[0]])
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="black", linewidth=2.5, zorder=20)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(bx + length / 2, by + 0.012 * (y1 - y0), text, ha="center", va="bottom",
            fontsize=7, zorder=20)  # fmt: skip


def _note(ax: Any, text: str) -> None:
    ax.text(0.01, 0.99, text, transform=ax.transAxes, fontsize=6.5, va="top", color="#555",
            bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0})  # fmt: skip


@_with_cjk
def facilities_map(layers: MapLayers, lang: str) -> str:
    """Base map with facilities coloured by category."""
    fig = _figure()
    ax = fig.add_subplot()
    _base(ax, layers)
    fac = layers.facilities
    handles = []
    cats = categories()
    if len(fac):
        pts = fac.copy()
        pts["geometry"] = pts.geometry.representative_point()
        present = [c for c in cats if c in set(pts["category"])]
        for i, cid in enumerate(present):
            colour = _CAT_COLOURS[i % len(_CAT_COLOURS)]
            pts[pts["category"] == cid].plot(
                ax=ax, color=colour, markersize=18, edgecolor="white", linewidth=0.5, zorder=10
            )
            n = int((pts["category"] == cid).sum())
            handles.append(Line2D([], [], marker="o", linestyle="", color=colour,
                                  label=f"{cats[cid].name(lang)} ({n})"))  # fmt: skip
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.85)
    if layers.streets is None:
        _note(ax, label("no_base_map", lang) + ": " + layers.base_note.text(lang))
    _frame(ax, layers)
    ax.set_title(label("map_facilities", lang), fontsize=11)
    return png_uri(fig)


@_with_cjk
def unit_map(
    layers: MapLayers, level: str, indicator: str, title: str, unit: str, lang: str
) -> str | None:
    """Choropleth of one indicator by unit, failing units outlined in red."""
    from citycheck.io.runfolder import column_name

    gdf = layers.units.get(level)
    col = column_name(indicator)
    if gdf is None or col not in gdf or gdf[col].notna().sum() == 0:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    _base(ax, layers, buildings=False)
    gdf.plot(
        ax=ax, column=col, cmap="YlGnBu", alpha=0.75, edgecolor="white", linewidth=0.6,
        zorder=5, legend=True, missing_kwds={"color": "#eeeeee"},
        legend_kwds={"label": unit, "shrink": 0.6},
    )  # fmt: skip
    gcol = column_name(indicator, "grade")
    if gcol in gdf:
        bad = gdf[gdf[gcol] == "fail"]
        if len(bad):
            bad.boundary.plot(ax=ax, color=GRADE_COLOURS["fail"], linewidth=1.6, zorder=8)
    _polys(ax, layers.buildings, "#5d4037", 6, alpha=0.25)
    ax.legend(
        handles=[Line2D([], [], color=GRADE_COLOURS["fail"], label=label("fail", lang))],
        loc="lower right", fontsize=7,
    )  # fmt: skip
    _frame(ax, layers)
    ax.set_title(title, fontsize=11)
    return png_uri(fig)


@_with_cjk
def gap_map(layers: MapLayers, category: str, column: str, lang: str) -> str:
    """Buildings within / beyond the category's walking limit (unreachable shown apart)."""
    cat = categories()[category]
    limit = cat.walk_limit_m
    b = layers.buildings
    res = b[b["residential"].fillna(False).astype(bool)] if "residential" in b else b
    d = pd.to_numeric(res[column], errors="coerce")
    klass = np.where(d.isna(), 2, np.where(d <= limit, 0, 1))
    fig = _figure()
    ax = fig.add_subplot()
    _base(ax, layers, buildings=True)
    colours = ["#43a047", "#e53935", "#212121"]
    _polys(ax, res, [colours[k] for k in klass], 6)
    fac = layers.facilities
    if len(fac):
        here = fac[fac["category"] == category]
        if len(here):
            here.geometry.representative_point().plot(
                ax=ax, color="#1565c0", markersize=30, marker="*", zorder=10
            )
    names = [f"≤ {limit:g} m", f"> {limit:g} m", label("unreachable", lang)]
    counts = [int((klass == k).sum()) for k in (0, 1, 2)]
    ax.legend(
        handles=[Patch(color=c, label=f"{n} ({k})") for c, n, k in zip(colours, names, counts,
                                                                      strict=True)]
        + [Line2D([], [], marker="*", linestyle="", color="#1565c0", label=cat.name(lang))],
        loc="lower right", fontsize=7,
    )  # fmt: skip
    _frame(ax, layers)
    ax.set_title(f"{label('map_gap', lang)}: {cat.name(lang)}", fontsize=11)
    return png_uri(fig)


@_with_cjk
def life_circle_gap_map(layers: MapLayers, columns: dict[str, str], lang: str) -> str | None:
    """Residential buildings by the number of life-circle categories beyond their walking limit."""
    cats = categories()
    use = {c: col for c, col in columns.items() if cats[c].life_circle}
    if not use:
        return None
    b = layers.buildings
    res = b[b["residential"].fillna(False).astype(bool)] if "residential" in b else b
    missing = life_circle_missing(res, use)
    top = max(int(missing.max()) if len(missing) else 0, 1)
    bounds = np.arange(-0.5, top + 1.5, 1.0)
    cmap = ListedColormap(["#43a047", *matplotlib.colormaps["OrRd"](np.linspace(0.35, 1, top))])
    fig = _figure()
    ax = fig.add_subplot()
    _base(ax, layers, buildings=True)
    norm = BoundaryNorm(bounds, cmap.N)
    _polys(ax, res, [cmap(norm(m)) for m in missing], 6)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6,
                 label=label("missing_categories", lang), ticks=list(range(top + 1)))  # fmt: skip
    _frame(ax, layers)
    ax.set_title(f"{label('map_life_circle', lang)} ({len(use)})", fontsize=11)
    return png_uri(fig)


@_with_cjk
def dimension_bars(dimension_rows: list[dict[str, Any]], lang: str) -> str:
    """District score per dimension (0–100) against the overall grade cuts."""
    fig = _figure(7.0, 3.6)
    ax = fig.add_subplot()
    names = [r["name"] for r in dimension_rows]
    vals = [r["district"] if r["district"] is not None else np.nan for r in dimension_rows]
    colours = [
        GRADE_COLOURS["no data"] if np.isnan(v)
        else GRADE_COLOURS["pass"] if v >= OVERALL_CUTS[0]
        else GRADE_COLOURS["warning"] if v >= OVERALL_CUTS[1]
        else GRADE_COLOURS["fail"]
        for v in vals
    ]  # fmt: skip
    y = np.arange(len(names))
    ax.barh(y, np.nan_to_num(vals), color=colours)
    for yi, v in zip(y, vals, strict=True):
        ax.text((0 if np.isnan(v) else v) + 1, float(yi), "—" if np.isnan(v) else f"{v:.1f}",
                va="center", fontsize=8)  # fmt: skip
    for cut in OVERALL_CUTS:
        ax.axvline(cut, color="#607d8b", linestyle="--", linewidth=0.8)
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 105)
    ax.set_xlabel(label("score", lang))
    ax.set_title(label("chart_dimensions", lang), fontsize=11)
    return png_uri(fig)


@_with_cjk
def before_after_chart(
    before: list[dict[str, Any]], after: list[dict[str, Any]], names: tuple[str, str], lang: str
) -> str:
    """District dimension scores of two runs (before / after) as paired bars."""
    fig = _figure(7.0, 3.8)
    ax = fig.add_subplot()
    y = np.arange(len(after))
    vb = [r["district"] if r["district"] is not None else np.nan for r in before]
    va = [r["district"] if r["district"] is not None else np.nan for r in after]
    ax.barh(y - 0.2, np.nan_to_num(vb), height=0.38, color="#90a4ae", label=names[0])
    ax.barh(y + 0.2, np.nan_to_num(va), height=0.38, color="#1565c0", label=names[1])
    ax.set_yticks(y, [r["name"] for r in after], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 105)
    ax.set_xlabel(label("score", lang))
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(label("chart_before_after", lang), fontsize=11)
    return png_uri(fig)


@_with_cjk
def dimension_radar(dimension_rows: list[dict[str, Any]], lang: str) -> str:
    """Radar of district dimension scores (dimensions without data at 0, marked "—")."""
    fig = _figure(4.8, 4.8)
    ax = fig.add_subplot(projection="polar")
    names = [r["name"] for r in dimension_rows]
    vals = np.array([r["district"] if r["district"] is not None else 0.0 for r in dimension_rows])
    ang = np.linspace(0, 2 * np.pi, len(names), endpoint=False)
    ax.plot(np.r_[ang, ang[:1]], np.r_[vals, vals[:1]], color="#1565c0")
    ax.fill(np.r_[ang, ang[:1]], np.r_[vals, vals[:1]], color="#1565c0", alpha=0.25)
    ax.set_xticks(ang, [n if len(n) < 14 else n[:13] + "…" for n in names], fontsize=7)
    ax.set_ylim(0, 100)
    ax.set_yticks([20, 40, 60, 80], ["20", "40", "60", "80"], fontsize=6)
    ax.set_title(label("chart_radar", lang), fontsize=11)
    return png_uri(fig)


@_with_cjk
def distribution_chart(
    unit_rows: list[dict[str, Any]], indicator_rows: list[dict[str, Any]], level: str, lang: str
) -> str | None:
    """Values across units of one level, one strip per indicator, in the indicator's unit."""
    by_id: dict[str, list[tuple[float, str]]] = {}
    for r in unit_rows:
        if r["level"] == level and r["value"] is not None:
            by_id.setdefault(r["id"], []).append((float(r["value"]), r["grade"]))
    by_id = {k: v for k, v in by_id.items() if len(v) >= 2}
    if not by_id:
        return None
    names = {r["id"]: (r["name"], r["unit"]) for r in indicator_rows}
    n = len(by_id)
    cols = 3
    rows = int(np.ceil(n / cols))
    fig = _figure(7.5, 1.9 * rows + 0.6)
    for i, (iid, pts) in enumerate(by_id.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        vals = np.array([p[0] for p in pts])
        jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(vals))
        ax.scatter(vals, jitter, s=12, c=[GRADE_COLOURS.get(p[1], "#999") for p in pts])
        ax.set_yticks([])
        ax.set_ylim(-0.6, 0.6)
        nm, unit = names.get(iid, (iid, ""))
        ax.set_title(f"{iid} {nm}"[:26], fontsize=7)
        ax.set_xlabel(unit, fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{label('chart_distribution', lang)} — {label(level, lang)}", fontsize=10)
    return png_uri(fig)


def dimension_names(lang: str) -> list[str]:
    """Dimension names in catalogue order (for legends)."""
    return [dimensions()[d][0 if lang == "zh" else 1] for d in DIMENSIONS]


__all__ += ["GRADE_COLOURS", "dimension_names"]
_ = gpd  # geopandas registers .plot on GeoDataFrames

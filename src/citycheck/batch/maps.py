"""Maps of many cities: one choropleth as a PNG and as a self-contained HTML page (inline SVG).

Used by the batch comparison (cities coloured by composite score, a dimension or an indicator)
and by ``citycheck urban-system`` (369 cities by size class or urbanisation rate).

:func:`classify` is pure: values in, a class per city and the legend out.  The drawing functions
take its result, so a legend always describes exactly the colours drawn.  Classes of numbers are
fixed intervals (``bins``) where the quantity has fixed goalposts (scores 0–100, rates in %), so
maps of different batches or years read the same way; otherwise equal intervals over the data.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "NO_DATA_COLOUR",
    "LegendClass",
    "classify",
    "map_html",
    "map_png",
    "write_map",
]

#: Sequential palette (ColorBrewer YlGnBu, 5 classes) and qualitative palette (Set2/Dark2).
SEQUENTIAL = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
QUALITATIVE = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac", "#5e3c99")
NO_DATA_COLOUR = "#d9d9d9"


@dataclass(frozen=True)
class LegendClass:
    """One entry of a map legend.

    Attributes
    ----------
    label_zh, label_en : str
        What the colour means.
    colour : str
        ``#rrggbb``.
    count : int
        Cities drawn in this colour.
    lower, upper : float
        Interval of a numeric class (``lower <= v < upper``; the last class includes ``upper``);
        NaN for categories and "no data".
    """

    label_zh: str
    label_en: str
    colour: str
    count: int
    lower: float = math.nan
    upper: float = math.nan


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.3g}"


def classify(
    values: pd.Series,
    *,
    bins: Sequence[float] | None = None,
    categories: Sequence[tuple[str, str, str]] | None = None,
    n_classes: int = 5,
) -> tuple[pd.Series, list[LegendClass]]:
    """A class (legend index) per city and the legend.

    Parameters
    ----------
    values : pandas.Series
        One value per city (numbers, or category ids when ``categories`` is given); NaN/None is
        "no data".
    bins : sequence of float, optional
        Fixed class edges (ascending; values outside are clipped into the end classes).  Default:
        ``n_classes`` equal intervals between the smallest and the largest value.
    categories : sequence of (id, zh, en), optional
        Categorical classes in legend order; values not listed are "no data".
    n_classes : int
        Number of equal intervals when ``bins`` is not given.

    Returns
    -------
    (pandas.Series, list of LegendClass)
        The legend index of each city (same index as ``values``) and the legend; the last legend
        entry is "no data" when some city has none.
    """
    legend: list[LegendClass] = []
    if categories is not None:
        order = {cid: i for i, (cid, _, _) in enumerate(categories)}
        idx = values.map(lambda v: order.get(v, -1)).astype(int)
        for i, (_cid, zh, en) in enumerate(categories):
            colour = QUALITATIVE[i % len(QUALITATIVE)]
            legend.append(LegendClass(zh, en, colour, int((idx == i).sum())))
    else:
        num = pd.to_numeric(values, errors="coerce").astype(float)
        finite = num[np.isfinite(num)]
        if bins is None:
            lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
            if hi <= lo:
                hi = lo + 1.0
            edges = np.linspace(lo, hi, n_classes + 1)
        else:
            edges = np.asarray(bins, dtype=float)
            if len(edges) < 2 or np.any(np.diff(edges) <= 0):
                raise ValueError(f"bins must be at least two ascending edges, got {list(bins)}")
        k = len(edges) - 1
        cls = np.clip(np.searchsorted(edges, num.to_numpy(), side="right") - 1, 0, k - 1)
        idx = pd.Series(np.where(np.isfinite(num.to_numpy()), cls, -1), index=values.index)
        palette = _sequential(k)
        for i in range(k):
            text = f"{_fmt(edges[i])}–{_fmt(edges[i + 1])}"
            legend.append(
                LegendClass(text, text, palette[i], int((idx == i).sum()), edges[i], edges[i + 1])
            )
    missing = int((idx < 0).sum())
    if missing:
        legend.append(LegendClass("无数据", "no data", NO_DATA_COLOUR, missing))
        idx = idx.where(idx >= 0, len(legend) - 1)
    return idx.rename("legend_class"), legend


def _sequential(k: int) -> list[str]:
    if k <= len(SEQUENTIAL):
        pick = np.round(np.linspace(0, len(SEQUENTIAL) - 1, k)).astype(int)
        return [SEQUENTIAL[i] for i in pick]
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["YlGnBu"]
    return [to_hex(cmap(x)) for x in np.linspace(0.1, 0.95, k)]


def clusters(gdf: gpd.GeoDataFrame, gap_deg: float = 1.0) -> list[list]:
    """Groups of cities whose outlines lie within ``gap_deg`` degrees of each other.

    Cities of one batch may be continents apart (a map of all of them would show specks); each
    group is drawn as its own panel.  Largest group first; index labels of ``gdf``.
    """
    boxes = gdf.geometry.bounds.to_numpy()
    valid = np.isfinite(boxes).all(axis=1)
    idx = list(gdf.index[valid])
    b = boxes[valid]
    parent = list(range(len(idx)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(idx)):
        near = np.flatnonzero(
            (b[:, 0] <= b[i, 2] + gap_deg) & (b[:, 2] >= b[i, 0] - gap_deg)
            & (b[:, 1] <= b[i, 3] + gap_deg) & (b[:, 3] >= b[i, 1] - gap_deg)
        )  # fmt: skip
        for j in near:
            parent[find(int(j))] = find(i)
    groups: dict[int, list] = {}
    for i, label in enumerate(idx):
        groups.setdefault(find(i), []).append(label)
    return sorted(groups.values(), key=lambda g: (-len(g), str(g[0])))


def _simplified(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Geometries simplified to about 1/1000 of the map's extent (drawing only)."""
    geom = gdf.geometry
    x0, y0, x1, y1 = geom.total_bounds
    tol = max(x1 - x0, y1 - y0) / 1000.0
    return geom.simplify(tol, preserve_topology=True) if tol > 0 else geom


def map_png(
    gdf: gpd.GeoDataFrame,
    classes: pd.Series,
    legend: Sequence[LegendClass],
    *,
    title: str,
    legend_title: str,
) -> bytes:
    """The choropleth as PNG bytes (matplotlib, CJK font; WGS84 drawn with a cos(lat) aspect).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        City outlines in EPSG:4326, index aligned with ``classes``.
    classes, legend
        :func:`classify` output.
    title, legend_title : str
        Bilingual texts (e.g. "综合得分 composite score").
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from citycheck.report.fonts import FontMissing, register_cjk_font

    try:
        family = [register_cjk_font(), "DejaVu Sans"]
    except FontMissing:
        family = ["DejaVu Sans"]
    groups = clusters(gdf)
    ncols = min(len(groups), 3) or 1
    nrows = max(math.ceil(len(groups) / ncols), 1)
    with matplotlib.rc_context({"font.family": family, "axes.unicode_minus": False}):
        fig = Figure(figsize=(8, 6.5 if ncols == 1 else 1.2 + 3.4 * nrows), dpi=110)
        fig.set_layout_engine("constrained")
        for k, members in enumerate(groups):
            ax = fig.add_subplot(nrows, ncols, k + 1)
            part = gdf.loc[members]
            colours = [legend[int(classes.loc[i])].colour for i in members]
            shapes = gpd.GeoDataFrame(geometry=_simplified(part), crs=gdf.crs)
            shapes.plot(ax=ax, color=colours, edgecolor="#ffffff", linewidth=0.3)
            _, y0, _, y1 = shapes.total_bounds
            ax.set_aspect(1.0 / max(math.cos(math.radians((y0 + y1) / 2)), 0.1))
            ax.set_axis_off()
            if len(groups) > 1:
                ax.set_title(_panel_title(part.geometry), fontsize=8)
        fig.suptitle(title, fontsize=11)
        handles = [
            Patch(
                facecolor=c.colour,
                edgecolor="#777777",
                label=f"{c.label_zh} {c.label_en} ({c.count})"
                if c.label_zh != c.label_en
                else f"{c.label_zh} ({c.count})",
            )
            for c in legend
        ]
        fig.legend(handles=handles, title=legend_title, loc="outside lower center", fontsize=7,
                   title_fontsize=8, framealpha=0.9, ncols=min(len(handles), 4))  # fmt: skip
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _panel_title(geoms: gpd.GeoSeries) -> str:
    x0, y0, x1, y1 = geoms.total_bounds
    lon, lat = (x0 + x1) / 2, (y0 + y1) / 2
    return f"{abs(lat):.2f}°{'N' if lat >= 0 else 'S'} {abs(lon):.2f}°{'E' if lon >= 0 else 'W'}"


def _svg_paths(geom: shapely.Geometry, sx, sy) -> str:
    parts = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            pts = " ".join(
                f"{x:.1f},{y:.1f}" for x, y in zip(sx(xy[:, 0]), sy(xy[:, 1]), strict=True)
            )
            parts.append(f"M{pts}Z")
    return " ".join(parts)


def _svg(
    gdf: gpd.GeoDataFrame,
    shapes: gpd.GeoSeries,
    classes: pd.Series,
    legend: Sequence[LegendClass],
    name_column: str,
    value_column: str,
    unit: str,
    width: int,
) -> str:
    """One ``<svg>`` of a group of cities (equirectangular with a cos(lat) aspect)."""
    x0, y0, x1, y1 = shapes.total_bounds
    kx = math.cos(math.radians((y0 + y1) / 2))
    span_x, span_y = max((x1 - x0) * kx, 1e-9), max(y1 - y0, 1e-9)
    height = min(max(round(width * span_y / span_x), 60), 720)
    scale = min((width - 20) / span_x, (height - 20) / span_y)

    def sx(x):
        return (np.asarray(x) - x0) * kx * scale + 10

    def sy(y):
        return (y1 - np.asarray(y)) * scale + 10

    paths = []
    for idx, geom in shapes.items():
        if geom is None or geom.is_empty:
            continue
        c = int(classes.loc[idx])
        value = gdf.at[idx, value_column]
        shown = (
            "—"
            if value is None or (isinstance(value, float) and math.isnan(value))
            else (f"{value:,.2f}" if isinstance(value, int | float | np.number) else str(value))
        )
        tip = f"{gdf.at[idx, name_column]}: {shown} {unit}".strip()
        paths.append(
            f'<path d="{_svg_paths(geom, sx, sy)}" fill="{legend[c].colour}" '
            f'data-city="{html.escape(str(idx))}" data-class="{c}" fill-rule="evenodd">'
            f"<title>{html.escape(tip)}</title></path>"
        )
    return (
        f"<figure><figcaption>{html.escape(_panel_title(gdf.geometry))}</figcaption>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">{"".join(paths)}</svg></figure>'
    )


def map_html(
    gdf: gpd.GeoDataFrame,
    classes: pd.Series,
    legend: Sequence[LegendClass],
    *,
    title_zh: str,
    title_en: str,
    name_column: str,
    value_column: str,
    unit: str = "",
    width: int = 900,
) -> str:
    """The choropleth as one self-contained HTML page: inline SVG, a tooltip per city, a legend.

    Each city is an SVG ``<path>`` with ``data-city`` (its index), ``data-class`` (legend index)
    and its fill colour; hovering shows the name and value.  A button switches the page's labels
    between Chinese and English.
    """
    svgs = []
    for members in clusters(gdf):
        part = gdf.loc[members]
        svgs.append(
            _svg(part, _simplified(part), classes, legend, name_column, value_column, unit, width)
        )
    rows = "".join(
        f'<li data-class="{i}"><span class="sw" style="background:{c.colour}"></span>'
        f'<span class="zh">{html.escape(c.label_zh)}</span>'
        f'<span class="en">{html.escape(c.label_en)}</span> ({c.count})</li>'
        for i, c in enumerate(legend)
    )
    return f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8">
<title>{html.escape(title_zh)} · {html.escape(title_en)}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;margin:1em;color:#222}}
svg path{{stroke:#fff;stroke-width:0.4}} svg path:hover{{stroke:#000;stroke-width:1.2}}
ul.legend{{list-style:none;padding:0}} ul.legend li{{margin:2px 0}}
.sw{{display:inline-block;width:1.2em;height:0.9em;margin-right:0.4em;border:1px solid #777}}
body.lang-en .zh{{display:none}} body.lang-zh .en{{display:none}}
</style></head>
<body class="lang-zh">
<button onclick="for(const c of ['lang-zh','lang-en'])document.body.classList.toggle(c)">
中文 / English</button>
<h1><span class="zh">{html.escape(title_zh)}</span>
<span class="en">{html.escape(title_en)}</span></h1>
{"".join(svgs)}
<ul class="legend">{rows}</ul>
</body></html>
"""


def write_map(
    out_dir: str | Path,
    stem: str,
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    title_zh: str,
    title_en: str,
    name_column: str,
    unit: str = "",
    bins: Sequence[float] | None = None,
    categories: Sequence[tuple[str, str, str]] | None = None,
) -> tuple[Path, Path, list[LegendClass]]:
    """Classify ``gdf[column]`` and write ``<stem>.png`` and ``<stem>.html`` into ``out_dir``.

    Returns
    -------
    (Path, Path, list of LegendClass)
        The PNG, the HTML page and the legend drawn on both.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    classes, legend = classify(gdf[column], bins=bins, categories=categories)
    title = f"{title_zh} · {title_en}"
    legend_title = f"{unit}" if unit else ""
    png = out / f"{stem}.png"
    png.write_bytes(map_png(gdf, classes, legend, title=title, legend_title=legend_title))
    page = out / f"{stem}.html"
    page.write_text(
        map_html(gdf, classes, legend, title_zh=title_zh, title_en=title_en,
                 name_column=name_column, value_column=column, unit=unit),
        encoding="utf-8",
    )  # fmt: skip
    return png, page, legend

"""Charts and maps of the hotline analytics (``RUN/hotline/``) for the report.

PNG figures as ``data:`` URIs (matplotlib, no pyplot state, CJK font) and the theme sparklines
as inline SVG. Maps are drawn in the UTM zone of the cells; no remote tiles.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
from matplotlib.colors import LogNorm, to_rgba_array
from matplotlib.lines import Line2D

from citycheck.report.figures import _CAT_COLOURS, _figure, _rings, _with_cjk, png_uri

__all__ = ["hex_map", "sparkline_svg", "trend_chart", "unit_density_map"]

_HOT = "#c62828"


def sparkline_svg(counts: list[int], *, width: int = 120, height: int = 28, title: str = "") -> str:
    """A small SVG line of monthly counts (the highest month marked), for a theme card.

    Parameters
    ----------
    counts : list of int
        Orders per month, in order, zeros included.
    width, height : int
        Size in pixels.
    title : str
        Tooltip / accessible name.

    Returns
    -------
    str
        ``<svg>`` markup; ``data-counts`` holds the counts for checking.
    """
    n = len(counts)
    top = max(max(counts, default=0), 1)
    pad = 2.0
    xs = [pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5) for i in range(n)]
    ys = [height - pad - (height - 2 * pad) * c / top for c in counts]
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    peak = int(np.argmax(counts)) if n else 0
    dot = f'<circle cx="{xs[peak]:.1f}" cy="{ys[peak]:.1f}" r="2" fill="{_HOT}"/>' if n else ""
    esc = title.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return (
        f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="{esc}" data-counts="{",".join(map(str, counts))}">'
        f"<title>{esc}</title>"
        f'<polyline fill="none" stroke="#0d47a1" stroke-width="1.5" points="{pts}"/>{dot}</svg>'
    )


@_with_cjk
def trend_chart(
    trend: dict[str, Any],
    surges: list[dict[str, Any]],
    intervention: dict[str, Any] | None,
    labels: dict[str, str],
) -> str:
    """Monthly orders by category, surges marked, the intervention date as a line.

    Parameters
    ----------
    trend : dict
        ``hotline.json["trend"]``: ``months``, ``categories``, ``rows``.
    surges : list of dict
        ``hotline.json["surges"]`` (``category``, ``month``).
    intervention : dict, optional
        ``hotline.json["intervention"]``.
    labels : dict
        Texts in the report's language: ``orders``, ``month``, ``surge``, ``intervention``,
        ``title``.
    """
    months = trend["months"]
    x = np.arange(len(months))
    fig = _figure(8.0, 4.2)
    ax = fig.add_subplot()
    series: dict[str, np.ndarray] = {}
    for c in trend["categories"]:
        series[c] = np.zeros(len(months))
    pos = {m: i for i, m in enumerate(months)}
    for r in trend["rows"]:
        if r["category"] in series:
            series[r["category"]][pos[r["month"]]] = r["orders"]
    handles = []
    for i, (c, y) in enumerate(series.items()):
        colour = _CAT_COLOURS[i % len(_CAT_COLOURS)]
        ax.plot(x, y, color=colour, linewidth=1.4, marker="o", markersize=2.5)
        handles.append(Line2D([], [], color=colour, label=c[:28]))
    flagged = False
    for s in surges:
        c, m = str(s.get("category", "")), s.get("month")
        if c in series and m in pos:
            ax.plot(pos[m], series[c][pos[m]], marker="o", markersize=11, markerfacecolor="none",
                    markeredgecolor=_HOT, markeredgewidth=2, zorder=5)  # fmt: skip
            flagged = True
    if flagged:
        handles.append(
            Line2D([], [], marker="o", linestyle="", markerfacecolor="none",
                   markeredgecolor=_HOT, markersize=9, label=labels["surge"])
        )  # fmt: skip
    if intervention:
        m = str(intervention["date"])[:7]
        if m in pos:
            ax.axvline(pos[m], color="#333", linestyle="--", linewidth=1.2)
            ax.text(pos[m], ax.get_ylim()[1] * 0.97, " " + labels["intervention"], fontsize=8,
                    va="top", ha="left")  # fmt: skip
    step = max(1, len(months) // 12)
    ax.set_xticks(x[::step], [months[i] for i in x[::step]], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel(labels["orders"])
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#eee")
    ax.legend(handles=handles, fontsize=7, loc="upper left", ncols=2, framealpha=0.85)
    ax.set_title(labels["title"], fontsize=11)
    return png_uri(fig)


def _draw(ax: Any, gdf: gpd.GeoDataFrame, face: Any, edge: Any, lw: Any, z: int) -> None:
    from matplotlib.collections import PolyCollection

    rings, owner = _rings(gdf)
    face = to_rgba_array(face)[owner] if not isinstance(face, str) else face
    edge = to_rgba_array(edge)[owner] if not isinstance(edge, str) else edge
    lw = np.asarray(lw, dtype=float)[owner] if not np.isscalar(lw) else lw
    ax.add_collection(
        PolyCollection(rings, facecolors=face, edgecolors=edge, linewidths=lw, zorder=z)
    )


@_with_cjk
def hex_map(
    hexes: gpd.GeoDataFrame,
    labels: dict[str, str],
    units: gpd.GeoDataFrame | None = None,
    value: str = "orders",
) -> str | None:
    """Orders (or orders per 10,000 residents: ``value="per_10k"``) per H3 cell on a log colour
    scale, Gi* hot cells outlined in red, the run's units drawn over them where they overlap.
    ``labels["value"]`` names the colour scale."""
    if not len(hexes):
        return None
    crs = hexes.estimate_utm_crs()
    hx = hexes.to_crs(crs)
    fig = _figure(7.0, 6.0)
    ax = fig.add_subplot()
    vals = hx[value].fillna(0.0).to_numpy(float)
    positive = vals[vals > 0]
    low = float(positive.min()) if len(positive) else 1.0
    norm = LogNorm(vmin=low, vmax=max(2.0 * low, vals.max()))
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable

    cm = colormaps["YlOrRd"]
    face = [cm(norm(v)) if v > 0 else (0.95, 0.95, 0.95, 1.0) for v in vals]
    hot = hx["hot"].fillna(False).astype(bool).to_numpy()
    _draw(ax, hx, face, ["#999"] * len(hx), 0.2, 2)
    if hot.any():
        _draw(ax, hx[hot], "none", _HOT, 1.8, 4)
    if units is not None and len(units):
        u = units.to_crs(crs)
        u = u[u.intersects(hx.union_all().envelope)]
        if len(u):
            _draw(ax, u, "none", "#1565c0", 0.8, 3)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cm), ax=ax, shrink=0.7, label=labels["value"])
    minx, miny, maxx, maxy = hx.total_bounds
    pad = 0.03 * max(maxx - minx, maxy - miny, 1.0)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(
        handles=[Line2D([], [], color=_HOT, linewidth=2, label=f"{labels['hot']} ({hot.sum()})")],
        loc="lower right", fontsize=8, framealpha=0.85,
    )  # fmt: skip
    ax.set_title(labels["title"], fontsize=11)
    return png_uri(fig)


@_with_cjk
def unit_density_map(
    units: gpd.GeoDataFrame, density: dict[str, float], labels: dict[str, str]
) -> str | None:
    """Orders per 10,000 residents on the run's units (units without residents grey)."""
    vals = units["unit_id"].astype(str).map(density).astype(float).to_numpy()
    if not np.isfinite(vals).any():
        return None
    u = units.to_crs(units.estimate_utm_crs()) if units.crs.is_geographic else units
    fig = _figure(7.0, 6.0)
    ax = fig.add_subplot()
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    fin = vals[np.isfinite(vals)]
    norm = Normalize(vmin=float(fin.min()), vmax=float(max(fin.max(), fin.min() + 1e-9)))
    cm = colormaps["Blues"]
    face = [cm(norm(v)) if np.isfinite(v) else (0.85, 0.85, 0.85, 1.0) for v in vals]
    _draw(ax, u, face, "#555", 0.5, 2)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cm), ax=ax, shrink=0.7, label=labels["per_10k"])
    minx, miny, maxx, maxy = u.total_bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(labels["title"], fontsize=11)
    return png_uri(fig)

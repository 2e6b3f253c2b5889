"""Writing plans and what-if results into a run folder (files only added, never replaced
except earlier planning outputs, each written atomically)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["write_json", "write_layers", "write_map"]


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    """Write JSON atomically (a temporary file renamed over the target)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_layers(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """Write GeoPackage layers (WGS84) atomically; empty layers are skipped."""
    tmp = path.with_name(path.stem + ".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    for name, gdf in layers.items():
        if len(gdf):
            out = gdf.to_crs("EPSG:4326")
            for c in out.columns:
                if c != out.geometry.name and out[c].dtype == object:
                    out[c] = out[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
            out.to_file(tmp, layer=name, driver="GPKG")
    if tmp.exists():
        os.replace(tmp, path)
    return path


def write_map(
    path: Path,
    city: Any,
    *,
    buildings: pd.Series,
    points: dict[str, gpd.GeoDataFrame],
    title: str,
) -> Path:
    """A PNG map: buildings coloured by a status column, and point layers on top.

    ``buildings`` maps building index to a label ("served before", "newly served", "not
    served", ...).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {
        "served before": "#9ecae1",
        "newly served": "#31a354",
        "no longer served": "#de2d26",
        "not served": "#bdbdbd",
        "gains": "#31a354",
        "loses": "#de2d26",
    }
    fig, ax = plt.subplots(figsize=(8, 8), dpi=110)
    gpd.GeoSeries([city.boundary], crs=city.crs).boundary.plot(ax=ax, color="k", linewidth=0.6)
    city.streets.plot(ax=ax, color="#dddddd", linewidth=0.4)
    b = city.buildings.loc[buildings.index]
    for label, colour in colours.items():
        sel = (buildings == label).to_numpy()
        if sel.any():
            b[sel].plot(ax=ax, color=colour, label=f"{label} ({int(sel.sum())})")
    markers = ["*", "X", "o", "^"]
    for k, (label, gdf) in enumerate(points.items()):
        if len(gdf):
            gdf.plot(
                ax=ax,
                marker=markers[k % 4],
                color=["#d95f0e", "#756bb1", "#000000", "#e7298a"][k % 4],
                markersize=90,
                label=label,
                zorder=5,
            )
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    ax.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path

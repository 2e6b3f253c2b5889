"""Plans and what-if results for a run folder: the layers and maps, handed to
:mod:`citycheck.io.planning_folder`, which owns the files (``RUN/planning/``,
``RUN/whatif/<scenario>/``)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from citycheck.io.planning_folder import write_planning_folder, write_whatif_folder

__all__ = [
    "map_png",
    "write_plan_outputs",
    "write_whatif_outputs",
]


def map_png(
    city: Any,
    *,
    buildings: pd.Series,
    points: dict[str, gpd.GeoDataFrame],
    title: str,
) -> bytes:
    """A PNG map (its bytes): buildings coloured by a status column, and point layers on top.

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
    buf = BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def write_plan_outputs(
    run: Path,
    city: Any,
    projects: pd.DataFrame,
    plans: list[Any],
    parameters: dict[str, Any],
) -> Path:
    """Write RUN/planning/: projects.json, projects.csv, a map per plan and sites.gpkg.

    Returns the folder.
    """
    from citycheck.plan.plan import projects_document

    document = projects_document(projects, run=str(run), parameters=parameters)
    layers: dict[str, gpd.GeoDataFrame] = {}
    maps: dict[str, bytes] = {}
    for p in plans:
        s = p.sites.assign(category=p.category)
        c = p.candidates.assign(category=p.category)
        layers["proposed_sites"] = pd.concat([layers.get("proposed_sites", s.iloc[:0]), s])
        layers["candidate_sites"] = pd.concat([layers.get("candidate_sites", c.iloc[:0]), c])
        status = np.where(
            p.demand["served_before"],
            "served before",
            np.where(p.demand["served_after"], "newly served", "not served"),
        )
        maps[p.category] = map_png(
            city,
            buildings=pd.Series(status, index=p.demand.index),
            points={"proposed sites": p.sites},
            title=f"{p.category}: {len(p.sites)} new sites, {p.buildings_newly_served} buildings "
            f"newly within {p.limit_m:g} m",
        )
    return write_planning_folder(
        run,
        document=document,
        projects=projects.to_dict("records"),
        maps=maps,
        layers=layers,
    )


def write_whatif_outputs(
    out: Path,
    city: Any,
    scenario_file: Path,
    wi: Any,
    actions: list[Any],
    before: Any,
    after: Any,
    changes: pd.DataFrame,
) -> Path:
    """Write a what-if folder: whatif.json, changes.csv, whatif.gpkg (the actions and the
    buildings whose access changed) and whatif.png. Returns the folder."""
    import shapely

    from citycheck.access import dist_column

    # the layers: buildings whose access changed, and the actions
    rows = sorted(wi.changed_rows)
    idx = before.buildings.index[rows]
    geoms, labels = [], []
    for a in actions:
        if a.op == "connect":
            geoms.append(shapely.LineString([a.point, a.to]))
        elif a.point is not None:
            geoms.append(shapely.Point(a.point))
        else:
            continue
        labels.append(f"{a.op} {a.category or a.facility_id or ''} {a.name}".strip())
    acts = gpd.GeoDataFrame({"action": labels}, geometry=geoms, crs=city.crs)
    cats = {c for c in before.categories.index if dist_column(c) in after.buildings}
    bl = (
        city.buildings.loc[idx, ["osm_id", "geometry"]].copy()
        if len(idx)
        else city.buildings.iloc[:0][["osm_id", "geometry"]]
    )
    for c in sorted(cats):
        d0 = (
            before.buildings.loc[idx, dist_column(c)]
            if dist_column(c) in before.buildings
            else np.nan
        )
        d1 = after.buildings.loc[idx, dist_column(c)]
        if not np.array_equal(
            np.asarray(d0, dtype=float), np.asarray(d1, dtype=float), equal_nan=True
        ):
            bl[f"{c}_before_m"] = d0
            bl[f"{c}_after_m"] = d1
    png = map_png(
        city,
        buildings=pd.Series("gains", index=idx),
        points={"changes": acts[acts.geom_type == "Point"]},
        title=f"what-if {scenario_file.stem}: {len(idx)} buildings with changed access",
    )
    return write_whatif_folder(
        out,
        scenario=str(scenario_file),
        actions=wi.log,
        changes=changes,
        layers={"actions": acts, "buildings_changed": bl},
        map_png=png,
    )

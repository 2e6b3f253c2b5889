"""Writing plans and what-if results into a run folder (files only added, never replaced
except earlier planning outputs, each written atomically)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = [
    "flat_projects",
    "write_json",
    "write_layers",
    "write_map",
    "write_plan_outputs",
    "write_whatif_outputs",
]


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


def flat_projects(projects: pd.DataFrame) -> pd.DataFrame:
    """The project list as a flat table (projects.csv): one row per project."""
    rows = []
    for r in projects.to_dict("records"):
        prob = r.get("problem") or {}
        district = [m for m in r.get("indicators_moved", []) if m.get("level") == "district"]
        rows.append(
            {
                "rank": r.get("rank"),
                "indicator": prob.get("indicator"),
                "problem_zh": prob.get("zh"),
                "problem_en": prob.get("en"),
                "category": r["category"],
                "category_zh": r["category_zh"],
                "category_en": r["category_en"],
                "n_sites": r["n_sites"],
                "site_ids": ";".join(s["site_id"] for s in r.get("sites", [])),
                "residents_newly_served": r.get("residents_newly_served"),
                "buildings_newly_served": r.get("buildings_newly_served"),
                "cost": r.get("cost"),
                "gap": (r.get("solver") or {}).get("gap"),
                "district_changes": "; ".join(
                    f"{m['indicator']} {m['before'] if m['before'] is not None else 'no data'}"
                    f" → {m['after']:.1f}"
                    for m in district
                    if m.get("after") is not None
                ),
                "note": r.get("note", ""),
            }
        )
    return pd.DataFrame(rows)


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

    out = run / "planning"
    out.mkdir(exist_ok=True)
    write_json(
        out / "projects.json", projects_document(projects, run=str(run), parameters=parameters)
    )
    csv_tmp = out / "projects.csv.tmp"
    flat_projects(projects).to_csv(csv_tmp, index=False)
    csv_tmp.replace(out / "projects.csv")
    layers: dict[str, gpd.GeoDataFrame] = {}
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
        write_map(
            out / f"plan_{p.category}.png",
            city,
            buildings=pd.Series(status, index=p.demand.index),
            points={"proposed sites": p.sites},
            title=f"{p.category}: {len(p.sites)} new sites, {p.buildings_newly_served} buildings "
            f"newly within {p.limit_m:g} m",
        )
    write_layers(out / "sites.gpkg", layers)
    return out


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

    out.mkdir(parents=True, exist_ok=True)
    rec = changes.astype(object).where(changes.notna(), None).to_dict("records")
    write_json(
        out / "whatif.json",
        {
            "schema": "citycheck.whatif",
            "schema_version": "1.0",
            "scenario": str(scenario_file),
            "actions": wi.log,
            "changes": rec,
        },
    )
    changes.to_csv(out / "changes.csv", index=False)
    # map: buildings whose access changed, and the actions
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
    write_layers(out / "whatif.gpkg", {"actions": acts, "buildings_changed": bl})
    write_map(
        out / "whatif.png",
        city,
        buildings=pd.Series("gains", index=idx),
        points={"changes": acts[acts.geom_type == "Point"]},
        title=f"what-if {scenario_file.stem}: {len(idx)} buildings with changed access",
    )
    return out

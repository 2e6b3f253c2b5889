"""What-if: add, move or remove facilities, or open a path, and re-evaluate only what changed.

A :class:`WhatIf` holds the per-building table of an :class:`~citycheck.access.AccessResult`
(nearest distances and counts within radii per category) and updates it in place with bounded
searches around each change, never re-running the whole city:

- **add** a facility: one search from the new site up to the largest radius ``R``; nearest
  distances take the minimum, counts within each radius grow by one where it is within reach;
- **remove**: one search from the removed facility gives the buildings it served (counts shrink
  there); their nearest distance is recomputed from the other facilities that can reach them,
  found by a search of ``2R`` from the removed site on the network with every node passable (a
  lower bound of the true distance, so none is missed);
- **move** = remove + add;
- **connect** two points with a new path: the edge is added between the street nodes nearest the
  two points; only facilities within ``R`` of either end can gain, and each of them is searched
  before and after to update counts and nearest distances.

Indicators are then recomputed from the updated table with the engine's own definitions
(:func:`citycheck.access.indicator_values`), graded
(:func:`citycheck.evaluate.scoring.grade_values`) and compared with the state before, per
indicator, level and unit.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citycheck.access.analyse import DERIVED_CATEGORIES, AccessResult, count_column, dist_column
from citycheck.access.graph import AccessGraph
from citycheck.access.life_circles import life_circle_flags
from citycheck.access.queries import distances_within, street_index
from citycheck.access.snapping import SegmentIndex, facility_access_points
from citycheck.categories import categories
from citycheck.io.errors import InputError

__all__ = [
    "Action",
    "WhatIf",
    "indicator_changes",
    "read_scenario",
    "scenario_actions",
    "search_from",
]

log = logging.getLogger(__name__)


def search_from(
    graph_arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    nodes: np.ndarray,
    offsets: np.ndarray,
    cutoff_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Bounded multi-source search; returns (touched nodes, their distances).

    ``graph_arrays`` is ``(indptr, indices, weights, transit)``. The engine's bounded search
    (:func:`citycheck.access.distances_within`), so distances equal those of
    :func:`citycheck.access.analyse_city`.
    """
    return distances_within(graph_arrays, nodes, offsets, cutoff_m=cutoff_m)


@dataclass(frozen=True)
class Action:
    """One change of a scenario.

    Attributes
    ----------
    op : {"add", "remove", "move", "connect"}
    category : str or None
        Facility category (add).
    point : (x, y) or None
        Where (add, move: the new place; connect: one end), in the city's CRS.
    to : (x, y) or None
        Other end of a new path (connect).
    facility_id : str or None
        The facility removed or moved.
    length_m : float or None
        Length of a new path (connect; default the straight distance between its ends).
    name : str
        Label.
    """

    op: str
    category: str | None = None
    point: tuple[float, float] | None = None
    to: tuple[float, float] | None = None
    facility_id: str | None = None
    length_m: float | None = None
    name: str = ""


def read_scenario(path: str | os.PathLike[str], crs: Any) -> list[Action]:
    """Read a scenario file (JSON) into actions in ``crs``.

    Format::

        {"name": "...", "actions": [
          {"op": "add", "category": "elderly_care", "lon": 116.35, "lat": 39.96, "name": "..."},
          {"op": "remove", "facility_id": "n123"},
          {"op": "move", "facility_id": "n123", "lon": ..., "lat": ...},
          {"op": "connect", "from": [lon, lat], "to": [lon, lat], "length_m": 40}
        ]}

    Coordinates are WGS84 longitude/latitude.

    Raises
    ------
    InputError
        Naming the file, the action (``actions[i].field``) and the bad value.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(p, "file", p.name, f"not a readable JSON scenario ({exc})") from exc
    return scenario_actions(doc, crs, source=p)


def scenario_actions(doc: Any, crs: Any, *, source: str | os.PathLike[str]) -> list[Action]:
    """Validate a scenario document (the parsed JSON of :func:`read_scenario`) into actions.

    Parameters
    ----------
    doc : object
        ``{"actions": [...]}`` as described in :func:`read_scenario`.
    crs : CRS
        The city's CRS; WGS84 longitude/latitude are transformed into it.
    source : str or path
        What the document came from (a file, or a request), named in errors.

    Raises
    ------
    InputError
        Naming the source, the action (``actions[i].field``) and the bad value.
    """
    p = source
    acts = doc.get("actions") if isinstance(doc, dict) else None
    if not isinstance(acts, list) or not acts:
        raise InputError(p, "actions", acts, "a scenario needs a non-empty list 'actions'")
    from pyproj import Transformer

    tf = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    cats = categories()
    out: list[Action] = []

    def lonlat(i: int, field: str, v: Any) -> tuple[float, float]:
        try:
            lon, lat = float(v[0]), float(v[1])
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise InputError(p, f"actions[{i}].{field}", v, "expected [lon, lat]") from exc
        if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(p, f"actions[{i}].{field}", v, "not a WGS84 longitude/latitude")
        x, y = tf.transform(lon, lat)
        return float(x), float(y)

    for i, a in enumerate(acts):
        if not isinstance(a, dict):
            raise InputError(p, f"actions[{i}]", a, "each action is an object")
        op = a.get("op")
        name = str(a.get("name", ""))
        if op in ("add", "move"):
            pt = lonlat(i, "lon/lat", (a.get("lon"), a.get("lat")))
            if op == "add":
                cat = a.get("category")
                if cat not in cats or cats[cat].walk_limit_m is None:
                    raise InputError(
                        p,
                        f"actions[{i}].category",
                        cat,
                        "unknown category or one without a walking limit; choose from "
                        + ", ".join(c for c, v in cats.items() if v.walk_limit_m is not None),
                    )
                out.append(Action("add", category=cat, point=pt, name=name))
            else:
                fid = a.get("facility_id")
                if fid is None or fid == "":
                    raise InputError(p, f"actions[{i}].facility_id", fid, "move needs facility_id")
                out.append(Action("move", point=pt, facility_id=str(fid), name=name))
        elif op == "remove":
            fid = a.get("facility_id")
            if fid is None or fid == "":
                raise InputError(p, f"actions[{i}].facility_id", fid, "remove needs facility_id")
            out.append(Action("remove", facility_id=str(fid), name=name))
        elif op == "connect":
            a_pt = lonlat(i, "from", a.get("from"))
            b_pt = lonlat(i, "to", a.get("to"))
            length = a.get("length_m")
            if length is not None and (not isinstance(length, int | float) or length < 0):
                raise InputError(p, f"actions[{i}].length_m", length, "expected metres ≥ 0")
            out.append(Action("connect", point=a_pt, to=b_pt, length_m=length, name=name))
        else:
            raise InputError(
                p, f"actions[{i}].op", op, "choose 'add', 'remove', 'move' or 'connect'"
            )
    return out


def _facility_rows(city: Any, result: AccessResult) -> pd.DataFrame:
    """The facility rows the engine analysed (table categories, then park size classes), with
    their hubs; checked against the categories the result recorded."""
    fac = city.facilities
    cats = list(categories())
    first = fac[fac["category"].isin(cats)]
    parts = [
        pd.DataFrame(
            {"facility_id": first["facility_id"].astype(str), "category": first["category"]}
        )
    ]
    area = fac["area_m2"] if "area_m2" in fac.columns else fac.geometry.area
    for cid, (_, _, base, lo, hi) in DERIVED_CATEGORIES.items():
        sel = (fac["category"] == base) & (area >= lo) & (area < hi)
        parts.append(
            pd.DataFrame({"facility_id": fac.loc[sel, "facility_id"].astype(str), "category": cid})
        )
    rows = pd.concat(parts, ignore_index=True)
    recorded = np.asarray(result.params.get("facility_categories", []))
    hub = result.graph.hubs["facilities"]
    if recorded.size < len(rows) or not np.array_equal(
        recorded[: len(rows)], rows["category"].to_numpy()
    ):
        raise ValueError(
            "what-if: the access result does not match the city's facilities (was it computed "
            "with analyse_city(city) on this City?)"
        )
    rows["hub"] = hub[: len(rows)]
    return rows


def _hub_seed(hub: int) -> tuple[np.ndarray, np.ndarray]:
    """Search seeds of a facility hub (none where it has no hub)."""
    if hub < 0:
        return np.empty(0, np.int64), np.empty(0)
    return np.array([hub], dtype=np.int64), np.zeros(1)


class WhatIf:
    """Incremental re-evaluation of a city's walking access under changes.

    Parameters
    ----------
    city : citycheck.city.City
    result : AccessResult
        ``analyse_city(city)`` (the state before); it is not modified.
    """

    def __init__(self, city: Any, result: AccessResult):
        self.city = city
        self.before = result
        self.graph: AccessGraph = result.graph
        self.table = result.buildings.copy()
        self.radii = tuple(result.params["radii_m"])
        self.bound = float(max(self.radii))
        self.max_snap_m = float(result.params["max_snap_m"])
        self.status = result.categories["status"].copy()
        self.facilities = _facility_rows(city, result)
        self.active = np.ones(len(self.facilities), dtype=bool)
        self.extra: list[dict[str, Any]] = []  # added facilities: category, hub seeds
        b_hub = result.graph.hubs["buildings"]
        self.bld_row = np.full(self.graph.n_nodes, -1, dtype=np.int64)
        ok = b_hub >= 0
        self.bld_row[b_hub[ok]] = np.flatnonzero(ok)
        self._index: SegmentIndex | None = None
        self.log: list[dict[str, Any]] = []
        self.changed_rows: set[int] = set()

    # -- helpers -------------------------------------------------------------------------------
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        g = self.graph
        return g.indptr, g.indices, g.weights, g.transit

    def _seeds(self, geom: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
        """Start nodes and offsets of a facility at ``geom`` (both ends of the edge each access
        point snaps to, as the engine would join it)."""
        if self._index is None:
            self._index = street_index(self.graph, max(self.max_snap_m, 50.0))
        pts = facility_access_points(gpd.GeoDataFrame(geometry=[geom], crs=self.city.crs))
        e, t, d = self._index.nearest(pts.x, pts.y, self.max_snap_m)
        ok = e >= 0
        if not ok.any():
            raise ValueError(
                f"the site at ({geom.centroid.x:.1f}, {geom.centroid.y:.1f}) is farther than "
                f"{self.max_snap_m:g} m from every walkable way"
            )
        e, t, d = e[ok], t[ok], d[ok]
        g = self.graph
        L = g.edge_len[e]
        nodes = np.concatenate([g.edge_u[e], g.edge_v[e]])
        offs = np.concatenate([d + t * L, d + (1 - t) * L])
        return nodes, offs

    def _ensure_category(self, cat: str) -> None:
        col = dist_column(cat)
        reach = self.table["reachable"].to_numpy()
        if col not in self.table or self.status.get(cat) != "ok":
            d = np.full(len(self.table), np.nan)
            d[reach] = np.inf
            self.table[col] = d
            for r in self.radii:
                c = pd.array(np.zeros(len(self.table), dtype=np.int64), dtype="Int32")
                c[~reach] = pd.NA
                self.table[count_column(cat, r)] = c
            self.status[cat] = "ok"

    def _apply_gain(self, cat: str, rows: np.ndarray, d: np.ndarray, sign: int) -> None:
        """Counts +sign where within each radius; nearest distance min-updated on gains."""
        if rows.size == 0:
            return
        for r in self.radii:
            col = count_column(cat, r)
            within = d <= r
            if within.any():
                vals = self.table[col].to_numpy(dtype="float64", na_value=np.nan, copy=True)
                vals[rows[within]] += sign
                self.table[col] = pd.array(vals, dtype="Int32")
        if sign > 0:
            col = dist_column(cat)
            cur = self.table[col].to_numpy(dtype=np.float64, copy=True)
            better = d < cur[rows]
            cur[rows[better]] = d[better]
            self.table[col] = cur
        self.changed_rows.update(rows.tolist())

    def _reach(
        self, nodes: np.ndarray, offs: np.ndarray, cutoff: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Building rows and distances reached from seeds."""
        t, d = search_from(self._arrays(), nodes, offs, cutoff)
        r = self.bld_row[t]
        ok = r >= 0
        return r[ok], d[ok]

    # -- actions -------------------------------------------------------------------------------
    def add(self, category: str, geom: shapely.Geometry, *, label: str = "") -> dict[str, Any]:
        """Add a facility of ``category`` at ``geom``; returns a summary of what changed."""
        cats = [category]
        if category == "park":
            area = float(geom.area)
            cats += [c for c, v in DERIVED_CATEGORIES.items() if v[3] <= area < v[4]]
        nodes, offs = self._seeds(geom)
        rows, d = self._reach(nodes, offs, self.bound)
        for cat in cats:
            self._ensure_category(cat)
            self._apply_gain(cat, rows, d, +1)
        self.extra.append({"category": category, "nodes": nodes, "offs": offs, "geometry": geom})
        rec = {
            "op": "add",
            "category": category,
            "label": label,
            "buildings_reached": int(rows.size),
        }
        self.log.append(rec)
        return rec

    def _facility_position(self, facility_id: str) -> np.ndarray:
        pos = np.flatnonzero(
            (self.facilities["facility_id"] == str(facility_id)).to_numpy() & self.active
        )
        if pos.size == 0:
            raise ValueError(f"facility_id={facility_id!r}: no such facility (or already removed)")
        return pos

    def remove(self, facility_id: str, *, label: str = "") -> dict[str, Any]:
        """Remove an existing facility (every category row it has)."""
        pos = self._facility_position(facility_id)
        touched_total = 0
        geom = None
        for p in pos:
            cat = self.facilities["category"].iat[p]
            hub = int(self.facilities["hub"].iat[p])
            self.active[p] = False
            if hub < 0:
                continue
            rows, d = self._reach(np.array([hub]), np.zeros(1), self.bound)
            self._apply_gain(cat, rows, d, -1)
            # nearest distance of the buildings it reached: from the other facilities near it
            g = self.graph
            relaxed = (g.indptr, g.indices, g.weights, np.ones(g.n_nodes, dtype=bool))
            t, _ = search_from(relaxed, np.array([hub]), np.zeros(1), 2 * self.bound)
            near = set(t.tolist())
            same = (self.facilities["category"].to_numpy() == cat) & self.active
            hubs = self.facilities["hub"].to_numpy()[same]
            src = np.array([h for h in hubs if h >= 0 and h in near], dtype=np.int64)
            seeds_n = [src]
            seeds_o = [np.zeros(src.size)]
            for ex in self.extra:
                if ex["category"] == cat:
                    seeds_n.append(ex["nodes"])
                    seeds_o.append(ex["offs"])
            col = dist_column(cat)
            cur = self.table[col].to_numpy(dtype=np.float64, copy=True)
            new = np.full(rows.size, np.inf)
            sn, so = np.concatenate(seeds_n), np.concatenate(seeds_o)
            if sn.size:
                r2, d2 = self._reach(sn, so, self.bound)
                lookup = dict(zip(r2.tolist(), d2.tolist(), strict=True))
                new = np.array([lookup.get(int(r), np.inf) for r in rows])
            cur[rows] = new
            self.table[col] = cur
            touched_total += int(rows.size)
            geom = geom or hub
        rec = {
            "op": "remove",
            "facility_id": facility_id,
            "label": label,
            "buildings_reached": touched_total,
        }
        self.log.append(rec)
        return rec

    def move(self, facility_id: str, geom: shapely.Geometry, *, label: str = "") -> dict[str, Any]:
        """Move an existing facility to ``geom`` (remove, then add with its first category)."""
        pos = self._facility_position(facility_id)
        cat = str(self.facilities["category"].iat[pos[0]])
        cat = next((v[2] for c, v in DERIVED_CATEGORIES.items() if c == cat), cat)
        self.remove(facility_id, label=label)
        rec = self.add(cat, geom, label=label)
        rec = {**rec, "op": "move", "facility_id": facility_id}
        self.log[-2:] = [rec]
        return rec

    def connect(
        self,
        a: tuple[float, float],
        b: tuple[float, float],
        *,
        length_m: float | None = None,
        label: str = "",
    ) -> dict[str, Any]:
        """Open a path between the street-network nodes nearest ``a`` and ``b``.

        Buildings and facilities that the engine would now snap to the path (nearer to it than
        to their present way, or beyond the snapping distance of every way before) are
        re-attached (:func:`citycheck.plan.reattach.open_path`). Every facility whose
        reach can change — within ``R`` of either end of the path or of a re-attached building,
        before or after, and the re-attached facilities — is searched on the old and the new
        graph; counts change by the difference, and the nearest distances of every building
        those searches touch are recomputed from all facilities within ``R`` of them.
        """
        from scipy.spatial import cKDTree

        from citycheck.plan.reattach import open_path

        g = self.graph
        # the nodes of the street network itself (not the split nodes of access points): a
        # mapped path joins a way at a shared node, as the engine reads it
        street = np.asarray(g.base_node, dtype=np.int64)
        tree = cKDTree(np.stack([g.x[street], g.y[street]], axis=1))
        (da, ia), (db, ib) = tree.query(a), tree.query(b)
        na, nb_ = int(street[ia]), int(street[ib])
        if na == nb_:
            raise ValueError("connect: both ends join the same street node; nothing to open")
        L = (
            float(length_m)
            if length_m is not None
            else float(np.hypot(g.x[na] - g.x[nb_], g.y[na] - g.y[nb_]))
        )
        old = self._arrays()
        old_hub = self.facilities["hub"].to_numpy().copy()
        old_bhub = g.hubs["buildings"].copy()
        fac_geom = self.city.facilities.drop_duplicates("facility_id").set_index(
            self.city.facilities.drop_duplicates("facility_id")["facility_id"].astype(str)
        )
        fgdf = gpd.GeoDataFrame(
            geometry=fac_geom.geometry.reindex(self.facilities["facility_id"]).to_numpy(),
            crs=self.city.crs,
        )
        re = open_path(
            g,
            na,
            nb_,
            L,
            buildings=self.city.buildings,
            facilities=fgdf,
            entrances=getattr(self.city, "entrances", None),
            max_snap_m=self.max_snap_m,
        )
        self.graph = re.graph
        self._index = None
        new = self._arrays()
        # buildings: new hubs, reachability and snap distances
        b_hub = re.graph.hubs["buildings"]
        self.bld_row = np.full(re.graph.n_nodes, -1, dtype=np.int64)
        ok = b_hub >= 0
        self.bld_row[b_hub[ok]] = np.flatnonzero(ok)
        fresh_b = re.new_hubs["buildings"]
        if fresh_b.size:
            self._make_reachable(fresh_b)
        if re.buildings.size:
            snap = self.table["snap_m"].to_numpy(dtype=np.float64, copy=True)
            snap[re.buildings] = re.snap_m["buildings"]
            self.table["snap_m"] = snap
        self.facilities["hub"] = re.graph.hubs["facilities"][: len(self.facilities)]
        new_hub = self.facilities["hub"].to_numpy()
        # change points: the path's ends and the re-attached buildings (old and new hubs)
        pts_old = np.concatenate([[na, nb_], old_bhub[re.buildings]])
        pts_old = pts_old[pts_old >= 0]
        pts_new = np.concatenate([[na, nb_], b_hub[re.buildings]])
        near_old = set(search_from(old, pts_old, np.zeros(pts_old.size), self.bound)[0].tolist())
        near_new = set(search_from(new, pts_new, np.zeros(pts_new.size), self.bound)[0].tolist())
        fac_cat = self.facilities["category"].to_numpy()
        moved_fac = set(re.facilities.tolist())
        # (category, old seeds, new seeds) of every facility whose reach can change
        sources: list[tuple[str, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]]
        sources = []
        for k in np.flatnonzero(self.active):
            h0, h1 = int(old_hub[k]), int(new_hub[k])
            if k in moved_fac or (h0 >= 0 and h0 in near_old) or (h1 >= 0 and h1 in near_new):
                sources.append((str(fac_cat[k]), _hub_seed(h0), _hub_seed(h1)))
        for ex in self.extra:
            nodes = ex["nodes"]
            if any(int(n) in near_old or int(n) in near_new for n in nodes):
                sources.append((ex["category"], (nodes, ex["offs"]), (nodes, ex["offs"])))
        touched: dict[str, set[int]] = {}
        for cat, (n0, o0), (n1, o1) in sources:
            if self.status.get(cat) != "ok":
                self._ensure_category(cat)
            r0, d0 = self._reach_on(old, n0, o0)
            r1, d1 = self._reach_on(new, n1, o1)
            for r in self.radii:
                col = count_column(cat, r)
                vals = self.table[col].to_numpy(dtype="float64", na_value=np.nan, copy=True)
                np.add.at(vals, r1[d1 <= r], 1)
                np.add.at(vals, r0[d0 <= r], -1)
                self.table[col] = pd.array(vals, dtype="Int32")
            touched.setdefault(cat, set()).update(r0.tolist())
            touched[cat].update(r1.tolist())
        changed: set[int] = set(re.buildings.tolist())
        for cat, rows_set in touched.items():
            rows = np.array(sorted(rows_set), dtype=np.int64)
            if rows.size:
                self._refresh_nearest(cat, rows)
                changed.update(rows.tolist())
        # the re-attached buildings: nearest distances of every category from scratch
        if re.buildings.size:
            for cat, st in self.status.items():
                if st == "ok" and dist_column(cat) in self.table:
                    self._refresh_nearest(cat, re.buildings)
        before_tab = self.before.buildings
        gaining = 0
        for r in changed:
            for cat in touched:
                col = dist_column(cat)
                d_new = self.table[col].iat[r]
                d_old = before_tab[col].iat[r] if col in before_tab else np.nan
                if (np.isnan(d_old) and not np.isnan(d_new)) or d_new < d_old:
                    gaining += 1
                    break
        self.changed_rows.update(changed)
        rec = {
            "op": "connect",
            "label": label,
            "length_m": L,
            "snap_m": [float(da), float(db)],
            "facilities_rechecked": len(sources),
            "buildings_reattached": int(re.buildings.size),
            "facilities_reattached": int(re.facilities.size),
            "buildings_gaining": gaining,
        }
        self.log.append(rec)
        return rec

    def _reach_on(
        self, arrays: tuple[np.ndarray, ...], nodes: np.ndarray, offs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Building rows and distances within ``R`` of seeds on a given graph."""
        if nodes.size == 0:
            return np.empty(0, np.int64), np.empty(0)
        t, d = search_from(arrays, nodes, offs, self.bound)  # type: ignore[arg-type]
        t_ok = t < self.bld_row.size
        t, d = t[t_ok], d[t_ok]
        r = self.bld_row[t]
        ok = r >= 0
        return r[ok], d[ok]

    def _make_reachable(self, rows: np.ndarray) -> None:
        """Buildings that joined the network: counts 0 and nearest distance +inf to start."""
        reach = self.table["reachable"].to_numpy(copy=True)
        reach[rows] = True
        self.table["reachable"] = reach
        for cat, st in self.status.items():
            if st != "ok" or dist_column(cat) not in self.table:
                continue
            d = self.table[dist_column(cat)].to_numpy(dtype=np.float64, copy=True)
            d[rows] = np.inf
            self.table[dist_column(cat)] = d
            for r in self.radii:
                col = count_column(cat, r)
                vals = self.table[col].to_numpy(dtype="float64", na_value=np.nan, copy=True)
                vals[rows] = 0
                self.table[col] = pd.array(vals, dtype="Int32")

    def _refresh_nearest(self, cat: str, rows: np.ndarray) -> None:
        """Nearest distance of ``cat`` for building ``rows``: a search from every facility of
        the category within ``R`` of them (found by a search from their hubs)."""
        hubs = self.graph.hubs["buildings"][rows]
        arr = self._arrays()
        t, _ = search_from(arr, hubs[hubs >= 0], np.zeros(int((hubs >= 0).sum())), self.bound)
        near = np.zeros(self.graph.n_nodes, dtype=bool)
        near[t] = True
        same = (self.facilities["category"].to_numpy() == cat) & self.active
        fh = self.facilities["hub"].to_numpy()[same]
        fh = fh[(fh >= 0)]
        fh = fh[near[fh]]
        seeds_n, seeds_o = [fh.astype(np.int64)], [np.zeros(fh.size)]
        for ex in self.extra:
            if ex["category"] == cat and near[ex["nodes"]].any():
                seeds_n.append(ex["nodes"])
                seeds_o.append(ex["offs"])
        sn, so = np.concatenate(seeds_n), np.concatenate(seeds_o)
        col = dist_column(cat)
        cur = self.table[col].to_numpy(dtype=np.float64, copy=True)
        new = np.full(rows.size, np.inf)
        if sn.size:
            r2, d2 = self._reach_on(arr, sn, so)
            best = np.full(len(self.table), np.inf)
            np.minimum.at(best, r2, d2)
            new = best[rows]
        reach = self.table["reachable"].to_numpy()[rows]
        cur[rows] = np.where(reach, new, np.nan)
        self.table[col] = cur

    def apply(self, actions: list[Action]) -> None:
        """Apply a scenario's actions in order."""
        for a in actions:
            if a.op == "add":
                self.add(a.category, shapely.Point(a.point), label=a.name)  # type: ignore[arg-type]
            elif a.op == "remove":
                self.remove(a.facility_id, label=a.name)  # type: ignore[arg-type]
            elif a.op == "move":
                self.move(a.facility_id, shapely.Point(a.point), label=a.name)  # type: ignore[arg-type]
            elif a.op == "connect":
                self.connect(a.point, a.to, length_m=a.length_m, label=a.name)  # type: ignore[arg-type]

    def result(self) -> AccessResult:
        """The access result after the changes (life-circle flags recomputed)."""
        flags = life_circle_flags(self.table)
        table = self.table.drop(columns=[c for c in flags.columns if c in self.table])
        table = pd.concat([table, flags], axis=1)
        cats = self.before.categories.copy()
        for c, s in self.status.items():
            if c in cats.index:
                cats.loc[c, "status"] = s
        return dataclasses.replace(self.before, buildings=table, categories=cats, graph=self.graph)


def indicator_changes(city: Any, before: AccessResult, after: AccessResult) -> pd.DataFrame:
    """Every walking-network indicator value that changed, per level and unit, graded.

    Returns
    -------
    DataFrame
        ``indicator``, ``zh``, ``en``, ``level``, ``unit_id``, ``unit`` (of measure),
        ``before``, ``after``, ``delta``, ``grade_before``, ``grade_after``.
    """
    from citycheck.access import indicator_values
    from citycheck.evaluate.catalogue import catalogue
    from citycheck.evaluate.indicators.network import network_levels
    from citycheck.evaluate.scoring import grade_values

    keys = ["indicator", "level", "unit_id"]
    v0, _ = indicator_values(before, city, levels=network_levels())
    v1, _ = indicator_values(after, city, levels=network_levels())
    g0 = grade_values(v0)[[*keys, "value", "grade"]]
    g1 = grade_values(v1)[[*keys, "value", "grade", "unit"]]
    m = g0.merge(g1, on=keys, how="outer", suffixes=("_before", "_after"))
    a, b = m["value_after"].astype(float), m["value_before"].astype(float)
    diff = ~(np.isclose(a, b, rtol=0, atol=1e-9) | (a.isna() & b.isna()))
    m = m[diff.to_numpy()].copy()
    cat = catalogue()
    out = pd.DataFrame(
        {
            "indicator": m["indicator"],
            "zh": m["indicator"].map(lambda i: cat[i].zh),
            "en": m["indicator"].map(lambda i: cat[i].en),
            "level": m["level"],
            "unit_id": m["unit_id"].astype(str),
            "unit": m["unit"],
            "before": m["value_before"].astype(float),
            "after": m["value_after"].astype(float),
            "grade_before": m["grade_before"],
            "grade_after": m["grade_after"],
        }
    )
    out.insert(8, "delta", out["after"] - out["before"])
    return out.reset_index(drop=True)

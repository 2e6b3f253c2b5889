"""Asset register: pipelines and point assets of the lifeline networks, with validation.

A register is two GeoDataFrames and a list of problems:

``pipes`` (LineString), one row per pipe
    ``pipe_id`` (str), ``network`` (water/drainage/gas/heating), ``from_node``, ``to_node`` (str),
    ``length_m``, ``diameter_mm`` (float), ``material`` (code from ``lifeline.toml``),
    ``install_year`` (Int64, NA when unknown), ``pressure_class`` (str or None), ``condition``
    (float 1 = good ... 5 = failed, NaN when not surveyed), ``street`` (str or None).
``points`` (Point), one row per node asset
    ``asset_id``, ``kind`` (junction, reservoir, tank, valve, pump, sensor, hydrant ...),
    ``network``, ``demand_m3_s`` (average demand, junctions), ``elevation_m``.
``issues`` (DataFrame)
    ``source``, ``record``, ``field``, ``value``, ``problem``, ``problem_zh``: one row per bad
    value.

Readers: :func:`register_from_inp` (EPANET models, via WNTR) and :func:`register_from_gis`
(GeoPackage, Shapefile, GeoJSON, via geopandas/pyogrio). :func:`validate_register` names every bad
record and returns the register without them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from citycheck.lifeline.reference import materials, networks

__all__ = [
    "ISSUE_COLUMNS",
    "PIPE_COLUMNS",
    "AssetRegister",
    "InpReadError",
    "RegisterError",
    "register_from_gis",
    "register_from_inp",
    "validate_register",
    "with_attributes",
]

log = logging.getLogger(__name__)

PIPE_COLUMNS = [
    "pipe_id",
    "network",
    "from_node",
    "to_node",
    "length_m",
    "diameter_mm",
    "material",
    "install_year",
    "pressure_class",
    "condition",
    "street",
]
POINT_COLUMNS = ["asset_id", "kind", "network", "demand_m3_s", "elevation_m"]
ISSUE_COLUMNS = ["source", "record", "field", "value", "problem", "problem_zh"]
SOURCE_KINDS = ("reservoir", "tank")


class RegisterError(ValueError):
    """A register file cannot be read at all (the message names the file and the field)."""


class InpReadError(RegisterError):
    """An EPANET ``.inp`` file is malformed."""


@dataclass(frozen=True)
class AssetRegister:
    """Pipes, point assets and the problems found while reading or validating them."""

    pipes: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ISSUE_COLUMNS))
    source: str = ""
    links: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["link_id", "kind", "from_node", "to_node"])
    )
    """Non-pipe links (pumps, valves) that join pieces of the network."""


def _issue(source: str, record: str, field_: str, value: object, en: str, zh: str) -> dict:
    return {
        "source": source,
        "record": str(record),
        "field": field_,
        "value": value,
        "problem": en,
        "problem_zh": zh,
    }


# --------------------------------------------------------------------------------------------
# EPANET
# --------------------------------------------------------------------------------------------


#: Numeric fields of the main EPANET sections (position after the id -> field name).
_INP_NUMERIC = {
    "[JUNCTIONS]": {1: "elevation", 2: "demand"},
    "[RESERVOIRS]": {1: "head"},
    "[TANKS]": {1: "elevation", 2: "init_level", 3: "min_level", 4: "max_level", 5: "diameter"},
    "[PIPES]": {3: "length", 4: "diameter", 5: "roughness", 6: "minor_loss"},
    "[COORDINATES]": {1: "x", 2: "y"},
}
_INP_MIN_FIELDS = {
    "[JUNCTIONS]": 2,
    "[RESERVOIRS]": 2,
    "[TANKS]": 6,
    "[PIPES]": 6,
    "[COORDINATES]": 3,
}


def _diagnose_inp(path: Path, limit: int = 20) -> list[str]:
    """Name the lines of an .inp file whose numeric fields do not parse (first ``limit``)."""
    problems: list[str] = []
    section = ""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            text = line.split(";", 1)[0].strip()
            if not text:
                continue
            if text.startswith("["):
                section = text.upper()
                continue
            fields = text.split()
            need = _INP_MIN_FIELDS.get(section)
            if need is not None and len(fields) < need:
                problems.append(
                    f"line {lineno} {section} {fields[0]!r}: {len(fields)} fields, needs {need}"
                )
            for pos, name in _INP_NUMERIC.get(section, {}).items():
                if pos < len(fields):
                    try:
                        float(fields[pos])
                    except ValueError:
                        problems.append(
                            f"line {lineno} {section} {fields[0]!r}: {name} {fields[pos]!r} "
                            "is not a number"
                        )
            if len(problems) >= limit:
                break
    return problems


def load_network_model(path: str | Path):
    """Read an EPANET ``.inp`` file with WNTR; malformed files raise :class:`InpReadError`.

    Parameters
    ----------
    path : str or Path
        The ``.inp`` file.

    Returns
    -------
    wntr.network.WaterNetworkModel
    """
    import wntr

    path = Path(path)
    if not path.is_file():
        raise InpReadError(f"{path}: no such EPANET file")
    try:
        return wntr.network.WaterNetworkModel(str(path))
    except Exception as exc:  # WNTR raises ValueError, KeyError, ENxxx errors
        found = _diagnose_inp(path)
        detail = "; ".join(found) if found else f"{type(exc).__name__}: {exc}"
        raise InpReadError(f"{path}: malformed EPANET model: {detail}") from exc


def _link_geometry(wn, link) -> LineString:
    start = wn.get_node(link.start_node_name).coordinates
    end = wn.get_node(link.end_node_name).coordinates
    return LineString([start, *list(link.vertices or []), end])


def register_from_inp(
    path: str | Path,
    *,
    crs: object | None = None,
    network: str = "water",
) -> AssetRegister:
    """Read an EPANET model into an asset register.

    EPANET stores length, diameter and roughness; material comes from the link ``[TAGS]`` when a
    tag is a known material code, otherwise ``UNK``. Install year, pressure class and condition
    are not in EPANET files: join them with :func:`with_attributes`.

    Parameters
    ----------
    path : str or Path
        EPANET ``.inp`` file.
    crs : optional
        CRS of the model coordinates, when known (EPANET files do not say).
    network : str
        Network type of every pipe (``water`` for EPANET models).

    Returns
    -------
    AssetRegister
    """
    wn = load_network_model(path)
    known = materials()
    pipes = []
    for name in wn.pipe_name_list:
        link = wn.get_link(name)
        tag = (link.tag or "").strip().upper()
        pipes.append(
            {
                "pipe_id": name,
                "network": network,
                "from_node": link.start_node_name,
                "to_node": link.end_node_name,
                "length_m": float(link.length),
                "diameter_mm": float(link.diameter) * 1000.0,
                "material": tag if tag in known else "UNK",
                "install_year": pd.NA,
                "pressure_class": None,
                "condition": np.nan,
                "street": None,
                "roughness": float(link.roughness),
                "geometry": _link_geometry(wn, link),
            }
        )
    pipe_gdf = gpd.GeoDataFrame(pipes, geometry="geometry", crs=crs)
    pipe_gdf["install_year"] = pipe_gdf["install_year"].astype("Int64")

    avg = _average_demands(wn)
    points = []
    for name, node in wn.nodes():
        kind = node.node_type.lower()
        points.append(
            {
                "asset_id": name,
                "kind": kind,
                "network": network,
                "demand_m3_s": float(avg.get(name, 0.0)),
                "elevation_m": float(getattr(node, "elevation", np.nan) or np.nan)
                if kind != "reservoir"
                else float(node.base_head),
                "geometry": Point(node.coordinates),
            }
        )
    for name in wn.valve_name_list + wn.pump_name_list:
        link = wn.get_link(name)
        a = np.asarray(wn.get_node(link.start_node_name).coordinates)
        b = np.asarray(wn.get_node(link.end_node_name).coordinates)
        points.append(
            {
                "asset_id": name,
                "kind": "valve" if name in wn.valve_name_list else "pump",
                "network": network,
                "demand_m3_s": 0.0,
                "elevation_m": np.nan,
                "geometry": Point((a + b) / 2.0),
            }
        )
    point_gdf = gpd.GeoDataFrame(points, geometry="geometry", crs=crs)
    links = pd.DataFrame(
        [
            {
                "link_id": name,
                "kind": "valve" if name in wn.valve_name_list else "pump",
                "from_node": wn.get_link(name).start_node_name,
                "to_node": wn.get_link(name).end_node_name,
            }
            for name in wn.valve_name_list + wn.pump_name_list
        ],
        columns=["link_id", "kind", "from_node", "to_node"],
    )
    return AssetRegister(pipes=pipe_gdf, points=point_gdf, source=str(path), links=links)


def _average_demands(wn) -> pd.Series:
    """Average demand (m3/s) of each junction over its pattern, all demand categories."""
    out = {}
    default = wn.options.hydraulic.pattern
    for name in wn.junction_name_list:
        total = 0.0
        for d in wn.get_node(name).demand_timeseries_list:
            pat = d.pattern
            if pat is None and default is not None and default in wn.pattern_name_list:
                pat = wn.get_pattern(default)
            mult = float(np.mean(pat.multipliers)) if pat is not None else 1.0
            total += float(d.base_value) * mult * wn.options.hydraulic.demand_multiplier
        out[name] = total
    return pd.Series(out, dtype=float)


# --------------------------------------------------------------------------------------------
# GIS layers
# --------------------------------------------------------------------------------------------

#: Column names commonly used by utility GIS exports, mapped to register fields.
DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "pipe_id": ("pipe_id", "id", "gid", "fid", "objectid", "管线编号", "编号"),
    "network": ("network", "type", "network_type", "管线类型", "类型"),
    "material": ("material", "mat", "matl", "材质", "管材"),
    "diameter_mm": ("diameter_mm", "diameter", "dn", "dia", "管径"),
    "install_year": ("install_year", "year", "yr_inst", "install_yr", "建设年代", "埋设年代"),
    "pressure_class": ("pressure_class", "pressure", "pn", "压力等级"),
    "condition": ("condition", "cond", "状况", "管况"),
    "street": ("street", "road", "road_name", "所在道路", "道路"),
    "from_node": ("from_node", "start_node", "node1", "起点"),
    "to_node": ("to_node", "end_node", "node2", "终点"),
}

_MATERIAL_SYNONYMS = {
    "CAST IRON": "CI",
    "GREY CAST IRON": "CI",
    "灰口铸铁": "CI",
    "铸铁": "CI",
    "DUCTILE IRON": "DI",
    "球墨铸铁": "DI",
    "STEEL": "ST",
    "钢": "ST",
    "钢管": "ST",
    "镀锌钢管": "GS",
    "ASBESTOS CEMENT": "AC",
    "石棉水泥": "AC",
    "水泥": "CEM",
    "PVC-U": "PVC",
    "UPVC": "PVC",
    "HDPE": "PE",
    "聚乙烯": "PE",
    "钢筋混凝土": "RC",
    "混凝土": "PC",
    "素混凝土": "PC",
}


def _normalise_material(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    up = text.upper()
    if up in materials():
        return up
    return _MATERIAL_SYNONYMS.get(up, _MATERIAL_SYNONYMS.get(text, text))


def _find_column(frame: pd.DataFrame, aliases: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in frame.columns}
    for a in aliases:
        if a.lower() in lower:
            return lower[a.lower()]
    return None


def register_from_gis(
    path: str | Path,
    *,
    layer: str | None = None,
    points_layer: str | None = None,
    columns: dict[str, str] | None = None,
    network: str | None = None,
    snap_m: float = 0.5,
) -> AssetRegister:
    """Read pipelines (and optionally point assets) from a GIS file.

    Parameters
    ----------
    path : str or Path
        GeoPackage, Shapefile or GeoJSON.
    layer : str, optional
        Layer with the pipelines (GeoPackage); the only/first layer when omitted.
    points_layer : str, optional
        Layer with point assets (column ``kind`` or ``type``: valve, pump, tank, sensor ...).
    columns : dict, optional
        Register field -> column in the file, overriding :data:`DEFAULT_ALIASES`.
    network : str, optional
        Network type of every pipe when the file has no network column.
    snap_m : float
        Tolerance in metres for joining pipe ends into nodes when the file has no node ids.

    Returns
    -------
    AssetRegister
        Values that cannot be parsed become NA and are listed in ``issues``; run
        :func:`validate_register` to drop the bad records.
    """
    path = Path(path)
    if not path.exists():
        raise RegisterError(f"{path}: no such file")
    try:
        raw = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:
        raise RegisterError(f"{path}: cannot read layer {layer!r}: {exc}") from exc
    src = f"{path}" + (f"#{layer}" if layer else "")
    if raw.crs is not None and raw.crs.is_geographic:
        raw = raw.to_crs(raw.estimate_utm_crs())
    columns = dict(columns or {})
    for key, aliases in DEFAULT_ALIASES.items():
        if key not in columns:
            found = _find_column(raw, aliases)
            if found is not None:
                columns[key] = found
    for key, name in columns.items():
        if name not in raw.columns:
            raise RegisterError(f"{src}: column {name!r} for field {key!r} not in the layer")
    issues: list[dict] = []
    n = len(raw)

    def col(key: str, default: object = None) -> pd.Series:
        if key in columns:
            return raw[columns[key]]
        return pd.Series([default] * n, index=raw.index, dtype=object)

    ids = col("pipe_id")
    ids = ids.astype(str) if "pipe_id" in columns else pd.Series(raw.index.astype(str))
    ids.index = raw.index

    def numeric(key: str) -> pd.Series:
        s = col(key)
        out = pd.to_numeric(s, errors="coerce")
        bad = s.notna() & out.isna()
        for i in raw.index[bad]:
            issues.append(
                _issue(src, ids[i], key, s[i], "not a number", "不是数值"),
            )
        return out.astype(float)

    geoms = raw.geometry
    lines: list[BaseGeometry | None] = []
    for i, g in zip(raw.index, geoms, strict=True):
        if g is None or g.is_empty:
            issues.append(_issue(src, ids[i], "geometry", None, "missing geometry", "缺少几何"))
            lines.append(None)
        elif g.geom_type == "MultiLineString":
            parts = list(g.geoms)
            lines.append(
                parts[0] if len(parts) == 1 else LineString([c for p in parts for c in p.coords])
            )
        else:
            lines.append(g)
    nets = col("network", network)
    if network is not None and "network" not in columns:
        nets = pd.Series([network] * n, index=raw.index)
    pipes = gpd.GeoDataFrame(
        {
            "pipe_id": ids.values,
            "network": nets.map(_normalise_network).values,
            "length_m": [g.length if g is not None else np.nan for g in lines],
            "diameter_mm": numeric("diameter_mm").values,
            "material": col("material").map(_normalise_material).values,
            "install_year": numeric("install_year").round().astype("Int64").values,
            "pressure_class": col("pressure_class").values,
            "condition": numeric("condition").values,
            "street": col("street").values,
        },
        geometry=lines,
        crs=raw.crs,
    )
    if "from_node" in columns and "to_node" in columns:
        pipes["from_node"] = raw[columns["from_node"]].astype(str).values
        pipes["to_node"] = raw[columns["to_node"]].astype(str).values
    else:
        pipes["from_node"], pipes["to_node"] = _snap_nodes(lines, snap_m)
    pipes = pipes[[*PIPE_COLUMNS, "geometry"]]
    if points_layer is not None:
        points = _points_from_gis(path, points_layer, src)
        if raw.crs is not None and points.crs is not None and points.crs != pipes.crs:
            points = points.to_crs(pipes.crs)
        if "from_node" not in columns:
            # the node a point asset sits on, with the same snapping as the pipe ends
            points["node"] = [
                f"n{round(g.x / snap_m)}_{round(g.y / snap_m)}" for g in points.geometry
            ]
    else:
        points = gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in POINT_COLUMNS}, geometry=[], crs=pipes.crs
        )
    issue_frame = pd.DataFrame(issues, columns=ISSUE_COLUMNS)
    return AssetRegister(pipes=pipes, points=points, issues=issue_frame, source=src)


def _normalise_network(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    for net in networks().values():
        if text.lower() in (net.id, net.en) or text == net.zh:
            return net.id
    return text


def _snap_nodes(lines: list, snap_m: float) -> tuple[list, list]:
    def key(xy: tuple) -> str:
        return f"n{round(xy[0] / snap_m)}_{round(xy[1] / snap_m)}"

    starts: list[str | None] = []
    ends: list[str | None] = []
    for g in lines:
        if g is None:
            starts.append(None)
            ends.append(None)
        else:
            cs = list(g.coords)
            starts.append(key(cs[0]))
            ends.append(key(cs[-1]))
    return starts, ends


def _points_from_gis(path: Path, layer: str, src: str) -> gpd.GeoDataFrame:
    raw = gpd.read_file(path, layer=layer)
    if raw.crs is not None and raw.crs.is_geographic:
        raw = raw.to_crs(raw.estimate_utm_crs())
    kind_col = _find_column(raw, ("kind", "type", "asset_type", "类型"))
    if kind_col is None:
        raise RegisterError(f"{path}#{layer}: point layer needs a 'kind' (or 'type') column")
    id_col = _find_column(raw, DEFAULT_ALIASES["pipe_id"] + ("asset_id",))
    net_col = _find_column(raw, DEFAULT_ALIASES["network"])
    return gpd.GeoDataFrame(
        {
            "asset_id": raw[id_col].astype(str) if id_col else raw.index.astype(str),
            "kind": raw[kind_col].astype(str).str.lower(),
            "network": raw[net_col].map(_normalise_network) if net_col else None,
            "demand_m3_s": 0.0,
            "elevation_m": np.nan,
        },
        geometry=raw.geometry.values,
        crs=raw.crs,
    )


# --------------------------------------------------------------------------------------------
# Attributes and validation
# --------------------------------------------------------------------------------------------


def with_attributes(register: AssetRegister, attributes: pd.DataFrame) -> AssetRegister:
    """Join a pipe attribute table (material, install year, ...) onto the register.

    Parameters
    ----------
    register : AssetRegister
    attributes : DataFrame
        Column ``pipe_id`` plus any of ``material``, ``install_year``, ``pressure_class``,
        ``condition``, ``street``, ``network``. Values given replace the register's.

    Returns
    -------
    AssetRegister
        A new register; ids in the table but not in the register are reported as issues.
    """
    if "pipe_id" not in attributes.columns:
        raise RegisterError("attribute table needs a 'pipe_id' column")
    attrs = attributes.copy()
    attrs["pipe_id"] = attrs["pipe_id"].astype(str)
    pipes = register.pipes.copy()
    issues = [register.issues] if len(register.issues) else []
    unknown = sorted(set(attrs["pipe_id"]) - set(pipes["pipe_id"]))
    if unknown:
        issues.append(
            pd.DataFrame(
                [
                    _issue("attributes", u, "pipe_id", u, "pipe not in the register", "管线不存在")
                    for u in unknown
                ],
                columns=ISSUE_COLUMNS,
            )
        )
    attrs = attrs.drop_duplicates("pipe_id", keep="last").set_index("pipe_id")
    idx = pipes["pipe_id"]
    for c in ("material", "install_year", "pressure_class", "condition", "street", "network"):
        if c not in attrs.columns:
            continue
        vals = idx.map(attrs[c])
        has = idx.isin(attrs.index) & vals.notna()
        if c == "material":
            vals = vals.map(_normalise_material)
        if c == "install_year":
            num = pd.to_numeric(vals, errors="coerce")
            for pid in idx[has & num.isna()]:
                issues.append(
                    pd.DataFrame(
                        [_issue("attributes", pid, c, attrs.at[pid, c], "not a year", "不是年份")],
                        columns=ISSUE_COLUMNS,
                    )
                )
            pipes.loc[has & num.notna(), c] = num[has & num.notna()].round().astype("Int64")
            continue
        if c == "condition":
            vals = pd.to_numeric(vals, errors="coerce")
        pipes.loc[has, c] = vals[has]
    all_issues = pd.concat(issues, ignore_index=True) if issues else register.issues
    return replace(register, pipes=pipes, issues=all_issues)


def validate_register(
    register: AssetRegister,
    *,
    year: int,
    require_source: bool = True,
) -> AssetRegister:
    """Name every bad pipe record and keep the good ones.

    Checks: unknown network or material, install year in the future (after ``year``) or before
    1850, diameter or length missing or not positive, condition outside 1-5, duplicate ids, and
    disconnected pipes: pipes in a connected piece of the network that holds no source
    (reservoir or tank) when the register knows its sources, otherwise pipes outside the largest
    connected piece of their network.

    Parameters
    ----------
    register : AssetRegister
    year : int
        The current year (install years after it are errors).
    require_source : bool
        Use reservoirs/tanks of ``points`` to judge connectivity when there are any.

    Returns
    -------
    AssetRegister
        Only the good pipes; ``issues`` lists every problem found (earlier issues kept). A record
        whose only problems are missing optional values (unknown install year) is kept.
    """
    pipes = register.pipes
    src = register.source
    found: list[dict] = []
    known_mat = materials()
    known_net = networks()

    def flag(mask: pd.Series, field_: str, en: str, zh: str) -> None:
        for i in pipes.index[mask.fillna(False).to_numpy(dtype=bool)]:
            found.append(_issue(src, pipes.at[i, "pipe_id"], field_, pipes.at[i, field_], en, zh))

    flag(~pipes["network"].isin(list(known_net)), "network", "unknown network type", "未知管网类型")
    flag(~pipes["material"].isin(list(known_mat)), "material", "unknown material", "未知材质")
    yr = pipes["install_year"].astype("Float64")
    flag(yr > year, "install_year", f"install year after {year}", f"建设年代晚于{year}年")
    flag(yr < 1850, "install_year", "install year before 1850", "建设年代早于1850年")
    d = pipes["diameter_mm"].astype(float)
    flag(~(d > 0), "diameter_mm", "diameter missing or not positive", "管径缺失或非正")
    length = pipes["length_m"].astype(float)
    flag(~(length > 0), "length_m", "length missing or not positive", "长度缺失或非正")
    cond = pipes["condition"].astype(float)
    flag(
        cond.notna() & ~cond.between(1, 5), "condition", "condition outside 1-5", "管况等级不在1-5"
    )
    flag(pipes["pipe_id"].duplicated(keep="first"), "pipe_id", "duplicate id", "编号重复")
    for i in pipes.index[_disconnected(register, require_source)]:
        found.append(
            _issue(
                src,
                pipes.at[i, "pipe_id"],
                "from_node",
                f"{pipes.at[i, 'from_node']}-{pipes.at[i, 'to_node']}",
                "disconnected pipe (no path to a source)",
                "孤立管段（不连通水源）",
            )
        )
    new = pd.DataFrame(found, columns=ISSUE_COLUMNS)
    bad_ids = set(new["record"])
    good = pipes[~pipes["pipe_id"].astype(str).isin(bad_ids)].reset_index(drop=True)
    issues = pd.concat([register.issues, new], ignore_index=True) if len(register.issues) else new
    if len(new):
        log.info("%s: %d bad pipe records of %d", src, len(bad_ids), len(pipes))
    return replace(register, pipes=good, issues=issues)


def _disconnected(register: AssetRegister, require_source: bool) -> np.ndarray:
    pipes = register.pipes
    out = np.zeros(len(pipes), dtype=bool)
    ok = pipes["from_node"].notna() & pipes["to_node"].notna()
    pts = register.points
    sources = set()
    if require_source and len(pts):
        node_col = "node" if "node" in pts.columns else "asset_id"
        sources = set(pts.loc[pts["kind"].isin(SOURCE_KINDS), node_col].astype(str))
    extra = list(zip(register.links["from_node"], register.links["to_node"], strict=True))
    for net, grp in pipes[ok].groupby("network", dropna=False):
        G = nx.Graph()
        G.add_edges_from(zip(grp["from_node"], grp["to_node"], strict=True))
        G.add_edges_from(extra)
        comps = list(nx.connected_components(G))
        if sources and net in ("water", "gas", "heating"):
            good_nodes = set().union(*[c for c in comps if c & sources]) if comps else set()
        else:
            good_nodes = max(comps, key=len) if comps else set()
        bad = ~grp["from_node"].isin(good_nodes)
        out[pipes.index.get_indexer(grp.index[bad])] = True
    out[~ok.to_numpy()] = True
    return out

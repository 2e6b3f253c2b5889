"""The hotline's part of the city health check: catalogue indicators and problem-list entries.

:func:`hotline_indicators` returns a long table (``indicator``, ``level``, ``unit_id``,
``value`` and evidence columns) that :func:`citycheck.pipeline.evaluate_city` accepts as
``inputs``:

- Z01 resolution, Z01b satisfaction, Z01c response (%, :func:`.rates.three_rates` with the
  city's formulas); units with fewer than ``min_orders`` orders get no value (small samples
  would grade by chance); ``lo``/``hi`` give the Wilson interval.
- Z02 orders per 10,000 residents per year (residents of the units from the City's buildings).
- S02 waterlogging points per km² of built-up land: waterlogging reports within ``point_m`` of
  one another are one point; built-up land is the evaluation's (built land-use polygons and
  building footprints inside the boundary, ``evaluate.indicators._overlay.built_up_land``).
- C04 roads with disorderly parking: distinct streets (by name, else OSM id) within
  ``street_m`` of a parking report.

:func:`hotspot_problems` turns Gi* hotspots into rows shaped like the problem list.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd

from citycheck.io.errors import InputError
from citycheck.listen.analytics.frames import normalise_orders
from citycheck.listen.analytics.hotspots import assign_units, residents_per_unit
from citycheck.listen.analytics.rates import RateConfig, three_rates

__all__ = ["Theme", "assign_themes", "hotline_indicators", "hotspot_problems", "load_themes"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Theme:
    """A hotline theme and the indicator it speaks to (``data/themes.toml``)."""

    id: str
    zh: str
    en: str
    indicator: str
    dimension: str
    categories: tuple[str, ...]
    keywords: str


def load_themes(path: str | None = None) -> dict[str, Theme]:
    """Read the theme map (default the bundled ``data/themes.toml``)."""
    if path is None:
        text = (resources.files("citycheck.listen.analytics") / "data" / "themes.toml").read_text(
            encoding="utf-8"
        )
        src = "themes.toml (bundled)"
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        src = path
    out = {}
    for tid, t in tomllib.loads(text).get("themes", {}).items():
        try:
            re.compile(t.get("keywords", "") or "(?!)")
        except re.error as e:
            raise InputError(src, f"themes.{tid}.keywords", t.get("keywords"), str(e)) from e
        out[tid] = Theme(
            id=tid,
            zh=t["zh"],
            en=t["en"],
            indicator=t.get("indicator", ""),
            dimension=t.get("dimension", ""),
            categories=tuple(t.get("categories", ())),
            keywords=t.get("keywords", ""),
        )
    return out


def assign_themes(orders: pd.DataFrame, themes: dict[str, Theme] | None = None) -> pd.Series:
    """Theme id of each order ("" for none): by category first, then by keywords in the text."""
    themes = themes or load_themes()
    out = pd.Series("", index=orders.index, dtype=object)
    text = orders.get("text", pd.Series("", index=orders.index)).fillna("").astype(str)
    for t in themes.values():
        hit = orders["category"].isin(t.categories)
        if t.keywords:
            hit |= text.str.contains(t.keywords, case=False, regex=True)
        out = out.where((out != "") | ~hit, t.id)
    return out


def _years(o: pd.DataFrame) -> float:
    span = (o["requested_at"].max() - o["requested_at"].min()).total_seconds() / 86400
    return max(span, 30.0) / 365.25


def _points(xy: np.ndarray, point_m: float) -> int:
    """Distinct places among positions: chains closer than ``point_m`` are one place."""
    if len(xy) == 0:
        return 0
    from sklearn.cluster import DBSCAN

    lab = DBSCAN(eps=point_m, min_samples=1).fit_predict(xy)
    return len(np.unique(lab))


def _built_up_km2(city, units: gpd.GeoDataFrame) -> pd.Series:
    # the evaluation's own definition of built-up land, so S02 agrees with L12 and the rest
    from citycheck.evaluate.indicators import built_up_land

    built = built_up_land(city)
    return pd.Series(
        {
            str(uid): geom.intersection(built).area / 1e6
            for uid, geom in zip(units["unit_id"], units.geometry, strict=True)
        }
    )


def hotline_indicators(
    orders: pd.DataFrame,
    city=None,
    *,
    config: RateConfig | None = None,
    themes: dict[str, Theme] | None = None,
    levels: tuple[str, ...] = ("district", "neighbourhood"),
    min_orders: int = 10,
    residents_total: float | None = None,
    point_m: float = 100.0,
    street_m: float = 30.0,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Values of the hotline indicators Z01, Z01b, Z01c, Z02, S02 and C04.

    Parameters
    ----------
    orders : DataFrame
        Orders table with positions (``lat``/``lon``) where units are wanted.
    city : City, optional
        The study area: orders are assigned to ``city.units[level]`` and only orders inside
        the boundary count. Without it, every order counts for the district ("district").
    config : RateConfig, optional
        The city's rate formulas.
    themes : dict, optional
        Theme map (:func:`load_themes`).
    levels : tuple of str
        Unit levels to compute (Z02 also at ``compound`` when asked).
    min_orders : int
        Fewest orders for a unit's rate to be reported.
    residents_total : float, optional
        Residents of the district when there is no City (for Z02).
    point_m, street_m : float
        See the module docstring.
    as_of : Timestamp, optional

    Returns
    -------
    DataFrame
        ``indicator``, ``level``, ``unit_id``, ``value``, ``n`` (orders or reports behind the
        value), ``lo``, ``hi`` (Wilson interval in %, rates only), ``note``.
    """
    o = normalise_orders(orders)
    themes = themes or load_themes()
    o["theme"] = assign_themes(o, themes).to_numpy()
    rows: list[dict[str, object]] = []
    by_level: dict[str, pd.Series] = {}
    if city is None:
        by_level["district"] = pd.Series("district", index=o.index)
    else:
        for level in levels:
            if level not in city.units:
                raise InputError("city", "units", level, f"no such level; have {list(city.units)}")
            by_level[level] = assign_units(o, city.units[level])
    for level, uid in by_level.items():
        o_l = o.assign(_unit=uid.to_numpy())
        o_l = o_l.loc[o_l["_unit"] != ""]
        if o_l.empty:
            continue
        r = three_rates(o_l, by=["_unit"], config=config, as_of=as_of)
        for _, row in r.iterrows():
            for ind, name in (
                ("Z01", "resolution"),
                ("Z01b", "satisfaction"),
                ("Z01c", "response"),
            ):
                n = int(row[f"{name}_n"])
                small = n < min_orders
                rows.append(
                    {
                        "indicator": ind,
                        "level": level,
                        "unit_id": row["_unit"],
                        "value": np.nan if small or n == 0 else 100 * row[name],
                        "n": n,
                        "lo": 100 * row[f"{name}_lo"],
                        "hi": 100 * row[f"{name}_hi"],
                        "note": (f"fewer than {min_orders} orders" if small else "")
                        + ("" if n else "; no data"),
                    }
                )
        years = _years(o)
        if city is not None:
            res = residents_per_unit(city.buildings, city.units[level])
        elif residents_total:
            res = pd.Series({"district": float(residents_total)})
        else:
            res = None
        if res is not None and res.notna().any():
            counts = o_l.groupby("_unit").size().reindex(res.index, fill_value=0)
            for u, n in counts.items():
                rows.append(
                    {
                        "indicator": "Z02",
                        "level": level,
                        "unit_id": u,
                        "value": n / res[u] * 1e4 / years if res[u] > 0 else np.nan,
                        "n": int(n),
                        "lo": np.nan,
                        "hi": np.nan,
                        "note": f"orders per 10,000 residents per year over {years:.2f} years",
                    }
                )
        if city is not None:
            rows.extend(_s02_c04(o_l, city, level, themes, point_m, street_m))
    out = pd.DataFrame(
        rows, columns=["indicator", "level", "unit_id", "value", "n", "lo", "hi", "note"]
    )
    out["note"] = out["note"].str.strip("; ")
    return out


def _s02_c04(o_l, city, level, themes, point_m, street_m) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    units = city.units[level]
    pts = gpd.GeoDataFrame(
        o_l[["_unit", "theme"]],
        geometry=gpd.points_from_xy(o_l["lon"], o_l["lat"]),
        crs="EPSG:4326",
    ).to_crs(city.crs)
    water_ids = [t.id for t in themes.values() if t.indicator == "S02"]
    park_ids = [t.id for t in themes.values() if t.indicator == "C04"]
    built = _built_up_km2(city, units)
    wl = pts[pts["theme"].isin(water_ids)]
    for u in units["unit_id"].astype(str):
        sub = wl[wl["_unit"] == u]
        xy = np.column_stack([sub.geometry.x, sub.geometry.y]) if len(sub) else np.empty((0, 2))
        k = _points(xy, point_m)
        km2 = float(built.get(u, np.nan))
        rows.append(
            {
                "indicator": "S02",
                "level": level,
                "unit_id": u,
                "value": k / km2 if km2 > 0 else np.nan,
                "n": len(sub),
                "lo": np.nan,
                "hi": np.nan,
                "note": f"{k} waterlogging points from {len(sub)} reports; {km2:.3f} km² built-up",
            }
        )
    pk = pts[pts["theme"].isin(park_ids)]
    streets = city.streets[["osm_id", "name", "geometry"]].copy()
    streets["street"] = streets["name"].where(
        streets["name"].notna() & (streets["name"] != ""), streets["osm_id"]
    )
    near = (
        gpd.sjoin_nearest(pk, streets[["street", "geometry"]], max_distance=street_m, how="inner")
        if len(pk) and len(streets)
        else pk.assign(street=pd.Series(dtype=object))
    )
    for u in units["unit_id"].astype(str):
        sub = near[near["_unit"] == u]
        roads = sub["street"].dropna().unique()
        rows.append(
            {
                "indicator": "C04",
                "level": level,
                "unit_id": u,
                "value": float(len(roads)),
                "n": int((pk["_unit"] == u).sum()),
                "lo": np.nan,
                "hi": np.nan,
                "note": "roads: " + ", ".join(map(str, sorted(roads)[:10])) if len(roads) else "",
            }
        )
    return rows


def hotspot_problems(
    hexes: pd.DataFrame, *, theme_col: str = "category", alpha: float = 0.05
) -> pd.DataFrame:
    """Significant Gi* hotspots as problem-list rows (one per theme, worst cells listed).

    Parameters
    ----------
    hexes : DataFrame
        Output of :func:`.hotspots.hex_hotspots` (or any table with ``cell``, ``z``, ``p``,
        ``orders`` and optionally ``per_10k`` and a theme column).
    theme_col : str
    alpha : float

    Returns
    -------
    DataFrame
        The problem list's columns (``indicator`` "Z02", ``zh``, ``en``, ``dimension``,
        ``scope`` "hotspot", ``value``, ``grade`` "fail", ``threshold``, ``gap``, ``unit``,
        ``source``, ``red_line``, ``units_failing``, ``units_total``, ``worst_level`` "h3",
        ``worst_units``) plus ``theme``.
    """
    rows = []
    groups = hexes.groupby(theme_col) if theme_col in hexes.columns else [("", hexes)]
    for theme, sub in groups:
        flag = sub["hot"] if "hot" in sub.columns else (sub["z"] > 0) & (sub["p"] < alpha)
        hot = sub[flag].sort_values("z", ascending=False)
        if hot.empty:
            continue
        use_rate = "per_10k" in hot.columns and hot["per_10k"].notna().any()
        val = "per_10k" if use_rate else "orders"
        rows.append(
            {
                "indicator": "Z02",
                "zh": f"诉求热点：{theme}",
                "en": f"Hotline hotspot: {theme}",
                "dimension": "smart",
                "scope": "hotspot",
                "value": float(hot[val].iloc[0]),
                "grade": "fail",
                "threshold": np.nan,
                "gap": np.nan,
                "unit": "per 10k residents" if use_rate else "orders",
                "source": (
                    f"Getis-Ord Gi* (PySAL esda), {alpha} level; max z = {hot['z'].iloc[0]:.2f}"
                ),
                "red_line": False,
                "units_failing": len(hot),
                "units_total": len(sub),
                "worst_level": "h3",
                "worst_units": [
                    {"unit_id": c, "value": float(v), "z": float(z)}
                    for c, v, z in zip(hot["cell"][:5], hot[val][:5], hot["z"][:5], strict=True)
                ],
                "theme": theme,
            }
        )
    return pd.DataFrame(rows)

"""Life circles (GB 50180-2018): which required facilities lie within their walking limits.

Each category of categories.toml with a ``life_circle`` (5, 10 or 15 minutes) and a
``walk_limit_m`` is required in that circle (GB 50180-2018 appendices B and C, see
../shared/indicators.md). A building's circle is complete when every category of the circle is
within its limit. Shares are computed per unit with three denominators: residential buildings,
residential floor area and residents (MOHURD counts land or floor area, SDG/GHSCI count people).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from citycheck.categories import categories

__all__ = [
    "CIRCLES",
    "circle_categories",
    "life_circle_flags",
    "unit_shares",
    "within_column",
    "worst_units",
]

CIRCLES = (5, 10, 15)


def within_column(category: str) -> str:
    """Column of the flag "``category`` within its walking limit"."""
    return f"within_{category}"


def circle_categories(minutes: int) -> dict[str, float]:
    """Categories required in the ``minutes`` life circle, with their walking limits (m)."""
    return {
        cid: float(c.walk_limit_m)
        for cid, c in categories().items()
        if c.life_circle == minutes and c.walk_limit_m is not None
    }


def life_circle_flags(table: pd.DataFrame) -> pd.DataFrame:
    """Life-circle flags from per-building nearest distances.

    Parameters
    ----------
    table : DataFrame
        Columns ``dist_m_<category>`` (metres; NaN or +inf count as not within).

    Returns
    -------
    DataFrame
        Same index; ``within_<category>`` for every category required by a circle,
        ``lc5_complete``, ``lc10_complete``, ``lc15_complete`` and ``lc_complete`` (all three),
        and ``lc<m>_missing`` (number of required categories not within their limit).
    """
    from citycheck.access.analyse import dist_column

    out: dict[str, pd.Series] = {}
    all_ok = pd.Series(True, index=table.index)
    for minutes in CIRCLES:
        req = circle_categories(minutes)
        missing = pd.Series(0, index=table.index, dtype="int64")
        for cid, limit in req.items():
            col = dist_column(cid)
            d = table[col] if col in table else pd.Series(np.nan, index=table.index)
            ok = (d <= limit).fillna(False).astype(bool)
            out[within_column(cid)] = ok
            missing += (~ok).astype("int64")
        complete = missing == 0
        out[f"lc{minutes}_complete"] = complete
        out[f"lc{minutes}_missing"] = missing
        all_ok &= complete
    out["lc_complete"] = all_ok
    return pd.DataFrame(out, index=table.index)


def unit_shares(
    buildings: gpd.GeoDataFrame,
    table: pd.DataFrame,
    units: gpd.GeoDataFrame,
    *,
    flags: Sequence[str] | None = None,
    unit_id: str = "unit_id",
) -> pd.DataFrame:
    """Share of buildings, floor area and residents meeting each flag, per unit.

    A building belongs to the unit containing its representative point.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints with optional ``floor_area_m2`` and ``residents`` (missing: that share is NaN).
    table : DataFrame
        Boolean flag columns indexed like (a subset of) ``buildings``, e.g.
        :attr:`AccessResult.buildings`; buildings not in ``table`` are not counted.
    units : GeoDataFrame
        Unit polygons in the same CRS, with ``unit_id`` (else the index is used).
    flags : sequence of str, optional
        Flag columns to share (every boolean column by default).

    Returns
    -------
    DataFrame
        Indexed like ``units``: ``n_buildings``, ``floor_area_m2``, ``residents`` and, per
        flag ``f``, ``f_share_buildings``, ``f_share_floor_area``, ``f_share_residents``
        (NaN where the unit has no analysed building or the weight is missing or zero).
    """
    if units.crs is not None and buildings.crs is not None and units.crs != buildings.crs:
        raise ValueError(
            f"units: CRS {units.crs.to_string()} differs from buildings "
            f"({buildings.crs.to_string()}); reproject first"
        )
    if flags is None:
        flags = [c for c in table.columns if table[c].dtype == bool]
    missing = [f for f in flags if f not in table.columns]
    if missing:
        raise ValueError(f"flags not in the table: {missing}")
    blds = buildings.loc[table.index]
    pts = gpd.GeoDataFrame(
        geometry=blds.geometry.representative_point(), index=blds.index, crs=buildings.crs
    )
    ok = pts.geometry.notna() & ~pts.geometry.is_empty
    upoly = gpd.GeoDataFrame(
        {"_unit_pos": np.arange(len(units))}, geometry=units.geometry.to_numpy(), crs=units.crs
    )
    joined = gpd.sjoin(pts[ok], upoly, predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    pos = pd.Series(-1, index=blds.index)
    pos.loc[joined.index] = joined["_unit_pos"].to_numpy()
    in_unit = pos.to_numpy() >= 0
    upos = pos.to_numpy()[in_unit]
    n_units = len(units)

    def weight(col: str | None) -> np.ndarray | None:
        if col is None:
            return np.ones(in_unit.sum())
        if col not in blds.columns:
            return None
        return pd.to_numeric(blds[col], errors="coerce").fillna(0.0).to_numpy()[in_unit]

    out: dict[str, np.ndarray] = {}
    denominators: dict[str, np.ndarray | None] = {}
    for label, col in (
        ("buildings", None),
        ("floor_area", "floor_area_m2"),
        ("residents", "residents"),
    ):
        w = weight(col)
        denominators[label] = w
        total = np.bincount(upos, weights=w, minlength=n_units) if w is not None else None
        if label == "buildings":
            assert total is not None  # weight(None) is all ones
            out["n_buildings"] = total.astype(np.int64)
        elif total is not None:
            assert col is not None  # only the buildings count has no weight column
            out[col] = total
    for f in flags:
        v = table[f].fillna(False).astype(bool).to_numpy()[in_unit]
        for label, w in denominators.items():
            if w is None:
                out[f"{f}_share_{label}"] = np.full(n_units, np.nan)
                continue
            num = np.bincount(upos, weights=w * v, minlength=n_units)
            den = np.bincount(upos, weights=w, minlength=n_units)
            out[f"{f}_share_{label}"] = np.divide(
                num, den, out=np.full(n_units, np.nan), where=den > 0
            )
    result = pd.DataFrame(out, index=units.index)
    if unit_id in units.columns:
        result.insert(0, unit_id, units[unit_id].to_numpy())
    return result


def worst_units(shares: pd.DataFrame, column: str, *, n: int = 10) -> pd.DataFrame:
    """The ``n`` units with the lowest ``column`` (units without a value are left out)."""
    if column not in shares.columns:
        raise ValueError(f"shares: no column {column!r}")
    return shares[shares[column].notna()].nsmallest(n, column)

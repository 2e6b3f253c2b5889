"""The modern urban system (现代化城市体系): measures of every city of China from the census.

Inputs are the two tables of the 7th national census (2020, with 2010 figures for cities)
described in ``../shared/data/README.md``:

* the city table: 369 prefecture-level units with 2010 and 2020 population (total, urban, rural),
  household size, sex ratio, age shares (0-14, 15-59, 60+, 65+, in percent) and a WGS84 boundary;
* the county table: 3,358 rows (nation, provinces, prefectures, counties and districts) of 2020,
  including 城区人口 (urban-district resident population), the quantity on which the State
  Council's city-size standard is defined.

Every measure is a pure function of DataFrames.  The readers at the bottom are the only functions
that touch files; they validate the tables and raise :class:`CensusTableError` naming the file, the
field and the offending value.

Sources
-------
* City-size classes: 国务院关于调整城市规模划分标准的通知 (国发〔2014〕51号, 2014-11-20),
  http://www.gov.cn/zhengce/content/2014-11/20/content_9225.htm — "以城区常住人口为统计口径，将城市
  划分为五类七档 … (以上包括本数，以下不包括本数)": lower bounds inclusive, upper bounds exclusive.
* Land consumption: SDG indicator 11.3.1 metadata (UN-Habitat), ratio of land consumption rate to
  population growth rate, LCRPGR = ln(Urb_t2/Urb_t1) / ln(Pop_t2/Pop_t1) (the years cancel).
* Rank-size rule: Zipf (1949); the exponent q of ln P_r = ln P_1 - q ln r is estimated by ordinary
  least squares, as in Soo (2005), "Zipf's law for cities: a cross-country investigation".
* Primacy: Jefferson (1939), two-city index P1/P2; four-city index P1/(P2+P3+P4) (Ginsburg 1961).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "MEASURES",
    "SIZE_CLASSES",
    "CensusTableError",
    "Measure",
    "SizeClass",
    "city_boundaries",
    "city_indicator_records",
    "city_measures",
    "city_size_class",
    "county_urbanisation",
    "land_consumption_ratio",
    "primacy",
    "rank_size_by_province",
    "rank_size_fit",
    "read_city_census",
    "read_county_census",
    "size_class_counts",
    "urban_core_population",
]

_GB2014 = "国发〔2014〕51号 (State Council, 2014-11-20)"
_CENSUS = "7th national census 2020 / 6th census 2010 (leiii/census tables)"


# --------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SizeClass:
    """One class of the 2014 city-size standard.

    Attributes
    ----------
    id : str
        Stable identifier used in tables.
    name_zh, name_en : str
        Chinese and English names.
    lower, upper : float
        Urban-district resident population bounds (persons); ``lower <= p < upper``.
    """

    id: str
    name_zh: str
    name_en: str
    lower: float
    upper: float


#: The five categories and seven classes (五类七档) of 国发〔2014〕51号, smallest first.
SIZE_CLASSES: tuple[SizeClass, ...] = (
    SizeClass("small_ii", "Ⅱ型小城市", "small city, type II", 0.0, 200_000.0),
    SizeClass("small_i", "Ⅰ型小城市", "small city, type I", 200_000.0, 500_000.0),
    SizeClass("medium", "中等城市", "medium-sized city", 500_000.0, 1_000_000.0),
    SizeClass("large_ii", "Ⅱ型大城市", "large city, type II", 1_000_000.0, 3_000_000.0),
    SizeClass("large_i", "Ⅰ型大城市", "large city, type I", 3_000_000.0, 5_000_000.0),
    SizeClass("mega", "特大城市", "megacity", 5_000_000.0, 10_000_000.0),
    SizeClass("super", "超大城市", "super-large city", 10_000_000.0, math.inf),
)


@dataclass(frozen=True)
class Measure:
    """Metadata of one urban-system measure (a column of :func:`city_measures`)."""

    id: str
    name_zh: str
    name_en: str
    unit: str
    direction: str  # "up", "down", "band" or "info"
    source: str


#: Every column produced by :func:`city_measures` / :func:`county_urbanisation`, bilingual.
MEASURES: dict[str, Measure] = {
    m.id: m
    for m in (
        Measure(
            "pop_2010", "2010年常住人口", "resident population 2010", "persons", "info", _CENSUS
        ),
        Measure(
            "pop_2020", "2020年常住人口", "resident population 2020", "persons", "info", _CENSUS
        ),
        Measure(
            "urbanisation_2010",
            "2010年常住人口城镇化率",
            "urbanisation rate 2010",
            "%",
            "info",
            _CENSUS,
        ),
        Measure(
            "urbanisation_2020",
            "2020年常住人口城镇化率",
            "urbanisation rate 2020",
            "%",
            "info",
            _CENSUS,
        ),
        Measure(
            "urbanisation_change_pp",
            "城镇化率变化",
            "change of urbanisation rate 2010-2020",
            "percentage points",
            "up",
            _CENSUS,
        ),
        Measure(
            "pop_growth_pct",
            "人口增长率(十年)",
            "population growth 2010-2020",
            "%",
            "info",
            _CENSUS,
        ),
        Measure(
            "pop_growth_annual_pct",
            "年均人口增长率",
            "annual population growth 2010-2020",
            "%/year",
            "info",
            _CENSUS,
        ),
        Measure(
            "age60_2010", "2010年60岁及以上人口比重", "share aged 60+ 2010", "%", "info", _CENSUS
        ),
        Measure(
            "age60_2020", "2020年60岁及以上人口比重", "share aged 60+ 2020", "%", "info", _CENSUS
        ),
        Measure(
            "age60_change_pp",
            "60岁及以上人口比重变化",
            "change of share aged 60+",
            "percentage points",
            "info",
            _CENSUS,
        ),
        Measure(
            "age65_2010", "2010年65岁及以上人口比重", "share aged 65+ 2010", "%", "info", _CENSUS
        ),
        Measure(
            "age65_2020", "2020年65岁及以上人口比重", "share aged 65+ 2020", "%", "info", _CENSUS
        ),
        Measure(
            "age65_change_pp",
            "65岁及以上人口比重变化",
            "change of share aged 65+",
            "percentage points",
            "info",
            _CENSUS,
        ),
        Measure(
            "household_size_2010",
            "2010年平均家庭户规模",
            "household size 2010",
            "persons/household",
            "info",
            _CENSUS,
        ),
        Measure(
            "household_size_2020",
            "2020年平均家庭户规模",
            "household size 2020",
            "persons/household",
            "info",
            _CENSUS,
        ),
        Measure(
            "household_size_change",
            "平均家庭户规模变化",
            "change of household size",
            "persons/household",
            "info",
            _CENSUS,
        ),
        Measure(
            "urban_core_pop_2020",
            "2020年城区常住人口",
            "urban-district resident population 2020",
            "persons",
            "info",
            _CENSUS,
        ),
        Measure("size_class", "城市规模等级", "city-size class", "class", "info", _GB2014),
        Measure(
            "county_urbanisation_2020",
            "县域常住人口城镇化率",
            "county urbanisation rate 2020",
            "%",
            "up",
            _CENSUS,
        ),
        Measure(
            "zipf_exponent",
            "位序-规模指数",
            "rank-size (Zipf) exponent",
            "1",
            "info",
            "Zipf 1949; OLS of ln P on ln rank",
        ),
        Measure(
            "primacy_2",
            "二城市指数",
            "two-city primacy index",
            "ratio",
            "info",
            "Jefferson 1939",
        ),
        Measure(
            "primacy_4",
            "四城市指数",
            "four-city primacy index",
            "ratio",
            "info",
            "Ginsburg 1961",
        ),
        Measure(
            "land_consumption_ratio",
            "土地消耗率与人口增长率之比",
            "ratio of land consumption rate to population growth rate",
            "ratio",
            "band",
            "SDG 11.3.1 metadata (UN-Habitat)",
        ),
    )
}


class CensusTableError(ValueError):
    """A census table has a missing column or an invalid value.

    The message lists every problem found, each with the file, the field and the value.
    """


# --------------------------------------------------------------------------------------------------
# City-size classes
# --------------------------------------------------------------------------------------------------
def city_size_class(urban_core_pop: pd.Series, *, lang: str = "id") -> pd.Series:
    """Classify cities by the State Council's 2014 standard (国发〔2014〕51号).

    Parameters
    ----------
    urban_core_pop : pandas.Series
        Urban-district resident population (城区常住人口), persons.  NaN gives NaN (no class:
        autonomous prefectures, leagues and regions are not cities and have no 城区人口).
    lang : {"id", "zh", "en"}
        Return class ids, Chinese names or English names.

    Returns
    -------
    pandas.Series
        Same index, named ``size_class``; lower bounds inclusive ("以上包括本数").

    Examples
    --------
    >>> city_size_class(pd.Series([10_000_000, 9_999_999, 200_000, 199_999])).tolist()
    ['super', 'mega', 'small_i', 'small_ii']
    """
    if lang not in ("id", "zh", "en"):
        raise ValueError(f"lang must be 'id', 'zh' or 'en', not {lang!r}")
    values = pd.to_numeric(urban_core_pop, errors="raise").to_numpy(dtype=float)
    if np.any(values[~np.isnan(values)] < 0):
        raise ValueError("urban-district population must be non-negative")
    bounds = np.array([c.lower for c in SIZE_CLASSES[1:]])
    idx = np.searchsorted(bounds, values, side="right")
    attr = {"id": "id", "zh": "name_zh", "en": "name_en"}[lang]
    labels = np.array([getattr(c, attr) for c in SIZE_CLASSES], dtype=object)
    out = np.where(np.isnan(values), None, labels[np.minimum(idx, len(labels) - 1)])
    return pd.Series(out, index=urban_core_pop.index, name="size_class", dtype=object)


def urban_core_population(county: pd.DataFrame, city_codes: pd.Series) -> pd.Series:
    """Urban-district resident population (城区人口) of each prefecture-level city.

    The county table gives 城区人口 on the row of each city (code ``xxxx00``) and, for the four
    municipalities, on the province row (``xx0000``), while the city table codes them ``xx0100``.

    Parameters
    ----------
    county : pandas.DataFrame
        The county table as read by :func:`read_county_census`.
    city_codes : pandas.Series
        Six-digit codes of the city table.

    Returns
    -------
    pandas.Series
        Persons, index of ``city_codes``, NaN where the census gives no urban-district figure.
    """
    table = county.dropna(subset=["区划代码"]).drop_duplicates("区划代码")
    core = pd.Series(
        table["城区人口"].to_numpy(dtype=float), index=table["区划代码"].astype("int64")
    )
    codes = city_codes.astype("int64")
    value = codes.map(core)
    municipality = (codes % 10000 == 100) & value.isna()
    value[municipality] = (codes[municipality] // 10000 * 10000).map(core)
    return value.rename("urban_core_pop_2020")


def size_class_counts(size_class: pd.Series) -> pd.DataFrame:
    """Count cities per size class, with Chinese and English names, largest class first."""
    counts = size_class.value_counts()
    rows = [
        {
            "size_class": c.id,
            "name_zh": c.name_zh,
            "name_en": c.name_en,
            "cities": int(counts.get(c.id, 0)),
        }
        for c in reversed(SIZE_CLASSES)
    ]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# City measures
# --------------------------------------------------------------------------------------------------
def city_measures(city: pd.DataFrame, county: pd.DataFrame | None = None) -> pd.DataFrame:
    """Urban-system measures of every city in the census city table.

    Parameters
    ----------
    city : pandas.DataFrame
        The city table (:func:`read_city_census`).
    county : pandas.DataFrame, optional
        The county table (:func:`read_county_census`); needed for the urban-district population
        and the size class (columns are NaN/None without it).

    Returns
    -------
    pandas.DataFrame
        One row per city, indexed by ``city_code``, columns ``city``, ``province``,
        ``province_code`` and every city measure of :data:`MEASURES`; the size class also as
        ``size_class_zh`` and ``size_class_en``.  Missing census figures stay NaN ("no data").
    """
    c = city.set_index("city_code", drop=False)
    out = pd.DataFrame(index=c.index)
    out["city"] = c["city"]
    out["province"] = c["province"]
    out["province_code"] = c["province_code"]
    out["pop_2010"] = c["popu_2010"]
    out["pop_2020"] = c["popu_2020"]
    out["urbanisation_2010"] = 100.0 * c["popu_urban_2010"] / c["popu_2010"]
    out["urbanisation_2020"] = 100.0 * c["popu_urban_2020"] / c["popu_2020"]
    out["urbanisation_change_pp"] = out["urbanisation_2020"] - out["urbanisation_2010"]
    ratio = c["popu_2020"] / c["popu_2010"]
    out["pop_growth_pct"] = 100.0 * (ratio - 1.0)
    out["pop_growth_annual_pct"] = 100.0 * (ratio ** (1.0 / 10.0) - 1.0)
    for age in ("60", "65"):
        out[f"age{age}_2010"] = c[f"age_{age}_2010"]
        out[f"age{age}_2020"] = c[f"age_{age}_2020"]
        out[f"age{age}_change_pp"] = c[f"age_{age}_2020"] - c[f"age_{age}_2010"]
    out["household_size_2010"] = c["household_2010"]
    out["household_size_2020"] = c["household_2020"]
    out["household_size_change"] = c["household_2020"] - c["household_2010"]
    if county is not None:
        out["urban_core_pop_2020"] = urban_core_population(county, out.index.to_series())
    else:
        out["urban_core_pop_2020"] = np.nan
    out["size_class"] = city_size_class(out["urban_core_pop_2020"])
    out["size_class_zh"] = city_size_class(out["urban_core_pop_2020"], lang="zh")
    out["size_class_en"] = city_size_class(out["urban_core_pop_2020"], lang="en")
    out.index.name = "city_code"
    return out


# --------------------------------------------------------------------------------------------------
# Rank-size and primacy
# --------------------------------------------------------------------------------------------------
def rank_size_fit(population: pd.Series) -> dict[str, float]:
    """Fit the rank-size rule ln P_r = a - q ln r by ordinary least squares.

    Parameters
    ----------
    population : pandas.Series
        City populations (NaN and non-positive values are dropped).

    Returns
    -------
    dict
        ``zipf_exponent`` (q; 1 is Zipf's law), ``intercept`` (a), ``r2`` and ``n``.  With fewer
        than three cities q, a and r2 are NaN.
    """
    p = pd.to_numeric(population, errors="raise").to_numpy(dtype=float)
    p = np.sort(p[np.isfinite(p) & (p > 0)])[::-1]
    n = int(p.size)
    if n < 3:
        return {"zipf_exponent": math.nan, "intercept": math.nan, "r2": math.nan, "n": n}
    x = np.log(np.arange(1, n + 1, dtype=float))
    y = np.log(p)
    xm, ym = x.mean(), y.mean()
    slope = float(((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum())
    intercept = float(ym - slope * xm)
    resid = y - (intercept + slope * x)
    ss_tot = float(((y - ym) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else math.nan
    return {"zipf_exponent": -slope, "intercept": intercept, "r2": r2, "n": n}


def primacy(population: pd.Series) -> dict[str, float]:
    """Two-city (P1/P2) and four-city (P1/(P2+P3+P4)) primacy indices; NaN when too few cities."""
    p = pd.to_numeric(population, errors="raise").to_numpy(dtype=float)
    p = np.sort(p[np.isfinite(p) & (p > 0)])[::-1]
    two = float(p[0] / p[1]) if p.size >= 2 else math.nan
    four = float(p[0] / p[1:4].sum()) if p.size >= 4 else math.nan
    return {"primacy_2": two, "primacy_4": four}


def rank_size_by_province(
    measures: pd.DataFrame, *, column: str = "pop_2020", min_cities: int = 3
) -> pd.DataFrame:
    """Rank-size fit and primacy of the cities within each province.

    Parameters
    ----------
    measures : pandas.DataFrame
        Output of :func:`city_measures` (needs ``province``, ``city`` and ``column``).
    column : str
        Population measure to rank, e.g. ``pop_2020`` or ``urban_core_pop_2020``.
    min_cities : int
        Provinces with fewer cities with data get NaN fits (municipalities have one).

    Returns
    -------
    pandas.DataFrame
        Indexed by province: ``n``, ``zipf_exponent``, ``intercept``, ``r2``, ``primacy_2``,
        ``primacy_4``, ``largest_city``.
    """
    rows = []
    for province, group in measures.groupby("province", sort=True):
        values = group[column]
        fit = rank_size_fit(values)
        if fit["n"] < min_cities:
            fit.update(zipf_exponent=math.nan, intercept=math.nan, r2=math.nan)
        pri = primacy(values)
        largest = group.loc[values.idxmax(), "city"] if values.notna().any() else None
        rows.append({"province": province, **fit, **pri, "largest_city": largest})
    return pd.DataFrame(rows).set_index("province")


# --------------------------------------------------------------------------------------------------
# Counties
# --------------------------------------------------------------------------------------------------
def county_urbanisation(county: pd.DataFrame) -> pd.DataFrame:
    """Urbanisation and ageing of every county-level unit (county, district, county-level city).

    Rows of the nation, provinces and prefectures (codes ending in ``00``) are dropped.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``区划代码`` (int): ``province``, ``city``, ``county``, ``pop_2020``,
        ``county_urbanisation_2020`` (%), ``age65_2020`` (%), ``household_size_2020``,
        ``urban_core_pop_2020`` (county-level cities only) and its size class (id/zh/en).
    """
    t = county.dropna(subset=["区划代码"])
    t = t[t["区划代码"].astype("int64") % 100 != 0]
    out = pd.DataFrame(index=t["区划代码"].astype("int64").rename("区划代码"))
    out["province"] = t["省"].to_numpy()
    out["city"] = t["市"].to_numpy()
    out["county"] = t["区县"].to_numpy()
    out["pop_2020"] = t["人口数_合计"].to_numpy(dtype=float)
    out["county_urbanisation_2020"] = 100.0 * t["城镇人口"].to_numpy(dtype=float) / out["pop_2020"]
    out["age65_2020"] = t["人口比重_65岁及以上"].to_numpy(dtype=float)
    out["household_size_2020"] = t["户规模"].to_numpy(dtype=float)
    out["urban_core_pop_2020"] = t["城区人口"].to_numpy(dtype=float)
    out["size_class"] = city_size_class(out["urban_core_pop_2020"])
    out["size_class_zh"] = city_size_class(out["urban_core_pop_2020"], lang="zh")
    out["size_class_en"] = city_size_class(out["urban_core_pop_2020"], lang="en")
    return out


# --------------------------------------------------------------------------------------------------
# SDG 11.3.1
# --------------------------------------------------------------------------------------------------
def land_consumption_ratio(
    built_up_t1: float | np.ndarray,
    built_up_t2: float | np.ndarray,
    pop_t1: float | np.ndarray,
    pop_t2: float | np.ndarray,
) -> float | np.ndarray:
    """Ratio of land consumption rate to population growth rate (SDG 11.3.1).

    LCRPGR = ln(U2/U1) / ln(P2/P1); the number of years cancels.  Built-up areas in any one unit.
    Undefined (NaN) when the population did not change.

    Examples
    --------
    >>> round(land_consumption_ratio(100.0, 121.0, 1000.0, 1100.0), 6)
    2.0
    """
    u1, u2, p1, p2 = (
        np.asarray(v, dtype=float) for v in (built_up_t1, built_up_t2, pop_t1, pop_t2)
    )
    if np.any(u1 <= 0) or np.any(u2 <= 0) or np.any(p1 <= 0) or np.any(p2 <= 0):
        raise ValueError("built-up areas and populations must be positive")
    with np.errstate(divide="ignore", invalid="ignore"):
        pgr = np.log(p2 / p1)
        ratio = np.where(pgr == 0, np.nan, np.log(u2 / u1) / np.where(pgr == 0, 1.0, pgr))
    return float(ratio) if ratio.ndim == 0 else ratio


def city_indicator_records(measures: pd.DataFrame, city_code: int) -> list[dict]:
    """The census measures of one city as indicator records of the ``system`` dimension.

    Parameters
    ----------
    measures : pandas.DataFrame
        :func:`city_measures` output.
    city_code : int
        Six-digit code of the city.

    Returns
    -------
    list of dict
        ``id`` (``system.<measure>``), ``zh``, ``en``, ``dimension``, ``level`` ("district"),
        ``value`` (None for no data), ``unit``, ``source``; the size class also carries ``class_zh``
        and ``class_en``.

    Raises
    ------
    KeyError
        When the code is not a city of the census table.
    """
    if city_code not in measures.index:
        raise KeyError(f"city_code {city_code!r} is not in the census city table")
    row = measures.loc[city_code]
    records = []
    for mid, meta in MEASURES.items():
        if mid not in measures.columns:
            continue
        value = row[mid]
        rec = {
            "id": f"system.{mid}",
            "zh": meta.name_zh,
            "en": meta.name_en,
            "dimension": "system",
            "level": "district",
            "value": None
            if value is None or (isinstance(value, float) and math.isnan(value))
            else (value if isinstance(value, str) else float(value)),
            "unit": meta.unit,
            "source": meta.source,
        }
        if mid == "size_class":
            rec["class_zh"], rec["class_en"] = row["size_class_zh"], row["size_class_en"]
        records.append(rec)
    return records


# --------------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------------
def city_boundaries(city: pd.DataFrame, measures: pd.DataFrame | None = None):
    """City boundaries of the census city table (WKT in ``coord``, WGS84) as a GeoDataFrame.

    Parameters
    ----------
    city : pandas.DataFrame
        The city table (:func:`read_city_census`).
    measures : pandas.DataFrame, optional
        :func:`city_measures` output to join (by ``city_code``): a map of every city.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, indexed by ``city_code``; rows with an empty ``coord`` get no geometry.
    """
    import geopandas as gpd
    import shapely

    wkt = city["coord"].where(city["coord"].notna() & (city["coord"].astype(str).str.len() > 0))
    geoms = shapely.from_wkt(wkt.to_numpy(dtype=object), on_invalid="raise")
    gdf = gpd.GeoDataFrame(
        {"city_code": city["city_code"].to_numpy(), "city": city["city"].to_numpy()},
        geometry=geoms,
        crs=4326,
    ).set_index("city_code")
    if measures is not None:
        gdf = gdf.join(measures.drop(columns=["city"], errors="ignore"))
    return gdf


# --------------------------------------------------------------------------------------------------
# Readers (the only functions here that touch files)
# --------------------------------------------------------------------------------------------------
_CITY_TEXT = ("city", "province", "coord")
_CITY_CODES = ("city_code", "province_code")
_CITY_COUNTS = (
    "popu_2020", "popu_urban_2020", "popu_rural_2020",
    "popu_2010", "popu_urban_2010", "popu_rural_2010",
)  # fmt: skip
_CITY_SHARES = tuple(f"age_{a}_{y}" for y in (2020, 2010) for a in ("0_14", "15_59", "60", "65"))
_CITY_OTHER = ("household_2020", "household_2010", "male_female_2020", "male_female_2010")

_COUNTY_TEXT = ("省", "市", "区县")
_COUNTY_COUNTS = ("人口数_合计", "城镇人口", "乡村人口", "城区人口")
_COUNTY_SHARES = ("人口比重_65岁及以上",)
_COUNTY_OTHER = ("户规模",)


def _numeric(
    df: pd.DataFrame, column: str, path: Path, problems: list[str], *, low: float, high: float
) -> None:
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    for i in list(df.index[bad])[:3]:
        problems.append(f"{path}: field {column!r}, row {i + 2}: value {raw[i]!r} is not a number")
    out_of_range = values.notna() & ((values < low) | (values > high))
    for i in list(df.index[out_of_range])[:3]:
        problems.append(
            f"{path}: field {column!r}, row {i + 2}: value {raw[i]!r} outside [{low:g}, {high:g}]"
        )
    df[column] = values.astype(float)


def _check_columns(df: pd.DataFrame, path: Path, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise CensusTableError(
            f"{path}: missing field(s) {', '.join(repr(m) for m in missing)}; "
            f"found {', '.join(map(repr, list(df.columns)[:12]))}"
            + (" ..." if len(df.columns) > 12 else "")
        )


def read_city_census(path: str | Path) -> pd.DataFrame:
    """Read and validate the census city table (china_city_census_2010_2020.csv).

    Raises
    ------
    CensusTableError
        Missing fields, non-numeric or out-of-range values, bad or duplicate codes, or urban
        population above the total; the message lists every problem with file, field, row, value.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=True)
    required = _CITY_TEXT + _CITY_CODES + _CITY_COUNTS + _CITY_SHARES + _CITY_OTHER
    _check_columns(df, path, required)
    problems: list[str] = []
    for col in _CITY_CODES:
        codes = pd.to_numeric(df[col], errors="coerce")
        bad = codes.isna() | (codes < 100000) | (codes > 999999) | (codes % 1 != 0)
        for i in list(df.index[bad])[:3]:
            problems.append(
                f"{path}: field {col!r}, row {i + 2}: value {df.at[i, col]!r} is not a "
                "six-digit administrative code"
            )
        df[col] = codes.fillna(0).astype("int64")
    for i in list(df.index[df["city_code"].duplicated()])[:3]:
        problems.append(
            f"{path}: field 'city_code', row {i + 2}: duplicate value {df.at[i, 'city_code']}"
        )
    for col in _CITY_COUNTS:
        _numeric(df, col, path, problems, low=0, high=2e9)
    for col in _CITY_SHARES:
        _numeric(df, col, path, problems, low=0, high=100)
    for col in ("household_2020", "household_2010"):
        _numeric(df, col, path, problems, low=0.5, high=20)
    for col in ("male_female_2020", "male_female_2010"):
        _numeric(df, col, path, problems, low=10, high=1000)
    for year in (2010, 2020):
        over = df[f"popu_urban_{year}"] > df[f"popu_{year}"] * (1 + 1e-9)
        for i in list(df.index[over])[:3]:
            problems.append(
                f"{path}: field 'popu_urban_{year}', row {i + 2}: value "
                f"{df.at[i, f'popu_urban_{year}']:g} exceeds "
                f"popu_{year} {df.at[i, f'popu_{year}']:g}"
            )
    if problems:
        raise CensusTableError("\n".join(problems))
    logger.debug("read %d cities from %s", len(df), path)
    return df


def read_county_census(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate the census county table (china_county_census_2020.csv).

    Only the fields used here are validated and converted; other columns are kept as text.

    Raises
    ------
    CensusTableError
        As :func:`read_city_census`.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str)
    _check_columns(
        df, path, ("区划代码", *_COUNTY_TEXT, *_COUNTY_COUNTS, *_COUNTY_SHARES, *_COUNTY_OTHER)
    )
    problems: list[str] = []
    codes = pd.to_numeric(df["区划代码"], errors="coerce")
    bad = df["区划代码"].notna() & (codes.isna() | (codes < 100000) | (codes > 999999))
    for i in list(df.index[bad])[:3]:
        problems.append(
            f"{path}: field '区划代码', row {i + 2}: value {df.at[i, '区划代码']!r} is not a "
            "six-digit administrative code"
        )
    df["区划代码"] = codes
    for col in _COUNTY_COUNTS:
        _numeric(df, col, path, problems, low=0, high=2e9)
    for col in _COUNTY_SHARES:
        _numeric(df, col, path, problems, low=0, high=100)
    for col in _COUNTY_OTHER:
        _numeric(df, col, path, problems, low=0.5, high=20)
    over = df["城镇人口"] > df["人口数_合计"] * (1 + 1e-9)
    for i in list(df.index[over])[:3]:
        problems.append(
            f"{path}: field '城镇人口', row {i + 2}: value {df.at[i, '城镇人口']:g} exceeds "
            f"人口数_合计 {df.at[i, '人口数_合计']:g}"
        )
    if problems:
        raise CensusTableError("\n".join(problems))
    return df

"""The modern urban system (现代化城市体系): measures of every city of China from the census.

Inputs are the two tables of the 7th national census (2020, with 2010 figures for cities)
described in ``../shared/data/README.md``:

* the city table: 369 prefecture-level units with 2010 and 2020 population (total, urban, rural),
  household size, sex ratio, age shares (0-14, 15-59, 60+, 65+, in percent) and a WGS84 boundary;
* the county table: 3,358 rows (nation, provinces, prefectures, counties and districts) of 2020,
  including 城区人口 (urban-district resident population), the quantity on which the State
  Council's city-size standard is defined.

Every measure is a pure function of DataFrames.  The tables are read and validated by
:mod:`citycheck.io.census` (:func:`read_city_census`, :func:`read_county_census`, re-exported here),
which raises :class:`CensusTableError` naming the file, the field, the row and the offending value.

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

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from citycheck.evaluate.land_consumption import land_consumption
from citycheck.io.census import CensusTableError, read_city_census, read_county_census

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
    "write_urban_system",
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
    table = county.drop_duplicates("adcode")
    core = pd.Series(
        table["urban_core_population"].to_numpy(dtype=float),
        index=table["adcode"].astype("int64").to_numpy(),
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

    ``county`` is the table as read by :func:`read_county_census`. Rows of the nation, provinces
    and prefectures (codes ending in ``00``) are dropped.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``区划代码`` (int): ``province``, ``city``, ``county``, ``pop_2020``,
        ``county_urbanisation_2020`` (%), ``age65_2020`` (%), ``household_size_2020``,
        ``urban_core_pop_2020`` (county-level cities only) and its size class (id/zh/en).
    """
    codes = county["adcode"].astype("int64")
    t = county[(codes % 100 != 0).to_numpy()]
    out = pd.DataFrame(index=pd.Index(t["adcode"].astype("int64").to_numpy(), name="区划代码"))
    out["province"] = t["province"].to_numpy()
    out["city"] = t["city"].to_numpy()
    out["county"] = t["county"].to_numpy()
    out["pop_2020"] = t["population"].to_numpy(dtype=float)
    out["county_urbanisation_2020"] = (
        100.0 * t["urban_population"].to_numpy(dtype=float) / out["pop_2020"]
    )
    out["age65_2020"] = t["share_65plus_pct"].to_numpy(dtype=float)
    out["household_size_2020"] = t["household_size"].to_numpy(dtype=float)
    out["urban_core_pop_2020"] = t["urban_core_population"].to_numpy(dtype=float)
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
    """Ratio of land consumption rate to population growth rate (SDG 11.3.1), element-wise.

    LCRPGR = ln(U2/U1) / ln(P2/P1); the number of years cancels.  Built-up areas in any one unit.
    Undefined (NaN) when the population did not change.  Each element is computed by
    :func:`citycheck.evaluate.land_consumption.land_consumption` (the one implementation), over
    one year so that its per-year rates are the logarithms themselves.

    Raises
    ------
    ValueError
        A non-positive area or population (an :class:`~citycheck.io.errors.InputError`).

    Examples
    --------
    >>> round(land_consumption_ratio(100.0, 121.0, 1000.0, 1100.0), 6)
    2.0
    """
    u1, u2, p1, p2 = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (built_up_t1, built_up_t2, pop_t1, pop_t2))
    )
    ratio = np.array(
        [
            land_consumption(float(a), float(b), float(c), float(d), 0.0, 1.0).ratio
            for a, b, c, d in zip(u1.ravel(), u2.ravel(), p1.ravel(), p2.ravel(), strict=True)
        ],
        dtype=float,
    ).reshape(u1.shape)
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


def write_urban_system(out: Path, city: pd.DataFrame, county: pd.DataFrame) -> pd.DataFrame:
    """Write the urban-system outputs of the census tables into the folder ``out``.

    Maps of size class and urbanisation, ``cities.csv``, ``provinces_rank_size.csv``,
    ``counties.csv``, ``size_classes.csv``, ``cities.gpkg`` and ``measures.json``; returns the
    count of cities by size class.
    """
    import json

    from citycheck.batch.maps import write_map

    measures = city_measures(city, county)
    out.mkdir(parents=True, exist_ok=True)
    gdf = city_boundaries(city, measures)
    write_map(
        out, "map_size_class", gdf, "size_class", title_zh="城市规模等级（国发〔2014〕51号）",
        title_en="City-size class (State Council 2014 standard)", name_column="city",
        categories=[(c.id, c.name_zh, c.name_en) for c in SIZE_CLASSES],
    )  # fmt: skip
    write_map(
        out, "map_urbanisation", gdf, "urbanisation_2020", title_zh="常住人口城镇化率（2020年）",
        title_en="Resident urbanisation rate 2020", name_column="city", unit="%",
        bins=(0, 20, 40, 60, 80, 100),
    )  # fmt: skip
    measures.to_csv(out / "cities.csv")
    rank_size_by_province(measures).to_csv(out / "provinces_rank_size.csv")
    county_urbanisation(county).to_csv(out / "counties.csv")
    size_class_counts(measures["size_class"]).to_csv(out / "size_classes.csv", index=False)
    gdf.to_file(out / "cities.gpkg", layer="cities", driver="GPKG")
    names = {m.id: {"zh": m.name_zh, "en": m.name_en, "unit": m.unit, "source": m.source}
             for m in MEASURES.values()}  # fmt: skip
    (out / "measures.json").write_text(
        json.dumps(names, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return size_class_counts(measures["size_class"])

"""SDG 11.3.1: ratio of land consumption rate to population growth rate, from user data.

The user supplies the built-up area of a city at two dates, either as a table of areas or as two
polygon layers (built-up extents), and the population at the same dates.

Method (UN-Habitat, SDG indicator metadata 11.3.1, "Ratio of land consumption rate to population
growth rate", https://unstats.un.org/sdgs/metadata/files/Metadata-11-03-01.pdf)::

    LCR    = ln(Urb_{t+n} / Urb_t) / y       land consumption rate (per year)
    PGR    = ln(Pop_{t+n} / Pop_t) / y       population growth rate (per year)
    LCRPGR = LCR / PGR

with Urb the built-up area, Pop the population and y the years between the two dates.  The
metadata also reports the built-up area per capita at each date (m² per person), given here too.
LCRPGR is undefined when the population did not change (PGR = 0); it is then NaN with a note.

:func:`land_consumption` is pure; :func:`read_area_table` and :func:`built_up_area` read files and
raise :class:`citycheck.io.errors.InputError` naming the file, the field and the value.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from citycheck.io.errors import InputError
from citycheck.labels import labels_under

__all__ = [
    "AREA_TABLE_COLUMNS",
    "RESULT_COLUMNS",
    "LandConsumption",
    "built_up_area",
    "land_consumption",
    "land_consumption_from_inputs",
    "land_consumption_table",
    "read_area_table",
    "write_land_consumption",
]

SOURCE = (
    "UN-Habitat, SDG indicator metadata 11.3.1 (LCR = ln(Urb_t+n/Urb_t)/y, "
    "PGR = ln(Pop_t+n/Pop_t)/y, LCRPGR = LCR/PGR)"
)

#: Columns of the area table: name -> (Chinese, English) description.
AREA_TABLE_COLUMNS: dict[str, tuple[str, str]] = labels_under("land_consumption.area_table")

#: Result columns: name -> (Chinese, English).
RESULT_COLUMNS: dict[str, tuple[str, str]] = labels_under("land_consumption.result")


@dataclass(frozen=True)
class LandConsumption:
    """SDG 11.3.1 for one city.

    Attributes
    ----------
    years : float
        Years between the two dates (y).
    lcr, pgr : float
        Land consumption rate and population growth rate, per year (fractions: 0.02 = 2 %).
    ratio : float
        LCRPGR; NaN when the population did not change.
    built_up_per_capita_1, built_up_per_capita_2 : float
        Built-up area per person at each date (m²).
    note : str
        Why the ratio is undefined, else empty.
    """

    years: float
    lcr: float
    pgr: float
    ratio: float
    built_up_per_capita_1: float
    built_up_per_capita_2: float
    note: str = ""


def land_consumption(
    built_up_1: float,
    built_up_2: float,
    pop_1: float,
    pop_2: float,
    year_1: float,
    year_2: float,
    *,
    where: str = "land consumption",
) -> LandConsumption:
    """SDG 11.3.1 from built-up areas (km²) and populations at two dates.

    Parameters
    ----------
    built_up_1, built_up_2 : float
        Built-up area (km²) at the first and second date.
    pop_1, pop_2 : float
        Population at the two dates.
    year_1, year_2 : float
        The dates (years; fractions allowed), ``year_2 > year_1``.
    where : str
        Names the input in error messages (a file and row).

    Raises
    ------
    InputError
        A non-positive area or population, or a second date not after the first.

    Examples
    --------
    >>> r = land_consumption(100.0, 121.0, 1000.0, 1100.0, 2010, 2020)
    >>> round(r.ratio, 6), round(r.lcr, 6)
    (2.0, 0.019062)
    """
    for field, value in (
        ("built_up_km2_1", built_up_1),
        ("built_up_km2_2", built_up_2),
        ("pop_1", pop_1),
        ("pop_2", pop_2),
    ):
        if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise InputError(where, field, value, "expected a positive number")
    for field, value in (("year_1", year_1), ("year_2", year_2)):
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise InputError(where, field, value, "expected a year")
    years = float(year_2) - float(year_1)
    if years <= 0:
        raise InputError(where, "year_2", year_2, f"must be after year_1 ({year_1})")
    lcr = math.log(built_up_2 / built_up_1) / years
    pgr = math.log(pop_2 / pop_1) / years
    ratio, note = (lcr / pgr, "") if pgr != 0 else (math.nan, "population unchanged: PGR = 0")
    return LandConsumption(
        years=years,
        lcr=lcr,
        pgr=pgr,
        ratio=ratio,
        built_up_per_capita_1=built_up_1 * 1e6 / pop_1,
        built_up_per_capita_2=built_up_2 * 1e6 / pop_2,
        note=note,
    )


def read_area_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV of built-up areas and populations (:data:`AREA_TABLE_COLUMNS`).

    Raises
    ------
    InputError
        Missing file or column, or a value that is not a number (naming the row).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file", str(path), "area table not found")
    try:
        df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, "file", path.name, f"not a readable CSV ({exc})") from exc
    missing = [c for c in AREA_TABLE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            path, missing[0], None,
            f"missing column(s) {missing}; expected {list(AREA_TABLE_COLUMNS)}",
        )  # fmt: skip
    for col in list(AREA_TABLE_COLUMNS)[1:]:
        values = pd.to_numeric(df[col].str.strip(), errors="coerce")
        bad = values.isna()
        if bad.any():
            i = int(df.index[bad][0])
            raise InputError(path, col, df.at[i, col], f"row {i + 2}: expected a number")
        df[col] = values.astype(float)
    return df


def land_consumption_table(areas: pd.DataFrame, *, source: str = "table") -> pd.DataFrame:
    """SDG 11.3.1 for every row of an area table (:func:`read_area_table`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``id``: the input columns, then ``years``, ``lcr``, ``pgr``, ``ratio``,
        ``built_up_per_capita_1``, ``built_up_per_capita_2`` (m²/person) and ``note``.
    """
    rows = []
    for i, row in areas.iterrows():
        result = land_consumption(
            row["built_up_km2_1"], row["built_up_km2_2"], row["pop_1"], row["pop_2"],
            row["year_1"], row["year_2"], where=f"{source} row {int(i) + 2}",
        )  # fmt: skip
        rows.append({**{c: row[c] for c in AREA_TABLE_COLUMNS}, **asdict(result)})
    return pd.DataFrame(rows).set_index("id")


def built_up_area(path: str | os.PathLike[str], boundary=None) -> float:
    """Area (km²) of a layer of built-up polygons, optionally clipped to a boundary.

    Areas are measured in the layer's UTM zone (an equal-enough projection at city scale);
    overlapping polygons count once.

    Parameters
    ----------
    path : path-like
        Polygon layer (GeoJSON, GeoPackage, Shapefile…) with a CRS (WGS84 assumed when absent).
    boundary : shapely geometry, optional
        Study area in WGS84.

    Raises
    ------
    InputError
        An unreadable file, no polygons, or invalid geometries that cannot be repaired.
    """
    import geopandas as gpd
    import shapely

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file", str(path), "built-up layer not found")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise InputError(path, "file", path.name, f"not a readable vector file ({exc})") from exc
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    kinds = set(gdf.geom_type)
    if not len(gdf) or not kinds <= {"Polygon", "MultiPolygon"}:
        raise InputError(path, "geometry", sorted(kinds), "expected polygons of built-up land")
    geoms = shapely.make_valid(gdf.to_crs(4326).geometry.to_numpy())
    merged = shapely.union_all(geoms)
    if boundary is not None:
        merged = merged.intersection(boundary)
    if merged.is_empty:
        raise InputError(path, "geometry", None, "no built-up land inside the study area")
    one = gpd.GeoSeries([merged], crs=4326)
    return float(one.to_crs(one.estimate_utm_crs()).area.iloc[0] / 1e6)


def land_consumption_from_inputs(
    *,
    table: Path | None = None,
    built_up_1: Path | None = None,
    built_up_2: Path | None = None,
    pop_1: float | None = None,
    pop_2: float | None = None,
    year_1: float | None = None,
    year_2: float | None = None,
    boundary: Path | None = None,
    area_id: str = "area",
) -> pd.DataFrame:
    """SDG 11.3.1 from an area table, or from two built-up layers with populations and years
    (each clipped to ``boundary`` when given).

    Raises
    ------
    InputError
        Both a table and layers, or a value missing for the layers (named as the command's
        options).
    """
    if table is not None:
        if built_up_1 or built_up_2:
            raise InputError(
                "--table", "built_up_1", str(built_up_1 or built_up_2),
                "give either --table or two built-up layers, not both",
            )  # fmt: skip
        return land_consumption_table(read_area_table(table), source=str(table))
    given = {"--built-up-1": built_up_1, "--built-up-2": built_up_2, "--pop-1": pop_1,
             "--pop-2": pop_2, "--year-1": year_1, "--year-2": year_2}  # fmt: skip
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise InputError("command line", missing[0], None,
                         f"missing {', '.join(missing)} (or give --table)")  # fmt: skip
    area = None
    if boundary is not None:
        from citycheck.io.boundary import read_boundary

        area = read_boundary(boundary)
    u1 = built_up_area(built_up_1, area)  # type: ignore[arg-type]
    u2 = built_up_area(built_up_2, area)  # type: ignore[arg-type]
    areas = pd.DataFrame([{"id": area_id, "year_1": year_1, "year_2": year_2,
                           "built_up_km2_1": u1, "built_up_km2_2": u2,
                           "pop_1": pop_1, "pop_2": pop_2}])  # fmt: skip
    return land_consumption_table(areas, source="command line")


def write_land_consumption(out: Path, result: pd.DataFrame) -> pd.DataFrame:
    """Grade each ratio against indicator U01 and write ``land_consumption.csv`` and
    ``land_consumption.json`` (bilingual column names, the band and its source) into ``out``.

    Returns ``result`` with its ``grade`` column.
    """
    import json

    from citycheck.evaluate.catalogue import catalogue

    u01 = catalogue()["U01"]
    result["grade"] = [u01.grade(v) for v in result["ratio"]]
    out.mkdir(parents=True, exist_ok=True)
    result.to_csv(out / "land_consumption.csv")
    columns = {
        **{k: {"zh": zh, "en": en} for k, (zh, en) in AREA_TABLE_COLUMNS.items()},
        **{k: {"zh": zh, "en": en} for k, (zh, en) in RESULT_COLUMNS.items()},
    }
    doc = {"indicator": "SDG 11.3.1 / U01", "source": SOURCE, "band": u01.threshold_text(),
           "band_source": u01.source, "columns": columns,
           "results": json.loads(result.reset_index().to_json(orient="records"))}  # fmt: skip
    (out / "land_consumption.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return result

"""China's census tables: counties/districts (2020) and prefecture-level cities (2010 and 2020).

The files are those of the public ``leiii/census`` dataset (see ../shared/data/README.md). This
module is the one reader of both tables: :func:`read_county_census` (Chinese headers, returned
under English names) and :func:`read_city_census` (English headers). Both validate every field
citycheck uses and raise :class:`CensusTableError` (an :class:`~citycheck.io.errors.InputProblems`)
listing every problem, each with the file, the field, the row and the value.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from citycheck.io.errors import InputError, InputProblem, InputProblems

__all__ = [
    "COUNTY_FIELDS",
    "CensusTableError",
    "county_record",
    "read_city_census",
    "read_county_census",
]

logger = logging.getLogger(__name__)

#: Chinese header -> English name, for the county table's fields citycheck uses.
COUNTY_FIELDS: dict[str, str] = {
    "区划代码": "adcode",
    "省": "province",
    "市": "city",
    "区县": "county",
    "人口数_合计": "population",
    "城镇人口": "urban_population",
    "乡村人口": "rural_population",
    "家庭户数": "households",
    "户规模": "household_size",
    "人口比重_65岁及以上": "share_65plus_pct",
    "城区人口": "urban_core_population",
}
#: Number fields of the county table (Chinese header) and their valid range.
_COUNTY_RANGES: dict[str, tuple[float, float]] = {
    "人口数_合计": (0, 2e9),
    "城镇人口": (0, 2e9),
    "乡村人口": (0, 2e9),
    "城区人口": (0, 2e9),
    "家庭户数": (0, 2e9),
    "人口比重_65岁及以上": (0, 100),
    "户规模": (0.5, 20),
}

_CITY_TEXT = ("city", "province", "coord")
_CITY_CODES = ("city_code", "province_code")
_CITY_COUNTS = (
    "popu_2020", "popu_urban_2020", "popu_rural_2020",
    "popu_2010", "popu_urban_2010", "popu_rural_2010",
)  # fmt: skip
_CITY_SHARES = tuple(f"age_{a}_{y}" for y in (2020, 2010) for a in ("0_14", "15_59", "60", "65"))
_CITY_OTHER = ("household_2020", "household_2010", "male_female_2020", "male_female_2010")


class CensusTableError(InputProblems):
    """A census table has missing fields or invalid values.

    An :class:`~citycheck.io.errors.InputProblems`; its message gives one line per problem,
    ``<file>: field '<field>', row <row>: value <value> <reason>``.
    """

    def __init__(self, path: str | os.PathLike[str], problems: list[InputProblem]):
        super().__init__(path, problems)
        lines = [f"{self.path}: {_describe(p)}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"{self.path}: … and {len(self.problems) - 50} more")
        self.args = ("\n".join(lines),)


def _describe(p: InputProblem) -> str:
    where = f"field {p.field!r}" + (f", row {p.row}" if p.row is not None else "")
    if p.value is None:
        return f"{where}: {p.reason}"
    return f"{where}: value {p.value!r} {p.reason}"


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(path, "file", str(path), f"census {what} table not found")
    try:
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, "file", path.name, f"not a readable CSV ({exc})") from exc


def _check_columns(df: pd.DataFrame, path: Path, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        found = ", ".join(map(repr, list(df.columns)[:12])) + (
            " ..." if len(df.columns) > 12 else ""
        )
        raise CensusTableError(
            path,
            [
                InputProblem(None, c, None, f"required field is missing; found {found}")
                for c in missing
            ],
        )


def _numbers(
    df: pd.DataFrame,
    column: str,
    problems: list[InputProblem],
    *,
    low: float,
    high: float,
    alias: str | None = None,
) -> pd.Series:
    """The column as floats; text and values outside [low, high] are problems (blank: NaN)."""
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce")
    named = f" ({alias})" if alias else ""
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    for i in df.index[bad]:
        problems.append(InputProblem(int(i) + 2, column, raw[i], f"is not a number{named}"))
    out = values.notna() & ((values < low) | (values > high))
    for i in df.index[out]:
        problems.append(
            InputProblem(int(i) + 2, column, raw[i], f"outside [{low:g}, {high:g}]{named}")
        )
    return values.astype(float)


def _codes(
    df: pd.DataFrame, column: str, problems: list[InputProblem], *, required: bool
) -> pd.Series:
    """Six-digit administrative codes as int64 (0 where missing or invalid)."""
    raw = df[column]
    codes = pd.to_numeric(raw, errors="coerce")
    bad = codes.isna() | (codes < 100000) | (codes > 999999) | (codes % 1 != 0)
    if not required:
        bad &= raw.notna()
    for i in df.index[bad]:
        problems.append(
            InputProblem(int(i) + 2, column, raw[i], "is not a six-digit administrative code")
        )
    return codes.where(~bad).fillna(0).astype("int64")


def _not_above(
    df: pd.DataFrame, part: str, whole: str, problems: list[InputProblem], raw: pd.DataFrame
) -> None:
    over = df[part] > df[whole] * (1 + 1e-9)
    for i in df.index[over]:
        problems.append(
            InputProblem(int(i) + 2, part, raw.at[i, part], f"exceeds {whole} {df.at[i, whole]:g}")
        )


def read_county_census(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate the county/district table of the 2020 census.

    Parameters
    ----------
    path : path-like
        ``china_county_census_2020.csv``.

    Returns
    -------
    DataFrame
        One row per unit with a code (nation-level aggregate rows without one are dropped),
        indexed by ``adcode`` (six-digit str); the fields of :data:`COUNTY_FIELDS` under their
        English names first (numbers as floats), then every other original column (text).

    Raises
    ------
    InputError
        The file is missing or not a readable CSV.
    CensusTableError
        Missing fields, codes that are not six digits, text or out-of-range values in number
        fields, or urban population above the total (each with its field, row and value).
    """
    path = Path(path)
    raw = _read_csv(path, "county")
    _check_columns(raw, path, tuple(COUNTY_FIELDS))
    problems: list[InputProblem] = []
    df = raw.copy()
    df["区划代码"] = _codes(raw, "区划代码", problems, required=False)
    for col, (low, high) in _COUNTY_RANGES.items():
        df[col] = _numbers(raw, col, problems, low=low, high=high, alias=COUNTY_FIELDS[col])
    _not_above(df, "城镇人口", "人口数_合计", problems, raw)
    if problems:
        raise CensusTableError(path, problems)
    df = df[raw["区划代码"].notna()]
    df = df.rename(columns=COUNTY_FIELDS)
    df["adcode"] = df["adcode"].astype(str).str.zfill(6)
    english = list(COUNTY_FIELDS.values())
    df = df[english + [c for c in df.columns if c not in english]]
    logger.debug("read %d census units from %s", len(df), path)
    return df.set_index("adcode", drop=False)


def read_city_census(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate the census city table (``china_city_census_2010_2020.csv``).

    Returns
    -------
    DataFrame
        One row per prefecture-level unit: ``city_code`` and ``province_code`` (int), the
        population, age-share, household and sex-ratio fields as floats, the rest as text.

    Raises
    ------
    InputError
        The file is missing or not a readable CSV.
    CensusTableError
        Missing fields, non-numeric or out-of-range values, bad or duplicate codes, or urban
        population above the total (each with its field, row and value).
    """
    path = Path(path)
    raw = _read_csv(path, "city")
    required = _CITY_TEXT + _CITY_CODES + _CITY_COUNTS + _CITY_SHARES + _CITY_OTHER
    _check_columns(raw, path, required)
    problems: list[InputProblem] = []
    df = raw.copy()
    for col in _CITY_CODES:
        df[col] = _codes(raw, col, problems, required=True)
    for i in df.index[df["city_code"].duplicated()]:
        problems.append(
            InputProblem(int(i) + 2, "city_code", raw.at[i, "city_code"], "is a duplicate")
        )
    for col in _CITY_COUNTS:
        df[col] = _numbers(raw, col, problems, low=0, high=2e9)
    for col in _CITY_SHARES:
        df[col] = _numbers(raw, col, problems, low=0, high=100)
    for col in ("household_2020", "household_2010"):
        df[col] = _numbers(raw, col, problems, low=0.5, high=20)
    for col in ("male_female_2020", "male_female_2010"):
        df[col] = _numbers(raw, col, problems, low=10, high=1000)
    for year in (2010, 2020):
        _not_above(df, f"popu_urban_{year}", f"popu_{year}", problems, raw)
    if problems:
        raise CensusTableError(path, problems)
    logger.debug("read %d cities from %s", len(df), path)
    return df


def county_record(table: pd.DataFrame, adcode: str | int) -> pd.Series:
    """The census row of one county/district, with a clear error when the code is unknown."""
    code = str(adcode).zfill(6)
    if code not in table.index:
        raise InputError("census", "adcode", code, "no county/district with this code")
    return table.loc[code]

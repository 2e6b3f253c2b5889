"""China's 7th national census (2020) tables: counties/districts and prefecture-level cities.

The files are those of the public ``leiii/census`` dataset (see ../shared/data/README.md); column
headers are Chinese. Readers return English column names for the fields citycheck uses and keep
every original column.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from citycheck.io.errors import InputError, InputProblem, InputProblems

__all__ = ["COUNTY_FIELDS", "county_record", "read_county_census"]

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
}
_NUMERIC = (
    "population",
    "urban_population",
    "rural_population",
    "households",
    "household_size",
    "share_65plus_pct",
)


def read_county_census(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the county/district table of the 2020 census.

    Parameters
    ----------
    path : path-like
        ``china_county_census_2020.csv``.

    Returns
    -------
    DataFrame
        One row per county with a 6-digit code, indexed by ``adcode`` (str); English columns of
        :data:`COUNTY_FIELDS` first, then every original column. Rows without a code (a few
        aggregate rows of the source) are dropped.

    Raises
    ------
    InputProblems
        Missing columns, or text / negative values in number columns (each with its row).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file", str(path), "census table not found")
    try:
        raw = pd.read_csv(path, dtype={"区划代码": str}, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(path, "file", path.name, f"not a readable CSV ({exc})") from exc
    missing = [c for c in COUNTY_FIELDS if c not in raw.columns]
    if missing:
        raise InputProblems(
            path, [InputProblem(None, c, None, "required column is missing") for c in missing]
        )
    df = raw.rename(columns=COUNTY_FIELDS)
    df = df[df["adcode"].notna()].copy()
    df["adcode"] = df["adcode"].astype(str).str.replace(r"\.0$", "", regex=True).str.zfill(6)
    problems: list[InputProblem] = []
    for col in _NUMERIC:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna()
        neg = values < 0
        for idx in df.index[bad | neg]:
            problems.append(
                InputProblem(int(idx) + 2, col, df.at[idx, col], "expected a number ≥ 0")
            )
        df[col] = values
    if problems:
        raise InputProblems(path, problems)
    return df.set_index("adcode", drop=False)


def county_record(table: pd.DataFrame, adcode: str | int) -> pd.Series:
    """The census row of one county/district, with a clear error when the code is unknown."""
    code = str(adcode).zfill(6)
    if code not in table.index:
        raise InputError("census", "adcode", code, "no county/district with this code")
    return table.loc[code]

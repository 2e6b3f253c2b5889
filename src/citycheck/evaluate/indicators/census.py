"""The census indicators of the urban system (U07–U15): registered here, computed by
:func:`citycheck.evaluate.census_indicators.census_system_values` (the context's ``census``)."""

from __future__ import annotations

import pandas as pd

from citycheck.evaluate.catalogue import catalogue
from citycheck.evaluate.indicators.registry import (
    COLUMNS,
    Computed,
    IndicatorContext,
    register_group,
)
from citycheck.labels import message

__all__ = ["CENSUS_IDS", "census_indicators"]

#: Catalogue ids taken from the census tables.
CENSUS_IDS: tuple[str, ...] = tuple(i.id for i in catalogue().values() if i.compute == "census")


@register_group(CENSUS_IDS, "census")
def census_indicators(ctx: IndicatorContext) -> Computed:
    """The census values of the context; an id whose figure the census lacks gets its reason."""
    census = ctx.census
    if census is None or not len(census):
        return Computed(pd.DataFrame(columns=COLUMNS))
    empty = census["value"].isna()
    reasons = {iid: message("msg_no_census_figure") for iid in census.loc[empty, "indicator"]}
    return Computed(census.loc[~empty, COLUMNS], reasons)

"""The hotline indicators (Z01, Z01b, Z01c, Z02, S02, C04): registered here, computed by
:func:`citycheck.listen.analytics.health.hotline_indicators` from the context's orders."""

from __future__ import annotations

import pandas as pd

from citycheck.evaluate.catalogue import catalogue
from citycheck.evaluate.indicators.registry import (
    COLUMNS,
    Computed,
    IndicatorContext,
    register_group,
)

__all__ = ["HOTLINE_IDS", "hotline_indicators"]

#: Catalogue ids computed from hotline records.
HOTLINE_IDS: tuple[str, ...] = tuple(i.id for i in catalogue().values() if i.compute == "hotline")


@register_group(HOTLINE_IDS, "hotline")
def hotline_indicators(ctx: IndicatorContext) -> Computed:
    """Values of the hotline indicators on the city's district and neighbourhoods (units
    without a value give no row; without orders, nothing)."""
    if ctx.hotline is None:
        return Computed(pd.DataFrame(columns=COLUMNS))
    from citycheck.listen.analytics.health import hotline_indicators as compute

    levels = tuple(lv for lv in ("district", "neighbourhood") if lv in ctx.city.units)
    values = compute(ctx.hotline, ctx.city, levels=levels)
    return Computed(values.loc[values["value"].notna(), COLUMNS].reset_index(drop=True))

"""The walking-network indicators: registered here, computed by :mod:`citycheck.access`.

:func:`citycheck.access.indicator_values` computes every one of them on the walking-network
analysis of the context (:attr:`IndicatorContext.network`) at the levels the catalogue declares.
"""

from __future__ import annotations

from citycheck.evaluate.catalogue import catalogue
from citycheck.evaluate.indicators.registry import Computed, IndicatorContext, register_group

__all__ = ["NETWORK_IDS", "network_indicators", "network_levels"]

#: Catalogue ids computed on the walking network.
NETWORK_IDS: tuple[str, ...] = tuple(i.id for i in catalogue().values() if i.compute == "access")


def network_levels() -> dict[str, tuple[str, ...]]:
    """Catalogue id -> the levels the catalogue declares, for every walking-network indicator."""
    return {iid: tuple(catalogue()[iid].levels) for iid in NETWORK_IDS}


@register_group(NETWORK_IDS, "network")
def network_indicators(ctx: IndicatorContext) -> Computed:
    """Every walking-network indicator (:func:`citycheck.access.indicator_values`)."""
    from citycheck.access import indicator_values

    values, missing = indicator_values(ctx.network, ctx.city, levels=network_levels())
    return Computed(values, missing)

"""Scenarios whose outcome follows from the intact run: closures that only cut a part off.

When the closed links do nothing but separate some junctions from every source (reservoir, tank,
junction with negative demand), those junctions receive nothing, and the part still connected to
a source keeps every one of its pipes: it loses demand, so its flows and head losses fall and,
under pressure-dependent demand, its junctions receive at least what they received intact. The
shortfall of the scenario is then the intact supply of the cut-off junctions — no simulation
needed. :func:`cut_off_junctions` decides when that holds; a closure that also opens a loop inside
the supplied part returns None and is simulated.

A storage-free dead-end branch is the common case: on WNTR's ky10 model, 422 of the 1043 pipes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx

__all__ = ["CutOffGraph", "cut_off_junctions"]


class CutOffGraph:
    """The network's links as a multigraph, with its source nodes.

    Parameters
    ----------
    links : iterable of (name, from_node, to_node)
        Every link (pipes, pumps, valves).
    sources : iterable of str
        Reservoirs, tanks and junctions that inject water (negative demand).
    """

    def __init__(self, links: Iterable[tuple[str, str, str]], sources: Iterable[str]) -> None:
        self.graph = nx.MultiGraph()
        self.ends: dict[str, tuple[str, str]] = {}
        for name, a, b in links:
            self.graph.add_edge(a, b, key=name)
            self.ends[name] = (a, b)
        self.sources = set(sources)


def cut_off_junctions(net: CutOffGraph, closed: Sequence[str]) -> set[str] | None:
    """Nodes cut off from every source by closing ``closed``, if that is all the closure does.

    Parameters
    ----------
    net : CutOffGraph
    closed : sequence of str
        Links closed by the scenario.

    Returns
    -------
    set of str or None
        The nodes without a path to a source after the closure; None when some closed link has
        both ends still supplied (the closure changes the supplied network's hydraulics and has
        to be simulated) or when nothing is cut off.
    """
    g = nx.restricted_view(net.graph, [], [(*net.ends[name], name) for name in closed])
    supplied: set[str] = set()
    for comp in nx.connected_components(g):
        if comp & net.sources:
            supplied |= comp
    for name in closed:
        a, b = net.ends[name]
        if a in supplied and b in supplied:
            return None
    cut = set(g.nodes) - supplied
    return cut or None

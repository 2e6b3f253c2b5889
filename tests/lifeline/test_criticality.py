"""Hydraulic criticality with EPANET (via WNTR), checked by hand and by WNTR's own solver."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citycheck.lifeline.criticality import (
    HydraulicSettings,
    pipe_criticality,
    scenario_criticality,
    segment_scenarios,
    verify_with_wntr_simulator,
)
from citycheck.lifeline.register import register_from_inp
from citycheck.lifeline.risk import residents_from_demand, topological_consequence

SNAPSHOT = HydraulicSettings(duration_h=0.0)


def test_small_network_by_hand(small_inp):
    # reservoir head 80 m, junctions at 10 m: every junction is far above 20 m, so closing a
    # loop pipe costs nothing and closing a branch loses exactly the demand beyond it
    fac = pd.DataFrame({"node": ["J5"], "category": ["hospital"]})
    res = pipe_criticality(
        small_inp, settings=SNAPSHOT, workers=1, facilities=fac, cut_off_shortcut=False
    )
    assert (res["method"] == "simulated").all()
    lps_to_m3_day = 86400 / 1000
    assert res.at["P1", "unmet_m3_per_day"] == pytest.approx(15 * lps_to_m3_day, rel=1e-4)
    assert res.at["P2", "unmet_m3_per_day"] == pytest.approx(14 * lps_to_m3_day, rel=1e-4)
    assert res.at["P6", "unmet_m3_per_day"] == pytest.approx(5 * lps_to_m3_day, rel=1e-4)
    for p in ("P3", "P4", "P5"):
        assert res.at[p, "unmet_m3_per_day"] == pytest.approx(0, abs=1e-3)
    assert res.at["P6", "facility_categories"] == "hospital:1"
    assert list(res.index[:3]) == ["P1", "P2", "P6"]
    # residents: the hydraulic answer equals the topological one when branches are cut
    reg = register_from_inp(small_inp)
    topo = topological_consequence(reg)
    for p in reg.pipes["pipe_id"]:
        assert res.at[p, "residents_affected"] == pytest.approx(
            topo.at[p, "residents_affected"], rel=1e-4, abs=1e-3
        )


def test_cut_off_shortcut_equals_simulation(small_inp, net3):
    # the branches P1, P2, P6 only cut junctions off: taken from the intact run, they must
    # agree with simulating them; loop pipes are simulated either way
    a = pipe_criticality(small_inp, settings=SNAPSHOT, workers=1)
    assert a["method"].to_dict() == {
        "P1": "cut_off",
        "P2": "cut_off",
        "P6": "cut_off",
        "P3": "simulated",
        "P4": "simulated",
        "P5": "simulated",
    }
    b = pipe_criticality(small_inp, settings=SNAPSHOT, workers=1, cut_off_shortcut=False)
    cols = ["unmet_m3_per_day", "residents_affected", "nodes_affected"]
    pd.testing.assert_frame_equal(a[cols].sort_index(), b[cols].sort_index(), rtol=1e-4)
    # a real utility model over 24 h with tanks and pump controls: every cut-off pipe of Net3
    fast = pipe_criticality(net3, workers=1)
    cut = fast.index[fast["method"] == "cut_off"]
    assert len(cut) >= 10
    sim = pipe_criticality(net3, pipes=list(cut), workers=1, cut_off_shortcut=False)
    for col in cols:
        np.testing.assert_allclose(
            fast.loc[cut, col].to_numpy(), sim.loc[cut, col].to_numpy(), rtol=1e-3, atol=0.05
        )


def test_parallel_equals_serial(net3):
    pipes = ["101", "151", "229", "173", "20", "40"]
    a = pipe_criticality(net3, pipes=pipes, settings=SNAPSHOT, workers=1)
    b = pipe_criticality(net3, pipes=pipes, settings=SNAPSHOT, workers=2, chunk_size=2)
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index())


def test_unknown_link_named(net3):
    with pytest.raises(ValueError, match="NOPE"):
        scenario_criticality(net3, {"x": ["NOPE"]}, settings=SNAPSHOT, workers=1)


def test_segments_by_hand(small_inp):
    # valves on P2 next to J2 and on P6 next to J2: segments {P1, P2}, {P3, P4, P5}, {P6}
    valves = pd.DataFrame({"link": ["P2", "P6"], "node": ["J2", "J2"]})
    segs = segment_scenarios(small_inp, valves)
    as_sets = sorted(sorted(v) for v in segs.values())
    assert as_sets == [["P1", "P2"], ["P3", "P4", "P5"], ["P6"]]
    res = scenario_criticality(small_inp, segs, settings=SNAPSHOT, workers=1)
    by_links = {tuple(sorted(segs[s])): res.at[s, "unmet_m3_per_day"] for s in segs}
    assert by_links[("P3", "P4", "P5")] == pytest.approx((3 + 4) * 86.4, rel=1e-4)
    assert by_links[("P1", "P2")] == pytest.approx(15 * 86.4, rel=1e-4)


def test_independent_resimulation_agrees_on_net3(net3):
    # every pipe of Net3 closed in turn (EPANET toolkit); the six most critical and four seeded
    # random pipes re-simulated by WNTR's own Newton solver from fresh models
    res = pipe_criticality(net3, settings=SNAPSHOT, workers=1)
    assert res["error"].isna().all()
    rng = np.random.default_rng(11)
    sample = list(res.index[:6]) + list(rng.choice(res.index[6:], size=4, replace=False))
    check = verify_with_wntr_simulator(net3, {p: [p] for p in sample}, settings=SNAPSHOT)
    reg = register_from_inp(net3)
    total = residents_from_demand(reg.points).sum()
    assert res["unmet_m3_per_day"].iloc[0] > 1000  # the ranking starts with pipes that matter
    for p in check.index:
        assert check.at[p, "unmet_m3_per_day"] == pytest.approx(
            res.at[p, "unmet_m3_per_day"], rel=1e-3, abs=0.5
        ), p
        assert abs(check.at[p, "residents_affected"] - res.at[p, "residents_affected"]) < max(
            1e-3 * res.at[p, "residents_affected"], 1e-5 * total
        ), p
        assert check.at[p, "nodes_affected"] == res.at[p, "nodes_affected"], p

"""Leak-detection study on WNTR's Net3: the simulated leaks and the scoring."""

from __future__ import annotations

import shutil
import tempfile

import numpy as np
import pytest

from citycheck.lifeline.criticality import HydraulicSettings, _prepare
from citycheck.lifeline.monitoring.leak_eval import (
    LeakStudy,
    _Runner,
    place_sensors,
    run_leak_study,
)


def test_leak_signature_matches_wntr_epanet_simulator(net3, tmp_path):
    # pressure drop from an emitter at one junction, our toolkit session vs WNTR's
    # EpanetSimulator (which writes and runs its own input file), snapshot at time 0
    import wntr

    settings = HydraulicSettings(duration_h=0.0, hydraulic_step_s=900)
    wn = _prepare(net3, settings)
    sensors = place_sensors(wn, 4)
    folder = tempfile.mkdtemp()
    try:
        runner = _Runner(wn, folder, 900)
        sig = runner.signature(["123", "161"], sensors, 10.0)  # L/s per m^0.5
        runner.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for k, node in enumerate(["123", "161"]):
        base = wntr.sim.EpanetSimulator(_prepare(net3, settings)).run_sim(
            file_prefix=str(tmp_path / "base")
        )
        leaky = _prepare(net3, settings)
        leaky.get_node(node).emitter_coefficient = 10.0 / 1000.0  # m3/s per m^0.5
        with_leak = wntr.sim.EpanetSimulator(leaky).run_sim(file_prefix=str(tmp_path / "leak"))
        drop = (base.node["pressure"] - with_leak.node["pressure"]).loc[0, sensors].to_numpy()
        np.testing.assert_allclose(sig[k], drop, atol=0.02)
        assert drop.max() > 0.1  # the leak is visible somewhere


def test_sensors_are_spread_real_junctions(net3):
    wn = _prepare(net3, HydraulicSettings())
    s = place_sensors(wn, 6)
    assert len(set(s)) == 6 and set(s) <= set(wn.junction_name_list)


def test_leak_study_scores(net3):
    study = LeakStudy(leaks_per_size=3, leak_coefficients=(10.0, 30.0), train_days=7, clean_days=3)
    res = run_leak_study(net3, study)
    sc = res.scenarios
    assert len(sc) == 6
    assert (sc["start_s"] >= 86400).all() and (sc["start_s"] < 2 * 86400).all()
    for m in ("matched_cusum", "fixed_threshold"):
        hours = sc[f"{m}_hours"]
        assert (hours.dropna() >= 0).all()
        assert sc[f"{m}_detected"].eq(hours.notna()).all()
        err = sc.loc[sc[f"{m}_detected"], f"{m}_error_m"]
        assert np.isfinite(err).all() and (err >= 0).all()
        assert res.false_alarms_per_week[m] >= 0
    big = res.summary[(res.summary["coefficient"] == 30.0)].set_index("method")
    # bursts of ~160 L/s at 30 m are caught by the pattern detector
    assert big.at["matched_cusum", "detection_rate"] == pytest.approx(1.0)
    assert res.extra["leak-free weeks observed"] > 3 / 7

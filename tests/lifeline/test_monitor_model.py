"""``citycheck lifeline monitor --inp``: the matched-signature detector on a simulated leak in
WNTR's Net3 (a real utility model), through the CLI; the simple detector without a model.

The feed: two leak-free weeks (the model's week of operations simulated twice, with random day
levels, per-junction demand noise and 5 cm sensor noise) and then three days in which a leak of
emitter coefficient 10 L/s/m^0.5 (about 55 L/s at 30 m) starts on pipe 149 at 12:00 of the second
day, observed at six pressure sensors spread over the network. Net3 is stiff: most of its pipes
are invisible to six sensors; pipe 149 lies in its northern part, which the sensors do see (the
detection study in bench/ scores random pipes).
"""

from __future__ import annotations

import shutil
import tempfile

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from citycheck.cli import app
from citycheck.lifeline.monitoring.store import SensorStore

runner = CliRunner()
ORIGIN = pd.Timestamp("2026-07-01", tz="Asia/Shanghai")
LEAK_PIPE = "149"
LEAK_START_S = 14 * 86400 + int(1.5 * 86400)


@pytest.fixture(scope="module")
def net3_leak_feed(tmp_path_factory, net3):
    import wntr

    from citycheck.lifeline.criticality import HydraulicSettings, _prepare
    from citycheck.lifeline.monitoring.leak_eval import _Runner, place_sensors

    inp = net3
    wn = _prepare(inp, HydraulicSettings(duration_h=None, hydraulic_step_s=900))
    sensors = place_sensors(wn, 6)
    wn = wntr.morph.split_pipe(wn, LEAK_PIPE, f"{LEAK_PIPE}__b", "LEAK")
    folder = tempfile.mkdtemp()
    sim = _Runner(wn, folder, 900)
    rng = np.random.default_rng(1)
    kw = {"daily_sd": 0.05, "interval_sd": 0.10}
    parts = []
    try:
        for week in range(2):
            t, p = sim.run(7, sensors, rng, **kw)
            keep = t < 7 * 86400
            parts.append((t[keep] + week * 7 * 86400, p[keep]))
        leak = ("LEAK", 10.0, LEAK_START_S - 14 * 86400)
        t, p = sim.run(3, sensors, rng, leak=leak, **kw)
        parts.append((t + 14 * 86400, p))
    finally:
        sim.close()
        shutil.rmtree(folder, ignore_errors=True)
    times = np.concatenate([x[0] for x in parts])
    pres = np.vstack([x[1] for x in parts]) + rng.normal(0.0, 0.05, (len(times), len(sensors)))
    stamps = (ORIGIN + pd.to_timedelta(times, unit="s")).strftime("%Y-%m-%d %H:%M")
    frame = pd.DataFrame(
        {
            "timestamp": np.repeat(stamps, len(sensors)),
            "sensor_id": np.tile(sensors, len(times)),
            "quantity": "pressure",
            "value": pres.ravel().round(3),
            "unit": "m",
        }
    )
    path = tmp_path_factory.mktemp("feed") / "pressure.csv"
    frame.to_csv(path, index=False)
    graph = nx.Graph()
    for _name, link in wn.pipes():
        graph.add_edge(link.start_node_name, link.end_node_name, length=link.length)
    return inp, path, graph


def test_matched_detector_finds_the_leak_and_reruns_cleanly(net3_leak_feed, tmp_path):
    inp, feed, graph = net3_leak_feed
    db, cal = str(tmp_path / "s.db"), tmp_path / "cal.json"
    args = ["lifeline", "monitor", db, str(feed), "--inp", str(inp)]
    r = runner.invoke(app, [*args, "--calibrate", "2026-07-01/2026-07-15", "--calibration", cal])
    assert r.exit_code == 0, r.output
    assert "matched-signature detector on 6 sensors" in r.output
    assert "simple per-sensor" not in r.output
    with SensorStore(db) as store:
        alarms = store.alarms()
    # one alarm, after the leak started (none on the leak-free days before), within 3 hours
    assert len(alarms) == 1 and alarms.loc[0, "kind"] == "leak"
    onset = alarms.loc[0, "opened_ts"] - int(ORIGIN.timestamp())
    assert LEAK_START_S <= onset <= LEAK_START_S + 3 * 3600
    # the estimated place: within 1 km of pipe length of the leak
    junction = r.output.split("likeliest near junction ")[1].split()[0]
    assert nx.shortest_path_length(graph, junction, "LEAK", weight="length") < 1000.0

    # a later run with the stored calibration: the same alarm taken up, nothing new
    r = runner.invoke(app, [*args, "--calibration", str(cal)])
    assert r.exit_code == 0, r.output
    assert "0 alarms opened, 1 still open (1 taken up" in r.output
    with SensorStore(db) as store:
        assert store.alarms().equals(alarms)


def test_without_a_model_the_simple_detector_runs_and_says_so(net3_leak_feed, tmp_path):
    _, feed, _ = net3_leak_feed
    r = runner.invoke(app, ["lifeline", "monitor", str(tmp_path / "s.db"), str(feed)])
    assert r.exit_code == 0, r.output
    assert "simple per-sensor CUSUM detector on 6 sensors" in r.output
    assert "matched-signature" not in r.output


def test_model_option_errors_are_clear(net3_leak_feed, tmp_path, small_inp):
    inp, feed, _ = net3_leak_feed
    db = str(tmp_path / "s.db")
    r = runner.invoke(app, ["lifeline", "monitor", db, str(feed), "--inp", str(inp)])
    assert r.exit_code == 2 and "--calibrate START/END" in r.output
    r = runner.invoke(
        app, ["lifeline", "monitor", db, "--inp", str(inp), "--calibrate", "2026-07-15/2026-07-01"]
    )
    assert r.exit_code == 2 and "END must come after START" in r.output
    # the sensors are not junctions of this model
    r = runner.invoke(
        app,
        [
            "lifeline",
            "monitor",
            db,
            str(feed),
            "--inp",
            str(small_inp),
            "--calibrate",
            "2026-07-01/2026-07-15",
        ],
    )
    assert r.exit_code == 2 and "none of the pressure sensors" in r.output
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    r = runner.invoke(app, ["lifeline", "monitor", db, "--inp", str(inp), "--calibration", bad])
    assert r.exit_code == 2 and "not a leak-detector calibration" in r.output
    with SensorStore(db) as store:
        assert store.count() == 9798 and store.alarms().empty  # the readings stay stored

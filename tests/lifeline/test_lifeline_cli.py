"""``citycheck lifeline`` commands on real network models."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from citycheck.cli import app

runner = CliRunner()


def test_import_risk_renew_criticality(small_inp, tmp_path):
    attrs = tmp_path / "attrs.csv"
    pd.DataFrame(
        {
            "pipe_id": ["P1", "P2", "P6", "P3"],
            "material": ["CI", "CI", "CI", "wood"],
            "install_year": [1960, 1960, 1975, 1990],
            "street": ["Main St", "Main St", "Side Ln", None],
        }
    ).to_csv(attrs, index=False)
    r = runner.invoke(
        app,
        [
            "lifeline",
            "import",
            str(small_inp),
            "--out",
            str(tmp_path / "reg.gpkg"),
            "--attributes",
            str(attrs),
            "--year",
            "2026",
        ],
    )
    assert r.exit_code == 0, r.output
    issues = pd.read_csv(tmp_path / "reg.issues.csv")
    assert list(issues["record"]) == ["P3"] and list(issues["field"]) == ["material"]

    out = tmp_path / "risk.csv"
    r = runner.invoke(
        app,
        [
            "lifeline",
            "risk",
            str(small_inp),
            "--out",
            str(out),
            "--attributes",
            str(attrs),
            "--year",
            "2026",
            "--unknown-age-years",
            "30",
        ],
    )
    assert r.exit_code == 0, r.output
    risk = pd.read_csv(out)
    assert risk["pipe_id"].iloc[0] in {"P1", "P2"} and "P3" not in set(risk["pipe_id"])

    plan = tmp_path / "plan.csv"
    r = runner.invoke(
        app,
        [
            "lifeline",
            "renew",
            str(small_inp),
            "--out",
            str(plan),
            "--budget-cny",
            "1e9",
            "--attributes",
            str(attrs),
            "--year",
            "2026",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Main St" in set(pd.read_csv(plan)["street"])

    crit = tmp_path / "crit.csv"
    r = runner.invoke(
        app,
        [
            "lifeline",
            "criticality",
            str(small_inp),
            "--out",
            str(crit),
            "--workers",
            "1",
            "--duration-h",
            "0",
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    assert pd.read_csv(crit)["scenario"].iloc[0] == "P1"


def test_bad_inp_and_monitor(tmp_path):
    bad = tmp_path / "bad.inp"
    bad.write_text("[JUNCTIONS]\n J1 abc 1\n[PIPES]\n P1 J1 J2 100 200 130 0 Open\n[END]\n")
    r = runner.invoke(app, ["lifeline", "import", str(bad), "--out", str(tmp_path / "x.gpkg")])
    assert r.exit_code == 2 and "line 2" in r.output and "abc" in r.output
    feed = tmp_path / "gas.csv"
    feed.write_text(
        "timestamp,sensor_id,quantity,value,unit\n"
        "2026-07-01 00:00,G1,gas,10,%LEL\n2026-07-01 00:15,G1,gas,30,%LEL\n"
        "2026-07-01 00:30,G1,gas,x,%LEL\n"
    )
    r = runner.invoke(app, ["lifeline", "monitor", str(tmp_path / "s.db"), str(feed)])
    assert r.exit_code == 0, r.output
    assert "1 alarms" in r.output and "line 4" in r.output

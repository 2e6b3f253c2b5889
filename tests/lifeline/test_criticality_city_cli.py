"""``citycheck lifeline criticality --osm --crs``: residents affected from the City's buildings.

Hand-checkable: the hand-made network (conftest ``SMALL_INP``, its coordinates read as metres of
UTM 50N) with two equal apartment blocks, one 30 m from the dead-end junction J5 and one 30 m
from J1, and a hospital 30 m from J3; 1,000 residents spread over equal floor areas give 500 per
block (EPANET's pressure-dependent demand leaves a cut-off junction a trace of supply, hence
the 0.1 % tolerance). Closing P6 cuts J5 off (500 residents, no facility); closing P1 cuts the
source off (all 1,000 residents and the hospital); closing P2 cuts J2-J5 off (the J5 block and
the hospital, not the J1 block); closing P3 leaves the J2-J4-J3 loop supplying J3.
"""

from __future__ import annotations

import pandas as pd
import pyproj
import pytest
from typer.testing import CliRunner

from citycheck.cli import app

CRS = "EPSG:32650"
runner = CliRunner()


def _osm_file(path, blocks: list[tuple[float, float]], hospital: tuple[float, float]) -> None:
    to_wgs = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    nodes, ways = [], []
    nid = 1
    for k, (x, y) in enumerate(blocks):
        refs = []
        for dx, dy in ((-10, -10), (10, -10), (10, 10), (-10, 10)):
            lon, lat = to_wgs.transform(x + dx, y + dy)
            nodes.append(f'<node id="{nid}" version="1" lat="{lat:.8f}" lon="{lon:.8f}"/>')
            refs.append(nid)
            nid += 1
        nds = "".join(f'<nd ref="{r}"/>' for r in [*refs, refs[0]])
        ways.append(
            f'<way id="{100 + k}" version="1">{nds}<tag k="building" v="apartments"/>'
            '<tag k="building:levels" v="3"/></way>'
        )
    lon, lat = to_wgs.transform(*hospital)
    nodes.append(
        f'<node id="{nid}" version="1" lat="{lat:.8f}" lon="{lon:.8f}">'
        '<tag k="amenity" v="hospital"/><tag k="name" v="Hand Hospital"/></node>'
    )
    corners = [to_wgs.transform(x, y) for x, y in ((-100, -500), (1600, 500))]
    bounds = (
        f'<bounds minlat="{corners[0][1]:.8f}" minlon="{corners[0][0]:.8f}" '
        f'maxlat="{corners[1][1]:.8f}" maxlon="{corners[1][0]:.8f}"/>'
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">'
        + bounds
        + "".join(nodes)
        + "".join(ways)
        + "</osm>\n"
    )


def test_criticality_counts_the_citys_residents(small_inp, tmp_path):
    osm = tmp_path / "hand.osm"
    # J1 (500,0), J3 (1400,0), J5 (1000,300)
    _osm_file(osm, [(1000.0, 330.0), (520.0, 30.0)], hospital=(1400.0, 30.0))
    out = tmp_path / "crit.csv"
    args = ["lifeline", "criticality", str(small_inp), "--out", str(out), "--workers", "1"]
    args += ["--duration-h", "0", "--quiet"]
    r = runner.invoke(app, [*args, "--osm", str(osm), "--crs", CRS, "--residents-total", "1000"])
    assert r.exit_code == 0, r.output
    assert "1,000 residents and 1 critical facilities on junctions" in r.output
    res = pd.read_csv(out, index_col="scenario")
    assert res.loc["P6", "residents_affected"] == pytest.approx(500.0, rel=1e-3)
    assert res.loc["P6", "facilities_affected"] == 0
    assert res.loc["P1", "residents_affected"] == pytest.approx(1000.0, rel=1e-3)
    assert res.loc["P1", "facility_categories"] == "hospital:1"
    assert res.loc["P2", "residents_affected"] == pytest.approx(500.0, rel=1e-3)  # J2-J5 off
    assert res.loc["P2", "facility_categories"] == "hospital:1"
    assert res.loc["P3", "facilities_affected"] == 0

    # without the City, residents come from demand: a different count for P6
    plain = tmp_path / "plain.csv"
    r = runner.invoke(
        app, ["lifeline", "criticality", str(small_inp), "--out", str(plain), *args[5:]]
    )
    assert r.exit_code == 0, r.output
    assert pd.read_csv(plain, index_col="scenario").loc["P6", "residents_affected"] != (
        pytest.approx(500.0, rel=1e-3)
    )


def test_criticality_osm_needs_crs(small_inp, tmp_path):
    osm = tmp_path / "hand.osm"
    _osm_file(osm, [(1000.0, 330.0)], hospital=(1400.0, 30.0))
    r = runner.invoke(
        app,
        [
            "lifeline",
            "criticality",
            str(small_inp),
            "--out",
            str(tmp_path / "c.csv"),
            "--osm",
            str(osm),
            "--quiet",
        ],
    )
    assert r.exit_code == 2 and "--osm needs --crs" in r.output

"""Asset register: EPANET and GIS readers, validation."""

from __future__ import annotations

import re

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

from citycheck.lifeline.register import (
    InpReadError,
    RegisterError,
    register_from_gis,
    register_from_inp,
    validate_register,
    with_attributes,
)


def _inp_pipes(path) -> pd.DataFrame:
    """Independent oracle: parse the [PIPES] section of an .inp file by hand (US units)."""
    rows, section = [], None
    for line in path.read_text().splitlines():
        text = line.split(";", 1)[0].strip()
        if not text:
            continue
        if text.startswith("["):
            section = text.upper()
            continue
        if section == "[PIPES]":
            f = text.split()
            rows.append({"pipe_id": f[0], "length_ft": float(f[3]), "diameter_in": float(f[4])})
    return pd.DataFrame(rows)


def test_inp_register_lengths_and_diameters(ky4, net3):
    for path in (ky4, net3):
        reg = register_from_inp(path)
        hand = _inp_pipes(path).set_index("pipe_id")
        got = reg.pipes.set_index("pipe_id")
        assert set(got.index) == set(hand.index)
        # GPM models: feet and inches
        np.testing.assert_allclose(
            got.loc[hand.index, "length_m"], hand["length_ft"] * 0.3048, rtol=1e-9
        )
        np.testing.assert_allclose(
            got.loc[hand.index, "diameter_mm"], hand["diameter_in"] * 25.4, rtol=1e-9
        )
        assert (reg.pipes["material"] == "UNK").all()
        kinds = set(reg.points["kind"])
        assert {"junction", "tank"} <= kinds
        v = validate_register(reg, year=2026)
        assert len(v.pipes) == len(reg.pipes)  # real models are connected
        assert v.issues.empty


def _with_extra_lines(src, dst, extra: dict[str, list[str]]):
    """Copy an .inp file, appending lines at the start of the named sections."""
    out = []
    for line in src.read_text().splitlines():
        out.append(line)
        key = line.strip().upper()
        if key in extra:
            out.extend(extra[key])
    dst.write_text("\n".join(out) + "\n")
    return dst


def test_disconnected_future_and_unknown_material_named(ky4, tmp_path):
    path = _with_extra_lines(
        ky4,
        tmp_path / "ky4_island.inp",
        {
            "[JUNCTIONS]": [" X-1 700 1 1", " X-2 700 1 1"],
            "[PIPES]": [" P-ISLAND X-1 X-2 100 6 150 0 Open"],
            "[COORDINATES]": [" X-1 0 0", " X-2 100 0"],
        },
    )
    reg = register_from_inp(path)
    attrs = pd.DataFrame(
        {
            "pipe_id": ["P-1", "P-10", "P-100", "NOPE"],
            "material": ["CI", "wood", "球墨铸铁", "PE"],
            "install_year": [1960, 2031, 1999, 2000],
        }
    )
    reg = with_attributes(reg, attrs)
    v = validate_register(reg, year=2026)
    by_record = v.issues.groupby("record")["field"].apply(set).to_dict()
    assert by_record["P-ISLAND"] == {"from_node"}
    assert by_record["P-10"] == {"material", "install_year"}
    assert by_record["NOPE"] == {"pipe_id"}
    assert set(by_record) == {"P-ISLAND", "P-10", "NOPE"}
    assert len(v.pipes) == len(reg.pipes) - 2
    kept = v.pipes.set_index("pipe_id")
    assert kept.at["P-1", "material"] == "CI" and kept.at["P-1", "install_year"] == 1960
    assert kept.at["P-100", "material"] == "DI"
    # every issue has both languages
    assert (
        v.issues["problem"].str.len().gt(0).all() and v.issues["problem_zh"].str.len().gt(0).all()
    )


def test_malformed_inp_names_file_and_line(ky4, tmp_path):
    bad = tmp_path / "bad.inp"
    text = ky4.read_text().replace(" P-1             \tJ-1", " P-1             \tJ-1 \t  x9x", 1)
    lines = ky4.read_text().splitlines()
    # corrupt a length value in [PIPES]
    i = next(k for k, ln in enumerate(lines) if ln.strip().upper() == "[PIPES]") + 2
    f = lines[i].split()
    f[3] = "12a4"
    lines[i] = " " + "\t".join(f)
    bad.write_text("\n".join(lines) + "\n")
    del text
    with pytest.raises(InpReadError) as err:
        register_from_inp(bad)
    msg = str(err.value)
    assert str(bad) in msg and "12a4" in msg
    assert re.search(rf"line {i + 1}\b", msg)
    with pytest.raises(InpReadError, match="no such"):
        register_from_inp(tmp_path / "missing.inp")


def _gis_layer(ky4) -> gpd.GeoDataFrame:
    reg = register_from_inp(ky4)
    # eight pipes that form one connected piece (breadth-first from a junction)
    G = nx.Graph()
    for row in reg.pipes.itertuples():
        G.add_edge(row.from_node, row.to_node, pipe_id=row.pipe_id)
    start = reg.pipes["from_node"].iloc[0]
    chosen = [G.edges[u, v]["pipe_id"] for u, v in nx.bfs_edges(G, start)][:8]
    sub = reg.pipes.set_index("pipe_id").loc[chosen].reset_index()
    layer = gpd.GeoDataFrame(
        {
            "管线编号": sub["pipe_id"].values,
            "材质": ["灰口铸铁", "PE", "DI", "steel", "bamboo", "CI", "PVC", "AC"],
            "管径": sub["diameter_mm"].round().values,
            "建设年代": [1965, 2005, 1990, 2040, 1980, 1970, "abc", 1975],
            "所在道路": ["Main St"] * 4 + ["Oak Rd"] * 4,
        },
        geometry=sub.geometry.values,
        crs="EPSG:32616",
    )
    # a stray pipe far away from everything
    layer.loc[len(layer)] = ["STRAY", "PE", 100, 2000, "Far Rd", LineString([(0, 0), (50, 0)])]
    return layer


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_gis_register_chinese_columns(ky4, tmp_path, suffix):
    layer = _gis_layer(ky4)
    path = tmp_path / f"pipes{suffix}"
    if suffix == ".geojson":
        layer.to_crs(4326).to_file(path, driver="GeoJSON")
    else:
        layer.to_file(path, layer="pipes", driver="GPKG")
    reg = register_from_gis(path, layer="pipes" if suffix == ".gpkg" else None, network="water")
    assert reg.pipes.crs is not None and not reg.pipes.crs.is_geographic
    # install year "abc" is reported while reading
    assert list(reg.issues["value"]) == ["abc"]
    v = validate_register(reg, year=2026)
    problems = v.issues.set_index("record")
    ids = list(layer["管线编号"])
    assert problems.loc[ids[3], "field"] == "install_year"  # 2040
    assert problems.loc[ids[4], "field"] == "material"  # bamboo
    assert problems.loc["STRAY", "field"] == "from_node"
    assert set(problems.index) == {ids[3], ids[4], ids[6], "STRAY"}
    kept = v.pipes.set_index("pipe_id")
    assert list(kept.loc[ids[:3], "material"]) == ["CI", "PE", "DI"]
    assert kept.loc[ids[0], "street"] == "Main St"
    # snapped ends join the eight pipes; the stray one is the only disconnected record;
    # the unreadable year "abc" is named but the pipe kept with an unknown year
    assert len(kept) == 6
    assert pd.isna(kept.loc[ids[6], "install_year"])


def test_gis_register_bad_column_mapping(ky4, tmp_path):
    path = tmp_path / "p.gpkg"
    _gis_layer(ky4).to_file(path, layer="pipes", driver="GPKG")
    with pytest.raises(RegisterError, match=r"'MAT_X'.*material"):
        register_from_gis(path, layer="pipes", columns={"material": "MAT_X"})


def test_gis_point_assets_and_source_connectivity(ky4, tmp_path):
    # a reservoir point at one end of the connected piece: the stray pipe is still the only
    # disconnected record, now judged by "no path to a source"
    layer = _gis_layer(ky4)
    path = tmp_path / "net.gpkg"
    layer.to_file(path, layer="pipes", driver="GPKG")
    start = layer.geometry.iloc[0].coords[0]
    pts = gpd.GeoDataFrame(
        {"asset_id": ["R1", "V1"], "type": ["reservoir", "valve"]},
        geometry=gpd.points_from_xy([start[0], start[0] + 5], [start[1], start[1]]),
        crs=layer.crs,
    )
    pts.to_file(path, layer="assets", driver="GPKG")
    reg = register_from_gis(path, layer="pipes", points_layer="assets", network="water")
    assert list(reg.points["kind"]) == ["reservoir", "valve"]
    # the reservoir sits on a pipe end: it is snapped onto that node
    assert reg.points.loc[0, "node"] in set(reg.pipes["from_node"]) | set(reg.pipes["to_node"])
    v = validate_register(reg, year=2026)
    assert "STRAY" in set(v.issues["record"])
    assert "STRAY" not in set(v.pipes["pipe_id"])
    assert len(v.pipes) == 6
    # move the reservoir onto the stray pipe: now the stray pipe is the fed one and the eight
    # others have no source (the largest piece is not assumed to be the good one)
    pts.geometry = gpd.points_from_xy([0.0, 5.0], [0.0, 0.0])
    pts.to_file(path, layer="assets", driver="GPKG", mode="w")
    reg = register_from_gis(path, layer="pipes", points_layer="assets", network="water")
    v = validate_register(reg, year=2026)
    assert list(v.pipes["pipe_id"]) == ["STRAY"]

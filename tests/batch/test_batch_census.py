"""The batch evaluates each city's census indicators of the urban system (U07–U15) as
``citycheck evaluate --adcode --census`` does; values checked against the raw census CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from citycheck.batch import read_manifest, run_batch
from citycheck.batch.jobs import run_check_job
from conftest import shared_data


def test_batch_emits_census_indicators_per_city(tmp_path):
    county = shared_data("census", "china_county_census_2020.csv")
    city_csv = shared_data("census", "china_city_census_2010_2020.csv")
    manifest = tmp_path / "cities.toml"
    manifest.write_text(
        "\n".join(
            [
                "[[city]]",
                'id = "bupt"',
                f'pbf = "{shared_data("osm", "beijing-haidian-bupt.osm.pbf").as_posix()}"',
                'adcode = "110108"',
                f'census = "{county.as_posix()}"',
                "",
                "[[city]]",
                'id = "cau"',
                f'pbf = "{shared_data("osm", "beijing-haidian-cau.osm.pbf").as_posix()}"',
                "population = 20000",
                "",
            ]
        ),
        encoding="utf-8",
    )
    report = run_batch(
        read_manifest(manifest), run_check_job, out_dir=tmp_path / "out", n_workers=0,
        retries=0, progress=False,
    )  # fmt: skip
    assert report.by_status("done") == ["bupt", "cau"], report.to_frame()["error"].dropna()
    raw = pd.read_csv(city_csv, encoding="utf-8-sig").set_index("city_code").loc[110100]
    docs = {
        o.id: json.loads((Path(o.run_dir) / "results.json").read_text("utf-8"))
        for o in report.outcomes
    }
    u07 = {k: next(i for i in d["indicators"] if i["id"] == "U07") for k, d in docs.items()}
    assert u07["bupt"]["value"] == pytest.approx(
        100 * raw["popu_urban_2020"] / raw["popu_2020"], rel=1e-9
    )
    assert u07["bupt"]["grade"] == "pass"
    assert u07["cau"]["value"] is None and "--census" in docs["cau"]["not_computed"]["U07"]

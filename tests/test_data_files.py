"""The real data copied into the repository and the package is what its SHA256SUMS say."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.conftest import DATA, NOT_REDISTRIBUTABLE

SUMS = DATA / "SHA256SUMS"


def _listed() -> list[tuple[str, str]]:
    rows = [line.split(maxsplit=1) for line in SUMS.read_text().splitlines() if line.strip()]
    return [(digest, name) for digest, name in rows]


@pytest.mark.parametrize(("digest", "name"), _listed(), ids=lambda v: v if "/" in v else "")
def test_tests_data_file_is_unchanged(digest: str, name: str) -> None:
    path = DATA / name
    assert path.is_file(), f"{path} is listed in SHA256SUMS but missing"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path} was changed"


def test_every_data_file_is_listed() -> None:
    on_disk = {
        p.relative_to(DATA).as_posix()
        for p in DATA.rglob("*")
        if p.is_file() and p.name not in ("SHA256SUMS", "README.md")
    }
    assert on_disk == {name for _, name in _listed()}


def test_no_unlicensed_file_is_copied() -> None:
    for parts in NOT_REDISTRIBUTABLE:
        assert not DATA.joinpath(*parts).exists(), f"{Path(*parts)} may not be redistributed"


def test_bundled_samples_match_their_sums() -> None:
    from citycheck.io.samples import DEMO, sample_file, verify_samples

    seen = verify_samples()
    assert {DEMO.pbf, DEMO.county_census, DEMO.city_census, "outlines/110108.geojson"} <= set(seen)
    # the package's extract is the same file as the tests' copy
    assert sample_file(DEMO.pbf).read_bytes() == (DATA / "osm" / DEMO.pbf).read_bytes()


def test_bundled_census_tables_equal_the_tests_copies() -> None:
    import gzip

    from citycheck.io.samples import DEMO, sample_file

    for packed, plain in ((DEMO.county_census, "china_county_census_2020.csv"),
                          (DEMO.city_census, "china_city_census_2010_2020.csv")):  # fmt: skip
        assert (
            gzip.decompress(sample_file(packed).read_bytes())
            == (DATA / "census" / plain).read_bytes()
        )


def test_verify_samples_names_a_changed_file(tmp_path, monkeypatch) -> None:
    import shutil

    from citycheck.io import samples

    copy = tmp_path / "sample_data"
    shutil.copytree(samples._folder(), copy)
    (copy / "outlines" / "110108.geojson").write_text("{}")
    monkeypatch.setattr(samples, "_folder", lambda: copy)
    with pytest.raises(ValueError, match=r"110108\.geojson"):
        samples.verify_samples()

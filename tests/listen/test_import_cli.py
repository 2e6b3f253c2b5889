"""`citycheck hotline import/train/classify/...` on the real exports in ../shared/data."""

from __future__ import annotations

import csv

import pandas as pd
from sqlalchemy import text
from tests.conftest import shared_data
from typer.testing import CliRunner

from citycheck.cli.hotline import hotline_app
from citycheck.listen.importer import intakes_from_table, read_table
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline

runner = CliRunner()
ENV = {"CITYCHECK_HOTLINE_SECRET": "cli-secret"}


def test_import_nyc311_maps_fields_and_reports_the_bad_row(tmp_path):
    src = shared_data("hotline", "nyc311_2011_sample.csv")
    db = f"sqlite:///{tmp_path}/h.db"
    res = runner.invoke(hotline_app, ["import", str(src), "--db", db], env=ENV)
    assert res.exit_code == 0, res.output
    assert "2000 rows, 1999 imported, 1 bad" in res.output
    # row 1604 (header = row 1) closes in 1900, before it was created
    assert "row 1604: Closed Date '01/01/1900 12:00:00 AM' is before Created Date" in (
        res.output.replace("\n", " ")
    )
    raw = pd.read_csv(src, dtype=str, keep_default_na=False)
    assert raw.iloc[1604 - 2]["Closed Date"] == "01/01/1900 12:00:00 AM"
    h = Hotline(HotlineSettings(db_url=db, secret="cli-secret"))
    assert h.count() == 1999
    with h.engine.connect() as c:
        rows = c.execute(
            text(
                "select external_id, service_code, status, lat, lon from orders "
                "where external_id = '19937901'"
            )
        ).all()
    # second data row: DOT, Street Sign - Dangling, Closed, 40.6608..., -73.9985...
    assert rows == [
        ("19937901", "Street Sign - Dangling", "closed", 40.660811976282695, -73.99859430999363)
    ]
    closed_src = (raw.drop(index=1604 - 2)["Status"] == "Closed").sum()
    assert len(h.search(status="closed", limit=5000)) == closed_src
    assert h.verify_log() == []
    h.close()


def test_import_cn_messages_and_bad_rows_are_kept_apart(tmp_path):
    src = shared_data("hotline", "cn_messages_labelled.csv")
    table = read_table(src)
    res = intakes_from_table(table, source="cn")
    assert (res.kind, res.rows, len(res.intakes), res.bad) == ("cn_messages", 297, 297, [])
    first = res.intakes[0]
    assert first.service_code == table.iloc[0]["一级分类"]
    assert first.requested_at.isoformat() == "2020-01-07T21:31:53+08:00"
    # a copy with two broken rows: the good ones still import, the bad ones are named
    broken = table.head(6).copy()
    broken.loc[2, "留言时间"] = "not a time"
    broken.loc[4, ["留言主题", "留言详情"]] = ""
    path = tmp_path / "broken.csv"
    broken.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    db = f"sqlite:///{tmp_path}/h.db"
    out = runner.invoke(hotline_app, ["import", str(path), "--db", db], env=ENV)
    assert out.exit_code == 0, out.output
    assert "6 rows, 4 imported, 2 bad" in out.output
    assert "row 4:" in out.output and "row 6:" in out.output and "not a time" in out.output


def test_import_rejects_unknown_tables_with_a_clear_error(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    out = runner.invoke(
        hotline_app, ["import", str(p), "--db", f"sqlite:///{tmp_path}/h.db"], env=ENV
    )
    assert out.exit_code == 1 and "unknown table" in out.output


def test_train_and_classify_commands(tmp_path):
    src = shared_data("hotline", "cn_messages_labelled.csv")
    model = tmp_path / "m.joblib"
    out = runner.invoke(
        hotline_app,
        [
            "train",
            str(src),
            "--text",
            "留言主题,留言详情",
            "--label",
            "一级分类",
            "--out",
            str(model),
            "--keywords",
            str(shared_data("hotline", "cn_message_taxonomy.csv")),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "trained on 297 rows, 7 labels" in out.output
    assert "chosen by 5-fold CV:" in out.output
    sample = tmp_path / "s.csv"
    pd.read_csv(src).head(20).drop(columns=["一级分类"]).to_csv(sample, index=False)
    pred = tmp_path / "p.csv"
    out = runner.invoke(
        hotline_app,
        ["classify", str(model), str(sample), "--text", "留言主题,留言详情", "--out", str(pred)],
    )
    assert out.exit_code == 0, out.output
    got = pd.read_csv(pred)
    truth = pd.read_csv(src).head(20)["一级分类"]
    assert len(got) == 20 and got["confidence"].between(0, 1).all()
    assert (got["predicted_label"] == truth).mean() >= 0.9  # rows it was trained on
    bad = runner.invoke(
        hotline_app,
        ["train", str(src), "--text", "nope", "--label", "一级分类", "--out", str(model)],
    )
    assert bad.exit_code != 0 and "nope" in bad.output


def test_keys_staff_and_verify(tmp_path):
    db = f"sqlite:///{tmp_path}/h.db"
    key = runner.invoke(hotline_app, ["create-key", "app", "--db", db], env=ENV).output.strip()
    tok = runner.invoke(
        hotline_app, ["create-staff", "a", "--role", "unit", "--unit", "jd_ne", "--db", db], env=ENV
    ).output.strip()
    bad = runner.invoke(hotline_app, ["create-staff", "b", "--role", "mayor", "--db", db], env=ENV)
    assert bad.exit_code == 1
    h = Hotline(HotlineSettings(db_url=db, secret="cli-secret"))
    assert h.check_api_key(key) and h.staff_for_token(tok).unit == "jd_ne"
    h.close()
    ok = runner.invoke(hotline_app, ["verify-log", "--db", db], env=ENV)
    assert ok.exit_code == 0 and "0 problems" in ok.output
    nosecret = runner.invoke(
        hotline_app, ["create-key", "x", "--db", db], env={"CITYCHECK_HOTLINE_SECRET": ""}
    )
    assert nosecret.exit_code == 2

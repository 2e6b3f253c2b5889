"""The `georeport` client from PyPI (v0.3.x, read-only) against the live server, JSON and XML."""

from __future__ import annotations

import georeport  # the PyPI client, declared in the dev extra
import pytest

from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Intake

from .conftest import fresh_db_url
from .live_server import LiveServer


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    db_url = fresh_db_url("sqlite", tmp_path_factory.mktemp("geor"))
    h = Hotline(HotlineSettings(db_url=db_url, secret="s"))
    ids = [
        h.submit(
            Intake(
                f"井盖松动 {i}",
                service_code="urban",
                lat=39.962 + i * 0.008,
                lon=116.36,
                attributes={"hazard": "yes"},
            )
        ).id
        for i in range(3)
    ]
    h.close()
    srv = LiveServer(db_url).start()
    yield srv.url + "/open311/v2", ids
    srv.stop()


def test_both_formats_agree_through_the_client(endpoint):
    url, ids = endpoint
    js = georeport.GeoReport(url, output_format="json")
    xm = georeport.GeoReport(url, output_format="xml")
    s_js, s_xm = js.get_service_list(), xm.get_service_list()
    assert [s["service_code"] for s in s_js] == [s["service_code"] for s in s_xm]
    assert [s["service_name"] for s in s_js] == [s["service_name"] for s in s_xm]
    assert [str(s["metadata"]).lower() for s in s_js] == [s["metadata"] for s in s_xm]
    d_js, d_xm = js.get_service_definition("urban"), xm.get_service_definition("urban")
    assert d_js["service_code"] == d_xm["service_code"] == "urban"
    assert [a["code"] for a in d_js["attributes"]] == [
        a["code"] for a in d_xm["attributes"]["attribute"]
    ]
    r_js = js.get_service_requests(service_code="urban")
    r_xm = xm.get_service_requests(service_code="urban")
    assert (
        sorted(r["service_request_id"] for r in r_js)
        == sorted(r["service_request_id"] for r in r_xm)
        == sorted(str(i) for i in ids)
    )
    one_js = js.get_service_request(str(ids[1]))
    one_xm = xm.get_service_request(str(ids[1]))
    assert one_js["service_request_id"] == one_xm["service_request_id"] == str(ids[1])
    for key in (
        "status",
        "service_code",
        "description",
        "requested_datetime",
        "expected_datetime",
        "agency_responsible",
    ):
        assert str(one_js[key]) == one_xm[key], key
    assert float(one_xm["lat"]) == one_js["lat"] == 39.97
    assert one_js["agency_responsible"] == "东北街道办事处"
    assert js.get_service_requests(service_request_id=f"{ids[0]},{ids[2]}")[0][
        "service_request_id"
    ] in (str(ids[0]), str(ids[2]))

"""GeoReport v2 conformance against a running uvicorn server, with a real HTTP client (httpx)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Intake

from .conftest import BACKENDS, drop_db_url, fresh_db_url
from .live_server import LiveServer

LAT, LON = 39.97, 116.36  # inside the demo north-east street office
PII = {
    "name_first": "小明",
    "name_last": "王",
    "phone": "13912345678",
    "email": "wxm@example.com",
    "address": "幸福路88号3单元",
}


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    db_url = fresh_db_url(request.param, tmp_path_factory.mktemp("o311"))
    h = Hotline(HotlineSettings(db_url=db_url, secret="test-secret"))
    key = h.create_api_key("conformance")
    tokens = {
        "dispatcher": h.create_staff("disp", "dispatcher"),
        "ne": h.create_staff("ne", "unit", "jd_ne"),
        "sw": h.create_staff("sw", "unit", "jd_sw"),
    }
    # 1,005 old-but-recent orders to exercise the 1,000 limit, and some older than 90 days
    now = datetime.now(UTC)
    h.submit_many(
        [
            Intake(
                f"路灯不亮 {i}",
                service_code="labour",
                requested_at=now - timedelta(days=2, minutes=i),
            )
            for i in range(1005)
        ]
    )
    h.submit_many([Intake("旧工单", service_code="labour", requested_at=now - timedelta(days=200))])
    h.close()
    srv = LiveServer(db_url).start()
    yield {"url": srv.url + "/open311/v2", "base": srv.url, "key": key, "tokens": tokens}
    srv.stop()
    drop_db_url(db_url)


def get(server, path, **params):
    return httpx.get(server["url"] + path, params=params, timeout=30)


def post(server, fmt="json", **data):
    data.setdefault("api_key", server["key"])
    return httpx.post(f"{server['url']}/requests.{fmt}", data=data, timeout=30)


def body(r):
    if r.headers["content-type"].startswith("text/xml"):
        return ET.fromstring(r.content)
    return r.json()


def assert_error(r, status, fmt):
    assert r.status_code == status, r.text
    if fmt == "xml":
        assert r.headers["content-type"] == "text/xml; charset=utf-8"
        root = ET.fromstring(r.content)
        assert root.tag == "errors"
        err = root.findall("error")
        assert len(err) == 1 and err[0].findtext("code") == str(status)
        assert err[0].findtext("description")
    else:
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        doc = r.json()
        assert isinstance(doc, list) and doc[0]["code"] == status and doc[0]["description"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_discovery(server, fmt):
    r = httpx.get(f"{server['url']}/discovery.{fmt}")
    assert r.status_code == 200
    if fmt == "xml":
        root = body(r)
        assert root.tag == "discovery"
        ep = root.find("endpoints/endpoint")
        assert ep.findtext("url") == server["url"]
        assert [f.text for f in ep.findall("formats/format")] == ["text/xml", "application/json"]
    else:
        doc = r.json()
        assert doc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_services_and_definitions(server, fmt):
    r = get(server, f"/services.{fmt}")
    assert r.status_code == 200
    if fmt == "xml":
        assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        assert r.headers["content-type"] == "text/xml; charset=utf-8"
        services = body(r).findall("service")
        codes = [s.findtext("service_code") for s in services]
        assert all(s.findtext("metadata") in ("true", "false") for s in services)
        assert all(s.findtext("type") == "realtime" for s in services)
    else:
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        codes = [s["service_code"] for s in r.json()]
        assert {s["metadata"] for s in r.json()} <= {True, False}
    assert codes == [
        "urban",
        "labour",
        "education",
        "health",
        "transport",
        "commerce",
        "environment",
    ]
    d = get(server, f"/services/urban.{fmt}")
    assert d.status_code == 200
    if fmt == "xml":
        root = body(d)
        assert root.tag == "service_definition"
        attrs = root.findall("attributes/attribute")
        assert [a.findtext("code") for a in attrs] == ["hazard", "since"]
        assert [v.findtext("key") for v in attrs[0].findall("values/value")] == ["yes", "no"]
        assert attrs[0].findtext("required") == "true" and attrs[0].findtext("order") == "1"
    else:
        attrs = d.json()["attributes"]
        assert {a["datatype"] for a in attrs} <= {
            "string",
            "number",
            "datetime",
            "text",
            "singlevaluelist",
            "multivaluelist",
        }
        assert attrs[0]["values"] == [
            {"key": "yes", "name": "是 yes"},
            {"key": "no", "name": "否 no"},
        ]
    assert_error(get(server, f"/services/nope.{fmt}"), 404, fmt)


def test_locale_extension_and_jurisdiction(server):
    en = get(server, "/services.json", locale="en").json()
    assert en[0]["service_name"] == "Urban and rural construction"
    zh = get(server, "/services.json").json()
    assert zh[0]["service_name"] == "城乡建设"
    assert get(server, "/services.json", jurisdiction_id="demo.citycheck").status_code == 200
    assert get(server, "/services.json", jurisdiction_id="").status_code == 200  # empty = absent
    assert_error(get(server, "/services.json", jurisdiction_id="elsewhere.gov"), 404, "json")
    assert_error(get(server, "/services.xml", jurisdiction_id="elsewhere.gov"), 404, "xml")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post_request_then_token_then_get(server, fmt):
    r = post(
        server,
        fmt,
        service_code="urban",
        lat=str(LAT),
        long=str(LON),
        description="井盖丢失",
        **{"attribute[hazard]": "yes", "attribute[since]": "2025-03-01T08:00:00+08:00"},
    )
    assert r.status_code == 200, r.text
    if fmt == "xml":
        req = body(r).find("request")
        rid, token = req.findtext("service_request_id"), req.findtext("token")
    else:
        rid, token = r.json()[0]["service_request_id"], r.json()[0]["token"]
    assert rid.isdigit()  # ids are emitted as strings
    t = get(server, f"/tokens/{token}.{fmt}")
    assert t.status_code == 200
    got = (
        body(t).find("request").findtext("service_request_id")
        if fmt == "xml"
        else t.json()[0]["service_request_id"]
    )
    assert got == rid
    assert_error(get(server, f"/tokens/nope.{fmt}"), 404, fmt)
    one = get(server, f"/requests/{rid}.{fmt}")
    assert one.status_code == 200
    if fmt == "xml":
        reqs = body(one).findall("request")
        assert len(reqs) == 1 and reqs[0].findtext("status") == "open"
        assert reqs[0].findtext("agency_responsible") == "东北街道办事处"
        exp = reqs[0].findtext("expected_datetime")
    else:
        reqs = one.json()
        assert isinstance(reqs, list) and len(reqs) == 1
        assert reqs[0]["service_request_id"] == rid and reqs[0]["lat"] == LAT
        exp = reqs[0]["expected_datetime"]
    # expected_datetime: 10 working days from today (urban override), city timezone
    assert exp.endswith("+08:00") and exp[11:19] == "23:59:59"
    assert_error(get(server, f"/requests/999999999.{fmt}"), 404, fmt)
    assert_error(get(server, f"/requests/abc.{fmt}"), 404, fmt)


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"api_key": ""}, 403),
        ({"api_key": "wrong"}, 403),
        ({"service_code": ""}, 400),
        ({"service_code": "nope"}, 400),
        ({"lat": "", "long": ""}, 400),  # no location at all
        ({"lat": "abc"}, 400),
        ({"lat": "91"}, 400),
        ({"long": "-181"}, 400),
        ({"lat": "nan"}, 400),
        ({"long": ""}, 400),  # lat without long
        ({"description": "x" * 4001}, 400),
        ({"attribute[hazard]": ""}, 400),  # required attribute missing
        ({"attribute[hazard]": "maybe"}, 400),  # not in the list
        ({"attribute[since]": "yesterday"}, 400),  # not a datetime
        ({"attribute[bogus]": "1"}, 400),
        ({"media_url": "javascript:alert(1)"}, 400),
        ({"jurisdiction_id": "elsewhere.gov"}, 404),
    ],
)
def test_post_errors(server, fmt, fields, status):
    data = {
        "service_code": "urban",
        "lat": str(LAT),
        "long": str(LON),
        "attribute[hazard]": "no",
        **fields,
    }
    assert_error(post(server, fmt, **data), status, fmt)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_oversized_body_is_400_in_georeport_format(server, fmt):
    r = post(server, fmt, service_code="labour", address_string="x", description="y" * 100_000)
    assert_error(r, 400, fmt)


def test_address_only_and_multivalue(server):
    r = post(
        server,
        service_code="transport",
        address_string="学院路",
        description="公交不准点",
        **{"attribute[lines][]": "bus"},
    )
    assert r.status_code == 200, r.text
    r = httpx.post(
        f"{server['url']}/requests.json",
        timeout=30,
        data={
            "api_key": server["key"],
            "service_code": "transport",
            "address_id": "A-17",
            "attribute[lines][]": ["bus", "metro"],
        },
    )
    assert r.status_code == 200, r.text
    assert_error(
        post(
            server, service_code="transport", address_string="x", **{"attribute[lines][]": "boat"}
        ),
        400,
        "json",
    )


def test_get_requests_filters_and_limits(server):
    all_ = get(server, "/requests.json").json()
    assert len(all_) == 1000  # default: last 90 days, at most 1,000
    assert all(r["status"] in ("open", "closed") for r in all_)
    xml = body(get(server, "/requests.xml"))
    assert xml.tag == "service_requests" and len(xml.findall("request")) == 1000
    now = datetime.now(UTC)
    wide = get(
        server,
        "/requests.json",
        start_date=(now - timedelta(days=100)).isoformat(),
        end_date=now.isoformat(),
    )
    assert_error(wide, 400, "json")
    assert_error(get(server, "/requests.json", start_date="yesterday"), 400, "json")
    assert_error(get(server, "/requests.json", status="pending"), 400, "json")
    old = get(
        server,
        "/requests.json",
        start_date=(now - timedelta(days=210)).isoformat(),
        end_date=(now - timedelta(days=190)).isoformat(),
    ).json()
    assert [r["description"] for r in old] == ["旧工单"]
    ids = [all_[0]["service_request_id"], all_[5]["service_request_id"]]
    by_id = get(
        server, "/requests.json", service_request_id=",".join(ids), service_code="nothing"
    ).json()  # ids override other filters
    assert sorted(r["service_request_id"] for r in by_id) == sorted(ids)
    urban = get(server, "/requests.json", service_code="urban,transport").json()
    assert urban and {r["service_code"] for r in urban} <= {"urban", "transport"}
    closed = get(server, "/requests.json", status="closed").json()
    assert closed == []
    both = get(server, "/requests.json", status="open,closed", service_code="urban").json()
    urban_only = [r for r in urban if r["service_code"] == "urban"]
    assert {r["service_request_id"] for r in both} == {r["service_request_id"] for r in urban_only}
    same = get(server, "/requests.json", service_code="", status="").json()  # empty = absent
    assert len(same) == 1000


def test_paging_geo_and_notes_extensions(server):
    p1 = get(server, "/requests.json", page_size="10", page="1").json()
    p2 = get(server, "/requests.json", page_size="10", page="2").json()
    assert len(p1) == len(p2) == 10
    assert not {r["service_request_id"] for r in p1} & {r["service_request_id"] for r in p2}
    post(server, service_code="labour", lat=str(LAT), long=str(LON), description="工资拖欠")
    near = get(server, "/requests.json", lat=str(LAT), long=str(LON), radius="200").json()
    assert near and all(abs(r["lat"] - LAT) < 0.003 for r in near)
    box = get(server, "/requests.json", bbox=f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}")
    assert {r["service_request_id"] for r in near} <= {r["service_request_id"] for r in box.json()}
    assert_error(get(server, "/requests.json", bbox="1,2,3"), 400, "json")
    rid = near[0]["service_request_id"]
    plain = get(server, f"/requests/{rid}.json").json()[0]
    assert "notes" not in plain  # extensions only when asked for
    ext = get(server, f"/requests/{rid}.json", extensions="true").json()[0]
    assert [n["type"] for n in ext["notes"]][:2] == ["accept", "dispatch"]
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert get(server, "/requests.json", updated_after=later).json() == []


def test_no_personal_data_in_any_public_output(server):
    r = post(
        server,
        service_code="environment",
        lat=str(LAT),
        long=str(LON),
        first_name=PII["name_first"],
        last_name=PII["name_last"],
        phone=PII["phone"],
        email=PII["email"],
        address_string=PII["address"],
        description=f"我叫王小明，电话{PII['phone']}，身份证110101199003077777，楼下烧烤油烟",
    )
    assert r.status_code == 200
    rid = r.json()[0]["service_request_id"]
    conf = post(
        server,
        service_code="environment",
        lat=str(LAT),
        long=str(LON),
        description="举报某商户偷排",
        confidential="true",
    ).json()[0]["service_request_id"]
    outputs = []
    for fmt in ("xml", "json"):
        outputs.append(get(server, f"/requests.{fmt}").text)
        outputs.append(get(server, f"/requests.{fmt}", extensions="true", page_size="50").text)
        outputs.append(get(server, f"/requests/{rid}.{fmt}", extensions="true").text)
        outputs.append(get(server, f"/requests/{conf}.{fmt}").text)
    text = "\n".join(outputs)
    for value in (PII["phone"], "王小明", PII["email"], PII["address"], "110101199003077777"):
        assert value not in text
    one = get(server, f"/requests/{rid}.json").json()[0]
    assert one["description"] == "我叫[name]，电话[phone]，身份证[id]，楼下烧烤油烟"
    hidden = get(server, f"/requests/{conf}.json").json()[0]
    assert hidden["description"] is None and hidden["lat"] is None and hidden["long"] is None


def test_staff_roles_and_unit_isolation(server):
    base = server["base"]
    r = post(
        server,
        service_code="urban",
        lat=str(LAT),
        long=str(LON),
        description="路面塌陷",
        **{"attribute[hazard]": "yes"},
    )
    rid = int(r.json()[0]["service_request_id"])

    def staff(method, path, who, **kw):
        h = {"Authorization": f"Bearer {server['tokens'][who]}"} if who else {}
        return httpx.request(method, base + path, headers=h, timeout=30, **kw)

    assert staff("GET", "/staff/orders", None).status_code == 401
    assert staff("GET", f"/staff/orders/{rid}", "ne").status_code == 200
    assert staff("GET", f"/staff/orders/{rid}", "sw").status_code == 404
    assert staff("GET", f"/staff/orders/{rid}/personal", "sw").status_code == 404
    assert (
        staff("POST", f"/staff/orders/{rid}/events", "sw", json={"kind": "sign"}).status_code == 404
    )
    assert rid not in [o["id"] for o in staff("GET", "/staff/orders", "sw").json()]
    assert (
        staff(
            "POST", f"/staff/orders/{rid}/events", "ne", json={"kind": "dispatch", "unit": "jd_ne"}
        ).status_code
        == 403
    )
    ok = staff("POST", f"/staff/orders/{rid}/events", "ne", json={"kind": "sign"})
    assert ok.status_code == 200 and ok.json()["status"] == "signed"
    bad = staff("POST", f"/staff/orders/{rid}/events", "ne", json={"kind": "sign"})
    assert bad.status_code == 409
    tl = staff("GET", f"/staff/orders/{rid}", "dispatcher").json()["timeline"]
    assert [e["kind"] for e in tl] == ["accept", "classify", "dispatch", "sign"]
    assert staff("POST", "/staff/intake", "ne", json={"description": "x"}).status_code == 403
    # malformed action data is a conflict, not a server error; absurd ids are invalid input
    r = staff(
        "POST",
        f"/staff/orders/{rid}/events",
        "ne",
        json={"kind": "extend_request", "reason": "r", "data": {"working_days": "x"}},
    )
    assert r.status_code == 409 and "malformed" in r.text
    assert staff("GET", "/staff/orders/99999999999999999999999", "ne").status_code == 422


def test_openapi_schema_is_published_and_lists_every_endpoint(server):
    doc = httpx.get(server["base"] + "/openapi.json").json()
    paths = set(doc["paths"])
    for p in (
        "/open311/v2/discovery.{fmt}",
        "/open311/v2/services.{fmt}",
        "/open311/v2/services/{service_code}.{fmt}",
        "/open311/v2/requests.{fmt}",
        "/open311/v2/requests/{service_request_id}.{fmt}",
        "/open311/v2/tokens/{token}.{fmt}",
    ):
        assert p in paths
    assert "post" in doc["paths"]["/open311/v2/requests.{fmt}"]
    form = doc["paths"]["/open311/v2/requests.{fmt}"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in form
    json.dumps(doc)

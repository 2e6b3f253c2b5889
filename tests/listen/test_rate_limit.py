"""Abusive clients are rate-limited (429 in GeoReport's error format); the window slides."""

from __future__ import annotations

import warnings

from citycheck.listen.settings import HotlineSettings
from citycheck.web.hotline.app import create_app
from citycheck.web.hotline.deps import RateLimiter

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_sliding_window():
    rl = RateLimiter(3)
    assert [rl.allow("k", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert rl.allow("other", now=3)  # per key
    assert rl.allow("k", now=60.5)  # the hit at t=0 left the window


def test_api_limits_posts_per_client(tmp_path):
    app = create_app(
        HotlineSettings(db_url=f"sqlite:///{tmp_path}/h.db", secret="s", rate_limit_per_minute=5)
    )
    key = app.state.hotline.create_api_key("k")
    c = TestClient(app)
    data = {"api_key": key, "service_code": "labour", "address_string": "x"}
    codes = [c.post("/open311/v2/requests.xml", data=data).status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2
    r = c.post("/open311/v2/requests.json", data=data)
    assert r.status_code == 429 and r.json()[0]["code"] == 429
    assert app.state.hotline.count() == 5
    app.state.hotline.close()

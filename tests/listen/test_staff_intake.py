"""Staff intake with classification: classified before the writer, committed by the group commit,
acknowledged after the commit, with the category the offline model gives.

Oracle for the categories: the fitted sklearn pipeline itself (``predict_proba``), run in the
test process on the same texts; the messages are the real ones of cn_messages_labelled.csv.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.conftest import shared_data

from citycheck.listen.catalogue import load_catalogue
from citycheck.listen.classifier import TextClassifier, join_text, load_model
from citycheck.listen.domain import EventKind, Status
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Intake, Prediction
from citycheck.web.hotline.app import create_app

from .live_server import LiveServer

LAT, LON = 39.97, 116.36  # inside the demo north-east street office


@pytest.fixture(scope="module")
def messages() -> list[str]:
    cn = pd.read_csv(shared_data("hotline", "cn_messages_labelled.csv"), dtype=str)
    return join_text(cn, ["留言主题", "留言详情"])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, messages):
    """The default model (`hotline train --no-select`) on the messages, labels as codes."""
    cn = pd.read_csv(shared_data("hotline", "cn_messages_labelled.csv"), dtype=str)
    code_of = {s.name_zh: s.code for s in load_catalogue().services.values()}
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    TextClassifier.fit(messages, [code_of[x] for x in cn["一级分类"]]).save(path)
    return path


def oracle(model: TextClassifier, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Label and confidence by the sklearn pipeline, not the compiled form."""
    proba = model.pipeline.predict_proba(texts)
    return [str(c) for c in model.pipeline.classes_[proba.argmax(1)]], proba.max(1)


def test_intakes_are_classified_before_the_writer_thread(settings, model_file, messages):
    """The (single, on SQLite) group-commit writer only writes: every prediction runs in the
    caller's thread or on the caller's event loop, once per intake, and gives the offline
    model's category."""
    h = Hotline(settings.model_copy(update={"model_file": str(model_file), "group_commit": True}))
    calls: list[str] = []
    predict = h.classifier.predict

    def spy(texts):
        calls.append(threading.current_thread().name)
        return predict(texts)

    h.classifier.predict = spy  # type: ignore[method-assign]
    texts = messages[:24]
    with ThreadPoolExecutor(6, thread_name_prefix="caller") as pool:
        orders = list(pool.map(lambda t: h.submit(Intake(t, lat=LAT, lon=LON)), texts[:16]))

    async def on_loop():
        return await asyncio.gather(*(h.submit_async(Intake(t)) for t in texts[16:]))

    orders += asyncio.run(on_loop())
    assert len(calls) == len(texts)
    assert not [n for n in calls if n.startswith("hotline-group-commit")], calls
    want, conf = oracle(h.classifier, texts)
    assert [o.service_code for o in orders] == want
    np.testing.assert_allclose([o.confidence for o in orders], conf, rtol=0, atol=1e-9)
    for o in orders:
        classify = [e for e in h.events(o.id) if e.kind is EventKind.CLASSIFY]
        assert [e.actor for e in classify] == ["classifier"]
    # a prediction made before is used as it is, not made again
    given = h.submit(Intake("小区门口路灯不亮", prediction=Prediction("transport", 0.91)))
    assert len(calls) == len(texts) and given.service_code == "transport"
    assert given.confidence == 0.91
    # a code outside the catalogue goes to a person
    odd = h.submit(Intake("小区门口路灯不亮", prediction=Prediction(None, 0.0)))
    assert odd.service_code is None and odd.status == Status.NEEDS_REVIEW.value
    assert h.verify_log() == []
    h.close()


def test_staff_intake_goes_through_the_group_commit(settings, model_file, messages):
    """Concurrent POST /staff/intake on one event loop: every order is committed by the group
    committer's batches (several per batch), answered with the offline model's category."""
    h = Hotline(settings.model_copy(update={"model_file": str(model_file), "group_commit": True}))
    token = h.create_staff("disp", "dispatcher")
    batches: list[int] = []
    commit = h._committer._commit

    def counting(batch):
        batches.append(len(batch))
        return commit(batch)

    h._committer._commit = counting  # type: ignore[method-assign]
    texts = messages[:40]

    async def post_all():
        transport = httpx.ASGITransport(app=create_app(hotline=h))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await asyncio.gather(
                *(
                    c.post(
                        "/staff/intake",
                        json={"description": t, "lat": LAT, "lon": LON},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    for t in texts
                )
            )

    responses = asyncio.run(post_all())
    assert [r.status_code for r in responses] == [200] * len(texts)
    assert sum(batches) == len(texts) and max(batches) > 1, batches
    want, conf = oracle(h.classifier, texts)
    got = [r.json() for r in responses]
    assert [o["service_code"] for o in got] == want
    np.testing.assert_allclose([o["confidence"] for o in got], conf, rtol=0, atol=1e-9)
    # acknowledged means committed: an independent store sees every order, as answered
    other = Hotline(settings.model_copy(update={"group_commit": False}))
    stored = {o.id: o.service_code for o in other.search(limit=100)}
    assert stored == {o["id"]: o["service_code"] for o in got}
    assert other.verify_log() == []
    other.close()
    h.close()


def test_staff_intake_on_a_live_server(db_url, model_file, messages):
    """A real server (uvicorn, the model from the settings) and concurrent clients: each
    answer carries the offline category; a given service_code skips the classifier."""
    h = Hotline(HotlineSettings(db_url=db_url, secret="test-secret"))
    token = h.create_staff("disp", "dispatcher")
    unit = h.create_staff("ne", "unit", "jd_ne")
    h.close()
    env = {"CITYCHECK_HOTLINE_MODEL_FILE": str(model_file)}
    srv = LiveServer(db_url, env=env).start()
    texts = messages[40:100]
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c, ThreadPoolExecutor(8) as pool:
            got = list(
                pool.map(
                    lambda t: c.post("/staff/intake", json={"description": t}, headers=auth),
                    texts,
                )
            )
            assert [r.status_code for r in got] == [200] * len(texts)
            coded = c.post(
                "/staff/intake",
                json={"description": "工资拖欠", "service_code": "labour"},
                headers=auth,
            ).json()
            timeline = c.get(f"/staff/orders/{coded['id']}", headers=auth).json()["timeline"]
            # a unit may not take intakes; a wrong token is 401
            denied = c.post(
                "/staff/intake",
                json={"description": "x"},
                headers={"Authorization": f"Bearer {unit}"},
            )
            anonymous = c.post(
                "/staff/intake", json={"description": "x"}, headers={"Authorization": "Bearer x"}
            )
    finally:
        srv.stop()
    assert denied.status_code == 403 and anonymous.status_code == 401
    model = load_model(model_file)
    want, conf = oracle(model, texts)
    assert [r.json()["service_code"] for r in got] == want
    np.testing.assert_allclose([r.json()["confidence"] for r in got], conf, atol=1e-9)
    assert coded["service_code"] == "labour" and coded["confidence"] == 1.0
    assert [e["actor"] for e in timeline if e["kind"] == "classify"] == ["client"]
    h = Hotline(HotlineSettings(db_url=db_url, secret="test-secret"))
    assert h.count() == len(texts) + 1 and h.verify_log() == []
    h.close()


def test_staff_tokens_are_cached_like_api_keys(settings):
    h = Hotline(settings.model_copy(update={"api_key_cache_s": 60.0}))
    tok = h.create_staff("alice", "dispatcher")
    assert h.staff_known(tok) is None  # not seen yet: no answer without the database
    assert h.staff_for_token(tok).username == "alice"
    assert h.staff_known(tok).username == "alice"
    assert h.staff_for_token(tok + "x") is None and h.staff_known(tok + "x") is None
    h.close()
    h = Hotline(settings.model_copy(update={"api_key_cache_s": 0.0}))
    assert h.staff_for_token(tok).role == "dispatcher"
    assert h.staff_known(tok) is None  # no caching at 0 s
    h.close()

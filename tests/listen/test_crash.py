"""kill -9 the server during a write load: every acknowledged order survives, none half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pandas as pd
from tests.conftest import shared_data

from citycheck.listen.catalogue import load_catalogue
from citycheck.listen.classifier import TextClassifier, join_text
from citycheck.listen.domain import EventKind
from citycheck.listen.privacy import redact
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline

from .live_server import SRC, LiveServer, free_port


def _serve(db_url: str, port: int, *options: str) -> subprocess.Popen:
    """`citycheck hotline serve` (the real CLI, with ``options``) in its own process group."""
    env = {**os.environ, "PYTHONPATH": SRC, "CITYCHECK_HOTLINE_SECRET": "crash-secret"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "citycheck",
            "hotline",
            "serve",
            "--db",
            db_url,
            "--port",
            str(port),
            *options,
        ],
        env=env,
        start_new_session=True,
    )


def _wait(url: str, proc: subprocess.Popen) -> None:
    for _ in range(300):
        assert proc.poll() is None, "server exited"
        try:
            if httpx.get(url + "/open311/v2/services.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def _kill_under_load(
    proc: subprocess.Popen,
    writer,
    acked: dict,
    stop: threading.Event,
    *,
    wait_s: float,
    n_writers: int = 6,
    at_least: int = 150,
) -> None:
    """Run ``n_writers`` threads of ``writer(n)`` until ``at_least`` writes are acknowledged
    (or ``wait_s`` passed), kill -9 the server's process group mid-load, then stop the writers."""
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(n_writers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + wait_s
    while len(acked) < at_least and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9 mid-load
    proc.wait(10)
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acked) >= at_least


def test_kill9_during_writes(db_url):
    h = Hotline(HotlineSettings(db_url=db_url, secret="crash-secret"))
    key = h.create_api_key("crash")
    h.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(db_url, port)
    _wait(url, proc)
    acked: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(timeout=5) as c:
            for i in range(100_000):  # bounded; stops on the kill
                if stop.is_set():
                    return
                marker = f"crash-{n}-{i}"
                try:
                    r = c.post(
                        url + "/open311/v2/requests.json",
                        data={
                            "api_key": key,
                            "service_code": "labour",
                            "address_string": "x",
                            "description": marker,
                        },
                    )
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    with lock:
                        acked[r.json()[0]["service_request_id"]] = marker

    _kill_under_load(proc, writer, acked, stop, wait_s=20)
    # restart and check
    srv = LiveServer(db_url, secret="crash-secret").start()
    try:
        ids = sorted(acked, key=int)
        got = {}
        for i in range(0, len(ids), 200):
            chunk = ids[i : i + 200]
            rows = httpx.get(
                srv.url + "/open311/v2/requests.json",
                params={"service_request_id": ",".join(chunk)},
                timeout=30,
            ).json()
            got.update({r["service_request_id"]: r["description"] for r in rows})
        assert got == acked  # every acknowledged order is there, with its own text
    finally:
        srv.stop()
    h = Hotline(HotlineSettings(db_url=db_url, secret="crash-secret"))
    assert h.verify_log() == []  # no half-written order; the log derives to each projection
    assert all(h.get(int(i)).n_events == 3 for i in ids)  # accept, classify, dispatch
    h.close()


def test_kill9_during_classified_staff_intake(db_url, tmp_path):
    """The same with the dispatchers' intake: real messages without a service code, classified
    by the server's model and committed by the group commit, then kill -9."""
    cn = pd.read_csv(shared_data("hotline", "cn_messages_labelled.csv"), dtype=str)
    texts = join_text(cn, ["留言主题", "留言详情"])
    code_of = {sv.name_zh: sv.code for sv in load_catalogue().services.values()}
    model = TextClassifier.fit(texts, [code_of[x] for x in cn["一级分类"]])
    model.save(tmp_path / "model.joblib")
    h = Hotline(HotlineSettings(db_url=db_url, secret="crash-secret"))
    token = h.create_staff("crash-dispatcher", "dispatcher")
    h.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(db_url, port, "--model", str(tmp_path / "model.joblib"))
    _wait(url, proc)
    acked: dict[int, tuple[str, str]] = {}  # id -> (text sent, category answered)
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=5) as c:
            for i in range(100_000):  # bounded; stops on the kill
                if stop.is_set():
                    return
                text = f"{texts[(n * 50 + i) % len(texts)][:600]} crash-{n}-{i}"
                try:
                    r = c.post(
                        url + "/staff/intake",
                        json={"description": text, "lat": 39.97, "lon": 116.36},
                        headers=auth,
                    )
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    with lock:
                        acked[r.json()["id"]] = (text, r.json()["service_code"])

    _kill_under_load(proc, writer, acked, stop, wait_s=30)
    h = Hotline(HotlineSettings(db_url=db_url, secret="crash-secret"))
    try:
        assert h.verify_log() == []  # no half-written order; the log derives to each projection
        want, _ = model.predict([text for text, _ in acked.values()])
        for (oid, (text, code)), expected in zip(acked.items(), want, strict=True):
            order = h.get(oid)
            assert order is not None, f"acknowledged order {oid} lost"
            assert order.description_public == redact(text)
            assert order.service_code == code == expected
            classify = [e for e in h.events(oid) if e.kind is EventKind.CLASSIFY]
            assert [e.actor for e in classify] == ["classifier"]
    finally:
        h.close()

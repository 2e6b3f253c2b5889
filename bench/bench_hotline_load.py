"""Load benchmark of the hotline's Open311 API with a real HTTP load generator (wrk).

Starts ``citycheck hotline serve`` on 127.0.0.1 over SQLite and/or PostgreSQL, seeds orders, then
drives it with wrk (Debian package ``wrk``): POST requests.json (accept + classify + dispatch +
duplicate check, committed before the answer) and GET requests/{id}.json.  Prints requests per
second and p50/p99 latency next to the issue's targets (300 POSTs/s, 2,000 GETs/s, p99 < 200 ms).

The Open311 POSTs carry a service_code, so the text classifier does not run for them.  A third
scenario (on by default, ``--no-intake`` to skip it) POSTs the real Chinese messages of
../shared/data/hotline/cn_messages_labelled.csv WITHOUT a service code to the staff intake
(/staff/intake, as a dispatcher): the server's model, trained once before the run with
``citycheck hotline train --no-select`` (fixed default settings) from that file, picks the
category, then dispatch and the duplicate check run.  ``--verify`` checks that every one of those
orders has its category from the classifier (its classify event's actor is ``classifier``) and the
same category the model gives offline for the same text.  ``--intake-control`` adds the same
intakes carrying the offline model's service_code (classifier skipped), to show its cost.

    python bench/bench_hotline_load.py --backend both --duration 10 --verify

    python bench/bench_hotline_load.py --backend sqlite --duration 10
    python bench/bench_hotline_load.py --backend postgresql --pg-url postgresql+psycopg://...

Loopback only; bounded by --duration.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pandas as pd
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"
MESSAGES = ROOT.parent / "shared" / "data" / "hotline" / "cn_messages_labelled.csv"
TEXT_COLUMNS = ["留言主题", "留言详情"]

POST_LUA = """
math.randomseed(os.time())
local texts = {"路灯不亮", "井盖丢失", "小区垃圾堆积", "道路破损需要修补", "施工噪音扰民"}
request = function()
  local lat = 39.94 + math.random() * 0.04
  local lon = 116.33 + math.random() * 0.04
  local body = "api_key=%s&service_code=urban&attribute%%5Bhazard%%5D=no&lat=" .. lat ..
    "&long=" .. lon .. "&description=" .. texts[math.random(#texts)] .. math.random(1000000)
  return wrk.format("POST", "/open311/v2/requests.json",
    {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"""

GET_LUA = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/open311/v2/requests/" .. math.random(%d) .. ".json")
end
"""


INTAKE_LUA = """
math.randomseed(os.time())
local texts = {%s}
request = function()
  local lat = 39.94 + math.random() * 0.04
  local lon = 116.33 + math.random() * 0.04
  local body = '{"description":' .. texts[math.random(#texts)] ..
    ',"channel":"phone","lat":' .. lat .. ',"lon":' .. lon .. '}'
  return wrk.format("POST", "/staff/intake",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %s"}, body)
end
"""


def message_texts(messages: Path) -> list[str]:
    """The real messages' title and body as one text each (the staff intake's 4,000-char cap)."""
    from citycheck.listen.classifier import join_text
    from citycheck.listen.importer import read_table

    return [t[:4000] for t in join_text(read_table(messages), TEXT_COLUMNS) if t.strip()]


def intake_lua(texts: list[str], token: str, codes: list[str] | None = None) -> str:
    """wrk script: each request one of ``texts`` (as JSON strings in Lua long brackets).

    With ``codes`` each text carries its service_code, so the server's classifier is skipped.
    """
    quoted = [json.dumps(t, ensure_ascii=False) for t in texts]
    if codes is not None:
        quoted = [f'{q},"service_code":{json.dumps(c)}' for q, c in zip(quoted, codes, strict=True)]
    assert not any("]==]" in q for q in quoted)
    return INTAKE_LUA % (",".join(f"[==[{q}]==]" for q in quoted), token)


def train_model(messages: Path, tmp: Path) -> Path:
    """Train the classifier once with ``citycheck hotline train --no-select`` on the messages.

    The labels (一级分类, Chinese names) become the catalogue's service codes, as the server
    stores an order's category only when it is a code of the catalogue.
    """
    from citycheck.listen.catalogue import load_catalogue
    from citycheck.listen.importer import read_table

    code_of = {sv.name_zh: sv.code for sv in load_catalogue().services.values()}
    df = read_table(messages)
    unknown = sorted(set(df["一级分类"]) - set(code_of))
    if unknown:
        raise SystemExit(f"{messages}: field 一级分类 values {unknown} not in the catalogue")
    table, model = tmp / "train.csv", tmp / "model.joblib"
    df.assign(code=df["一级分类"].map(code_of)).to_csv(table, index=False)
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "citycheck",
            "hotline",
            "train",
            str(table),
            "--text",
            ",".join(TEXT_COLUMNS),
            "--label",
            "code",
            "--out",
            str(model),
            "--no-select",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=True,
    )
    print(f"trained the classifier in {time.perf_counter() - t0:.1f} s (not timed in the load)")
    return model


def check_classified(db: str, after_id: int, texts: list[str], model: Path) -> dict:
    """The intake orders with id > ``after_id``: their category's source and value, and status.

    The oracle is the same model run offline by sklearn in this process on the text that was
    sent (matched by its redacted public form, as the raw text is stored encrypted).
    """
    from citycheck.listen.classifier import load_model
    from citycheck.listen.privacy import redact

    pipe = load_model(model).pipeline  # sklearn itself, not the server's compiled form
    proba = pipe.predict_proba(texts)
    labels = pipe.classes_[proba.argmax(axis=1)]
    expected: dict[str, set[str]] = {}
    for t, code in zip(texts, labels, strict=True):
        expected.setdefault(redact(t), set()).add(str(code))
    eng = create_engine(db)
    with eng.connect() as c:
        rows = c.execute(
            text(
                "SELECT o.id, o.service_code, o.status, o.description_public, "
                "(SELECT count(*) FROM order_events e WHERE e.order_id = o.id "
                "AND e.kind = 'classify' AND e.actor = 'classifier') "
                "FROM orders o WHERE o.id > :after"
            ),
            {"after": after_id},
        ).all()
    eng.dispose()
    statuses = pd.Series([r[2] for r in rows], dtype=object).value_counts().to_dict()
    return {
        "stored": len(rows),
        "no_category": sum(r[1] is None for r in rows),
        "not_by_classifier": sum(r[4] != 1 for r in rows),
        "unknown_text": sum(r[3] not in expected for r in rows),
        "wrong_category": sum(r[3] in expected and r[1] not in expected[r[3]] for r in rows),
        "statuses": statuses,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_sockets(port: int) -> int:
    """How many sockets listen on ``port`` (Linux /proc/net/tcp): one per ready worker."""
    n = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.split(":")[1], 16) == port:
                n += 1
    return n


def fresh_db(backend: str, pg_url: str | None, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp}/bench.db"
    assert pg_url, "--pg-url is needed for PostgreSQL"
    name = "bench_" + uuid.uuid4().hex[:8]
    eng = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    eng.dispose()
    return pg_url.rsplit("/", 1)[0] + "/" + name


def drop_db(db: str, pg_url: str | None) -> None:
    """Drop a ``bench_*`` database made by :func:`fresh_db` (SQLite files go with the tmp dir)."""
    if not db.startswith("postgresql"):
        return
    name = db.rsplit("/", 1)[1]
    assert name.startswith("bench_"), name
    eng = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def parse_wrk(out: str) -> dict[str, float]:
    def ms(v: str) -> float:
        m = re.match(r"([\d.]+)(us|ms|s)", v)
        assert m, v
        x = float(m.group(1))
        return {"us": x / 1000, "ms": x, "s": x * 1000}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:.*", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "requests": total,
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errs.group(0) if errs else "",
    }


def wrk(url: str, script: str, *, duration: int, connections: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--latency",
            "-s",
            f.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    ).stdout
    os.unlink(f.name)
    return parse_wrk(out)


def run_backend(backend: str, args: argparse.Namespace) -> list[tuple[str, dict]]:
    sys.path.insert(0, str(ROOT / "src"))
    from citycheck.listen.settings import HotlineSettings
    from citycheck.listen.store import Hotline, Intake

    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    db = fresh_db(backend, args.pg_url, tmp)
    proc: subprocess.Popen | None = None
    try:
        h = Hotline(HotlineSettings(db_url=db, secret=SECRET))
        key = h.create_api_key("bench")
        staff_token = h.create_staff("bench-dispatcher", "dispatcher")
        h.submit_many([Intake(f"种子工单 {i}", service_code="labour") for i in range(args.seed)])
        h.close()
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "CITYCHECK_HOTLINE_SECRET": SECRET,
            "CITYCHECK_HOTLINE_RATE_LIMIT_PER_MINUTE": "100000000",
        }
        cmd = [
            sys.executable,
            "-m",
            "citycheck",
            "hotline",
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ]
        if args.intake:
            model = train_model(args.messages, tmp)
            texts = message_texts(args.messages)
            cmd += ["--model", str(model)]
        if args.taskset:
            cmd = ["taskset", "-c", args.taskset, *cmd]
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(base + "/open311/v2/services.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # every worker opens its own socket once its app is loaded: wait for all of them, or
        # the first ready worker would take every wrk connection
        for _ in range(600):
            if args.workers == 1 or listening_sockets(port) >= args.workers:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"only {listening_sockets(port)} of {args.workers} workers listen")
        writers = os.environ.get("CITYCHECK_HOTLINE_GROUP_COMMIT_WRITERS", "1")
        print(
            f"{backend}: {listening_sockets(port)} worker sockets listening (SO_REUSEPORT), "
            f"group-commit writers per worker {writers}",
            flush=True,
        )
        results = []
        post: dict = {}
        if args.post and not args.intake_only:
            post = wrk(
                base,
                POST_LUA % key,
                duration=args.duration,
                connections=args.connections,
                threads=args.wrk_threads,
            )
            results.append(("POST requests.json", post))
        if not args.intake_only:
            get = wrk(
                base,
                GET_LUA % args.seed,
                duration=args.duration,
                connections=args.connections,
                threads=args.wrk_threads,
            )
            results.append(("GET requests/{id}.json", get))
        # the stored count must match what was acknowledged (no loss under load)
        h = Hotline(HotlineSettings(db_url=db, secret=SECRET))
        stored = h.count() - args.seed
        h.close()
        if post:
            post["stored"] = stored
        if args.intake:
            before = args.seed + stored  # ids are 1..before so far
            intake = wrk(
                base,
                intake_lua(texts, staff_token),
                duration=args.duration,
                connections=args.connections,
                threads=args.wrk_threads,
            )
            results.append(("POST staff/intake classify", intake))
            if args.verify:
                intake.update(check_classified(db, before, texts, model))
            else:
                h = Hotline(HotlineSettings(db_url=db, secret=SECRET))
                intake["stored"] = h.count() - before
                h.close()
        if args.intake and args.intake_control:
            from citycheck.listen.classifier import load_model

            pipe = load_model(model).pipeline
            codes = [str(c) for c in pipe.classes_[pipe.predict_proba(texts).argmax(axis=1)]]
            h = Hotline(HotlineSettings(db_url=db, secret=SECRET))
            before = h.count()
            h.close()
            control = wrk(
                base,
                intake_lua(texts, staff_token, codes),
                duration=args.duration,
                connections=args.connections,
                threads=args.wrk_threads,
            )
            results.append(("POST staff/intake coded", control))
            h = Hotline(HotlineSettings(db_url=db, secret=SECRET))
            control["stored"] = h.count() - before
            h.close()
        if args.verify:
            h = Hotline(HotlineSettings(db_url=db, secret=SECRET))
            problems = h.verify_log()
            h.close()
            (post or results[0][1])["log_problems"] = len(problems)
            for why in problems[:5]:
                print(f"{backend}: event log problem: {why}", file=sys.stderr)
        return results
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)
        if args.keep_db:
            print(f"{backend}: kept the database {db}")
        else:
            drop_db(db, args.pg_url)


def stored_note(r: dict) -> str:
    """What the verification found, for the results line."""
    if "stored" not in r:
        return ""
    note = f"; stored {r['stored']} of {r['requests'] - r['non2xx']} acknowledged"
    if "log_problems" in r:
        note += f", log problems {r['log_problems']}"
    if "no_category" in r:
        note += (
            f"; without category {r['no_category']}, category not by the classifier "
            f"{r['not_by_classifier']}, differs from the offline model {r['wrong_category']} "
            f"(text not matched {r['unknown_text']}); statuses {r['statuses']}"
        )
    return note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("CITYCHECK_TEST_PG_URL"))
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2000, help="orders stored before the run")
    ap.add_argument("--taskset", default=None, help="pin the server to CPUs, e.g. 0,1")
    ap.add_argument("--verify", action="store_true", help="check the event log afterwards")
    ap.add_argument(
        "--keep-db", action="store_true", help="keep the PostgreSQL bench_* database afterwards"
    )
    ap.add_argument(
        "--post",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the Open311 POST scenario (--no-post: skip it while iterating on GETs)",
    )
    ap.add_argument(
        "--intake",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also POST the real messages without a service code to /staff/intake (classified)",
    )
    ap.add_argument(
        "--intake-only",
        action="store_true",
        help="only the staff intake scenario(s), not the Open311 POST and GET",
    )
    ap.add_argument("--messages", type=Path, default=MESSAGES, help="labelled messages CSV")
    ap.add_argument(
        "--intake-control",
        action="store_true",
        help="also the same intakes with the offline model's service_code (classifier skipped)",
    )
    args = ap.parse_args()
    if args.intake_only and not args.intake:
        ap.error("--intake-only needs the intake scenario (drop --no-intake)")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} workers={args.workers} "
        f"connections={args.connections} duration={args.duration}s"
    )
    print(
        f"{'backend':<11}{'endpoint':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'non-2xx':>9}  target"
    )
    for b in backends:
        for name, r in run_backend(b, args):
            target = (300, "POST") if name.startswith("POST") else (2000, "GET")
            ratio = r["rps"] / target[0]
            print(
                f"{b:<11}{name:<26}{r['rps']:>9.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
                f"{r['non2xx']:>9}  {ratio:.2f}x of {target[0]}/s, p99 "
                f"{'<' if r['p99_ms'] < 200 else '>='} 200 ms" + stored_note(r)
            )


if __name__ == "__main__":
    main()

"""Load benchmark of the hotline's Open311 API with a real HTTP load generator (wrk).

Starts ``citycheck hotline serve`` on 127.0.0.1 over SQLite and/or PostgreSQL, seeds orders, then
drives it with wrk (Debian package ``wrk``): POST requests.json (accept + classify + dispatch +
duplicate check, committed before the answer) and GET requests/{id}.json.  Prints requests per
second and p50/p99 latency next to the issue's targets (300 POSTs/s, 2,000 GETs/s, p99 < 200 ms).

    python bench/bench_hotline_load.py --backend sqlite --duration 10
    python bench/bench_hotline_load.py --backend postgresql --pg-url postgresql+psycopg://...

Loopback only; bounded by --duration.
"""

from __future__ import annotations

import argparse
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
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"

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
    h = Hotline(HotlineSettings(db_url=db, secret=SECRET))
    key = h.create_api_key("bench")
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
    if args.taskset:
        cmd = ["taskset", "-c", args.taskset, *cmd]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
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
        post = wrk(
            base,
            POST_LUA % key,
            duration=args.duration,
            connections=args.connections,
            threads=args.wrk_threads,
        )
        results.append(("POST requests.json", post))
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
        problems = h.verify_log() if args.verify else []
        h.close()
        post["stored"] = stored
        post["log_problems"] = len(problems)
        return results
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)


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
    args = ap.parse_args()
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
                f"{'<' if r['p99_ms'] < 200 else '>='} 200 ms"
                + (
                    f"; stored {r['stored']} of {r['requests']} sent, log problems "
                    f"{r['log_problems']}"
                    if "stored" in r
                    else ""
                )
            )


if __name__ == "__main__":
    main()

"""Where a public GET's CPU goes: server workers, PostgreSQL backends and wrk, per request.

Starts ``citycheck hotline serve`` like ``bench_hotline_load.py`` (same seed, same GET script,
same connections), drives GET requests/{id}.json with wrk, and reads the CPU time (user + system,
/proc/PID/stat) that each group of processes used during the run: the server's worker processes,
the PostgreSQL server's processes (all of them: the backends serving the workers, plus the
checkpointer, WAL writer etc.) and wrk itself.  Divided by the requests served, this is the CPU
each GET costs on the machine, which on 2 shared cores is what bounds the rate.

    python bench/profile_hotline_get.py --backend postgresql --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_hotline_load as load

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def pids_named(name: str) -> list[int]:
    """Processes whose command name (``comm``) is ``name``."""
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/comm") as f:
                    if f.read().strip() == name:
                        out.append(int(p))
            except OSError:
                pass
    return out


def children(pid: int) -> list[int]:
    """Direct children of ``pid``."""
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(p))
            except OSError:
                pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("CITYCHECK_TEST_PG_URL"))
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2000)
    args = ap.parse_args()
    sys.path.insert(0, str(load.ROOT / "src"))
    from citycheck.listen.settings import HotlineSettings
    from citycheck.listen.store import Hotline, Intake

    tmp = Path(tempfile.mkdtemp(prefix="hotline-prof-"))
    db = load.fresh_db(args.backend, args.pg_url, tmp)
    proc: subprocess.Popen | None = None
    try:
        h = Hotline(HotlineSettings(db_url=db, secret=load.SECRET))
        h.submit_many([Intake(f"种子工单 {i}", service_code="labour") for i in range(args.seed)])
        h.close()
        port = load.free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(load.ROOT / "src"),
            "CITYCHECK_HOTLINE_SECRET": load.SECRET,
        }
        cmd = [sys.executable, "-m", "citycheck", "hotline", "serve", "--db", db]
        cmd += ["--port", str(port), "--workers", str(args.workers)]
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        for _ in range(600):
            if load.listening_sockets(port) >= args.workers:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the workers did not start")
        base = f"http://127.0.0.1:{port}"
        script = load.GET_LUA % args.seed
        load.wrk(base, script, duration=2, connections=args.connections, threads=2)  # warm up
        workers = children(proc.pid) if args.workers > 1 else [proc.pid]
        pg = pids_named("postgres")
        before = {p: cpu_s(p) for p in workers + pg}
        t0 = time.perf_counter()
        wrk_cmd = ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.duration}s"]
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(script)
        w = subprocess.Popen(
            [*wrk_cmd, "--latency", "-s", f.name, base], stdout=subprocess.PIPE, text=True
        )
        out = w.stdout.read()  # type: ignore[union-attr]
        _, _, usage = os.wait4(w.pid, 0)  # wrk's own CPU from its rusage
        w.returncode = 0
        used_wrk = usage.ru_utime + usage.ru_stime
        wall = time.perf_counter() - t0
        used_workers = sum(cpu_s(p) - before[p] for p in workers)
        used_pg = sum(cpu_s(p) - before.get(p, 0.0) for p in pids_named("postgres"))
        os.unlink(f.name)
        r = load.parse_wrk(out)
        n = r["requests"]
        print(
            f"{args.backend}: {n} GETs in {wall:.1f} s = {r['rps']:.0f}/s, p50 {r['p50_ms']:.1f} "
            f"ms, p99 {r['p99_ms']:.1f} ms, non-2xx {r['non2xx']}; load {os.getloadavg()[0]:.1f}"
        )
        print(
            f"CPU per GET: workers {used_workers / n * 1e6:.0f} us, PostgreSQL "
            f"{used_pg / n * 1e6:.0f} us, wrk {used_wrk / n * 1e6:.0f} us "
            f"(machine: {os.cpu_count()} cores, "
            f"{2 * 1e6 / max(r['rps'], 1):.0f} us of core time per GET at this rate)"
        )
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)
        load.drop_db(db, args.pg_url)


if __name__ == "__main__":
    main()

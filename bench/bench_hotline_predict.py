"""Per-text prediction time of the hotline classifier: compiled form against the sklearn pipeline.

The server classifies one text per request, so both are timed one text per call, on the same
fitted model, on every real message of ../shared/data/hotline/cn_messages_labelled.csv (title
and body joined as ``hotline train`` joins them), alternating compiled and sklearn rounds in
the same process.  Each figure is the median over ``--rounds`` rounds of the mean time per text.
Before timing, the two are checked to give the same probabilities (1e-9) on every text.

    python bench/bench_hotline_predict.py
    python bench/bench_hotline_predict.py --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from citycheck.listen.classifier import TextClassifier, join_text  # noqa: E402

MESSAGES = ROOT.parent / "shared" / "data" / "hotline" / "cn_messages_labelled.csv"
SETTINGS: dict[str, dict[str, object]] = {
    "svm (train --no-select)": {},
    "nbsvm C=0.5 title": {"model": "nbsvm", "C": 0.5, "title_weight": 1.0},
}


def per_text_seconds(predict: Callable[[list[str]], np.ndarray], texts: list[str]) -> float:
    """Mean seconds per text, one text per call."""
    t0 = time.perf_counter()
    for t in texts:
        predict([t])
    return (time.perf_counter() - t0) / len(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=Path, default=MESSAGES)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    cn = pd.read_csv(args.messages, dtype=str)
    texts = join_text(cn, ["留言主题", "留言详情"])
    labels = cn["一级分类"].tolist()
    long = [t for t in texts if len(t) > 1500]
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} rounds={args.rounds}")
    print(f"{'model':<25}{'texts':<22}{'compiled ms':>12}{'sklearn ms':>12}{'ratio':>8}")
    for name, kw in SETTINGS.items():
        model = TextClassifier.fit(texts, labels, **kw)  # type: ignore[arg-type]
        fast, ref = model.compiled, model.pipeline
        assert fast is not None
        diff = np.abs(fast.predict_proba(texts) - ref.predict_proba(texts)).max()
        assert diff < 1e-9, f"{name}: compiled and sklearn differ by {diff}"
        subsets = ((f"all {len(texts)}", texts), (f"{len(long)} over 1,500 chars", long))
        for label, subset in subsets:
            c, s = [], []
            for _ in range(args.rounds):
                c.append(per_text_seconds(fast.predict_proba, subset))
                s.append(per_text_seconds(ref.predict_proba, subset))
            mc, ms = statistics.median(c), statistics.median(s)
            print(f"{name:<25}{label:<22}{mc * 1e3:>12.3f}{ms * 1e3:>12.3f}{ms / mc:>7.1f}x")


if __name__ == "__main__":
    main()

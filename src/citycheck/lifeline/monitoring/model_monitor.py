"""Leak detection on stored pressure readings with the network model (matched signatures).

``citycheck lifeline monitor --inp MODEL.inp`` runs this instead of the per-sensor CUSUM of
:mod:`.detect`: the pressure sensors whose ids are junctions of the model are watched together
by :class:`~.leak_detector.LeakDetector`, whose leak signatures (the pressure drop at each sensor
for a leak at each junction) are simulated with the model (Pérez et al. 2011, as in
:mod:`.leak_eval`). The detector learns from a leak-free period the user names: its first half
teaches the daily pattern, its second half the covariance and decision interval (see
:meth:`~.leak_detector.LeakDetector.calibrate`). The learned state can be written to a JSON file
and used again on later runs without re-learning.

Alarm episodes: the detector fires where the largest candidate CUSUM has stayed above ``h`` for
``min_duration`` intervals; an episode lasts while it stays above ``h``. Each episode is filed
under the sensor that the estimated leak junction's signature moves most, with level 1 above
``h``, 2 above ``2h`` and 3 above ``4h`` (a choice of this module, not a standard).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from citycheck.lifeline.monitoring.detect import DailyPattern
from citycheck.lifeline.monitoring.leak_detector import LeakDetector, first_true_runs

__all__ = [
    "ModelMonitor",
    "leak_episodes",
    "model_signatures",
    "pressure_matrix",
]

#: Level thresholds as multiples of the decision interval h.
LEVEL_MULTIPLES: tuple[float, ...] = (1.0, 2.0, 4.0)


def model_signatures(
    inp: str | Path, sensors: Sequence[str], coefficient: float = 3.0
) -> tuple[list[str], np.ndarray]:
    """Pressure drop (m) at each sensor junction for a leak at each junction of the model.

    Parameters
    ----------
    inp : str or Path
        EPANET model.
    sensors : sequence of str
        Junction names carrying a pressure sensor.
    coefficient : float
        Leak emitter coefficient in L/s per m^0.5 (a mid-sized leak; the matched filter only
        uses the signature's direction and relative size).

    Returns
    -------
    (list of str, ndarray)
        Candidate junctions and signatures of shape (candidates, sensors).
    """
    from citycheck.lifeline.criticality import HydraulicSettings, _prepare
    from citycheck.lifeline.monitoring.leak_eval import _Runner

    wn = _prepare(inp, HydraulicSettings(duration_h=None))
    candidates = list(wn.junction_name_list)
    folder = tempfile.mkdtemp(prefix="citycheck-signature-")
    runner = _Runner(wn, folder, 900)
    try:
        sig = runner.signature(candidates, list(sensors), coefficient)
    finally:
        runner.close()
        shutil.rmtree(folder, ignore_errors=True)
    return candidates, sig


def pressure_matrix(
    readings: pd.DataFrame, sensors: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Pressure readings as (times, matrix of times x sensors); NaN where a sensor is missing.

    Parameters
    ----------
    readings : DataFrame
        ``sensor_id``, ``quantity``, ``ts``, ``value`` (as the store returns them).
    sensors : sequence of str
    """
    sel = readings[(readings["quantity"] == "pressure") & readings["sensor_id"].isin(sensors)]
    wide = sel.pivot_table(index="ts", columns="sensor_id", values="value", aggfunc="first")
    wide = wide.reindex(columns=list(sensors)).sort_index()
    return wide.index.to_numpy(dtype=np.int64), wide.to_numpy(dtype=float)


@dataclass
class ModelMonitor:
    """A calibrated matched-signature detector with its sensors and candidate junctions."""

    sensors: list[str]
    candidates: list[str]
    detector: LeakDetector
    calibrated_on: tuple[int, int]
    model: str

    @classmethod
    def learn(
        cls,
        inp: str | Path,
        readings: pd.DataFrame,
        start_ts: int,
        end_ts: int,
        *,
        detector: LeakDetector | None = None,
        coefficient: float = 3.0,
    ) -> ModelMonitor:
        """Learn from the leak-free period ``[start_ts, end_ts)`` of the stored readings.

        Raises
        ------
        ValueError
            No pressure sensor is a junction of the model, or the period is too short.
        """
        from citycheck.lifeline.register import register_from_inp

        junctions = set(
            register_from_inp(inp).points.query("kind == 'junction'")["asset_id"].astype(str)
        )
        have = sorted(set(readings.loc[readings["quantity"] == "pressure", "sensor_id"]))
        sensors = [s for s in have if s in junctions]
        if not sensors:
            raise ValueError(
                f"{inp}: none of the pressure sensors {have[:10]} is a junction of the model; "
                "name pressure sensors after the junction they sit on"
            )
        t, p = pressure_matrix(readings, sensors)
        inside = (t >= start_ts) & (t < end_ts)
        t, p = t[inside], p[inside]
        if len(t) < 4:
            raise ValueError(
                f"calibration period holds {len(t)} pressure times; name a longer leak-free period"
            )
        half = start_ts + (end_ts - start_ts) // 2
        first = t < half
        step = int(np.median(np.diff(t))) if len(t) > 1 else 900
        slot = step if 86400 % step == 0 else 900
        det = detector or LeakDetector(tz_offset_s=8 * 3600)
        det.slot_s = slot
        candidates, sig = model_signatures(inp, sensors, coefficient)
        try:
            det.fit(t[first], p[first], sig)
            det.calibrate(t[~first], p[~first])
        except ValueError as exc:
            raise ValueError(f"calibration period too short or too sparse: {exc}") from exc
        return cls(sensors, candidates, det, (int(start_ts), int(end_ts)), str(inp))

    def episodes(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Leak episodes after the calibration period; see :func:`leak_episodes`."""
        t, p = pressure_matrix(readings, self.sensors)
        after = t >= self.calibrated_on[1]
        return leak_episodes(self.detector, t[after], p[after], self.sensors, self.candidates)

    def observations(self, readings: pd.DataFrame) -> list[tuple[str, int, int, float]]:
        """Per-sensor detections ``(sensor_id, ts, level, statistic)`` for an AlarmManager.

        Every sensor gets a level at every time after the calibration period: the episode's
        level for the sensor it is filed under, 0 otherwise.
        """
        t, p = pressure_matrix(readings, self.sensors)
        after = t >= self.calibrated_on[1]
        t, p = t[after], p[after]
        level, cand, cs = _levels(self.detector, t, p)
        if self.detector.signatures is None:
            raise RuntimeError("the detector is not calibrated")
        owner = _owners(level, cand, self.detector.signatures)
        out = []
        for i, ts in enumerate(t):
            for s_idx, sid in enumerate(self.sensors):
                lv = int(level[i]) if owner[i] == s_idx else 0
                out.append((sid, int(ts), lv, float(cs[i])))
        return out

    def to_json(self, path: str | Path) -> None:
        """Write the learned state (patterns, signatures, covariance, h) to a JSON file."""
        d = self.detector
        if d.signatures is None or d.cov_inv is None:
            raise RuntimeError("the detector is not calibrated")
        state = {
            "model": self.model,
            "sensors": self.sensors,
            "candidates": self.candidates,
            "calibrated_on": list(self.calibrated_on),
            "settings": {
                k: getattr(d, k)
                for k in (
                    "slot_s",
                    "min_scale",
                    "k",
                    "margin",
                    "min_h",
                    "min_duration",
                    "holdoff_s",
                    "ridge",
                    "tz_offset_s",
                )
            },
            "h": d.h,
            "patterns": [
                {"median": p.median.tolist(), "scale": p.scale.tolist()} for p in d.patterns
            ],
            "signatures": d.signatures.tolist(),
            "cov_inv": d.cov_inv.tolist(),
        }
        tmp = Path(f"{path}.tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path)

    @classmethod
    def from_json(cls, path: str | Path) -> ModelMonitor:
        """Read a state written by :meth:`to_json`.

        Raises
        ------
        ValueError
            The file is not such a state (names the file and the missing field).
        """
        try:
            state = json.loads(Path(path).read_text())
            det = LeakDetector(**state["settings"])
            det.h = float(state["h"])
            det.patterns = [
                DailyPattern(det.slot_s, np.asarray(p["median"]), np.asarray(p["scale"]))
                for p in state["patterns"]
            ]
            det.signatures = np.asarray(state["signatures"], dtype=float)
            det.cov_inv = np.asarray(state["cov_inv"], dtype=float)
            first, last = (int(x) for x in state["calibrated_on"])
            return cls(
                list(state["sensors"]),
                list(state["candidates"]),
                det,
                (first, last),
                str(state["model"]),
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a leak-detector calibration ({exc!r})") from exc


def _levels(det: LeakDetector, t: np.ndarray, p: np.ndarray):
    if det.h is None:
        raise RuntimeError("the detector is not calibrated")
    if len(t) == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    cs = det._cusums(det.statistic(t, p))
    top = cs.max(axis=1)
    on = first_true_runs(top > det.h, det.min_duration)
    # an episode lasts while the CUSUM stays above h after it fired
    active = np.zeros(len(t), dtype=bool)
    for i in range(len(t)):
        active[i] = on[i] or (i > 0 and active[i - 1] and top[i] > det.h)
    level = np.where(active, np.searchsorted(np.asarray(LEVEL_MULTIPLES) * det.h, top), 0)
    return level.astype(int), cs.argmax(axis=1), top


def _owners(level: np.ndarray, cand: np.ndarray, signatures: np.ndarray) -> np.ndarray:
    """Sensor index each episode is filed under (fixed at its first time), -1 outside."""
    owner = np.full(len(level), -1)
    cur = -1
    for i, lv in enumerate(level):
        if lv == 0:
            cur = -1
            continue
        if cur < 0:
            cur = int(np.argmax(signatures[cand[i]]))
        owner[i] = cur
    return owner


def leak_episodes(
    det: LeakDetector,
    times: np.ndarray,
    pressures: np.ndarray,
    sensors: Sequence[str],
    candidates: Sequence[str],
) -> pd.DataFrame:
    """Leak episodes: ``start_ts``, ``end_ts`` (last time above h), ``junction`` (estimated
    leak place at the start), ``sensor_id`` (filed under), ``peak_level``."""
    level, cand, _ = _levels(det, np.asarray(times), np.asarray(pressures))
    if det.signatures is None:
        raise RuntimeError("the detector is not calibrated")
    owner = _owners(level, cand, det.signatures)
    rows, start = [], None
    for i in range(len(level) + 1):
        lv = level[i] if i < len(level) else 0
        if lv > 0 and start is None:
            start = i
        elif lv == 0 and start is not None:
            rows.append(
                {
                    "start_ts": int(times[start]),
                    "end_ts": int(times[i - 1]),
                    "junction": candidates[int(cand[start])],
                    "sensor_id": sensors[int(owner[start])],
                    "peak_level": int(level[start:i].max()),
                }
            )
            start = None
    return pd.DataFrame(rows, columns=["start_ts", "end_ts", "junction", "sensor_id", "peak_level"])

"""The user's table of indicator values that OpenStreetMap cannot give (data class X).

``citycheck template`` writes the table with bilingual headers; analysts fill in the values they
have. A blank value is "no data" (never zero). Reading validates every row and reports every
problem with its row number, field and value.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from citycheck.evaluate.catalogue import catalogue
from citycheck.io.errors import InputError, InputProblem, InputProblems

__all__ = ["TEMPLATE_COLUMNS", "read_inputs", "template_frame"]

#: Template columns: internal name -> bilingual header.
TEMPLATE_COLUMNS: dict[str, str] = {
    "indicator": "indicator_id 指标编号",
    "name_zh": "指标名称",
    "name_en": "indicator name",
    "level": "level 层级",
    "unit_id": "unit_id 单元编号",
    "value": "value 数值",
    "unit": "unit 单位",
    "unit_zh": "单位（中文）",
    "inputs": "data needed",
    "inputs_zh": "所需数据",
    "note": "source/note 数据来源/备注",
}


def template_frame(*, units: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """The input template: one row per X indicator and unit, values blank.

    Parameters
    ----------
    units : dict, optional
        Unit ids per level to pre-fill (default: the district only).
    """
    units = units or {"district": ["district"]}
    rows = []
    for ind in catalogue().values():
        if ind.compute not in ("input", "hotline"):
            continue
        pairs = [(level, uid) for level in ind.levels for uid in units.get(level, [])]
        if not pairs:  # defined only at levels without listed units: one row to copy per unit
            pairs = [(ind.levels[0], "")]
        for level, uid in pairs:
            rows.append(
                {
                    "indicator": ind.id,
                    "name_zh": ind.zh,
                    "name_en": ind.en,
                    "level": level,
                    "unit_id": uid,
                    "value": None,
                    "unit": ind.unit,
                    "unit_zh": ind.unit_text("zh"),
                    "inputs": ind.inputs or "",
                    "inputs_zh": ind.inputs_text("zh") or "",
                    "note": "",
                }
            )
    frame = pd.DataFrame(rows, columns=list(TEMPLATE_COLUMNS))
    frame["value"] = frame["value"].astype(object)
    return frame.rename(columns=TEMPLATE_COLUMNS)


def _header_map(columns: list[str]) -> dict[str, str]:
    """Map the file's headers to internal names (full bilingual header, or either half)."""
    out = {}
    for internal, header in TEMPLATE_COLUMNS.items():
        candidates = {header, internal, *header.split(" ", 1)}
        for col in columns:
            if str(col).strip() in candidates:
                out[col] = internal
    return out


def read_inputs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a filled-in input table (CSV or Excel).

    Returns
    -------
    DataFrame
        Columns ``indicator``, ``level``, ``unit_id``, ``value``, ``note`` for rows with a value.

    Raises
    ------
    InputProblems
        Every problem: unknown indicator ids, levels an indicator is not defined at, units that
        differ from the catalogue's, text in the value column, duplicate rows, indicators that are
        computed from OSM (not inputs).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file", str(path), "input table not found")
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            raw = pd.read_excel(path, dtype=str)
        else:
            raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except Exception as exc:
        raise InputError(path, "file", path.name, f"not a readable table ({exc})") from exc
    mapping = _header_map(list(raw.columns))
    df = raw.rename(columns=mapping)
    missing = [c for c in ("indicator", "value") if c not in df.columns]
    if missing:
        raise InputProblems(
            path,
            [
                InputProblem(
                    None,
                    TEMPLATE_COLUMNS[c],
                    None,
                    "required column missing (write one with `citycheck template`)",
                )
                for c in missing
            ],
        )
    for col, default in (
        ("level", "district"),
        ("unit_id", "district"),
        ("unit", ""),
        ("note", ""),
    ):
        if col not in df.columns:
            df[col] = default
    cat = catalogue()
    problems: list[InputProblem] = []
    rows = []
    seen: dict[tuple[str, str, str], int] = {}
    for i, rec in enumerate(df.to_dict("records")):
        rowno = i + 2  # header is row 1
        iid = str(rec.get("indicator") or "").strip()
        text = str(rec.get("value") if rec.get("value") is not None else "").strip()
        if text in ("", "nan", "None"):
            continue
        if iid not in cat:
            problems.append(InputProblem(rowno, "indicator_id", iid, "unknown indicator id"))
            continue
        ind = cat[iid]
        if ind.compute in ("builtin", "access"):
            problems.append(
                InputProblem(
                    rowno,
                    "indicator_id",
                    iid,
                    f"{iid} is computed from OSM ({ind.compute}); it cannot be entered",
                )
            )
            continue
        level = str(rec.get("level") or "district").strip() or "district"
        if level not in ind.levels:
            problems.append(
                InputProblem(rowno, "level", level, f"{iid} is defined at {', '.join(ind.levels)}")
            )
            continue
        unit = str(rec.get("unit") or "").strip()
        if unit and unit != ind.unit:
            problems.append(
                InputProblem(
                    rowno, "unit", unit, f"{iid} is measured in {ind.unit!r}; convert the value"
                )
            )
            continue
        try:
            value = float(text.replace(",", "").rstrip("%"))
        except ValueError:
            problems.append(InputProblem(rowno, "value", text, "expected a number"))
            continue
        if value != value:  # NaN typed in
            problems.append(InputProblem(rowno, "value", text, "expected a number"))
            continue
        if ind.unit == "%" and not 0 <= value <= 100:
            problems.append(InputProblem(rowno, "value", text, "a percentage lies in 0–100"))
            continue
        unit_id = str(rec.get("unit_id") or "").strip()
        if not unit_id:
            if level != "district":
                problems.append(
                    InputProblem(rowno, "unit_id", "", f"a {level} value needs the unit's id")
                )
                continue
            unit_id = "district"
        key = (iid, level, unit_id)
        if key in seen:
            problems.append(
                InputProblem(
                    rowno,
                    "indicator_id",
                    iid,
                    f"duplicate of row {seen[key]} for {level} {unit_id}",
                )
            )
            continue
        seen[key] = rowno
        rows.append(
            {
                "indicator": iid,
                "level": level,
                "unit_id": unit_id,
                "value": value,
                "note": str(rec.get("note") or ""),
            }
        )
    if problems:
        raise InputProblems(path, problems)
    return pd.DataFrame(rows, columns=["indicator", "level", "unit_id", "value", "note"])

"""The report's sited project list: rows built from ``RUN/planning/projects.json``.

``citycheck plan RUN`` writes the project list (项目清单) with the proposed sites; when the run
folder holds it, the report shows one row per project — the problem it answers, the sites,
residents newly served, cost, the district indicators it moves, the model and its optimality
gap — in the order of the list's ranking. Without the file the section is left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from citycheck.evaluate.catalogue import indicator_text
from citycheck.io.planning_folder import PLANNING_DIR, PROJECTS_JSON, read_projects
from citycheck.plan.labels import planning_label, planning_labels

__all__ = ["PROJECTS_FILE", "planning_section", "project_rows"]

#: Where ``citycheck plan`` writes the project list, relative to the run folder.
PROJECTS_FILE = Path(PLANNING_DIR) / PROJECTS_JSON


def _num(v: float | None, unit: str = "") -> str:
    if v is None:
        return "—"
    text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.1f}"
    return f"{text} {unit}".strip()


def _indicator_text(m: dict[str, Any], lang: str) -> str:
    name = m["zh"] if lang == "zh" else m["en"]
    unit = indicator_text(m["indicator"], "unit", lang, m.get("unit") or "")
    before = planning_label("pl_no_data", lang) if m["before"] is None else _num(m["before"])
    after = planning_label("pl_no_data", lang) if m["after"] is None else _num(m["after"])
    return f"{m['indicator']} {name}: {before} → {after} {unit}".strip()


def project_rows(doc: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Report rows of a ``projects.json`` document, in rank order.

    Each row: ``rank``, ``problem`` (indicator id and name, or ""), ``category`` (name),
    ``limit_m``, ``n_sites``, ``sites`` (text per site), ``residents``, ``buildings``, ``cost``
    (formatted), ``residents_value`` (the number), ``indicators`` (district changes, text),
    ``model`` (name and gap), ``note``.
    """
    rows = []
    for p in sorted(doc["projects"], key=lambda p: p.get("rank") or 0):
        prob = p.get("problem") or {}
        solver = p.get("solver") or {}
        gap = solver.get("gap")
        model = p.get("model")
        model_text = (
            (p.get("model_zh") if lang == "zh" else p.get("model_en"))
            or planning_label(model or "", lang)
            if model
            else "—"
        )
        if gap is not None:
            model_text += f", {gap:.2%}"
        served = p.get("residents_newly_served")
        sites = []
        for s in p.get("sites", []):
            kind = s.get("kind_zh") if lang == "zh" else s.get("kind_en")
            label = s.get("name") or kind or s.get("site_id")
            sites.append(
                f"{label} ({s['lat']:.5f}, {s['lon']:.5f}): {_num(s.get('residents_newly_served'))}"
            )
        rows.append(
            {
                "rank": p.get("rank"),
                "problem": (
                    f"{prob.get('indicator', '')} {prob.get('zh' if lang == 'zh' else 'en', '')}"
                ).strip(),
                "category": p["category_zh"] if lang == "zh" else p["category_en"],
                "limit_m": p.get("walk_limit_m"),
                "n_sites": p.get("n_sites", 0),
                "sites": sites,
                "residents_value": served,
                "residents": _num(served),
                "buildings": p.get("buildings_newly_served"),
                "cost": _num(p.get("cost")),
                "indicators": [
                    _indicator_text(m, lang)
                    for m in p.get("indicators_moved", [])
                    if m.get("level") == "district"
                ],
                "model": model_text,
                "note": p.get("note") or "",
            }
        )
    return rows


def planning_section(run_dir: str | Path, lang: str) -> dict[str, Any] | None:
    """The section's data for a run folder, or None when it holds no project list.

    Raises
    ------
    InputError
        A ``projects.json`` that is not a readable project list (naming the file, the field and
        the value).
    """
    doc = read_projects(run_dir)
    if doc is None:
        return None
    params = doc.get("parameters") or {}
    shown = {k: v for k, v in params.items() if v is not None}
    return {
        "labels": planning_labels(lang),
        "rows": project_rows(doc, lang),
        "parameters": ", ".join(f"{k}={v}" for k, v in shown.items()),
    }

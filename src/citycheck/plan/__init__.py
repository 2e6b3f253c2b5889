"""Urban renewal planning: from the problem list to sited projects, with what-if re-evaluation.

- :mod:`~citycheck.plan.candidates`: where a facility could go;
- :mod:`~citycheck.plan.matrix`: demand → site walking distances on the engine's network;
- :mod:`~citycheck.plan.models`: maximal covering, p-median, set covering (exact MILP);
- :mod:`~citycheck.plan.pmedian_lagrange`: the p-median's Lagrangian relaxation and
  branch and bound (compiled kernels in :mod:`~citycheck.plan.pmedian_kernels`);
- :mod:`~citycheck.plan.plan`: one category's plan and the project list (项目清单);
- :mod:`~citycheck.plan.whatif`: incremental re-evaluation of scenarios.

Names are imported lazily, so ``citycheck --help`` does not load the solvers.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "SITE_KINDS": "candidates",
    "candidate_sites": "candidates",
    "read_site_layer": "candidates",
    "PlanningError": "models",
    "Solution": "models",
    "maximal_covering": "models",
    "p_median": "models",
    "set_covering": "models",
    "MODELS": "plan",
    "Plan": "plan",
    "plan_facilities": "plan",
    "project_list": "plan",
    "project_record": "plan",
    "projects_document": "plan",
    "Action": "whatif",
    "WhatIf": "whatif",
    "indicator_changes": "whatif",
    "read_scenario": "whatif",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"citycheck.plan.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'citycheck.plan' has no attribute {name!r}")

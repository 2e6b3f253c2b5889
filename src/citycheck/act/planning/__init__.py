"""Urban renewal planning: from the problem list to sited projects, with what-if re-evaluation.

- :mod:`~citycheck.act.planning.candidates`: where a facility could go;
- :mod:`~citycheck.act.planning.matrix`: demand → site walking distances on the engine's network;
- :mod:`~citycheck.act.planning.models`: maximal covering, p-median, set covering (exact MILP);
- :mod:`~citycheck.act.planning.plan`: one category's plan and the project list (项目清单);
- :mod:`~citycheck.act.planning.whatif`: incremental re-evaluation of scenarios.
"""

from citycheck.act.planning.candidates import SITE_KINDS, candidate_sites, read_site_layer
from citycheck.act.planning.models import (
    PlanningError,
    Solution,
    maximal_covering,
    p_median,
    set_covering,
)
from citycheck.act.planning.plan import (
    MODELS,
    Plan,
    plan_facilities,
    project_list,
    project_record,
    projects_document,
)
from citycheck.act.planning.whatif import Action, WhatIf, indicator_changes, read_scenario

__all__ = [
    "MODELS",
    "SITE_KINDS",
    "Action",
    "Plan",
    "PlanningError",
    "Solution",
    "WhatIf",
    "candidate_sites",
    "indicator_changes",
    "maximal_covering",
    "p_median",
    "plan_facilities",
    "project_list",
    "project_record",
    "projects_document",
    "read_scenario",
    "read_site_layer",
    "set_covering",
]

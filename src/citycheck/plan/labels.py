"""Chinese and English labels of the planning views (report section and dashboard panel).

Kept here, beside the planning code, so the planning views add no keys to the shared label table.
"""

from __future__ import annotations

__all__ = ["PLANNING_LABELS", "planning_label", "planning_labels"]

#: key → (Chinese, English)
PLANNING_LABELS: dict[str, tuple[str, str]] = {
    # what-if panel (dashboard)
    "wi_title": ("情景推演：布设设施", "What-if: place a facility"),
    "wi_intro": (
        "选择设施类别，点击“在地图上布设”，再点击地图；点击现有设施可移除或移动。",
        "Choose a category, press “Place on map”, then click the map; click an existing "
        "facility to remove or move it.",
    ),
    "wi_category": ("设施类别", "Facility category"),
    "wi_place": ("在地图上布设", "Place on map"),
    "wi_placing": ("请点击地图选择位置…", "Click the map to choose the site…"),
    "wi_moving": ("请点击地图选择新位置…", "Click the map for the new site…"),
    "wi_reset": ("清除情景", "Clear scenario"),
    "wi_show_existing": ("显示现有设施（可移除/移动）", "Show existing facilities (remove/move)"),
    "wi_remove": ("移除", "Remove"),
    "wi_move": ("移动", "Move"),
    "wi_undo": ("撤销", "Undo"),
    "wi_actions": ("情景中的变更", "Changes in the scenario"),
    "wi_op_add": ("新增", "add"),
    "wi_op_remove": ("移除", "remove"),
    "wi_op_move": ("移动", "move"),
    "wi_no_actions": ("尚无变更", "No changes yet"),
    "wi_computing": ("正在计算…", "Computing…"),
    "wi_coverage": ("覆盖变化", "Coverage change"),
    "wi_limit": ("步行限值", "Walking limit"),
    "wi_residents_new": ("新增覆盖居民", "Residents newly served"),
    "wi_buildings_new": ("新增覆盖住宅楼", "Buildings newly covered"),
    "wi_residents_lost": ("失去覆盖居民", "Residents no longer served"),
    "wi_buildings_lost": ("失去覆盖住宅楼", "Buildings no longer covered"),
    "wi_indicators": ("指标变化（全区）", "Indicator change (district)"),
    "wi_before": ("变更前", "Before"),
    "wi_after": ("变更后", "After"),
    "wi_units_changed": ("其他层级变化的单元数", "Units changed at other levels"),
    "wi_no_change": ("覆盖没有变化", "No change in coverage"),
    "wi_newly_served": ("新增覆盖", "newly served"),
    "wi_no_longer_served": ("失去覆盖", "no longer served"),
    "wi_facility": ("设施", "Facility"),
    # project list (report section)
    "pl_title": ("更新项目清单（选址方案）", "Renewal project list (sited)"),
    "pl_note": (
        "由 citycheck plan 在步行网络上选址（最大覆盖、p-中位或集合覆盖模型，HiGHS 求解）；"
        "新增覆盖居民按各类设施步行限值计算。",
        "Sited by citycheck plan on the walking network (maximal covering, p-median or set "
        "covering, solved with HiGHS); residents newly served are counted within each "
        "category's walking limit.",
    ),
    "pl_rank": ("排序", "Rank"),
    "pl_problem": ("问题", "Problem"),
    "pl_category": ("设施类别", "Facility category"),
    "pl_sites": ("选址", "Sites"),
    "pl_residents": ("新增覆盖居民", "Residents newly served"),
    "pl_buildings": ("新增覆盖住宅楼", "Buildings newly served"),
    "pl_cost": ("费用", "Cost"),
    "pl_indicators": ("指标变化（全区）", "Indicators moved (district)"),
    "pl_model": ("模型 / 最优性差距", "Model / optimality gap"),
    "pl_no_data": ("无数据", "no data"),
    "pl_none": ("无", "none"),
    "pl_parameters": ("参数", "Parameters"),
    "maximal_covering": ("最大覆盖", "maximal covering"),
    "p_median": ("p-中位", "p-median"),
    "set_covering": ("集合覆盖", "set covering"),
}


def planning_label(key: str, lang: str) -> str:
    """One planning label in ``lang`` ("zh" or "en"); unknown keys come back as given."""
    pair = PLANNING_LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def planning_labels(lang: str) -> dict[str, str]:
    """Every planning label in ``lang``."""
    return {k: planning_label(k, lang) for k in PLANNING_LABELS}

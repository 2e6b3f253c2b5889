"""Bilingual labels for every heading and term shown to people (report, dashboard, CLI).

Indicator, category and dimension names live in their own catalogues; this table holds the rest.
"""

from __future__ import annotations

__all__ = ["LABELS", "label"]

LABELS: dict[str, tuple[str, str]] = {
    "title": ("城市体检报告", "City health check report"),
    "summary": ("体检摘要", "Summary"),
    "study_area": ("体检范围", "Study area"),
    "area_km2": ("面积（平方公里）", "Area (km²)"),
    "residents": ("常住人口（估算）", "Residents (estimated)"),
    "residents_method": ("人口估算方法", "How residents were estimated"),
    "buildings": ("建筑", "Buildings"),
    "residential_buildings": ("住宅建筑", "Residential buildings"),
    "facilities": ("设施", "Facilities"),
    "category": ("类别", "Category"),
    "count": ("数量", "Count"),
    "indicator_table": ("体检指标表", "Indicator table"),
    "problem_list": ("问题清单", "Problem list"),
    "project_list": ("项目清单", "Project list"),
    "indicator": ("指标", "Indicator"),
    "id": ("编号", "ID"),
    "dimension": ("维度", "Dimension"),
    "level": ("层级", "Level"),
    "unit_id": ("单元", "Unit"),
    "value": ("数值", "Value"),
    "unit": ("单位", "Unit of measure"),
    "grade": ("评价", "Grade"),
    "threshold": ("标准值", "Threshold"),
    "gap": ("差距", "Gap"),
    "source": ("依据", "Source"),
    "scope": ("范围", "Scope"),
    "worst_units": ("最差单元", "Worst units"),
    "score": ("得分", "Score"),
    "overall": ("综合", "Overall"),
    "vetoed_by": ("底线否决", "Red-line veto"),
    "sensitivity": ("权重敏感性", "Sensitivity to weights"),
    "share_same_grade": ("评价保持不变的比例", "Share of draws keeping the grade"),
    "inputs": ("输入数据", "Inputs"),
    "warnings": ("提示", "Warnings"),
    "not_computed": ("未计算指标", "Not computed"),
    "reason": ("原因", "Reason"),
    "pass": ("达标", "pass"),
    "warning": ("预警", "warning"),
    "fail": ("不达标", "fail"),
    "info": ("仅报告", "info"),
    "no data": ("无数据", "no data"),
    "district": ("城区", "district"),
    "local": ("局部", "local"),
    "neighbourhood": ("街区", "neighbourhood"),
    "compound": ("小区", "compound"),
    "dwelling": ("住房", "dwelling"),
    "grid": ("网格", "grid"),
    # --- report and dashboard (citycheck.act)
    "sec_overview": ("概况与数据", "Overview and data"),
    "sec_method": ("方法", "Method"),
    "sec_results": ("体检结果（按维度和层级）", "Results by dimension and level"),
    "sec_life_circle": ("生活圈缺口", "Life-circle gaps"),
    "sec_appendix": ("附表：各单元指标值", "Appendix: values by unit"),
    "role": ("用途", "Role"),
    "file": ("文件", "File"),
    "bytes": ("字节", "Bytes"),
    "crs": ("坐标系", "Coordinate reference system"),
    "created": ("生成时间", "Created"),
    "census": ("人口普查", "Census"),
    "osm_completeness": (
        "OpenStreetMap 数据完整性（按设施类别）",
        "OpenStreetMap completeness by category",
    ),
    "osm_completeness_note": (
        "研究范围内按类别识别到的设施数量。生活圈设施类别为零时，可能是设施确实缺失，"
        "也可能是 OpenStreetMap 未测绘，需现场核实。",
        "Facilities found in the study area by category. Where a life-circle category has none, "
        "the facility may be missing or merely unmapped in OpenStreetMap: verify on site.",
    ),
    "per_10k": ("每万人", "Per 10,000 residents"),
    "named_share": ("有名称比例（%）", "Named (%)"),
    "walk_limit": ("步行距离上限", "Walking limit"),
    "minutes": ("分钟生活圈", "min life circle"),
    "status": ("状态", "Status"),
    "mapped": ("已测绘", "mapped"),
    "none_mapped": ("未找到（待核实）", "none found (verify)"),
    "none_found": ("未找到", "none found"),
    "tagged_levels": ("标注层数的建筑比例", "Buildings with levels tagged"),
    "tagged_height": ("标注高度的建筑比例", "Buildings with height tagged"),
    "tagged_start_date": ("标注建成年代的建筑比例", "Buildings with construction date tagged"),
    "residential_source": ("住宅判定依据", "Residential use from"),
    "levels": ("评估层级", "Levels"),
    "weights": ("维度权重", "Dimension weights"),
    "weight": ("权重", "Weight"),
    "red_lines": ("底线指标（一票否决）", "Red-line indicators (veto)"),
    "thresholds_sources": ("指标、标准值与依据", "Indicators, thresholds and sources"),
    "formula": ("计算方法", "Formula"),
    "direction_up": ("越高越好", "higher is better"),
    "direction_down": ("越低越好", "lower is better"),
    "direction_target": ("区间为宜", "within a band"),
    "by_dimension": ("分维度得分", "Scores by dimension"),
    "median_range": ("中位数（范围）", "median (range)"),
    "by_unit": ("各单元", "By unit"),
    "units_failing": ("不达标单元", "Failing units"),
    "project_note": (
        "每个问题对应一个候选项目：缺少的设施类别、缺口所在区域与受影响居民。"
        "优化选址将由规划模块补充。",
        "Each problem becomes a candidate project: the facility category lacking, the area that "
        "lacks it and the residents affected. Optimised sites will come from the planning module.",
    ),
    "action": ("建议项目", "Candidate action"),
    "area_lacking": ("缺口区域", "Area lacking it"),
    "residents_affected": ("受影响居民", "Residents affected"),
    "problem": ("对应问题", "Problem"),
    "whole_area": ("整个体检范围", "the whole study area"),
    "residents_basis_walk": ("步行距离超出上限的住宅居民", "residents beyond the walking limit"),
    "residents_basis_units": ("不达标单元内居民", "residents of failing units"),
    "residents_basis_area": ("全部居民", "all residents"),
    "life_circle_missing": (
        "本次体检未计算步行生活圈（下列指标未计算），因此无法绘制生活圈缺口图。",
        "Walking life circles were not computed in this run (indicators below), so no "
        "life-circle gap maps can be drawn.",
    ),
    "sensitivity_note": (
        "在声明权重附近随机抽取维度权重（Dirichlet 分布），统计综合评价保持不变的比例。",
        "Dimension weights drawn at random around the declared ones (Dirichlet); the share of "
        "draws that keep the overall grade.",
    ),
    "share_same_rank": ("排名保持不变的比例", "Share of draws keeping the rank"),
    "map_facilities": ("设施分布（按类别）", "Facilities by category"),
    "map_gap": ("步行可达缺口", "Walking gap"),
    "map_life_circle": ("生活圈缺项（按住宅建筑）", "Life-circle gaps by residential building"),
    "missing_categories": ("超出步行距离的设施类别数", "categories beyond walking limit"),
    "unreachable": ("不可达或范围内无此设施", "unreachable, or none in the area"),
    "beyond_search": ("超出搜索范围", "beyond the search range"),
    "no_base_map": ("无街道底图", "no street base map"),
    "chart_dimensions": ("各维度得分（城区）", "Dimension scores (district)"),
    "chart_before_after": ("前后对比", "Before / after"),
    "this_run": ("本次体检", "this run"),
    "chart_radar": ("维度雷达图", "Dimension radar"),
    "chart_distribution": ("各单元指标值分布", "Values across units"),
    "dashboard_title": ("城市体检地图", "City health check map"),
    "run": ("体检批次", "Run"),
    "compare_with": ("对比", "Compare with"),
    "comparison": ("两次体检对比（城区）", "Two runs compared (district)"),
    "unit_details": ("单元详情", "Unit details"),
    "click_a_unit": (
        "点击地图上的单元或建筑查看指标值。",
        "Click a unit or building on the map to see its values.",
    ),
    "cannot_show": ("无法显示", "cannot be shown"),
    "no_runs": ("没有可显示的体检结果", "no run folder can be shown"),
    "no_values": ("该层级没有此指标的数值", "no values at this level"),
    "why": ("评价说明", "Why"),
    "distance": ("步行距离", "Walking distance"),
    "building": ("建筑类型", "Building type"),
    "levels_est": ("层数（含估算）", "Levels (incl. estimated)"),
    "floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)"),
    "residential": ("住宅", "Residential"),
    "attribution": ("数据来源与版权", "Data sources and attribution"),
    "osm_attribution": (
        "地图数据 © OpenStreetMap 贡献者，ODbL 1.0 许可",
        "Map data © OpenStreetMap contributors, ODbL 1.0",
    ),
    "census_attribution": (
        "人口数据：第七次全国人口普查（2020），leiii/census 数据集（MIT）",
        "Population: 7th national census of China (2020), leiii/census (MIT)",
    ),
    "generated_by": ("由 citycheck 生成", "Generated by citycheck"),
    "method_note": (
        "各指标按其标准分级（达标/预警/不达标）；综合得分按固定目标值归一化、"
        "维度等权平均，底线指标一票否决。",
        "Each indicator is graded against its own standard (pass / warning / fail); "
        "the composite normalises to fixed goalposts, averages dimensions with the "
        "declared weights, and red-line indicators veto rather than average.",
    ),
}


def label(key: str, lang: str = "en") -> str:
    """A label in ``lang`` ("zh" or "en"); unknown keys are returned as given."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]

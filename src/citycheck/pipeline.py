"""The whole check for one study area: OSM in, an evaluation and a run folder out.

:func:`evaluate_city` is pure (a City in, an :class:`Evaluation` out); :func:`run_check` adds the
edges — reading inputs and writing the run folder.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import shapely

from citycheck.city import City, build_city
from citycheck.evaluate.catalogue import catalogue
from citycheck.evaluate.diagnosis import problem_list
from citycheck.evaluate.indicators import IndicatorContext, compute_indicators
from citycheck.evaluate.scoring import Scores, grade_values, score, sensitivity
from citycheck.io.errors import InputError
from citycheck.labels import Message, message

__all__ = ["Evaluation", "evaluate_city", "run_check", "save_evaluation", "study_area_share"]

log = logging.getLogger(__name__)

#: Progress callback: called with each step's description in both languages (``str()`` of it
#: is the English).
StepCallback = Callable[[Message], None]

#: Progress line shown before the indicators needing each input are computed.
_STEPS = {
    "city": "step_osm_indicators",
    "network": "step_access",
}


@dataclass
class Evaluation:
    """Everything one check produced (what the run folder stores).

    Attributes
    ----------
    city : City
    values : DataFrame
        Long table of every indicator value with grades (``grade_values`` output), including
        "no data" rows for indicators without inputs.
    scores : Scores
    sensitivity : dict
    problems : DataFrame
    not_computed : dict
        Indicator id -> reason it has no value (both languages).
    inputs : list of dict
        Files read (role, path, sha256, bytes).
    parameters : dict
    created : str
        ISO time of the run (UTC).
    """

    city: City
    values: pd.DataFrame
    scores: Scores
    sensitivity: dict[str, Any]
    problems: pd.DataFrame
    not_computed: dict[str, Message]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    access: Any = None


def study_area_share(study_area: shapely.Geometry, district: shapely.Geometry) -> float:
    """Share of a district's area that lies in the study area (both in one metric CRS).

    Used to scale a census total to the study area under the assumption of uniform density
    across the district. It is the simplest defensible scaling without a population grid: it
    understates dense urban cores and overstates parks and mountains, so the report states it.
    """
    if district.area <= 0:
        raise InputError("census", "district", "empty", "the district boundary has no area")
    return float(study_area.intersection(district).area / district.area)


def evaluate_city(
    city: City,
    *,
    inputs: pd.DataFrame | None = None,
    census_values: pd.DataFrame | None = None,
    hotline: pd.DataFrame | None = None,
    dimension_weights: Mapping[str, float] | None = None,
    weights_method: str = "equal",
    on_step: StepCallback | None = None,
) -> Evaluation:
    """Evaluate a City: every indicator, grades, scores, sensitivity and the problem list.

    Parameters
    ----------
    city : City
    inputs : DataFrame, optional
        Values of X indicators (:func:`citycheck.evaluate.inputs.read_inputs`).
    census_values : DataFrame, optional
        The census indicators of the urban system (U07–U15,
        :func:`citycheck.evaluate.census_indicators.census_system_values`); values the user
        entered in ``inputs`` for the same indicators take precedence.
    hotline : DataFrame, optional
        Hotline orders (:func:`citycheck.listen.analytics.sources.read_orders`): the hotline
        indicators are computed from them on the district and neighbourhoods; values entered
        in ``inputs`` take precedence.
    dimension_weights : mapping, optional
        Weights of the seven dimensions (default equal).
    weights_method : str
        Label of how the weights were chosen ("equal", "ahp", "entropy", "user").
    on_step : callable, optional
        Called with a short description (a :class:`~citycheck.labels.Message`, both languages)
        before each step (progress display).
    """
    step = on_step or (lambda _msg: None)
    context = IndicatorContext(city, census=census_values, hotline=hotline)
    computed = compute_indicators(
        context, on_needs=lambda needs: step(message(_STEPS[needs])) if needs in _STEPS else None
    )
    not_computed = dict(computed.not_computed)
    frames = [computed.values]
    if inputs is not None and len(inputs):
        frames.append(inputs[["indicator", "level", "unit_id", "value"]])
    values = pd.concat([f for f in frames if len(f)], ignore_index=True)
    if values["indicator"].duplicated().any():
        values = values.drop_duplicates(["indicator", "level", "unit_id"], keep="last")
    # every other indicator: one "no data" row at district level, with its reason
    have = set(values.loc[values["value"].notna(), "indicator"])
    for ind in catalogue().values():
        if ind.id in have:
            continue
        level = "district" if "district" in ind.levels else ind.levels[-1]
        values = pd.concat(
            [
                values,
                pd.DataFrame(
                    [
                        {
                            "indicator": ind.id,
                            "level": level,
                            "unit_id": "district" if level == "district" else "all",
                            "value": math.nan,
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
        if ind.id not in not_computed:
            if ind.compute in ("input", "hotline"):
                not_computed[ind.id] = message("msg_needs_inputs", inputs=ind.inputs)
            elif ind.compute == "census":
                not_computed[ind.id] = message("msg_needs_census")
            elif ind.data == "O+P" and city.buildings["residents"].isna().all():
                not_computed[ind.id] = message("msg_needs_residents")
            else:
                not_computed[ind.id] = message("msg_no_value")
    step(message("step_scoring"))
    graded = grade_values(values)
    scores = score(graded, dimension_weights=dimension_weights, method=weights_method)
    sens = sensitivity(scores, level="neighbourhood")
    sens_d = sensitivity(scores, level="district")
    problems = problem_list(graded)
    return Evaluation(
        city=city,
        values=graded,
        scores=scores,
        sensitivity={"district": sens_d, "neighbourhood": sens},
        problems=problems,
        not_computed=not_computed,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        access=context.network,
    )


#: File name of the census city table looked for beside the county table.
CITY_CENSUS_NAME = "china_city_census_2010_2020.csv"


def _census_system(city_path: Path, county_table: pd.DataFrame, adcode: str):
    """Read the census city table and compute U07–U15 for ``adcode`` (errors name file and code)."""
    from citycheck.evaluate.census_indicators import census_system_values
    from citycheck.io.census import CensusTableError, read_city_census

    try:
        city_table = read_city_census(city_path)
    except CensusTableError as exc:
        raise InputError(city_path, "census", None, str(exc)) from exc
    try:
        return census_system_values(city_table, county_table, adcode)
    except KeyError as exc:
        raise InputError(city_path, "adcode", adcode, str(exc.args[0])) from exc


def run_check(
    pbf: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    boundary: str | os.PathLike[str] | None = None,
    adcode: str | None = None,
    census: str | os.PathLike[str] | None = None,
    population: float | str | os.PathLike[str] | None = None,
    inputs: str | os.PathLike[str] | None = None,
    hotline: str | os.PathLike[str] | None = None,
    lang: str = "en",
    name: str | None = None,
    city_census: str | os.PathLike[str] | None = None,
    compounds: str | os.PathLike[str] | None = None,
    neighbourhoods: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    on_step: StepCallback | None = None,
) -> Path:
    """Run the whole check on one OSM extract and write a run folder.

    Parameters
    ----------
    pbf : path-like
        OSM extract.
    out_dir : path-like
        Run folder to create (refused if it exists, unless ``overwrite``).
    boundary : path-like, optional
        Boundary file; default the extract's area.
    adcode : str, optional
        6-digit code of the district: clips the study area to it and, with ``census``, gives
        the resident total (scaled by :func:`study_area_share`).
    census : path-like, optional
        The 7th-census county table.  With ``adcode`` it also gives the urban-system indicators
        U07–U15 of the city and district around the study area (scored with the rest).
    population : float or path-like, optional
        Residents of the study area (a number), or a CSV with ``osm_id`` and ``residents``.
    inputs : path-like, optional
        The filled-in template of X indicators.
    hotline : path-like, optional
        Hotline records (NYC 311 / message-board / orders table): the hotline indicators
        (Z01, Z01b, Z01c, Z02, S02, C04) are computed from them on the study area's units
        (:func:`citycheck.listen.analytics.health.hotline_indicators`) and scored with the
        rest; values given in ``inputs`` win over them.
    lang : {"en", "zh"}
        Language of the HTML summary.
    name : str, optional
        Name of the study area.
    city_census : path-like, optional
        The census city table (``china_city_census_2010_2020.csv``) for U07–U14; default the
        file of that name beside ``census``.
    compounds, neighbourhoods : path-like, optional
        Polygon files of residential compounds / neighbourhoods (an ``unit_id`` or ``name``
        column names them); default residential land use and blocks bounded by major streets.
    overwrite : bool
        Replace an existing run folder (only after the new one is complete).
    on_step : callable, optional
        Progress callback, called with each step's :class:`~citycheck.labels.Message` (the CLI
        shows it in ``lang``).

    Returns
    -------
    Path
        The complete run folder.
    """
    from citycheck.evaluate.inputs import read_inputs
    from citycheck.io.boundary import boundary_from_adcode, read_boundary
    from citycheck.io.census import county_record, read_county_census
    from citycheck.io.osm import read_osm
    from citycheck.io.runfolder import file_record, is_replaceable

    if lang not in ("en", "zh"):
        raise InputError("--lang", "lang", lang, "choose 'en' or 'zh'")
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise InputError(out, "out_dir", str(out), "the run folder exists; use --overwrite")
    if out.exists() and not is_replaceable(out):
        raise InputError(
            out,
            "out_dir",
            str(out),
            "exists and is not a citycheck run folder (no results.json or COMPLETE); "
            "refusing to replace it: choose another --out",
        )
    if census is not None and adcode is None:
        raise InputError(census, "adcode", None, "--census needs --adcode to pick the district")
    if census is not None and population is not None:
        raise InputError(
            "--population",
            "population",
            population,
            "give either --population or --census, not both",
        )
    step = on_step or (lambda _msg: None)
    records = [file_record("osm", pbf)]
    step(message("step_reading", name=Path(pbf).name))
    layers = read_osm(pbf)
    area = None
    if boundary is not None:
        area = read_boundary(boundary)
        records.append(file_record("boundary", boundary))
    district = None
    if adcode is not None:
        district = boundary_from_adcode(adcode)
        base = area if area is not None else shapely.box(*layers.default_bbox())
        clipped = base.intersection(district)
        if clipped.is_empty:
            raise InputError(
                pbf,
                "adcode",
                adcode,
                "the district does not overlap the OSM extract; check the code and the file",
            )
        area = clipped
    residents_total = None
    residents_by_id = None
    parameters: dict[str, Any] = {"lang": lang, "adcode": adcode}
    if isinstance(population, int | float) and not isinstance(population, bool):
        residents_total = float(population)
        parameters["population_total"] = residents_total
    elif isinstance(population, bool):
        raise InputError("--population", "population", population, "not a number or a table")
    elif population is not None:
        ppath = Path(population)
        table = pd.read_csv(ppath, dtype={"osm_id": str}) if ppath.exists() else None
        if table is None:
            raise InputError(ppath, "file", str(ppath), "population file not found")
        for col in ("osm_id", "residents"):
            if col not in table.columns:
                raise InputError(ppath, col, None, "population table needs osm_id, residents")
        vals = pd.to_numeric(table["residents"], errors="coerce")
        bad = table.index[vals.isna() | (vals < 0)]
        if len(bad):
            raise InputError(
                ppath,
                "residents",
                table.loc[bad[0], "residents"],
                f"row {bad[0] + 2}: expected a number ≥ 0",
            )
        residents_by_id = dict(zip(table["osm_id"], vals, strict=True))
        records.append(file_record("population", ppath))
    census_meta = None
    census_system = None
    if census is not None and district is not None:
        import geopandas as gpd

        table = read_county_census(census)
        rec = county_record(table, adcode)  # type: ignore[arg-type]
        study = area if area is not None else shapely.box(*layers.default_bbox())
        both = gpd.GeoSeries([study, district], crs="EPSG:4326")
        both = both.to_crs(both.estimate_utm_crs())
        share = study_area_share(both.iloc[0], both.iloc[1])
        residents_total = float(rec["population"]) * share
        step(
            message("step_spreading", residents=residents_total, share=share, county=rec["county"])
        )
        census_meta = {
            "adcode": str(adcode),
            "county": str(rec["county"]),
            "population": int(rec["population"]),
            "area_share": share,
            "residents_total": residents_total,
            "method": message("method_census").en,
            "method_zh": message("method_census").zh,
        }
        records.append(file_record("census", census))
        city_table = Path(city_census) if city_census is not None else None
        if city_table is None and (Path(census).parent / CITY_CENSUS_NAME).is_file():
            city_table = Path(census).parent / CITY_CENSUS_NAME
        if city_table is not None:
            step(message("step_census_system"))
            census_system = _census_system(city_table, table, adcode)  # type: ignore[arg-type]
            census_meta["urban_system"] = census_system.meta
            records.append(file_record("census_city", city_table))
    elif city_census is not None:
        raise InputError(city_census, "adcode", None, "--city-census needs --adcode and --census")
    unit_layers = {}
    for role, unit_path in (("compounds", compounds), ("neighbourhoods", neighbourhoods)):
        if unit_path is not None:
            import geopandas as gpd

            try:
                unit_layers[role] = gpd.read_file(unit_path)
            except Exception as exc:
                raise InputError(
                    unit_path, "file", str(unit_path), f"not a readable vector file ({exc})"
                ) from exc
            records.append(file_record(role, unit_path))
    step(message("step_building"))
    city = build_city(
        layers,
        boundary=area,
        name=name,
        residents_total=residents_total,
        residents_by_osm_id=residents_by_id,
        **unit_layers,
    )
    if census_meta is not None:
        city.meta["census"] = census_meta
    x_inputs = None
    if inputs is not None:
        x_inputs = read_inputs(inputs)
        records.append(file_record("inputs", inputs))
    orders = None
    if hotline is not None:
        from citycheck.listen.analytics.sources import read_orders

        step(message("step_hotline", name=Path(hotline).name))
        orders = read_orders(hotline)
        records.append(file_record("hotline", hotline))
    evaluation = evaluate_city(
        city,
        inputs=x_inputs,
        census_values=census_system.values if census_system is not None else None,
        hotline=orders,
        on_step=step,
    )
    evaluation.inputs = records
    evaluation.parameters = parameters
    step(message("step_writing", path=out))
    return save_evaluation(evaluation, out, lang=lang, overwrite=overwrite)


def save_evaluation(
    evaluation: Evaluation,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "en",
    overwrite: bool = False,
) -> Path:
    """Write an evaluation to a run folder, atomically (via :mod:`citycheck.io.runfolder`).

    The document and the map layers are built by :mod:`citycheck.evaluate.document`, the summary
    page (in ``lang``) by :mod:`citycheck.report.summary`.
    """
    from citycheck.evaluate.document import ResultsDocument, unit_layers
    from citycheck.io.runfolder import validate_results, write_run_folder
    from citycheck.report.summary import render_summary

    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise InputError(out, "out_dir", str(out), "the run folder exists; use --overwrite")
    doc = ResultsDocument.from_evaluation(evaluation).to_json_dict()
    validate_results(doc)  # before the summary is rendered from it, as the writer did
    return write_run_folder(
        out,
        doc,
        layers=unit_layers(evaluation),
        summary_html=render_summary(doc, lang=lang),
        overwrite=overwrite,
    )

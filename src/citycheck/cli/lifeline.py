"""``citycheck lifeline``: import, risk, criticality, monitor, renew (a thin shell)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from citycheck.console import make_console

lifeline_app = typer.Typer(
    name="lifeline",
    help="Lifeline safety (城市生命线): pipe register, failure risk, criticality, monitoring.",
    no_args_is_help=True,
    add_completion=False,
)
console = make_console(stderr=True)


def _fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


def _load_register(path: Path, layer: str | None, attributes: Path | None, crs: str | None = None):
    from citycheck.lifeline.register import register_from_gis, register_from_inp, with_attributes

    reg = (
        register_from_inp(path, crs=crs)
        if path.suffix.lower() == ".inp"
        else register_from_gis(path, layer=layer)
    )
    if attributes is not None:
        reg = with_attributes(reg, pd.read_csv(attributes, dtype={"pipe_id": str}))
    return reg


YEAR = _dt.date.today().year


def _city_on_junctions(reg, osm: Path | None, crs: str | None, residents_total: float | None):
    """The City's residents and critical facilities by junction, or (None, None) without OSM."""
    if osm is None:
        return None, None
    if crs is None:
        raise ValueError("--osm needs --crs (the network model's metric CRS)")
    from citycheck.city import build_city
    from citycheck.io.osm import read_osm
    from citycheck.lifeline.service_area import assign_city_to_junctions

    city = build_city(read_osm(osm), crs=crs, residents_total=residents_total)
    served = assign_city_to_junctions(reg, city)
    console.print(
        f"{city.name}: {served.residents.sum():,.0f} residents and "
        f"{len(served.facilities)} critical facilities on junctions; "
        f"{served.unassigned_residents:,.0f} residents out of reach"
    )
    return served.residents, served.facilities


# Options shared by `risk` and `criticality` (the City on the network, and the run folder).
OsmOption = Annotated[
    Path | None,
    typer.Option(help="OSM extract of the City: its residents and facilities by junction"),
]
CrsOption = Annotated[
    str | None, typer.Option(help="metric CRS of the network model (and of the City)")
]
ResidentsOption = Annotated[
    float | None, typer.Option(help="residents of the City's area (with --osm)")
]
RunOption = Annotated[
    Path | None,
    typer.Option(help="run folder: also write RUN/lifeline/ for the report and dashboard"),
]


@lifeline_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="EPANET .inp, GeoPackage, Shapefile or GeoJSON")],
    out: Annotated[Path, typer.Option(help="GeoPackage to write (layers pipes, points)")],
    layer: Annotated[str | None, typer.Option(help="pipeline layer in a GeoPackage")] = None,
    attributes: Annotated[
        Path | None, typer.Option(help="CSV: pipe_id, material, install_year, ...")
    ] = None,
    year: Annotated[int, typer.Option(help="current year for validation")] = YEAR,
) -> None:
    """Read and validate an asset register; write the good records and list every bad one."""
    from citycheck.lifeline.register import RegisterError, validate_register

    try:
        reg = validate_register(_load_register(path, layer, attributes), year=year)
    except (RegisterError, ValueError) as exc:
        _fail(exc)
        return
    reg.pipes.to_file(out, layer="pipes", driver="GPKG")
    if len(reg.points):
        reg.points.to_file(out, layer="points", driver="GPKG")
    issues = out.with_suffix(".issues.csv")
    reg.issues.to_csv(issues, index=False)
    console.print(
        f"{len(reg.pipes)} pipes kept, {reg.issues['record'].nunique()} records with problems "
        f"(see {issues})"
    )


@lifeline_app.command("risk")
def risk_command(
    path: Annotated[Path, typer.Argument(help="EPANET .inp (consequence needs sources)")],
    out: Annotated[Path, typer.Option(help="CSV of pipes ranked by risk")],
    attributes: Annotated[Path | None, typer.Option(help="pipe attribute CSV")] = None,
    breaks: Annotated[Path | None, typer.Option(help="break records CSV: pipe_id, year")] = None,
    calibrate: Annotated[
        str | None, typer.Option(help="calibrate on the break records of START:END")
    ] = None,
    year: Annotated[int, typer.Option()] = YEAR,
    unknown_age_years: Annotated[float | None, typer.Option()] = None,
    osm: OsmOption = None,
    crs: CrsOption = None,
    residents_total: ResidentsOption = None,
    run: RunOption = None,
) -> None:
    """Failure likelihood x consequence per pipe, plus the old-pipeline indicators.

    With ``--osm`` and ``--crs`` the consequence counts the City's building residents and
    critical facilities, each on its nearest junction; otherwise residents come from demand.
    """
    from citycheck.lifeline.register import RegisterError, validate_register
    from citycheck.lifeline.risk import (
        calibrate_break_model,
        old_pipeline_indicators,
        risk_table,
        topological_consequence,
    )

    try:
        reg = validate_register(_load_register(path, None, attributes, crs), year=year)
        brk = pd.read_csv(breaks, dtype={"pipe_id": str}) if breaks else None
        params = model = None
        if calibrate:
            if brk is None:
                raise ValueError("--calibrate needs --breaks")
            start, end = (int(x) for x in calibrate.split(":"))
            cal = calibrate_break_model(reg.pipes, brk, start_year=start, end_year=end)
            params, model = cal.parameters, cal.model
            console.print(cal.parameters.round(4).to_string())
        residents, facilities = _city_on_junctions(reg, osm, crs, residents_total)
        cons = topological_consequence(reg, residents=residents, facilities=facilities)
        table = risk_table(
            reg,
            year=year,
            consequence=cons,
            parameters=params,
            model=model,
            breaks=brk,
            unknown_age_years=unknown_age_years,
        )
    except (RegisterError, ValueError) as exc:
        _fail(exc)
        return
    table.to_csv(out, index=False)
    if run is not None:
        from citycheck.io.lifeline_folder import write_lifeline_table

        write_lifeline_table(run, "risk.csv", table)
        write_lifeline_table(run, "pipes.geojson", reg.pipes)
    ind = old_pipeline_indicators(reg.pipes, year=year)
    console.print(ind.round(3).to_string())
    console.print(f"risk table: {out}")


@lifeline_app.command("criticality")
def criticality_command(
    path: Annotated[Path, typer.Argument(help="EPANET .inp")],
    out: Annotated[Path, typer.Option(help="CSV of pipes ranked by unmet demand")],
    workers: Annotated[int, typer.Option()] = 2,
    duration_h: Annotated[float, typer.Option(help="0 = one snapshot")] = 24.0,
    required_pressure_m: Annotated[float, typer.Option()] = 20.0,
    verify: Annotated[int, typer.Option(help="re-simulate the top N with WNTR's solver")] = 0,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    osm: OsmOption = None,
    crs: CrsOption = None,
    residents_total: ResidentsOption = None,
    run: RunOption = None,
) -> None:
    """Close each pipe in turn (EPANET, pressure-dependent demand) and rank the losses.

    With ``--osm`` and ``--crs`` the residents affected are the City's building residents and
    the facilities its hospitals, schools and elderly care, each on its nearest junction;
    otherwise residents come from demand.
    """
    from citycheck.lifeline.criticality import (
        HydraulicSettings,
        pipe_criticality,
        verify_with_wntr_simulator,
    )
    from citycheck.lifeline.register import RegisterError, register_from_inp

    settings = HydraulicSettings(duration_h=duration_h, required_pressure_m=required_pressure_m)
    try:
        residents = facilities = None
        if osm is not None:
            reg = register_from_inp(path, crs=crs)
            residents, facilities = _city_on_junctions(reg, osm, crs, residents_total)
        res = pipe_criticality(
            path,
            settings=settings,
            workers=workers,
            progress=not quiet,
            residents=residents,
            facilities=facilities,
        )
        res.to_csv(out)
        if run is not None:
            from citycheck.io.lifeline_folder import write_lifeline_table

            write_lifeline_table(run, "criticality.csv", res.reset_index())
        if verify:
            top = list(res.index[:verify])
            chk = verify_with_wntr_simulator(
                path,
                {p: [p] for p in top},
                settings=settings,
                residents=residents,
            )
            cmp = chk.join(res[["unmet_m3_per_day"]], rsuffix="_epanet")
            console.print(cmp.round(2).to_string())
    except (RegisterError, ValueError) as exc:
        _fail(exc)
        return
    console.print(f"{len(res)} pipes; ranking written to {out}")


@lifeline_app.command("monitor")
def monitor_command(
    db: Annotated[
        str, typer.Argument(help="SQLite file (created when absent) or postgresql:// URL")
    ],
    csv: Annotated[list[Path] | None, typer.Argument(help="sensor CSV files")] = None,
    train_days: Annotated[
        int, typer.Option(help="days that teach the daily pattern (simple detector)")
    ] = 7,
    inp: Annotated[
        Path | None,
        typer.Option(
            help="EPANET network model: pressure leaks by the matched-signature detector "
            "(pressure sensors named after their junction)"
        ),
    ] = None,
    calibrate: Annotated[
        str | None,
        typer.Option(help="leak-free period START/END to learn from (with --inp)"),
    ] = None,
    calibration: Annotated[
        Path | None,
        typer.Option(
            help="JSON of the learned detector: written after --calibrate, read without it"
        ),
    ] = None,
    hotline_url: Annotated[
        str | None,
        typer.Option(help="running hotline service: alarms become its work orders (staff API)"),
    ] = None,
    hotline_token: Annotated[
        str | None,
        typer.Option(
            envvar="CITYCHECK_LIFELINE_HOTLINE_TOKEN",
            help="dispatcher bearer token of the monitoring system's hotline account",
        ),
    ] = None,
    run: Annotated[
        Path | None,
        typer.Option(help="run folder: also write RUN/lifeline/ for the report and dashboard"),
    ] = None,
    tz: Annotated[
        str,
        typer.Option(
            envvar="CITYCHECK_LIFELINE_TZ",
            help="time zone of the city: naive sensor and --calibrate times, local days of the "
            "daily pattern, times shown",
        ),
    ] = "Asia/Shanghai",
) -> None:
    """Ingest sensor CSVs, then raise alarms: gas and water level by threshold; pressure and
    flow against the learned daily pattern.

    With ``--inp`` the pressure sensors on junctions of the model are watched together by the
    matched-signature detector (learned on the leak-free ``--calibrate`` period or read from
    ``--calibration``); without it, and for flow and sensors off the model, each sensor has its
    own CUSUM. Alarms already stored are taken up: re-running on the same data changes nothing,
    an episode still open is updated rather than opened again.
    """
    from citycheck.lifeline.monitoring import policy
    from citycheck.lifeline.monitoring.alarms import AlarmManager
    from citycheck.lifeline.monitoring.ingest import IngestError, ingest_csv
    from citycheck.lifeline.monitoring.store import open_store

    if hotline_url and not hotline_token:
        _fail(
            ValueError("--hotline-url needs --hotline-token (or CITYCHECK_LIFELINE_HOTLINE_TOKEN)")
        )
        return
    if inp is not None and calibrate is None and calibration is None:
        _fail(ValueError("--inp needs --calibrate START/END or a stored --calibration FILE"))
        return
    if inp is None and calibrate is not None:
        _fail(ValueError("--calibrate needs --inp (the network model)"))
        return
    try:
        settings = policy.MonitorSettings(tz=tz, train_days=train_days)
        policy.utc_offset_s(tz)
    except (KeyError, ValueError) as exc:  # an unknown zone
        _fail(ValueError(f"--tz {tz!r}: not a time zone ({exc})"))
        return
    store = open_store(db)
    try:
        for f in csv or []:
            try:
                rep = ingest_csv(store, f, tz=tz)
            except IngestError as exc:
                _fail(exc)
                return
            console.print(rep.summary())
            for r in rep.rejected.head(20).itertuples():
                console.print(f"  line {r.line} {r.field}={r.value!r}: {r.problem}")
        readings = store.readings()
        stored = store.alarms()
        sink = policy.alarm_sink(len(stored), hotline_url, hotline_token)
        mgr = AlarmManager(sink, store=store)
        resumed = mgr.resume(stored)

        model_sensors: set[str] = set()
        observations: list[policy.Observation] = []
        if inp is not None:
            from citycheck.lifeline.monitoring.model_monitor import ModelMonitor

            try:
                if calibrate is not None:
                    start, end = policy.parse_period(calibrate, tz)
                    mon = ModelMonitor.learn(
                        inp, readings, start, end, detector=policy.model_detector(settings, start)
                    )
                    if calibration is not None:
                        mon.to_json(calibration)
                else:
                    assert calibration is not None  # --inp without either was refused above
                    mon = ModelMonitor.from_json(calibration)
                    if Path(mon.model).name != inp.name:
                        console.print(
                            f"[yellow]warning:[/] {calibration} was learned on {mon.model}, "
                            f"not on {inp}"
                        )
            except (ValueError, OSError) as exc:
                _fail(exc)
                return
            model_sensors = set(mon.sensors)
            console.print(
                f"pressure: matched-signature detector on {len(mon.sensors)} sensors "
                f"({', '.join(mon.sensors)}) of {inp.name}, decision interval "
                f"h={mon.detector.h:.1f}"
            )
            for e in mon.episodes(readings).itertuples():
                when = policy.local_time(e.start_ts, tz)
                console.print(
                    f"  leak episode from {when:%Y-%m-%d %H:%M}: likeliest near junction "
                    f"{e.junction} (filed under sensor {e.sensor_id}, level {e.peak_level})"
                )
            observations += policy.model_observations(mon.observations(readings))
        found = policy.sensor_detections(readings, settings, model_sensors=model_sensors)
        observations += found.observations
        simple = found.simple
        if simple:
            console.print(
                f"pressure/flow: simple per-sensor CUSUM detector on {len(simple)} sensors "
                f"({', '.join(simple[:10])}{' ...' if len(simple) > 10 else ''})"
            )
        try:
            policy.feed_alarms(mgr, observations)
        except RuntimeError as exc:  # the hotline refused (HotlineHttpError) or is down
            _fail(exc)
            return
        console.print(
            f"{len(mgr.history)} alarms opened, {len(mgr.open)} still open "
            f"({resumed} taken up from earlier runs, {len(store.alarms())} stored in all)"
        )
        if hotline_url:
            from citycheck.lifeline.monitoring.hotline_http import (
                HttpHotlineSink,
                follow_work_orders,
            )

            assert isinstance(sink, HttpHotlineSink)  # the sink made above for a hotline_url
            changed = follow_work_orders(store, sink)
            console.print(f"{len(changed)} work orders changed status in the hotline")
        if run is not None:
            from citycheck.io.lifeline_folder import write_lifeline_table

            write_lifeline_table(run, "alarms.csv", store.alarms())
    finally:
        store.close()


@lifeline_app.command("renew")
def renew_command(
    path: Annotated[Path, typer.Argument(help="EPANET .inp or GIS register")],
    out: Annotated[Path, typer.Option(help="CSV of renewal projects")],
    budget_cny: Annotated[float, typer.Option()],
    attributes: Annotated[Path | None, typer.Option()] = None,
    year: Annotated[int, typer.Option()] = YEAR,
    unknown_age_years: Annotated[float | None, typer.Option()] = None,
    run: Annotated[
        Path | None,
        typer.Option(help="run folder: also write RUN/lifeline/ for the report and dashboard"),
    ] = None,
) -> None:
    """Renewal projects along streets, best risk reduction per cost, within the budget."""
    from citycheck.lifeline.register import RegisterError, validate_register
    from citycheck.lifeline.renewal import plan_renewal, renewal_benefit
    from citycheck.lifeline.risk import risk_table, topological_consequence

    try:
        reg = validate_register(_load_register(path, None, attributes), year=year)
        risk = risk_table(
            reg,
            year=year,
            consequence=topological_consequence(reg),
            unknown_age_years=unknown_age_years,
        )
        plan = plan_renewal(renewal_benefit(risk, year=year), budget_cny=budget_cny)
    except (RegisterError, ValueError) as exc:
        _fail(exc)
        return
    plan.to_csv(out, index=False)
    if run is not None:
        from citycheck.io.lifeline_folder import write_lifeline_table

        write_lifeline_table(run, "renewal.csv", plan)
        write_lifeline_table(run, "pipes.geojson", reg.pipes)
    console.print(f"{int(plan['selected'].sum())} of {len(plan)} projects fit the budget; {out}")

"""``citycheck hotline ...``: serve, import, train, classify, keys and staff accounts."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from citycheck.console import make_console

hotline_app = typer.Typer(
    help="12345 citizen service hotline (Open311 GeoReport v2).", no_args_is_help=True
)
console = make_console(stderr=True)

DB_HELP = "SQLAlchemy URL (default: $CITYCHECK_HOTLINE_DB_URL or sqlite:///hotline.db)"


def _settings(db: str | None):  # type: ignore[no-untyped-def]
    from citycheck.listen.settings import HotlineSettings

    return HotlineSettings(db_url=db) if db else HotlineSettings()


def _hotline(db: str | None):  # type: ignore[no-untyped-def]
    from citycheck.listen.store import Hotline

    s = _settings(db)
    if not s.secret:
        console.print("[red]set CITYCHECK_HOTLINE_SECRET (key for encryption at rest)[/red]")
        raise typer.Exit(2)
    return Hotline(s)


@hotline_app.command()
def serve(
    db: str | None = typer.Option(None, help=DB_HELP),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8311),
    workers: int = typer.Option(1, min=1),
    model: Path | None = typer.Option(None, help="classifier from `hotline train`"),
    jurisdiction: Path | None = typer.Option(
        None,
        help="the units' polygons (GeoJSON/GPKG with unit, name_zh, name_en), e.g. from "
        "`hotline jurisdiction`; default: the demo squares",
    ),
) -> None:
    """Run the ASGI server (uvicorn): Open311 under /open311/v2, staff under /staff.

    With several workers each has its own SO_REUSEPORT socket, so the kernel spreads the
    connections over them (see ``web/hotline/server.py``).
    """
    from citycheck.io.errors import InputError
    from citycheck.web.hotline import server

    if db:
        os.environ["CITYCHECK_HOTLINE_DB_URL"] = db
    if model:
        os.environ["CITYCHECK_HOTLINE_MODEL_FILE"] = str(model)
    if jurisdiction:
        os.environ["CITYCHECK_HOTLINE_JURISDICTION_FILE"] = str(jurisdiction)
    try:
        _hotline(db).close()  # migrate once (and check the data files) before the workers start
    except InputError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    if not _settings(db).jurisdiction_file:
        console.print(
            "[yellow]no jurisdiction file: dispatching by the demo squares "
            "(--jurisdiction or CITYCHECK_HOTLINE_JURISDICTION_FILE)[/yellow]"
        )
    try:
        server.serve(host, port, workers)
    except (OSError, RuntimeError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


@hotline_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="CSV or Excel export of past orders"),
    db: str | None = typer.Option(None, help=DB_HELP),
    batch: int = typer.Option(500, min=1, help="rows per transaction"),
) -> None:
    """Import past orders (NYC 311 sample, Chinese message board, or generic columns)."""
    from rich.progress import track

    from citycheck.listen.importer import intakes_from_table, read_table

    try:
        result = intakes_from_table(read_table(file), source=file.name)
    except (ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    h = _hotline(db)
    chunks = [result.intakes[i : i + batch] for i in range(0, len(result.intakes), batch)]
    for chunk in track(
        chunks,
        description=f"importing {file.name}",
        console=console,
        disable=not console.is_terminal,
    ):
        h.submit_many(chunk)
    h.close()
    for _, why in result.bad:
        console.print(f"[yellow]bad row[/yellow] {why}")
    typer.echo(
        f"{file.name}: {result.kind}, {result.rows} rows, {len(result.intakes)} imported, "
        f"{len(result.bad)} bad"
    )


@hotline_app.command()
def train(
    table: Path = typer.Argument(..., help="CSV or Excel of past orders"),
    text: str = typer.Option(..., "--text", help="text column(s), comma-separated"),
    label: str = typer.Option(..., "--label", help="label column"),
    out: Path = typer.Option(..., "--out", help="model file to write"),
    keywords: Path | None = typer.Option(
        None, help="CSV of the category catalogue: every cell is a keyword (e.g. 二级/三级分类)"
    ),
    select: bool = typer.Option(
        True, help="choose C, model (SVM or NB-SVM), title block and keywords by 5-fold CV"
    ),
    cv: int = typer.Option(0, help="also report nested k-fold macro-F1 of the procedure (0: no)"),
) -> None:
    """Train the offline char n-gram classifier from past orders."""
    from citycheck.listen.importer import read_table
    from citycheck.listen.training import read_keywords, train_classifier

    df = read_table(table)
    terms = read_keywords(keywords) if keywords is not None else ()
    try:
        res = train_classifier(
            df, [c.strip() for c in text.split(",")], label, keywords=terms, select=select, cv=cv
        )
    except ValueError as exc:
        console.print(f"[red]{table}: {exc}[/red]")
        raise typer.Exit(1) from exc
    if res.nested is not None:
        typer.echo(
            f"nested {cv}-fold macro-F1 {res.nested.mean:.4f} ± {res.nested.std:.4f} "
            f"(folds {', '.join(f'{f:.3f}' for f in res.nested.scores)})"
        )
    if res.cv_score is not None:
        typer.echo(f"chosen by 5-fold CV: {res.candidate.label()} (CV macro-F1 {res.cv_score:.4f})")
    res.classifier.save(out)
    typer.echo(f"trained on {res.rows} rows, {res.labels} labels -> {out}")


@hotline_app.command()
def classify(
    model: Path = typer.Argument(..., help="model from `hotline train`"),
    table: Path = typer.Argument(..., help="CSV or Excel to classify"),
    text: str = typer.Option(..., "--text", help="text column(s), comma-separated"),
    out: Path = typer.Option(..., "--out", help="CSV to write"),
) -> None:
    """Write each input row with its predicted label and confidence."""
    from citycheck.listen.classifier import join_text, load_model
    from citycheck.listen.importer import read_table

    df = read_table(table)
    clf = load_model(model)
    columns = [c.strip() for c in text.split(",")]
    labels, conf = clf.predict(join_text(df, columns))
    df = df.assign(predicted_label=labels, confidence=conf)
    df.to_csv(out, index=False)
    typer.echo(f"classified {len(df)} rows -> {out}")


@hotline_app.command("jurisdiction")
def jurisdiction_cmd(
    adcode: str = typer.Option(..., help="province or city code: 2, 4 or 6 digits (e.g. 1101)"),
    out: Path = typer.Option(..., "--out", help="GeoJSON or GeoPackage (.gpkg) to write"),
    census: Path = typer.Option(
        ...,
        help="2020 census county table (区划代码, 区县) for the names, e.g. "
        "../shared/data/census/china_county_census_2020.csv",
    ),
) -> None:
    """Write a jurisdiction layer of the real district (区县) polygons under an adcode."""
    from citycheck.io.errors import InputError
    from citycheck.listen.dispatch import jurisdiction_from_frame
    from citycheck.listen.districts import district_codes, district_layer, district_names

    try:
        layer = district_layer(district_codes(adcode), district_names(census))
        jurisdiction_from_frame(layer, str(out))  # the same checks the server makes
    except InputError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    driver = "GPKG" if out.suffix.lower() == ".gpkg" else "GeoJSON"
    layer.to_file(out, driver=driver)
    typer.echo(f"{len(layer)} districts -> {out}")


@hotline_app.command("create-key")
def create_key(name: str, db: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Issue an Open311 api_key (printed once; stored hashed)."""
    h = _hotline(db)
    typer.echo(h.create_api_key(name))
    h.close()


@hotline_app.command("create-staff")
def create_staff(
    username: str,
    role: str = typer.Option(..., help="dispatcher, unit, supervisor or admin"),
    unit: str | None = typer.Option(None, help="the unit, for role=unit"),
    db: str | None = typer.Option(None, help=DB_HELP),
) -> None:
    """Create a staff account and print its bearer token (stored hashed)."""
    h = _hotline(db)
    try:
        typer.echo(h.create_staff(username, role, unit))
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    finally:
        h.close()


@hotline_app.command("export-training")
def export_training(
    out: Path = typer.Option(..., "--out", help="CSV with text,label,corrected"),
    db: str | None = typer.Option(None, help=DB_HELP),
) -> None:
    """Write signed or person-classified orders (incl. corrected ones) as training data."""
    import pandas as pd

    h = _hotline(db)
    rows = h.training_examples()
    h.close()
    pd.DataFrame(rows, columns=["id", "text", "label", "corrected", "returns"]).to_csv(
        out, index=False
    )
    typer.echo(f"{len(rows)} examples -> {out}")


@hotline_app.command()
def escalate(db: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Escalate every overdue order to its rung (催办 → 督办 → 通报)."""
    h = _hotline(db)
    typer.echo(f"{h.escalate_overdue()} escalations")
    h.close()


@hotline_app.command("verify-log")
def verify_log(db: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Check that every order's projection matches its event log."""
    h = _hotline(db)
    problems = h.verify_log()
    h.close()
    for p in problems:
        typer.echo(p)
    typer.echo(f"{len(problems)} problems")
    raise typer.Exit(1 if problems else 0)


if __name__ == "__main__":  # pragma: no cover
    hotline_app()

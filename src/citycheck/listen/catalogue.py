"""The city's service catalogue as data: services, attributes, departments, deadline rules."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from citycheck.listen.domain import RequestType, Urgency

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


@dataclass(frozen=True)
class Attribute:
    """A service-definition attribute (GeoReport v2)."""

    code: str
    datatype: str
    required: bool
    description: str
    order: int
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Service:
    """One entry of the catalogue (an Open311 service)."""

    code: str
    name_zh: str
    name_en: str
    group: str
    keywords: str
    department: str
    request_type: RequestType
    lead: str = "department"  # "department" or "street"
    close_days: int | None = None
    attributes: tuple[Attribute, ...] = ()

    @property
    def metadata(self) -> bool:
        """True when the service has attributes (Open311 ``metadata``)."""
        return bool(self.attributes)


@dataclass(frozen=True)
class Catalogue:
    """Services, departments and deadline rules of one city."""

    services: dict[str, Service]
    departments: dict[str, tuple[str, str]]
    deadlines: dict[RequestType, dict[Urgency, tuple[int, int, int]]]
    escalation_thresholds: tuple[int, ...]
    escalation_names: tuple[tuple[str, str], ...]
    source: str = field(default="catalogue.toml")

    def clock_days(
        self, service_code: str | None, request_type: RequestType, urgency: Urgency
    ) -> tuple[int, int, int]:
        """Working days for the (sign, first contact, close) clocks."""
        sign, contact, close = self.deadlines[request_type][urgency]
        service = self.services.get(service_code or "")
        if service is not None and service.close_days is not None and urgency is Urgency.NORMAL:
            close = service.close_days
        return sign, contact, close


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate a catalogue TOML; None reads the packaged demo catalogue.

    Raises
    ------
    ValueError
        Listing every problem found, with the file and the offending entry.
    """
    if path is None:
        text = resources.files("citycheck.listen").joinpath("data/catalogue.toml").read_text()
        source = "catalogue.toml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    raw = tomllib.loads(text)
    problems: list[str] = []
    departments = {k: (v[0], v[1]) for k, v in raw.get("departments", {}).items()}
    services: dict[str, Service] = {}
    for i, s in enumerate(raw.get("service", [])):
        where = f"{source}: service #{i + 1} ({s.get('code')!r})"
        if s.get("department") not in departments:
            problems.append(f"{where}: department {s.get('department')!r} is not in [departments]")
        attrs = []
        for j, a in enumerate(s.get("attribute", [])):
            if a.get("datatype") not in DATATYPES:
                problems.append(
                    f"{where}: attribute {a.get('code')!r} datatype {a.get('datatype')!r}"
                )
            attrs.append(
                Attribute(
                    code=a["code"],
                    datatype=a["datatype"],
                    required=bool(a.get("required", False)),
                    description=a.get("description", ""),
                    order=j + 1,
                    values=tuple((str(k), str(n)) for k, n in a.get("values", [])),
                )
            )
        try:
            rt = RequestType(s.get("request_type", "complaint"))
        except ValueError:
            problems.append(f"{where}: request_type {s.get('request_type')!r}")
            rt = RequestType.COMPLAINT
        if s.get("lead", "department") not in ("department", "street"):
            problems.append(f"{where}: lead {s.get('lead')!r} must be department or street")
        services[s["code"]] = Service(
            code=s["code"],
            name_zh=s["name_zh"],
            name_en=s["name_en"],
            group=s.get("group", ""),
            keywords=s.get("keywords", ""),
            department=s["department"],
            request_type=rt,
            lead=s.get("lead", "department"),
            close_days=s.get("close_days"),
            attributes=tuple(attrs),
        )
    deadlines: dict[RequestType, dict[Urgency, tuple[int, int, int]]] = {}
    for rt in RequestType:
        block = raw.get("deadlines", {}).get(rt.value)
        if block is None:
            problems.append(f"{source}: [deadlines] lacks {rt.value}")
            continue
        deadlines[rt] = {}
        for u in Urgency:
            days = block.get(u.value)
            if not days or len(days) != 3 or any(int(x) < 0 for x in days):
                problems.append(f"{source}: [deadlines] {rt.value}.{u.value} must be 3 days >= 0")
                continue
            if not days[0] <= days[2] or not days[1] <= days[2]:
                problems.append(f"{source}: [deadlines] {rt.value}.{u.value}: close before sign")
            deadlines[rt][u] = (int(days[0]), int(days[1]), int(days[2]))
    esc = raw.get("escalation", {})
    thresholds = tuple(int(x) for x in esc.get("thresholds", [0, 2, 5]))
    if list(thresholds) != sorted(thresholds) or len(thresholds) != 3:
        problems.append(f"{source}: [escalation] thresholds must be 3 increasing numbers")
    if problems:
        raise ValueError("invalid catalogue:\n  " + "\n  ".join(problems))
    names = tuple((a, b) for a, b in esc.get("names", [])) or (
        ("催办", "reminder"),
        ("督办", "supervision"),
        ("通报", "public notice"),
    )
    return Catalogue(services, departments, deadlines, thresholds, names, source)

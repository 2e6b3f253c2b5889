"""Import rules between the parts of citycheck, checked on the source (``ast``, nothing imported).

A *part* is a top-level subpackage of citycheck (:data:`PARTS`). The rules:

- ``private-module``: no module imports another part's private module (a module path with an
  ``_``-prefixed component, such as ``citycheck.access._kernels``); a module may import its own
  part's private modules. Modules outside every part (``citycheck.cli``, ``citycheck.city``...)
  may import no private module of a part.
- ``access-imports-evaluate``: nothing in ``citycheck.access`` imports from ``citycheck.evaluate``.
- ``io-imports-above``: ``citycheck.io`` (the file formats, the bottom layer) imports nothing of
  citycheck outside ``citycheck.io`` but the package root (``__version__``).
- ``framework-outside-shells``: only the shells, ``citycheck.cli`` (commands) and ``citycheck.web``
  (web apps), import typer, fastapi or starlette.

Every import statement counts, also those inside functions (lazy imports) and relative ones.
Violations present today that could not be fixed yet are listed, each named, in :data:`KNOWN`;
any other violation fails :func:`test_no_new_violation`, and an entry that no longer occurs fails
:func:`test_known_violations_still_occur` (delete it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "citycheck"

PARTS = frozenset({"access", "evaluate", "listen", "lifeline", "batch", "io", "report", "plan"})
#: The shells: every command and every web app; only they may import these frameworks.
SHELLS = frozenset({"cli", "web"})
FRAMEWORKS = frozenset({"typer", "fastapi", "starlette"})

#: Today's violations of rules not fixed yet: (rule, importing module, imported module) -> why.
KNOWN: dict[tuple[str, str, str], str] = {
    ("io-imports-above", "citycheck.io.osm", "citycheck.categories"): (
        "the OSM reader tags facilities with the category table while it streams the file"
    ),
}


def part_of(module: str) -> str | None:
    """The part a module belongs to (None outside every part)."""
    names = module.split(".")
    if len(names) >= 2 and names[0] == "citycheck" and names[1] in PARTS:
        return names[1]
    return None


def is_private(module: str) -> bool:
    """A module path with an ``_``-prefixed component (``__init__``-style dunders excepted)."""
    return any(n.startswith("_") and not n.endswith("__") for n in module.split(".")[1:])


def is_module(module: str) -> bool:
    """Whether ``module`` is a module or package of the source tree."""
    path = SRC.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_frameworks(source: str) -> set[str]:
    """The top-level names of the :data:`FRAMEWORKS` that ``source`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found & FRAMEWORKS


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every citycheck module ``source`` (the text of ``module``) imports.

    ``from X import name`` imports ``X``, and also ``X.name`` where that is a module of the
    source tree (``from citycheck.access import _kernels``); other names (functions, classes,
    private ones too) are not modules and are not checked.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            for a in node.names:
                sub = f"{base}.{a.name}"
                if is_module(sub):
                    found.add(sub)
    return {m for m in found if m == "citycheck" or m.startswith("citycheck.")}


def violations(source: str, module: str, *, is_package: bool = False) -> set[tuple[str, str, str]]:
    """The (rule, module, imported module) violations of one module's source."""
    out = set()
    own = part_of(module)
    for imp in imported_modules(source, module, is_package=is_package):
        if is_private(imp) and part_of(imp) != own:
            out.add(("private-module", module, imp))
        if own == "access" and (
            imp == "citycheck.evaluate" or imp.startswith("citycheck.evaluate.")
        ):
            out.add(("access-imports-evaluate", module, imp))
        if own == "io" and imp != "citycheck" and part_of(imp) != "io":
            out.add(("io-imports-above", module, imp))
    shell = module.split(".")[1] if module.count(".") >= 1 else ""
    if shell not in SHELLS:
        for name in imported_frameworks(source):
            out.add(("framework-outside-shells", module, name))
    return out


def source_modules() -> list[tuple[str, Path, bool]]:
    """(module name, path, is a package) of every module under src/citycheck."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        names = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = names[-1] == "__init__"
        if is_package:
            names = names[:-1]
        out.append((".".join(names), path, is_package))
    return out


def all_violations() -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for module, path, is_package in source_modules():
        found |= violations(path.read_text(encoding="utf-8"), module, is_package=is_package)
    return found


def test_the_tree_is_scanned():
    modules = {m for m, _, _ in source_modules()}
    assert {"citycheck.access.queries", "citycheck.plan.whatif"} <= modules
    assert {part_of(m) for m in modules} >= PARTS
    # the checker sees the planning code's imports of the engine (public ones)
    whatif = (PACKAGE / "plan" / "whatif.py").read_text(encoding="utf-8")
    assert "citycheck.access.queries" in imported_modules(whatif, "citycheck.plan.whatif")


def test_no_new_violation():
    new = sorted(all_violations() - set(KNOWN))
    assert not new, "imports breaking the rules:\n" + "\n".join(map(str, new))


def test_known_violations_still_occur():
    gone = sorted(set(KNOWN) - all_violations())
    assert not gone, "fixed; delete from KNOWN:\n" + "\n".join(map(str, gone))


@pytest.mark.parametrize(
    ("module", "source", "expect"),
    [
        pytest.param(
            "citycheck.plan.fake",
            "from citycheck.access._kernels import bounded_search\n",
            ("private-module", "citycheck.access._kernels"),
            id="from-private-module",
        ),
        pytest.param(
            "citycheck.evaluate.fake",
            "import citycheck.access._search\n",
            ("private-module", "citycheck.access._search"),
            id="import-private-module",
        ),
        pytest.param(
            "citycheck.plan.fake",
            "from citycheck.access import _kernels\n",
            ("private-module", "citycheck.access._kernels"),
            id="private-module-as-name",
        ),
        pytest.param(
            "citycheck.plan.fake",
            "from ..access._kernels import csr_from_edges\n",
            ("private-module", "citycheck.access._kernels"),
            id="relative-private-module",
        ),
        pytest.param(
            "citycheck.batch.fake",
            "def f():\n    from citycheck.evaluate.indicators._overlay import area_in_units\n",
            ("private-module", "citycheck.evaluate.indicators._overlay"),
            id="lazy-private-module",
        ),
        pytest.param(
            "citycheck.io.fake",
            "from citycheck.evaluate.catalogue import catalogue\n",
            ("io-imports-above", "citycheck.evaluate.catalogue"),
            id="io-imports-a-part-above",
        ),
        pytest.param(
            "citycheck.io.fake",
            "def f():\n    from citycheck.city import City\n",
            ("io-imports-above", "citycheck.city"),
            id="io-imports-a-module-above-lazily",
        ),
        pytest.param(
            "citycheck.evaluate.fake",
            "import typer\n",
            ("framework-outside-shells", "typer"),
            id="typer-outside-the-shells",
        ),
        pytest.param(
            "citycheck.listen.fake",
            "from fastapi import APIRouter\n",
            ("framework-outside-shells", "fastapi"),
            id="fastapi-outside-the-shells",
        ),
        pytest.param(
            "citycheck.report.fake",
            "def f():\n    from starlette.responses import Response\n",
            ("framework-outside-shells", "starlette"),
            id="starlette-lazily-outside-the-shells",
        ),
        pytest.param(
            "citycheck.cli",
            "from citycheck.access._search import thread_plan\n",
            ("private-module", "citycheck.access._search"),
            id="outside-every-part",
        ),
        pytest.param(
            "citycheck.access.fake",
            "from citycheck.evaluate.scoring import grade_values\n",
            ("access-imports-evaluate", "citycheck.evaluate.scoring"),
            id="access-imports-evaluate",
        ),
        pytest.param(
            "citycheck.access.fake",
            "import citycheck.evaluate\n",
            ("access-imports-evaluate", "citycheck.evaluate"),
            id="access-imports-evaluate-package",
        ),
        pytest.param(
            "citycheck.access.life_circles",
            "def f():\n    from citycheck.evaluate.catalogue import catalogue\n",
            ("access-imports-evaluate", "citycheck.evaluate.catalogue"),
            id="known-import-from-another-module",
        ),
    ],
)
def test_checker_flags_a_new_violation(module, source, expect):
    rule, imported = expect
    found = violations(source, module)
    assert (rule, module, imported) in found
    assert not found <= set(KNOWN)  # the allow-list does not hide it


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("citycheck.access.queries", "from citycheck.access._kernels import dijkstra_pred\n"),
        ("citycheck.access", "from ._search import thread_plan\n"),
        ("citycheck.plan.matrix", "from citycheck.access import pairs_within\n"),
        ("citycheck.plan.whatif", "from citycheck.access.queries import street_index\n"),
        ("citycheck.io.runfolder", "from citycheck import __version__\n"),
        ("citycheck.evaluate.fake", "from citycheck.access import analyse_city\n"),
        ("citycheck.access.fake", "from citycheck.io.errors import InputError\n"),
        ("citycheck.io.fake", "from citycheck.io.errors import InputError\n"),
        ("citycheck.cli.fake", "import typer\n"),
        ("citycheck.web.hotline.fake", "from fastapi import Depends\n"),
    ],
)
def test_checker_allows(module, source):
    assert violations(source, module, is_package=module == "citycheck.access") == set()

"""Layers point one way: the domain, the audit chain and consent import no framework or driver.

Imports are followed through the project's own modules, so a domain module reaching SQLAlchemy
by way of, say, hub.store is caught as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"hub", "audit", "consent", "producers", "consumers"}
PURE_AUDIT = (
    "chain", "merkle", "checkpoint", "segments", "verify", "proofs", "errors",
    "ig", "anomalies", "fhir",
)  # fmt: skip
FORBIDDEN = {"kafka", "aiokafka", "faust", "fastapi", "starlette", "sqlalchemy"}


def pure_modules() -> list[Path]:
    return sorted(
        [
            *(ROOT / "hub" / "domain").rglob("*.py"),
            *(ROOT / "audit" / f"{name}.py" for name in PURE_AUDIT),
            *(ROOT / "consent").rglob("*.py"),
        ]
    )


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, root: Path) -> set[str]:
    """Absolute names of every module imported anywhere in the file (relative ones resolved)."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def source_of(name: str, root: Path) -> Path | None:
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def forbidden_imports(start: Path, root: Path = ROOT) -> list[str]:
    """Chains like 'hub.domain.x -> hub.store.y -> sqlalchemy' for each forbidden import reached."""
    found: list[str] = []
    seen: set[Path] = set()
    stack: list[tuple[Path, tuple[str, ...]]] = [(start, (module_name(start, root),))]
    while stack:
        path, chain = stack.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in sorted(imported_names(path, root)):
            top = name.split(".")[0]
            if top in FORBIDDEN:
                found.append(" -> ".join((*chain, name)))
            elif top in FIRST_PARTY and (src := source_of(name, root)) is not None:
                stack.append((src, (*chain, name)))
                # importing a.b.c runs a/__init__.py and a/b/__init__.py too
                parent = name.rpartition(".")[0]
                while parent and (pkg := source_of(parent, root)) is not None:
                    stack.append((pkg, (*chain, parent)))
                    parent = parent.rpartition(".")[0]
    return sorted(set(found))


def test_the_pure_modules_are_found() -> None:
    names = {module_name(p, ROOT) for p in pure_modules()}
    assert {"hub.domain.rules", "hub.domain.family", "hub.domain.identity", "consent"} <= names
    assert {"audit.merkle", "audit.checkpoint", "audit.verify", "audit.proofs"} <= names
    assert {"audit.ig", "audit.anomalies", "audit.fhir"} <= names


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: module_name(p, ROOT))
def test_pure_module_imports_no_framework_or_driver(path: Path) -> None:
    assert forbidden_imports(path) == []


def test_the_walk_catches_direct_relative_and_indirect_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "hub"
    (pkg / "domain").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "domain" / "__init__.py").write_text("")
    (pkg / "store.py").write_text("from sqlalchemy import select\n")
    (pkg / "domain" / "direct.py").write_text("def f():\n    import faust.app\n")
    (pkg / "domain" / "indirect.py").write_text("from .. import store\n")
    (pkg / "domain" / "clean.py").write_text("import json\nfrom . import direct as _\n")

    assert forbidden_imports(pkg / "domain" / "direct.py", tmp_path) == [
        "hub.domain.direct -> faust.app"
    ]
    assert forbidden_imports(pkg / "domain" / "indirect.py", tmp_path) == [
        "hub.domain.indirect -> hub.store -> sqlalchemy",
        "hub.domain.indirect -> hub.store -> sqlalchemy.select",
    ]
    assert forbidden_imports(pkg / "domain" / "clean.py", tmp_path) == [
        "hub.domain.clean -> hub.domain.direct -> faust.app"
    ]

"""The import contracts in pyproject.toml ([tool.importlinter]) hold, and they bite.

To show they bite, the project's own contracts are run over a throwaway tree of empty packages
with the same names (hub, consent, audit, producers, consumers) in which one file breaks one
rule; import-linter must name the broken contract and the offending import. `lint-imports`
runs as a process, as `make lint` runs it: it puts the working directory first on sys.path, so
in tmp_path it reads the throwaway tree, not the installed project.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def contracts_config() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        config: dict[str, Any] = tomllib.load(f)["tool"]["importlinter"]
    return config


def lint_imports(cwd: Path, *contract_ids: str) -> subprocess.CompletedProcess[str]:
    limit = [arg for cid in contract_ids for arg in ("--contract", cid)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *limit],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},  # one line per finding, whatever the terminal
        timeout=120,
    )


def named_modules(config: dict[str, Any]) -> set[str]:
    """Every first-party module the contracts name (optional layers left out)."""
    roots = set(config["root_packages"])
    names: set[str] = set()
    for contract in config["contracts"]:
        for key in ("source_modules", "modules", "ancestors"):
            names.update(contract.get(key, ()))
        for container in contract.get("containers", ()):
            for layer in contract.get("layers", ()):
                for tail in re.split(r"[|:]", layer):
                    if not tail.strip().startswith("("):
                        names.add(f"{container}.{tail.strip()}")
    return {n for n in names if n.split(".")[0] in roots}


def write_module(root: Path, name: str, source: str = "") -> None:
    """name as a package (a/b/c/__init__.py), or as a module when it ends in '.py'."""
    parts = name.removesuffix(".py").split(".")
    for i in range(1, len(parts)):
        package = root.joinpath(*parts[:i]) / "__init__.py"
        package.parent.mkdir(parents=True, exist_ok=True)
        package.touch()
    path = root.joinpath(*parts)
    path = path.with_suffix(".py") if name.endswith(".py") else path / "__init__.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


@pytest.fixture
def clean_tree(tmp_path: Path) -> Path:
    """A tree that keeps every contract: each named module, empty; the agency side using
    hub.contract as allowed; and an adapter importing every forbidden library, so each one
    is in the graph as it is in the real project."""
    config = contracts_config()
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text("utf-8"), "utf-8")
    for name in named_modules(config):
        write_module(tmp_path, name)
    external = sorted(
        {
            m
            for c in config["contracts"]
            for m in c.get("forbidden_modules", ())
            if m.split(".")[0] not in config["root_packages"]
        }
    )
    write_module(tmp_path, "hub.adapters.drivers.py", "".join(f"import {m}\n" for m in external))
    write_module(tmp_path, "hub.contract.signing.py", "")
    write_module(tmp_path, "producers.send.py", "from hub.contract import signing\n")
    write_module(tmp_path, "consumers.console.py", "import hub.contract.signing\n")
    return tmp_path


def test_the_project_keeps_its_contracts() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_the_throwaway_tree_keeps_them_too(clean_tree: Path) -> None:
    run = lint_imports(clean_tree)
    assert run.returncode == 0, run.stdout + run.stderr


# One tree per contract, breaking it in several ways at once: each way must be reported.
BREAKS: dict[str, tuple[dict[str, str], list[str]]] = {
    "pure-core": (
        {
            "hub.domain.rules.py": "from sqlalchemy import select\n",
            "audit.verify.py": "import kafka\n",
            "audit.ig.py": "from audit import store\n",  # store is an adapter: indirect
            "audit.store.py": "import faust\n",
        },
        [
            "hub.domain.rules -> sqlalchemy",
            "audit.verify -> kafka",
            "audit.ig -> audit.store",
            "audit.store -> faust",
        ],
    ),
    "hub-layers": (
        {
            "hub.domain.rules.py": "import hub.adapters.drivers\n",
            "hub.contract.envelope.py": "from hub.domain import rules\n",
            "hub.pipeline.worker.py": "from hub.entrypoints import cli\n",
            "hub.entrypoints.cli.py": "",
        },
        [
            "hub.domain.rules -> hub.adapters.drivers",
            "hub.contract.envelope -> hub.domain.rules",
            "hub.pipeline.worker -> hub.entrypoints.cli",
        ],
    ),
    "hub-on-top": (
        {
            "audit.chain.py": "from hub.settings import Settings\n",
            "consent.records.py": "import hub.domain\n",
        },
        ["audit.chain -> hub.settings", "consent.records -> hub.domain"],
    ),
    "agency-side": (
        {"producers.kafka_producer.py": "from hub.adapters import drivers\n"},
        ["producers.kafka_producer -> hub.adapters.drivers"],
    ),
    "agency-and-hub-outputs-apart": (
        {"consumers.console.py": "from producers import send\n"},
        ["consumers.console -> producers.send"],
    ),
    "no-cycles": (
        {
            "audit.store.py": "from audit import parallel\n",
            "audit.parallel.py": "import audit.store\n",
        },
        ["No cycles are allowed in audit"],
    ),
}


@pytest.mark.parametrize("contract", BREAKS)
def test_a_broken_rule_fails_the_lint_and_names_the_import(clean_tree: Path, contract: str) -> None:
    files, findings = BREAKS[contract]
    for name, source in files.items():
        write_module(clean_tree, name, source)
    run = lint_imports(clean_tree, contract)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 broken" in run.stdout
    for finding in findings:
        assert finding in run.stdout, run.stdout


def test_a_new_top_level_module_of_hub_must_be_given_a_layer(clean_tree: Path) -> None:
    write_module(clean_tree, "hub.helpers.py")
    run = lint_imports(clean_tree, "hub-layers")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "hub.helpers" in run.stdout, run.stdout

"""The core imports no framework: not Django, not Kamailio's KSR, not denwa's adapters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import denwa.core

CORE = Path(denwa.core.__file__).parent
FORBIDDEN = ("django", "KSR", "KSR_", "kamailio", "denwa.web", "denwa.sip", "denwa.cli")

pytestmark = pytest.mark.unit


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            names.add("<dynamic import>")
    return names


@pytest.mark.parametrize(
    "module", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE))
)
def test_core_module_imports_no_framework(module: Path) -> None:
    imported = _imported_modules(module)
    bad = sorted(
        name
        for name in imported
        if name == "<dynamic import>"
        or any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )
    assert not bad, f"{module.name} imports {bad}"


def test_importing_the_whole_core_loads_no_framework() -> None:
    probe = (
        "import importlib, pkgutil, sys, denwa.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'denwa.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'KSR', 'click')]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_purity_check_catches_a_django_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from django.db import models\nimport KSR\n")
    assert {"django.db", "KSR"} <= _imported_modules(sneaky)

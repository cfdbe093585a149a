"""The package is a house of layers: each module imports only from layers below its own.

Imports inside functions count too: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "retention_sim"

#: component → layer; a module may import its own component and lower layers only
LAYERS = {
    "kernel": 0,
    "levers": 1,
    "scenario": 2,
    "engine": 3,
    "result": 4, "queueing": 4, "data": 4,
    "fit": 5, "experiment": 5,
    "calibrate": 6,
    "claims": 7, "plots": 7, "report": 7,
    "widgets": 8, "demo": 8, "deliverable": 8,
    "cli": 9,
    "__init__": 10, "__main__": 10,
}


def component(module: str) -> str:
    """``retention_sim.engine.desk`` → ``engine``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every retention_sim import in the file."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path),
                      path.name == "__init__.py")


def imports_in(source: str, name: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) of every retention_sim import in ``source`` of module ``name``."""
    package = name if is_package else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("retention_sim")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x, y
                    out += [(node.lineno, f"{target}.{a.name}") for a in node.names]
                    continue
            else:
                target = node.module or ""
            if target.startswith("retention_sim"):
                out.append((node.lineno, target))
    return out


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_component_has_a_layer() -> None:
    assert {component(module_name(f)) for f in FILES} <= set(LAYERS)


@pytest.mark.parametrize("path", FILES, ids=[str(f.relative_to(PACKAGE)) for f in FILES])
def test_imports_go_down_the_layers(path: Path) -> None:
    own = component(module_name(path))
    wrong = [f"line {line}: {target} ({component(target)}, layer {LAYERS[component(target)]})"
             for line, target in imports(path)
             if component(target) != own and LAYERS[component(target)] >= LAYERS[own]]
    assert not wrong, f"{path.name} ({own}, layer {LAYERS[own]}) imports upward: {wrong}"


def test_the_engine_imports_only_the_kernel_and_scenarios() -> None:
    for path in (PACKAGE / "engine").glob("*.py"):
        used = {component(t) for _, t in imports(path)}
        assert used <= {"kernel", "scenario", "engine"}, (path.name, used)


def test_levers_import_only_the_kernel() -> None:
    for path in (PACKAGE / "levers").glob("*.py"):
        used = {component(t) for _, t in imports(path)}
        assert used <= {"kernel", "levers"}, (path.name, used)


def test_the_checker_sees_a_deferred_upward_import() -> None:
    """The walk above would catch an import hidden in a function body."""
    source = (PACKAGE / "engine" / "core.py").read_text(encoding="utf-8")
    source += "\n\ndef _x():\n    from ..experiment import run\n"
    targets = [t for _, t in imports_in(source, "retention_sim.engine.core", False)]
    assert "retention_sim.experiment" in targets


def test_importing_the_engine_loads_no_layer_above_it() -> None:
    code = ("import retention_sim.engine, sys; "
            "bad = [m for m in sys.modules if m.split('.')[:2] in (['retention_sim', 'experiment'], "
            "['retention_sim', 'result'], ['retention_sim', 'calibrate'], ['retention_sim', 'fit'])]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
    subprocess.run([sys.executable, "-c", "import retention_sim.engine, sys; "
                    "assert 'retention_sim.experiment' not in sys.modules"], check=True)

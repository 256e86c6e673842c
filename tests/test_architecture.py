"""The backend's layers: imports go one way, no module imports itself round a circle, and the web
layer loads without torch.

``backend.cluster`` → ``backend.web`` → ``backend.history`` → ``backend.engine`` → ``backend.checkpoints`` → the shared
modules (``backend/settings.py``, ``transcript.py``, ``audio.py``, ``status.py``). A package may
import the packages after it and the shared modules; the shared modules import only each other;
``backend.__main__`` (``python -m backend``) may import anything, as ``desktop/`` may. Every
import counts wherever it is written (inside a function, under ``TYPE_CHECKING``): a lazy import
is still a dependency, only a later one. Ray is the cluster's alone: only ``backend/cluster`` imports
it, and neither ``python -m backend`` nor the desktop app loads it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from itertools import pairwise
from pathlib import Path

from tests.support.helpers import ROOT

BACKEND = ROOT / "backend"
#: The packages in import order: each may import those of a lower rank (and the shared modules).
RANKS = {"backend.cluster": 5, "backend.web": 4, "backend.history": 3, "backend.engine": 2, "backend.checkpoints": 1}
SHARED = {"backend", "backend.settings", "backend.transcript", "backend.audio", "backend.status"}
ENTRY_POINTS = {"backend.__main__"}
HEAVY = {"torch", "transformers"}
#: The optional cluster extra: imported by backend/cluster only.
CLUSTER_ONLY = {"ray"}


@cache
def modules() -> dict[str, Path]:
    """Every module under backend/, by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(BACKEND.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def layer(name: str) -> tuple[str, int]:
    """(the layer's name, its rank): shared modules 0, ``backend.__main__`` above every package."""
    if name in SHARED:
        return "shared", 0
    if name in ENTRY_POINTS:
        return name, max(RANKS.values()) + 1
    for package, rank in RANKS.items():
        if name == package or name.startswith(package + "."):
            return package, rank
    raise AssertionError(f"{name} is in no layer: put it in a package, or add it to SHARED in {__file__}")


def resolve(name: str) -> str:
    """The module an imported dotted name lives in (``backend.engine.engine.Engine`` → ``backend.engine.engine``)."""
    while name not in modules():
        name = name.rpartition(".")[0]
    return name


def backend_imports(name: str) -> list[tuple[str, int]]:
    """``(imported backend module, line)`` for every import in module ``name``, at any depth."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..engine import y
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # ``from backend.engine import decoding`` imports the module backend.engine.decoding
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "backend" or target.startswith("backend."):
                imported = resolve(target)
                if imported != name:
                    found.append((imported, node.lineno))
    return found


def top_level_imports(path: Path) -> set[str]:
    """The top-level packages a module imports when it is imported (not inside functions or TYPE_CHECKING)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def where(name: str, line: int) -> str:
    return f"{modules()[name].relative_to(ROOT)}:{line}"


# -- the layers ------------------------------------------------------------------------------------
def test_every_module_is_in_a_layer():
    for name in modules():
        layer(name)


def test_imports_go_one_way():
    wrong = []
    for name in modules():
        own, rank = layer(name)
        for imported, line in backend_imports(name):
            theirs, their_rank = layer(imported)
            allowed = theirs == "shared" if own == "shared" else theirs in ("shared", own) or their_rank < rank
            if not allowed:
                wrong.append(f"{where(name, line)}: {name} ({own}) imports {imported} ({theirs})")
    order = "cluster → web → history → engine → checkpoints → shared"
    assert not wrong, f"imports against the layer order {order}:\n" + "\n".join(wrong)


def test_no_import_cycles():
    graph = {name: {} for name in modules()}
    for name in modules():
        for imported, line in backend_imports(name):
            graph[name].setdefault(imported, line)
    cycles, state = [], {}  # state: 1 on the current path, 2 done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for imported in graph[name]:
            if state.get(imported) == 1:
                ring = [*path[path.index(imported) :], imported]
                cycles.append("; ".join(f"{a} imports {b} ({where(a, graph[a][b])})" for a, b in pairwise(ring)))
            elif imported not in state:
                visit(imported, [*path, imported])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


# -- the web layer without torch -------------------------------------------------------------------
def test_the_web_app_imports_without_torch():
    """The server answers at once and the engine loads behind it: importing the app (and the server)
    brings in neither torch nor transformers, nor any backend module that imports them."""
    code = "import json, sys, backend.web.app, backend.web.server; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout))
    imported = sorted({m.split(".")[0] for m in loaded} & HEAVY)
    assert not imported, f"importing the web app imported {imported}"
    heavy = {name for name, path in modules().items() if top_level_imports(path) & HEAVY}
    assert heavy, "no backend module imports torch or transformers at the top: the check below checks nothing"
    assert not heavy & loaded, f"the web app imported {sorted(heavy & loaded)}, which import torch or transformers"


def test_the_issues_one_liner_prints_false():
    code = "import backend.web.app, sys; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False", result.stderr


# -- Ray, the cluster's alone -----------------------------------------------------------------------
def all_imports(path: Path) -> set[str]:
    """The top-level packages a file imports anywhere (inside functions and TYPE_CHECKING too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_cluster_package_imports_ray():
    sources = [*BACKEND.rglob("*.py"), *(ROOT / "desktop").rglob("*.py")]
    outside = [p for p in sources if not p.is_relative_to(BACKEND / "cluster") and all_imports(p) & CLUSTER_ONLY]
    assert not outside, f"Ray imported outside backend/cluster: {[str(p.relative_to(ROOT)) for p in outside]}"
    inside = [p for p in (BACKEND / "cluster").rglob("*.py") if all_imports(p) & CLUSTER_ONLY]
    assert inside, "backend/cluster imports no ray: the check above checks nothing"
    into_cluster = [p for p in (ROOT / "desktop").rglob("*.py") if "backend.cluster" in p.read_text()]
    assert not into_cluster, f"the desktop app reaches into backend.cluster: {into_cluster}"


def test_the_desktop_app_and_python_m_backend_never_load_ray():
    code = (
        "import sys, backend.__main__, backend.web.server, desktop.__main__; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'ray', 'backend'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['backend']", result.stdout + result.stderr

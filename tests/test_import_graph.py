"""The library's import graph: no module imports itself through others, no layer imports one
above it, and decoding does not ask which class of model it has.

The graph is read from the source (ast), every `import` of a minit5 module counted wherever it
stands, a function body's included: an import inside a function is still a dependency, only a
later one. `from minit5.t5 import generation` is an edge to the module `minit5.t5.generation`;
`from minit5.t5 import T5Config` an edge to the package `minit5.t5` (its __init__).

Layers, bottom up (DESIGN.md): backend (and io beside it) < autograd (labels beside) <
kernels/functional (testing beside) < nn < t5 (data and optim beside, none importing the
others) < the `minit5` package's re-exports < train < experiments < commands/cli/demo, with
`reference` (exercise solutions the library does not call) beside them: nothing imports it.
A module may import its own layer and any layer on a lower level.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "minit5"

# Levels bottom up; each level holds layers side by side, each layer one or more top-level
# parts of the package (a folder or a module of minit5/; "minit5" is minit5/__init__.py).
LEVELS = [
    [("backend",), ("io",)],
    [("autograd",), ("labels",)],
    [("kernels", "functional"), ("testing",)],
    [("nn",)],
    [("t5",), ("data",), ("optim",)],
    [("minit5",)],
    [("train",)],
    [("experiments",)],
    [("commands", "cli", "demo"), ("reference",)],
]


def module_files(root: Path) -> dict:
    """{dotted module name: file} for every .py under root (a package is its __init__)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _owner(name: str, modules) -> str | None:
    """The module `name` refers to: itself, or the nearest enclosing package we have."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(source: str, module: str, modules, package: str) -> set:
    """The modules (of `modules`) that the code in `source` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == package:
                    found.add(_owner(alias.name, modules))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:                                   # a relative import
                anchor = module.split(".")
                is_package = modules.get(module, Path()).name == "__init__.py"
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] != package:
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else _owner(base, modules))
    found.discard(None)
    found.discard(module)
    return found


def import_graph(root: Path = ROOT) -> dict:
    """{module: set of minit5 modules it imports} for the package at `root`."""
    modules = module_files(root)
    return {name: imports_of(path.read_text(encoding="utf-8"), name, modules, root.name)
            for name, path in modules.items()}


def find_cycle(graph: dict) -> list | None:
    """One cycle of `graph` as [a, b, ..., a], or None (depth-first search, colouring)."""
    state = {}                                   # absent: unseen; 1: on the path; 2: done
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def place(module: str, levels=LEVELS) -> tuple[int, tuple]:
    """(level, layer) of a module, from its top-level part of the package."""
    parts = module.split(".")
    part = parts[1] if len(parts) > 1 else parts[0]
    for level, layers in enumerate(levels):
        for layer in layers:
            if part in layer:
                return level, layer
    raise KeyError(f"{module}: its part {part!r} is in no layer; add it to LEVELS (and to "
                   "DESIGN.md's layer table)")


def layer_violations(graph: dict, levels=LEVELS) -> list:
    """Every import from a layer to one that is not its own and not on a lower level."""
    bad = []
    for module, imported in sorted(graph.items()):
        level, layer = place(module, levels)
        for target in sorted(imported):
            target_level, target_layer = place(target, levels)
            if target_layer != layer and target_level >= level:
                bad.append(f"{module} -> {target}")
    return bad


# ---- the library -------------------------------------------------------------------------------
def test_the_library_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_layer_imports_one_above_it_or_beside_it():
    assert layer_violations(import_graph()) == []


def test_decoding_does_not_ask_which_model_it_has():
    """generation.py imports no model class and calls no isinstance on one: it asks the model
    (or ensemble) for a step decoder."""
    graph = import_graph()
    models = {"minit5.t5.model", "minit5.t5.ensemble", "minit5.t5.decoder_only",
              "minit5.t5.architectures", "minit5.t5"}
    assert not graph["minit5.t5.generation"] & models
    source = (ROOT / "t5" / "generation.py").read_text(encoding="utf-8")
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
             and getattr(node.func, "id", None) == "isinstance"
             and any("T5" in ast.unparse(arg) or "Ensemble" in ast.unparse(arg)
                     for arg in node.args[1:])]
    assert calls == []


# ---- the checks themselves can fail ------------------------------------------------------------
def test_a_cycle_is_found_and_an_acyclic_graph_passes():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_an_upward_or_sideways_import_is_reported():
    graph = {"minit5.nn.module": {"minit5.t5.model"},           # up
             "minit5.t5.architectures": {"minit5.data.batching"},  # beside
             "minit5.functional": {"minit5.kernels.rms_norm"},   # its own layer: fine
             "minit5.train.loop": {"minit5.t5.model"}}           # down: fine
    assert layer_violations(graph) == ["minit5.nn.module -> minit5.t5.model",
                                       "minit5.t5.architectures -> minit5.data.batching"]


def test_imports_inside_functions_and_relative_imports_are_edges(tmp_path):
    package = tmp_path / "minit5"
    (package / "t5").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "backend.py").write_text("")
    (package / "t5" / "__init__.py").write_text("from .model import Model\n")
    (package / "t5" / "model.py").write_text(
        "import numpy\n\ndef generate():\n    from minit5.t5 import generation\n")
    (package / "t5" / "generation.py").write_text(
        "from minit5.t5.model import Model\nimport minit5.backend\n")
    graph = import_graph(package)
    assert graph["minit5.t5"] == {"minit5.t5.model"}
    assert graph["minit5.t5.model"] == {"minit5.t5.generation"}
    assert graph["minit5.t5.generation"] == {"minit5.t5.model", "minit5.backend"}
    assert find_cycle(graph) == ["minit5.t5.model", "minit5.t5.generation", "minit5.t5.model"]


def test_a_part_in_no_layer_is_named():
    with pytest.raises(KeyError, match="newpart"):
        place("minit5.newpart.thing")

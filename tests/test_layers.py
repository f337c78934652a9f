"""The layers of the library and of the demo: data flows one way. The library: config -> data -> model -> latent ->
checkpoint -> training -> evaluation; the demo (on top of it) its own order, ``DEMO_LAYERS``. No module imports one
of a later layer, no import cycle within a layer, and no module imports another module of its package inside a
function (the way an import cycle is dodged)."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mlvae"
LAYERS = [  # a module may import modules of its own layer or of earlier ones
    ("mlvae.errors", "mlvae.flags", "mlvae.model_kinds", "mlvae.config", "mlvae.device"),
    ("mlvae.data",),
    ("mlvae.model",),
    ("mlvae.latent", "mlvae.grouping"),
    ("mlvae.checkpoint",),
    ("mlvae.training",),
    ("mlvae.evaluation",),
    ("mlvae.train", "mlvae.evaluate", "mlvae"),  # entry points and the public names
]
DEMO_LAYERS = [  # the same for the demo (the longest prefix places a module)
    ("demo.kinds", "demo.results"),  # digits or faces; result pictures
    ("demo.inputs",),  # gallery values, photos and drawings to model inputs, within each request's decode budget
    ("demo.models",),  # the checkpoints served
    ("demo.computing",),  # the endpoints' functions and the computations behind them
    ("demo.galleries",),  # the example sets, examples giving way to the user's photos, per-kind memory
    ("demo.gradio_internals",),  # what relies on Gradio's internals: request checks, sessions, the page
    ("demo.tabs",),
    ("demo.app", "demo.make_examples"),
    ("demo.cli", "demo"),
]
# imports inside a function that dodge no cycle: the command line imports the app (and Gradio) only after it has
# set Gradio's environment
LAZY_IMPORTS = {("demo.cli", "demo.app")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for top in ("mlvae", "demo") for p in sorted((ROOT / top).rglob("*.py"))}


def layers_of(module: str) -> list[tuple[str, ...]]:
    return DEMO_LAYERS if module.split(".")[0] == "demo" else LAYERS


def layer_of(module: str) -> int:
    best = None
    for index, prefixes in enumerate(layers_of(module)):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS or DEMO_LAYERS"
    return best[0]


def package_imports(path: Path, source: str | None = None) -> list[tuple[str, bool, int]]:
    """(imported module of the path's own package, inside a function?, line) for each such import in ``path``;
    the library imports absolutely, the demo relatively."""
    name = module_name(path)
    top = name.split(".")[0]
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    tree = ast.parse(path.read_text() if source is None else source)
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, in_function, child.lineno) for a in child.names if a.name.split(".")[0] == top)
            elif isinstance(child, ast.ImportFrom):
                assert top == "demo" or child.level == 0, f"{path}:{child.lineno}: the library imports absolutely"
                base = ".".join(here[:len(here) - child.level + 1] + ([child.module] if child.module else [])) \
                    if child.level else child.module or ""
                if base.split(".")[0] == top:
                    for alias in child.names:  # `from x import y` imports module x.y when y is one
                        target = f"{base}.{alias.name}"
                        found.append((target if target in MODULES else base, in_function, child.lineno))
            elif not (isinstance(child, ast.If) and _is_type_checking(child)):
                visit(child, nested)

    visit(tree, False)
    return found


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def import_graph() -> dict[str, set[str]]:
    return {name: {target for target, _, _ in package_imports(path)} - {name} for name, path in MODULES.items()}


def test_every_module_imports_only_its_own_layer_or_earlier_ones():
    wrong = []
    for name, path in MODULES.items():
        for target, _, line in package_imports(path):
            if name not in ("mlvae", "demo") and target in ("mlvae", "demo"):
                wrong.append(f"{name}:{line} imports from the top package; import from the defining module")
            elif layer_of(target) > layer_of(name):
                wrong.append(f"{name}:{line} imports {target}, a later layer")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_its_package_inside_a_function():
    inside = [f"{name}:{line} imports {target} inside a function"
              for name, path in MODULES.items() for target, in_function, line in package_imports(path)
              if in_function and (name, target) not in LAZY_IMPORTS]
    assert not inside, "\n".join(inside)


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if target in ("mlvae", "demo") or target not in graph:
                continue
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target] if target in path else [node, target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if state.get(target) is None:
                walk(target, path + [target])
        state[node] = 2

    for module in sorted(graph):
        if state.get(module) is None:
            walk(module, [module])


def test_the_checker_sees_a_planted_violation():
    """An upward import hidden in a method, the way a cycle is dodged, is found; one under TYPE_CHECKING is not;
    a relative import in the demo is read as the module it names."""
    planted = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mlvae.evaluation.run import EvalRun\n"
               "class A:\n    def f(self):\n        from mlvae.training import trainer\n")
    found = package_imports(PACKAGE / "data" / "grouped.py", planted)
    assert found == [("mlvae.training.trainer", True, 6)]
    assert layer_of("mlvae.training.trainer") > layer_of("mlvae.data.grouped")
    upward = "from ..tabs import base\nfrom .confinement import is_inside\nfrom .. import kinds\n"
    found = package_imports(ROOT / "demo" / "inputs" / "photos.py", upward)
    assert found == [("demo.tabs.base", False, 1), ("demo.inputs.confinement", False, 2), ("demo.kinds", False, 3)]
    assert layer_of("demo.tabs.base") > layer_of("demo.inputs.photos") > layer_of("demo.kinds")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.split(".")[0] == "mlvae"))
def test_each_module_imports(module):
    importlib.import_module(module)

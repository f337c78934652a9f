"""The package's layers: data flows one way, config -> data -> model -> latent -> checkpoint -> training ->
evaluation; no module imports one of a later layer, no import cycle within a layer, and no module imports
another module of the package inside a function (the way an import cycle is dodged)."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mlvae"
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


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    best = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


def package_imports(path: Path, source: str | None = None) -> list[tuple[str, bool, int]]:
    """(imported mlvae module, inside a function?, line) for each import of the package in ``path``."""
    tree = ast.parse(path.read_text() if source is None else source)
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, in_function, child.lineno)
                             for a in child.names if a.name.split(".")[0] == "mlvae")
            elif isinstance(child, ast.ImportFrom):
                assert child.level == 0, f"{path}:{child.lineno}: relative import; the package imports absolutely"
                if child.module and child.module.split(".")[0] == "mlvae":
                    for alias in child.names:  # `from mlvae.x import y` imports module mlvae.x.y when y is one
                        target = f"{child.module}.{alias.name}"
                        found.append((target if target in MODULES else child.module, in_function, child.lineno))
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
            if name != "mlvae" and target == "mlvae":
                wrong.append(f"{name}:{line} imports from the top package; import from the defining module")
            elif layer_of(target) > layer_of(name):
                wrong.append(f"{name}:{line} imports {target}, a later layer")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_the_package_inside_a_function():
    inside = [f"{name}:{line} imports {target} inside a function"
              for name, path in MODULES.items() for target, in_function, line in package_imports(path) if in_function]
    assert not inside, "\n".join(inside)


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if target == "mlvae" or target not in graph:
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
    """An upward import hidden in a method, the way a cycle is dodged, is found; one under TYPE_CHECKING is not."""
    planted = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mlvae.evaluation.run import EvalRun\n"
               "class A:\n    def f(self):\n        from mlvae.training import trainer\n")
    found = package_imports(PACKAGE / "data" / "grouped.py", planted)
    assert found == [("mlvae.training.trainer", True, 6)]
    assert layer_of("mlvae.training.trainer") > layer_of("mlvae.data.grouped")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports(module):
    importlib.import_module(module)

"""The layout holds: imports run one way through the layers of ../shared/DESIGN.md, no two
modules import each other (directly or round a loop), and an import inside a function is there
only to keep a heavy optional dependency off the import path.

The modules are read with `ast`, not imported, so the test sees every import, the ones inside
functions included. ``python tests/test_layers.py`` prints every finding."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first. A module may import its own package and the packages of lower layers only.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("files", "errors", "settings", "parallel", "chat_client", "web"),  # shared plumbing
    ("poker",),  # numpy only
    ("games",),
    ("runs",),
    ("solvers",),
    ("models",),
    ("agents",),
    ("evaluation",),
    ("envs", "rollouts"),  # expert datasets are recorded from evaluation matches
    ("trainers",),
    ("serving", "gameboy", "bench"),
    ("cli",),
)
RANK = {pkg: rank for rank, pkgs in enumerate(LAYERS) for pkg in pkgs}

# Packages whose import is slow or optional: a function-level import is how gamelm keeps them
# off the import path of code that does not need them.
HEAVY = {
    "torch", "transformers", "tokenizers", "safetensors", "peft", "trl", "accelerate",
    "datasets", "tensorboard", "dspy", "optuna", "pyboy", "PIL", "fastapi", "uvicorn",
    "starlette", "pydantic", "ray", "onnx", "onnxscript", "onnxruntime", "matplotlib", "scipy",
}  # fmt: skip

# `import gamelm` must stay light, so its one public helper imports what it needs when called.
FACADE = "gamelm"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the gamelm module (or package) imported
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / "gamelm").rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, name: str) -> str:
    """``from module import name``: the submodule when ``name`` is one, else ``module``."""
    return f"{module}.{name}" if f"{module}.{name}" in modules() else module


@cache
def imports_of(module: str) -> tuple[tuple[Import, ...], frozenset[str]]:
    """Every gamelm import of ``module`` (TYPE_CHECKING blocks left out), and the top-level
    names of the other packages it imports at module level."""
    path = modules()[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    external: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            inner = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "gamelm":
                        found.append(Import(module, alias.name, child.lineno, in_function))
                    elif not in_function:
                        external.add(alias.name.split(".")[0])
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    target = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    target = child.module or ""
                if target.split(".")[0] == "gamelm":
                    for alias in child.names:
                        found.append(
                            Import(module, _resolve(target, alias.name), child.lineno, in_function)
                        )
                elif not in_function and target != "__future__":
                    external.add(target.split(".")[0])
            visit(child, inner)

    visit(tree, False)
    return tuple(found), frozenset(external)


@cache
def pulls_heavy(module: str) -> bool:
    """Whether importing ``module`` imports a `HEAVY` package (through any module-level import
    chain of gamelm modules)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        m = todo.pop()
        if m in seen or m not in modules():
            continue
        seen.add(m)
        found, external = imports_of(m)
        if external & HEAVY:
            return True
        todo += [i.target for i in found if not i.in_function]
        parent = m.rpartition(".")[0]  # importing a.b.c runs a/__init__ and a/b/__init__ first
        if parent:
            todo.append(parent)
    return False


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def backward_imports() -> list[str]:
    out = []
    for module in modules():
        if module == FACADE:
            continue
        src = _package(module)
        for imp in imports_of(module)[0]:
            dst = _package(imp.target)
            if dst == src or dst == "":
                continue
            if src not in RANK or dst not in RANK:
                out.append(f"{module}:{imp.line} imports {imp.target}: add its package to LAYERS")
            elif RANK[dst] >= RANK[src]:
                out.append(
                    f"{module}:{imp.line} imports {imp.target} ({src} may only import lower "
                    f"layers than {', '.join(LAYERS[RANK[src]])})"
                )
    return out


def import_cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), over all gamelm imports."""
    graph = {m: sorted({i.target for i in imports_of(m)[0] if i.target in modules()} - {m})
             for m in modules() if m != FACADE}  # fmt: skip
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in graph:
        if v not in index:
            connect(v)
    return groups


def needless_function_imports() -> list[str]:
    out = []
    for module in modules():
        if module == FACADE:
            continue
        for imp in imports_of(module)[0]:
            if imp.in_function and imp.target in modules() and not pulls_heavy(imp.target):
                out.append(
                    f"{module}:{imp.line} imports {imp.target} inside a function, but it is "
                    "light: import it at the top"
                )
    return out


def test_every_package_has_a_layer():
    packages = {_package(m) for m in modules()} - {""}
    assert packages <= set(RANK), sorted(packages - set(RANK))


def test_imports_run_one_way():
    assert backward_imports() == []


def test_no_import_cycles():
    assert import_cycles() == []


def test_function_level_imports_only_keep_heavy_dependencies_away():
    assert needless_function_imports() == []


def test_the_poker_core_is_numpy_only():
    for module in modules():
        if _package(module) == "poker":
            assert not pulls_heavy(module), module


def test_the_checker_sees_a_backward_import(tmp_path, monkeypatch):
    """The rules find what they are for: a fake module of the poker layer importing a trainer
    is a backward import."""
    fake = SRC / "gamelm" / "poker"
    name = "gamelm.poker._layer_probe"
    code = "def f():\n    from gamelm.trainers.ppo import PPOConfig\n"
    path = tmp_path / "_layer_probe.py"
    path.write_text(code)
    table = dict(modules())
    table[name] = path
    monkeypatch.setattr(sys.modules[__name__], "modules", lambda: table)
    imports_of.cache_clear()
    try:
        assert any(name in line for line in backward_imports())
    finally:
        imports_of.cache_clear()
    assert fake.is_dir()


if __name__ == "__main__":
    for line in backward_imports():
        print("backward:", line)
    for group in import_cycles():
        print("cycle:", " <-> ".join(group))
    for line in needless_function_imports():
        print("inside a function:", line)

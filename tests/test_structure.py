"""The package reads as its data flows: no import cycles, and each outside library has one home."""

import ast
from pathlib import Path

import genval

PACKAGE = Path(genval.__file__).parent
CLI = PACKAGE.parent / "cli"


def imports_of(path: Path, package: str) -> set[str]:
    """Every module a file imports, at the top or inside a function, as absolute names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
                found.update(f"{module}.{a.name}" if not node.module else module for a in node.names)
            else:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {f"genval.{p.stem}": p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    modules |= {f"genval.cli.{p.stem}": p for p in CLI.glob("*.py") if p.stem != "__init__"}
    return {name: {m for m in imports_of(path, name.rsplit(".", 1)[0]) if m in modules}
            for name, path in modules.items()}


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(edges[node]):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*path, node, nxt])
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


def test_the_library_never_imports_the_cli():
    edges = graph()
    assert not [m for m, deps in edges.items() if m.startswith("genval.") and not m.startswith("genval.cli")
                and any(d.startswith("genval.cli") for d in deps)]


def test_each_outside_library_has_one_home():
    homes = {"minisom": {"genval.som"}, "matplotlib": {"genval.plotting"}, "onnxruntime": {"genval.external"}}
    for library, allowed in homes.items():
        users = {f"genval.{p.stem}" for p in PACKAGE.glob("*.py")
                 if any(m == library or m.startswith(library + ".") for m in imports_of(p, "genval"))}
        assert users <= allowed, f"{library} imported by {sorted(users - allowed)}"


def test_the_model_protocol_is_a_leaf_every_stage_may_use():
    assert graph()["genval.protocol"] <= {"genval.errors"}

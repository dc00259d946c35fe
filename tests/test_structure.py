"""The package reads as its data flows: each stage imports only from stages upstream of it.

The stages, upstream first (the README's "How the code is organised")::

    errors, _utils -> data -> nn -> models -> latent -> checks -> audit -> experiments
      -> pages, plotting -> pipeline (the composition root) -> cli

A module may import from its own stage and from any stage before it, never from
one after it; nothing imports a stage through ``genval``'s lazy top level; no
import cycles; each outside library has one home.
"""

import ast
from pathlib import Path

import pytest

import genval

PACKAGE = Path(genval.__file__).parent
CLI = PACKAGE.parent / "cli"

STAGES = ["genval.errors", "genval._utils", "genval.data", "genval.nn", "genval.models", "genval.latent",
          "genval.checks", "genval.audit", "genval.experiments", "genval.pages", "genval.plotting",
          "genval.pipeline", "genval.cli"]
# Outside libraries and the only stage (or module) that may import each.
HOMES = {"minisom": "genval.latent._som", "matplotlib": "genval.plotting", "onnxruntime": "genval.models._external",
         "click": "genval.cli"}


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


def modules() -> dict[str, Path]:
    """Every module of the library and the CLI, by its installed name."""
    found = {}
    for root, name in ((PACKAGE, "genval"), (CLI, "genval.cli")):
        for path in root.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((name, *parts))] = path
    return found


def graph() -> dict[str, set[str]]:
    """Module -> the genval modules it imports (a package's import counts as its ``__init__``)."""
    known = modules()
    edges = {}
    for name, path in known.items():
        package = name if path.stem == "__init__" else name.rsplit(".", 1)[0]
        edges[name] = {m for m in imports_of(path, package) if m in known and m != name}
    return edges


def stage_of(module: str) -> int | None:
    """The position of a module's stage in STAGES (None for genval itself and its aliases)."""
    for i, stage in enumerate(STAGES):
        if module == stage or module.startswith(stage + "."):
            return i
    return None


def test_every_module_belongs_to_a_stage():
    assert {m for m in modules() if stage_of(m) is None} == {"genval", "genval._compat"}


def test_each_stage_imports_only_from_stages_upstream_of_it():
    def allowed(m, d):
        if d == "genval":  # the lazy top level: only the CLI, for __version__
            return m.startswith("genval.cli")
        return stage_of(d) is not None and stage_of(d) <= stage_of(m)

    wrong = sorted(f"{m} imports {d}" for m, deps in graph().items() if stage_of(m) is not None
                   for d in deps if not allowed(m, d))
    assert not wrong, "\n".join(wrong)


def test_the_rule_catches_an_import_from_downstream(tmp_path):
    # The test above must be able to fail: a data module importing the audit stage is caught.
    bad = tmp_path / "bad.py"
    bad.write_text("from genval.audit._audit import judge\n")
    deps = {m for m in imports_of(bad, "genval.data") if m in modules()}
    assert deps == {"genval.audit._audit"} and stage_of("genval.audit._audit") > stage_of("genval.data._bad")


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


@pytest.mark.parametrize("library", sorted(HOMES))
def test_each_outside_library_has_one_home(library):
    home = HOMES[library]
    users = {m for m, path in modules().items()
             if any(i == library or i.startswith(library + ".") for i in imports_of(path, m))}
    assert users and all(u == home or u.startswith(home + ".") for u in users), sorted(users)


def test_the_model_protocol_is_a_leaf_every_stage_may_use():
    assert graph()["genval.models._protocol"] <= {"genval.errors"}


def test_each_stage_exports_what_its_modules_declare():
    # A stage's __init__ is its table of contents: every name a module puts in __all__, and no other.
    import importlib

    for stage in STAGES[2:-2]:
        if stage == "genval.pipeline":
            continue
        package = importlib.import_module(stage)
        declared = {}
        for path in (PACKAGE / stage.split(".")[1]).glob("_[!_]*.py"):
            module = importlib.import_module(f"{stage}.{path.stem}")
            declared |= {name: module.__name__ for name in getattr(module, "__all__", ())}
        assert set(package.__all__) == set(declared), stage
        for name, module in declared.items():
            assert getattr(package, name) is getattr(importlib.import_module(module), name), (stage, name)


def test_every_public_name_of_0_2_0_is_still_importable():
    # tests/data/api_0_2.json: each flat module of 0.2.0 (as it stood before the stage layout) and the
    # names it exported. Each still imports from its old path, with a warning naming the new place.
    import importlib
    import json
    import sys
    import warnings

    api = json.loads((Path(__file__).parent / "data" / "api_0_2.json").read_text())
    missing = []
    for old, names in api.items():
        sys.modules.pop(old, None)
        if old in {"genval.audit", "genval.plotting"}:  # became packages of the same name: no warning
            module = importlib.import_module(old)
        else:
            with pytest.warns(DeprecationWarning, match=rf"{old.replace('.', '[.]')} has moved"):
                module = importlib.import_module(old)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            missing += [f"{old}.{name}" for name in names if not hasattr(module, name)]
    assert not missing
    assert sum(map(len, api.values())) > 200 and all(getattr(genval, name) is not None for name in genval.__all__)


def test_an_old_path_finds_the_same_object_as_the_new_one():
    import warnings

    from genval.latent import walk
    from genval.pipeline import build_space

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from genval.walks import build_space as old_build_space, walk as old_walk
    assert old_walk is walk and old_build_space is build_space


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80  # def line to last line, docstring included


def test_no_module_is_longer_than_a_few_hundred_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_longer_than_a_screen():
    long = {}
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if (n := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES:
                    long[f"{name}.{node.name}"] = n
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"

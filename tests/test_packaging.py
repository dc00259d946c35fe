"""The package installs as one top-level name, `genval`, with its data files."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )
    (path,) = out.glob("genval-*.whl")
    return path


def test_wheel_installs_only_the_genval_namespace(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"genval", next(t for t in top if t.endswith(".dist-info"))}
    assert "genval/cli/main.py" in names
    assert "genval/datasets/font.h" in names and "genval/datasets/emojis.h" in names
    assert "genval/schemas/audit.json" in names and "genval/schemas/train.json" in names
    assert "genval/pages/explore.html" in names  # the explorer page's template
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "genval = genval.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_plain_install_finds_bundled_data_from_anywhere(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import genval; s = genval.load_dataset('font'); "
            "print(genval.__file__); print(len(s), s.shape)")
    result = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
                            cwd=elsewhere, check=True, capture_output=True, text=True)
    where, summary = result.stdout.splitlines()
    assert where.startswith(str(target))
    assert summary == "32 (7, 5)"


def test_the_public_api_loads_lazily_and_completely():
    code = """
import sys
import genval
light = sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "sklearn", "scipy", "matplotlib", "minisom"))
resolved = {name: getattr(genval, name) for name in genval.__all__}
print(light, genval.__version__, sorted(set(genval.__all__) - set(dir(genval))))
import importlib
print(all(resolved[name] is getattr(importlib.import_module(module), name)
          for name, module in genval._EXPORTS.items()),
      {"Autoencoder", "VariationalAutoencoder", "LatentSOM", "LatentSpace", "load_dataset", "load_model",
       "build_space", "GenvalError", "BitmapSet"} <= set(genval.__all__))
print(genval.audit.__name__, genval.Autoencoder is sys.modules["genval.models._autoencoder"].Autoencoder)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == "[] 0.2.0 []"  # nothing heavy on import; every public name listed by dir()
    assert lines[1] == "True True"  # every exported name resolves, the core ones among them
    assert lines[2] == "genval.audit True"


def test_an_unknown_name_is_an_attribute_error():
    import genval

    with pytest.raises(AttributeError, match="module 'genval' has no attribute 'nope'"):
        genval.nope
    assert not hasattr(genval, "Nope")

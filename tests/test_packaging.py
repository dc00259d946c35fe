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

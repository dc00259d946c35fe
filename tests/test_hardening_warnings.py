"""Library warnings (scikit-learn's ConvergenceWarning, ...) on the command line: one-line notes, none under -q."""

import os
import subprocess
import sys
import warnings

from click.testing import CliRunner

from genval.cli.main import cli

GENVAL = [sys.executable, "-c", "from genval.cli.main import main; main()"]

# Twelve items of two bitmaps: their codes are two points, and the Gaussian mixtures of 3 and 4 components the
# gmm strategy tries make scikit-learn's k-means warn "Number of distinct clusters (2) found smaller than ...".
_A, _B = ["#..#", ".##.", ".##.", "#..#"], ["####", "#..#", "#..#", "####"]
TWINS = "".join(f"item{i}\n" + "\n".join(_A if i % 2 else _B) + "\n" for i in range(12))
AUDIT = ["audit", "--strategy", "gmm", "-n", "100", "--grid", "2x2"]


def _audit(tmp_path, *options):
    (tmp_path / "twins.txt").write_text(TWINS)
    run = subprocess.run(GENVAL + AUDIT + ["--dataset", str(tmp_path / "twins.txt"), *options], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": ""})
    assert run.returncode == 0, run.stderr
    return run


def test_library_warnings_print_nothing_under_quiet(tmp_path):
    run = _audit(tmp_path, "-q")
    assert run.stderr == ""
    assert run.stdout.startswith("audit 'gmm' of ")


def test_library_warnings_are_one_line_notes_shown_once(tmp_path):
    run = _audit(tmp_path)
    lines = [line for line in run.stderr.splitlines() if "clusters" in line or "Warning" in line]
    assert lines == [
        "note: ConvergenceWarning from sklearn: Number of distinct clusters (2) found smaller than n_clusters (3). "
        "Possibly due to duplicate points in X.",
        "note: ConvergenceWarning from sklearn: Number of distinct clusters (2) found smaller than n_clusters (4). "
        "Possibly due to duplicate points in X.",
    ]
    assert "site-packages" not in run.stderr and "fit_method" not in run.stderr


def test_a_command_leaves_the_warnings_machinery_as_it_found_it():
    before = (warnings.showwarning, list(warnings.filters))
    result = CliRunner().invoke(cli, ["show", "font", "--limit", "1", "-q"])
    assert result.exit_code == 0
    assert (warnings.showwarning, list(warnings.filters)) == before

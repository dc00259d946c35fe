"""Do the commands still print the same bytes? A check for refactors, run by hand.

Runs every command that prints JSON (and the audit's CSV and the explore page) on
the bundled sets with a fresh model cache, one file per invocation, then compares
two such folders byte for byte, wall-clock seconds aside::

    python benchmarks/same_output.py run before/      # on the old checkout's install
    python benchmarks/same_output.py run after/       # on the new one
    python benchmarks/same_output.py compare before/ after/

The cache folder's path is replaced by ``CACHE`` and the run's folder by ``OUT``
in every output: the two runs
use different temporary folders. ``cache list`` is left out (it prints dates).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# name -> arguments after `genval`; "{out}" is a path inside the run's folder.
RUNS = {
    "show-font": ["show", "font", "--json"],
    "show-digits": ["show", "digits", "--limit", "20", "--json"],
    "show-emojis": ["show", "--json"],
    "train-font": ["train", "--dataset", "font", "--json"],
    "train-emojis": ["train", "--json"],
    "train-digits": ["train", "--dataset", "digits", "--limit", "300", "--epochs", "50", "--json"],
    "train-vae": ["train", "--vae", "--epochs", "300", "--json"],
    "som": ["som", "--grid", "3x3", "--json"],
    "som-font": ["som", "--dataset", "font", "--grid", "4x4", "--json"],
    "interpolate": ["interpolate", ":]", ";D", "--json"],
    "decode": ["decode", "0.1", "-0.2", "--json"],
    "sample": ["sample", "-n", "12", "--json"],
    "grid": ["grid", "--size", "6", "--json"],
    "regions": ["regions", "--json"],
    "audit": ["audit", "-n", "300", "--json"],
    "audit-csv": ["audit", "-n", "300", "--csv", "{out}/audit.csv", "--json"],
    "audit-gmm": ["audit", "-n", "200", "--strategy", "gmm", "--json"],
    "audit-compare": ["audit", "--compare", "--repeats", "2", "-n", "200", "--json"],
    "denoise": ["denoise", "--epochs", "200", "--json"],
    "sweep": ["sweep", "{out}/tiny.toml", "--out", "{out}/tiny.csv", "--json"],
    "explore": ["explore", "--out", "{out}/explore.html"],
}

TINY_SWEEP = """title = "tiny"
dataset = "font"
[fixed]
epochs = 200
[grid]
learning_rate = [0.01, 0.02]
random_state = [0, 1]
"""


def run(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.toml").write_text(TINY_SWEEP)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, GENVAL_CACHE=cache)
        for name, args in RUNS.items():
            args = [a.replace("{out}", str(folder)) for a in args]
            done = subprocess.run(["genval", *args], env=env, capture_output=True, text=True)
            text = done.stdout.replace(cache, "CACHE").replace(str(folder), "OUT")
            (folder / f"{name}.out").write_text(f"exit {done.returncode}\n{text}")
            print(f"{name:16} exit {done.returncode}", file=sys.stderr)


def _timeless(path: Path) -> str:
    """The file's text with wall-clock seconds blanked: the one thing that may differ."""
    text = path.read_text()
    if path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        drop = {i for i, name in enumerate(rows[0]) if "seconds" in name} if rows else set()
        return "\n".join(",".join(v for i, v in enumerate(r) if i not in drop) for r in rows)
    head, _, body = text.partition("\n")
    try:
        return head + json.dumps(_blank_seconds(json.loads(body)), indent=2)
    except ValueError:  # text output, not one JSON document
        return text


def _blank_seconds(value):
    if isinstance(value, dict):
        return {k: "T" if "seconds" in k else _blank_seconds(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank_seconds(v) for v in value]
    return value


def compare(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    differ = [n for n in names if not (a / n).exists() or not (b / n).exists()
              or _timeless(a / n) != _timeless(b / n)]
    for n in names:
        print(f"{n:22} {'DIFFERS' if n in differ else 'same'}")
    return 1 if differ else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        run(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["compare"]:
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)

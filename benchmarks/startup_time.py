"""How long `genval --help` takes against `python -c "import numpy, click"`.

The command line's group imports no command and no numerical library (the
stages load their names on first use), so asking for help should cost less
than importing numpy and click. Target: under 2x the baseline. The two run
alternately in one session, each in a fresh interpreter, so the machine's load
falls on both alike.

Run by hand (not part of the tests), in a venv where genval is installed:

    python benchmarks/startup_time.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    repeats = parser.parse_args().repeats
    genval = shutil.which("genval") or sys.exit("genval is not on PATH: install it first (pip install -e .)")
    runs = {"python -c 'import numpy, click'": [sys.executable, "-c", "import numpy, click"],
            "genval --help": [genval, "--help"]}
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, command in runs.items():
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            seconds[name].append(time.perf_counter() - start)
    base = statistics.median(seconds["python -c 'import numpy, click'"])
    print(f"{repeats} runs each, alternating; load average {os.getloadavg()[0]:.1f}")
    print(f"{'command':34} {'median':>9} {'ratio':>6}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:34} {median * 1000:7.0f} ms {median / base:6.2f}")


if __name__ == "__main__":
    main()

"""Sweeps: a grid of training settings, one CSV row per run, resumable, in parallel.

Where genval 0.2.0's ``genval.sweep`` lives on (:mod:`genval._compat`); the
work is split by job: the settings and the CSV's columns
(:mod:`._sweep_settings`), the sweep file (:mod:`._sweep_file`), running it
(:mod:`._sweep_run`) and summarizing its rows (:mod:`._sweep_summary`). Each
name is declared (``__all__``) by the module that holds it.
"""

from genval.experiments._sweep_file import MAX_RUNS as MAX_RUNS
from genval.experiments._sweep_file import MAX_SWEEP_FILE_BYTES as MAX_SWEEP_FILE_BYTES
from genval.experiments._sweep_file import bundled_sweeps as bundled_sweeps
from genval.experiments._sweep_file import load_sweep as load_sweep
from genval.experiments._sweep_file import parse_sweep as parse_sweep
from genval.experiments._sweep_run import read_runs as read_runs
from genval.experiments._sweep_run import run_sweep as run_sweep
from genval.experiments._sweep_settings import COLUMNS as COLUMNS
from genval.experiments._sweep_settings import DEFAULTS as DEFAULTS
from genval.experiments._sweep_settings import MODEL_SETTINGS as MODEL_SETTINGS
from genval.experiments._sweep_settings import OLD_KEYS as OLD_KEYS
from genval.experiments._sweep_settings import RESULTS as RESULTS
from genval.experiments._sweep_settings import SETTINGS as SETTINGS
from genval.experiments._sweep_settings import Sweep as Sweep
from genval.experiments._sweep_settings import SweepConfigError as SweepConfigError
from genval.experiments._sweep_settings import run_key as run_key
from genval.experiments._sweep_summary import summarize as summarize

__all__: list[str] = []

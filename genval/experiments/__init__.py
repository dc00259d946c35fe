"""Stage 7, experiments: grids of training settings and denoising curves.

:func:`run_sweep` trains a grid of settings (TOML sweep files) and
:func:`denoise_report` measures a denoiser over noise levels.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "cached_denoiser": "._denoise",
    "denoise_report": "._denoise",
    "DenoiseExamples": "._denoise",
    "DENOISER": "._denoise",
    "DenoiseReport": "._denoise",
    "DenoiseResult": "._denoise",
    "make_denoiser": "._denoise",
    "bundled_sweeps": "._sweep_file",
    "curve_epochs": "._sweep_curves",
    "curve_layout": "._sweep_curves",
    "curves_path": "._sweep_curves",
    "MAX_POINTS": "._sweep_curves",
    "mean_curves": "._sweep_curves",
    "load_sweep": "._sweep_file",
    "MAX_RUNS": "._sweep_file",
    "OLD_KEYS": "._sweep_settings",
    "parse_sweep": "._sweep_file",
    "read_runs": "._sweep_run",
    "run_sweep": "._sweep_run",
    "SETTINGS": "._sweep_settings",
    "summarize": "._sweep_summary",
    "SWEEP_ALIASES": "._sweep_file",
    "Sweep": "._sweep_settings",
    "SweepConfigError": "._sweep_settings",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

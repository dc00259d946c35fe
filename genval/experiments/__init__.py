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
    "bundled_sweeps": "._sweep",
    "load_sweep": "._sweep",
    "MAX_RUNS": "._sweep",
    "OLD_KEYS": "._sweep",
    "parse_sweep": "._sweep",
    "read_runs": "._sweep",
    "run_sweep": "._sweep",
    "SETTINGS": "._sweep",
    "summarize": "._sweep",
    "Sweep": "._sweep",
    "SweepConfigError": "._sweep",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

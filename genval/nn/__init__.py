"""Stage 2, the network core: layers, code layers, penalties, losses, optimizers, one training loop.

Pure functions over arrays, in float32 or float64: an activation carries its
derivative and initialisation gain, a code layer (linear or Gaussian) and the
penalties (activity L1, KL sparsity, contractive) are small objects the network holds, and
:func:`train` is the one loop every estimator uses. Only the optimizer step
mutates parameters.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "ACTIVATIONS": "._activations",
    "LOSSES": "._activations",
    "make_activation": "._activations",
    "make_loss": "._activations",
    "ActivityL1": "._code_layers",
    "Contractive": "._code_layers",
    "GaussianCode": "._code_layers",
    "KLSparsity": "._code_layers",
    "LinearCode": "._code_layers",
    "Network": "._network",
    "Workspace": "._network",
    "make_optimizer": "._optimizers",
    "OPTIMIZERS": "._optimizers",
    "batch_rows": "._training",
    "check_memory": "._training",
    "Corruption": "._training",
    "train": "._training",
    "TRAINING_REVISION": "._training",
    "TrainingResult": "._training",
    "caught_stalls": "._stall",
    "STALL_RATIO": "._stall",
    "stall_reason": "._stall",
    "trivial_loss": "._stall",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

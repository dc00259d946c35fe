"""The autoencoders' parameters, each described once: kind, range or choices, meaning.

In the spirit of scikit-learn's ``_parameter_constraints``: one table,
:data:`PARAMS`, read by everything that checks a parameter, so that a range
is written once:

* ``fit`` (:func:`check_params`) holds the estimator's values to it;
* a model file (:func:`file_rule`) is held to it, with caps on the sizes a
  file may claim, since a file is untrusted input;
* a sweep file reads the same kinds and bounds for its settings;
* the CLI builds ``genval train``'s option types from it.

The names of activations, losses, optimizers and noises are resolved by their
factories (:func:`genval.nn.make_activation` and friends), whose errors list
the valid ones; fit leaves those names to them.

Examples
--------
>>> PARAMS["n_latent"].expected, PARAMS["dropout"].expected
('a positive integer', 'a number in [0, 1)')
>>> PARAMS["dropout"].accepts(0.5), PARAMS["dropout"].accepts(1.0), PARAMS["n_latent"].accepts(True)
(True, False, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from genval.data._noise import NOISES
from genval._utils.values import is_int, is_number
from genval.errors import ParameterError
from genval.nn._activations import ACTIVATIONS, LOSSES
from genval.nn._optimizers import OPTIMIZERS

__all__: list[str] = []

DTYPES = ("float32", "float64")
MAX_WIDTH = 2**24  # units in one layer a file may claim: a 4096 x 4096 bitmap
MAX_LAYERS = 32  # hidden layers of the encoder a file may claim
MAX_INT = 2**63 - 1
WIDTHS = f"[1, {MAX_WIDTH}]"


@dataclass(frozen=True)
class Param:
    """One estimator parameter: what values it takes and what it means.

    Attributes
    ----------
    kind : {"int", "number", "name", "widths", "levels", "options", "seed"}
        An integer, a real number, one of ``choices``, a sequence of layer
        widths, a sequence of noise levels in [0, 1], a dict of optimizer
        options, or a seed (an integer >= 0; a Generator in Python).
    meaning : str
        One line, as a person would explain it.
    low, high : float
        The range (``high`` None: unbounded); ``low_open``/``high_open``
        exclude the ends.
    none : bool
        Whether None (null in a file) is allowed.
    choices : tuple of str
        For ``kind="name"``.
    cap : int, optional
        The largest value (or, for a sequence, the longest) a model file may hold.
    setting : str
        How a sweep file describes it, where it says more than "a genval.Autoencoder parameter".
    """

    kind: str
    meaning: str
    low: float = 0
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none: bool = False
    choices: tuple[str, ...] = ()
    cap: int | None = None
    setting: str = ""

    def accepts(self, value) -> bool:
        """Whether ``value`` is in range (for a sequence: each of its items), in Python's types."""
        if value is None:
            return self.none
        if self.kind == "name":
            return value in self.choices  # fit has always taken a NumPy dtype equal to a name's
        if self.kind in ("widths", "levels"):
            item = Param("int" if self.kind == "widths" else "number", "", self.low, self.high)
            return isinstance(value, (tuple, list)) and all(item.accepts(v) for v in value)
        if self.kind == "options":
            return isinstance(value, dict)
        if self.kind in ("int", "seed"):
            return is_int(value, int(self.low), None if self.high is None else int(self.high))
        if not is_number(value, self.low, strict=self.low_open):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    @property
    def expected(self) -> str:
        """What a value must be, in a message: ``a positive integer``, ``None or a number in [0, 1)``."""
        return ("None or " if self.none else "") + self._phrase()

    def _phrase(self) -> str:
        if self.kind == "name":
            return f"one of {', '.join(self.choices)}"
        if self.kind == "widths":
            return "a tuple of positive layer widths"
        if self.kind == "levels":
            return "a tuple of numbers in [0, 1]"
        if self.kind == "options":
            return "a dict of optimizer options"
        if self.kind in ("int", "seed"):
            return "a positive integer" if self.low == 1 else f"an integer >= {self.low:g}"
        if self.high is not None:
            return f"a number in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        return "a positive number" if self.low_open and self.low == 0 else f"a number >= {self.low:g}"


def _name(choices, meaning: str, setting: str = "") -> Param:
    return Param("name", meaning, choices=tuple(choices), setting=setting)


_ACTIVATIONS = "sigmoid, tanh, relu, leaky_relu, elu or identity"
# The estimators' signature order. The sweep's descriptions are the wording sweep files' messages have always had.
PARAMS: dict[str, Param] = {
    "hidden": Param("widths", "encoder hidden layer widths; the decoder mirrors them", low=1, cap=MAX_LAYERS,
                    setting="encoder layer widths, a list of integers"),
    "n_latent": Param("int", "width of the latent space", low=1, cap=MAX_WIDTH,
                      setting="latent dimensions, an integer >= 1"),
    "activation": _name(ACTIVATIONS, "hidden activation", _ACTIVATIONS),
    "activation_param": Param("number", "tanh/sigmoid beta, leaky ReLU slope or ELU alpha", low_open=True, none=True,
                              setting="tanh/sigmoid beta, leaky slope or ELU alpha, a number > 0"),
    "output_activation": _name(ACTIVATIONS, "output activation; sigmoid keeps pixels in (0, 1)"),
    "loss": _name(LOSSES, "binary cross-entropy or squared error, per pixel", "bce or mse"),
    "optimizer": _name(OPTIMIZERS, "the optimizer", "gd, momentum, adaptive or adam"),
    "learning_rate": Param("number", "the optimizer's step size", low_open=True, setting="a number > 0"),
    "optimizer_options": Param("options", "extra optimizer settings, e.g. momentum", none=True,
                               setting="a table of optimizer options, e.g. {momentum = 0.7}"),
    "epochs": Param("int", "passes over the data (the most, when stopping early)", low=1, cap=MAX_INT,
                    setting="an integer >= 1"),
    "batch_size": Param("int", "mini-batch size; None: the full set", low=1, none=True, cap=MAX_INT,
                        setting="an integer >= 1 (omit for full batch)"),
    "stop_wrong_pixels": Param("int", "stop once every item is within this many wrong pixels", none=True, cap=MAX_INT,
                               setting="stop once every item is within this many wrong pixels, an integer >= 0"),
    "noise": _name(NOISES, "a denoising autoencoder's noise"),
    "noise_levels": Param("levels", "a denoiser's training noise levels", high=1, cap=64,
                          setting="a denoiser's training bit-flip levels, a list of numbers in [0, 1]"),
    "noise_copies": Param("int", "noisy copies of every item per level and epoch", low=1, cap=2**31 - 1),
    "activity_l1": Param("number", "weight of an L1 penalty on the code"),
    "contractive": Param("number", "weight of the contractive penalty"),
    "sparsity_target": Param("number", "target mean activation rho of each code unit (KL sparsity)", high=1,
                             low_open=True, high_open=True, setting="the KL sparsity's target rho, in (0, 1)"),
    "sparsity_weight": Param("number", "weight beta of the KL sparsity penalty on a sigmoid code",
                             setting="the KL sparsity's weight beta, a number >= 0 (0: off)"),
    "dropout": Param("number", "probability of dropping each hidden unit in training", high=1, high_open=True),
    "validation_fraction": Param("number", "share of the items held out to report a validation loss", high=1,
                                 high_open=True),
    "dtype": _name(DTYPES, "precision of the arithmetic"),
    "random_state": Param("seed", "seed of every random choice", none=True, cap=2**128, setting="an integer >= 0"),
    "code_activation": _name(ACTIVATIONS, "activation of the latent code"),
    "beta": Param("number", "weight of the VAE's KL term"),
}
# What fit checks here, in this order (the order of its messages); names are left to their factories.
_FIT_ORDER = ("hidden", "n_latent", "learning_rate", "epochs", "batch_size", "stop_wrong_pixels", "noise_copies",
              "activity_l1", "contractive", "sparsity_target", "sparsity_weight", "dropout", "validation_fraction", "dtype", "noise_levels")


def check_params(estimator) -> None:
    """Raise :class:`~genval.errors.ParameterError` naming the first parameter of ``estimator`` out of range.

    ``random_state`` may also be a Generator, which ``resolve_rng`` checks;
    ``beta`` is the VAE's, checked where its code layer is built.
    """
    for name in _FIT_ORDER:
        value = getattr(estimator, name)
        if not PARAMS[name].accepts(value):
            raise ParameterError(f"{name} must be {PARAMS[name].expected}, got {value!r}")
    seed, cap = estimator.random_state, PARAMS["random_state"].cap
    # Checked here, not as the parameter's range: the range would change every seed option's usage message.
    if is_int(seed) and seed > cap:
        raise ParameterError(f"random_state must be at most 2**128 (the largest seed a model file holds), got {seed}")


# ------------------------------------------------------------ model files: every value also capped in size


def _option_value(v) -> bool:
    return v is None or isinstance(v, bool) or is_number(v)


def file_rule(name: str) -> tuple[Callable, str]:
    """``(check, expected)`` for parameter ``name`` as a model file's JSON holds it (lists, null, caps).

    >>> check, expected = file_rule("hidden")
    >>> check([25, 15]), check((25, 15)), expected
    (True, False, 'a list of at most 32 layer widths in [1, 16777216]')
    """
    p = PARAMS[name]
    if p.kind == "widths":
        rule = ((lambda v: isinstance(v, list) and len(v) <= p.cap and all(is_int(h, 1, MAX_WIDTH) for h in v)),
                f"a list of at most {p.cap} layer widths in {WIDTHS}")
    elif p.kind == "levels":
        rule = ((lambda v: isinstance(v, list) and len(v) <= p.cap and p.accepts(v)),
                f"a list of at most {p.cap} numbers in [0, 1]")
    elif p.kind == "options":
        rule = ((lambda v: isinstance(v, dict) and len(v) <= 8 and all(_option_value(x) for x in v.values())),
                "an object of at most 8 numbers or booleans")
    elif p.kind in ("int", "seed"):
        low = int(p.low)
        rule = ((lambda v: is_int(v, low, p.cap)),
                f"an integer in {WIDTHS}" if p.cap == MAX_WIDTH else p._phrase())
    elif p.kind == "name":
        rule = (lambda v: isinstance(v, str) and v in p.choices), p._phrase()
    else:
        rule = (lambda v: v is not None and p.accepts(v)), p._phrase()
    if not p.none:
        return rule
    check, expected = rule
    return (lambda v: v is None or check(v)), "null or " + expected

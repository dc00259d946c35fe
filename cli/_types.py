"""The genval commands' option types: numbers that must be finite, lists, grids, shapes, files to write.

The estimator's options take their types from the parameter specification
(:func:`param_type`, :data:`genval.models._params.PARAMS`), so that
``genval train --dropout 1`` is refused by the same range ``fit`` holds.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import click

from genval._utils.files import read_only
from genval.latent._som_params import MAX_NEURONS
from genval.models._params import PARAMS


class NumberListType(click.ParamType):
    """Comma-separated numbers, each converted by ``cast`` and held to ``check``: ``25,15``."""

    def __init__(self, metavar: str, cast, kind: str, check, rule: str):
        self.name = metavar
        self.cast, self.kind, self.check, self.rule = cast, kind, check, rule

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        if str(value).strip() == "":
            return ()
        try:
            numbers = tuple(self.cast(p) for p in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of {self.kind}", param, ctx)
        if not all(self.check(x) for x in numbers):
            self.fail(f"{value!r}: {self.rule}", param, ctx)
        return numbers


class FiniteFloat(click.FloatRange):
    """A finite number, optionally within a range: ``nan`` and ``inf`` are refused as the option's value.

    click's ``FloatRange`` lets ``nan`` through (every comparison with it is
    false), and a ``nan`` threshold or rate silently makes a result
    impossible; no genval setting means anything at infinity either.
    """

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


# Layer widths and noise levels on the command line: comma-separated, each held to the specification's range.
_WIDTH, _LEVEL = PARAMS["hidden"], PARAMS["noise_levels"]
LAYER_WIDTHS = NumberListType("N,N,...", int, "positive integers (e.g. 25,15)", lambda w: w >= _WIDTH.low,
                              "every layer width must be at least 1")
NOISE_LEVELS = NumberListType("P,P,...", float, "numbers", lambda p: _LEVEL.low <= p <= _LEVEL.high,
                              "every level must be in [0, 1]")


def param_type(name: str) -> click.ParamType:
    """The click type of the estimator parameter ``name``: its range or choices, from the specification.

    >>> param_type("dropout")
    <FiniteFloat 0<=x<1>
    >>> param_type("loss").choices
    ('bce', 'mse')
    """
    p = PARAMS[name]
    if p.kind == "name":
        return click.Choice(list(p.choices))
    if p.kind in ("int", "seed"):
        return click.IntRange(min=int(p.low), max=None if p.high is None else int(p.high))
    if p.kind == "widths":
        return LAYER_WIDTHS
    if p.kind == "levels":
        return NOISE_LEVELS
    if p.kind == "number":
        return FiniteFloat(min=p.low, max=p.high, min_open=p.low_open, max_open=p.high_open)
    raise ValueError(f"{name} has no command-line form")


class GridType(click.ParamType):
    """``ROWSxCOLS``, both at least 1, at most ``limit`` cells in all: ``3x3``."""

    name = "ROWSxCOLS"

    def __init__(self, limit: int = MAX_NEURONS, what: str = "neurons"):
        self.limit, self.what = limit, what

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        m = re.fullmatch(r"\s*([0-9]+)\s*[xX]\s*([0-9]+)\s*", str(value))  # ASCII digits only
        if not m:
            self.fail(f"{value!r} is not a grid like 3x3 (rows x columns)", param, ctx)
        # int() of thousands of digits is slow (and refused past 4,300): a number that long is over the limit anyway.
        rows, cols = (int(g) if len(g) <= 18 else self.limit + 1 for g in m.groups())
        if rows < 1 or cols < 1:
            self.fail(f"{value!r}: a grid needs at least 1 row and 1 column", param, ctx)
        if rows * cols > self.limit:
            if max(map(len, m.groups())) > 18:
                self.fail(f"{value!r} has more {self.what} than the limit of {self.limit:,}", param, ctx)
            self.fail(f"{value!r} has {rows * cols:,} {self.what}, more than the limit of {self.limit:,}", param, ctx)
        return rows, cols


class OutputFile(click.Path):
    """A file to write, in a folder that exists and this user may write in (checked before any work starts)."""

    def __init__(self):
        super().__init__(dir_okay=False)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.endswith(("/", os.sep)):  # Path() would drop the slash
            self.fail(f"{value} names a folder; give a file name in it", param, ctx)
        path = super().convert(value, param, ctx)
        folder = Path(path).parent
        if not folder.is_dir():
            self.fail(f"cannot write {path}: the folder {folder} does not exist", param, ctx)
        if (reason := read_only(path)) is not None:
            self.fail(f"cannot write {path}: {reason}", param, ctx)
        if not os.access(folder, os.W_OK | os.X_OK):  # a shell's ">" fails here at once; the write would, after the work
            self.fail(f"cannot write {path}: Permission denied (the folder {folder} is read-only)", param, ctx)
        return path


class ShapeType(GridType):
    """``HEIGHTxWIDTH`` of an image, both at least 1: ``28x28``."""

    name = "HxW"

    def __init__(self):
        super().__init__(limit=2**31 - 1, what="pixels")

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"{value!r} is not an image shape like 28x28 (height x width, both at least 1)", param, ctx)



PICTURE_FORMATS = ("png", "svg", "pdf")  # genval.plotting.FIGURE_FORMATS, without importing matplotlib here


class PictureFile(OutputFile):
    """A picture to write: its suffix names its format (png, svg or pdf), checked before any work."""

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        if Path(path).suffix.lower().lstrip(".") not in PICTURE_FORMATS:
            self.fail(f"{value!r}: name the picture .png, .svg or .pdf (its suffix is its format)", param, ctx)
        return path


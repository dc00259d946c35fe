"""What the map commands share: their options, their checks, and the guard against oversized requests.

``som``, ``interpolate``, ``decode``, ``sample`` and ``grid`` (:mod:`.maps`),
``regions`` and ``explore`` take the same ``--rules`` and model options, and
refuse a request beyond the memory budget before anything trains.
"""

from __future__ import annotations

import functools
import re

import click

from ._common import any_data_option, dataset_option, model_option


QUOTING = """\b
Item names such as :] ;D :( hold characters shells treat specially: quote
them, e.g. genval interpolate ':]' ';D' (in cmd.exe: ":]" ";D")."""


rules_option = click.option(
    "--rules", type=click.Path(dir_okay=False), default=None, metavar="FILE.toml",
    help="Judge each sample by a rule file's checks (as `genval audit --rules`); default: the emoji rules for "
         "emojis, generic checks otherwise.")


def open_checks(space: dict, rules):
    """The set and its checks, before any model trains (a bad rule file fails first): ``space``
    with the set loaded, and the checks."""
    from genval.audit._judging import load_checks
    from genval.data._bitmaps import load_dataset

    bitmaps = load_dataset(space["dataset"])
    return dict(space, dataset=bitmaps), load_checks(bitmaps, rules)


# Bytes of Python objects per sample that sample and interpolate print or put in JSON (its record, verdict
# and text): measured 2.0 KB as text and 4.8 KB as JSON for a 35-pixel emoji, 5.2 KB for a 64-pixel digit;
# the bitmap's rows add about 16 bytes a pixel. A grid's tile holds no rows: 2.9 KB with --json.
_RECORD_BYTES = 5_000
_RECORD_BYTES_PER_PIXEL = 16
TILE_BYTES = 3_000


def refuse_oversize(n: int, bitmaps, what: str, record_bytes: int | None = None) -> None:
    """Refuse ``n`` decoded samples beyond the memory budget, with the estimate, before anything trains:
    their arrays and the table of records the command prints (``genval audit`` streams instead)."""
    from genval._utils.budget import check_allocation
    from genval.latent._space import point_bytes

    p = bitmaps.n_features
    record = _RECORD_BYTES + _RECORD_BYTES_PER_PIXEL * p if record_bytes is None else record_bytes
    # 2 latent dimensions, the fewest a picture takes: the model may not be loaded yet
    check_allocation(n * (point_bytes(p, 2) + record), f"{what} of {p} pixels and their table of verdicts")


def model_options(command):
    """The options that choose the set and the model, and nothing of the map: ``space``, the keywords of
    :func:`genval.pipeline.build_embedding`."""
    @functools.wraps(command)
    def wrapper(dataset, model, any_data, **kwargs):
        return command(space={"dataset": dataset, "model": model, "any_data": any_data}, **kwargs)

    wrapper = any_data_option(wrapper)
    wrapper = model_option(wrapper)
    return dataset_option()(wrapper)


_NEGATIVE = re.compile(r"-(\d|\.\d|inf|nan)", re.IGNORECASE)  # -1.5, -.5, -1e3; -inf, for FiniteFloat to refuse


class NegativeNumbersCommand(click.Command):
    """A command whose arguments may be negative numbers (``-1.5``), while a mistyped option is still
    "No such option" (click would take ``--jsn`` for an argument once unknown options are allowed)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        known = {name for param in self.get_params(ctx) for name in (*param.opts, *param.secondary_opts)}
        for arg in args:
            if arg == "--":
                break
            name = arg.split("=", 1)[0]
            if arg.startswith("-") and name not in known and not _NEGATIVE.match(arg):
                raise click.NoSuchOption(name, possibilities=sorted(known), ctx=ctx)
        return super().parse_args(ctx, args)

"""What the genval commands share: shared options, progress bars, renderers (and the option types of ._types).

Long option names are the library's parameter names (``--n-latent`` is
``n_latent``); the short forms people typed before stay as aliases
(``--latent``), listed beside them in ``--help``.
"""

from __future__ import annotations

import functools
import json
import sys
import warnings

import click

from genval.latent._som_params import NEIGHBORHOODS, TOPOLOGIES

# The option types live in ._types; every command imports them from here, as before.
from ._types import LAYER_WIDTHS as LAYER_WIDTHS
from ._types import NOISE_LEVELS as NOISE_LEVELS
from ._types import PICTURE_FORMATS as PICTURE_FORMATS
from ._output import unicode_document
from ._types import FiniteFloat, GridType, PictureFile, ShapeType, param_type
from ._types import NumberListType as NumberListType
from ._types import OutputFile as OutputFile

LOADER_OPTIONS = ("labels", "shape", "binarize", "limit", "shuffle")


def _flag_given(ctx, param, value):
    """None for a flag not given, so that a command without loader options loads its set as before."""
    return True if value else None


def loader_options(limit: bool = True):
    """``--labels``, ``--shape``, ``--binarize``, ``--limit`` and ``--shuffle``: the keywords of
    :func:`genval.load_dataset` (``limit=False``: all but ``--limit`` and ``--shuffle``, for a command whose own
    ``--limit`` says how many to show)."""
    options = [
        click.option("--labels", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                     help="Labels, one per item: an IDX labels file, a 1-D .npy (or FILE.npz:KEY) or one label a "
                          "line. Default: the MNIST labels file beside the images (train-labels-idx1-ubyte.gz), a "
                          ".npz's y_train beside x_train, a CSV label column, the sub-folders of an image folder."),
        click.option("--shape", type=ShapeType(), default=None, metavar="HxW",
                     help="Image shape of flat rows (.npy of (n, h*w), CSV), e.g. 28x28; default: square."),
        click.option("--binarize", type=FiniteFloat(min=0, max=1, max_open=True), default=None, metavar="T",
                     help="Threshold grey levels: a pixel above T is ink, the rest blank (default: keep grey)."),
        click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Load only the first N items, e.g. --limit 1000 (the rest of the file is not read where "
                          "the format allows); with --shuffle, N items drawn at random."),
        click.option("--shuffle", is_flag=True, default=False, callback=_flag_given,
                     help="Load the items in a random order, always the same one (seed 0, whatever --seed says); "
                          "with --limit N, N items drawn uniformly without replacement instead of the first N "
                          "(a sorted MNIST file gives every digit), each with its label, e.g. --limit 1000 "
                          "--shuffle. IDX, .npy/.npz, CSV files and image folders read only the drawn items."),
    ][:None if limit else -2]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


BUNDLED = ("emojis", "font", "digits")  # genval.data.BUNDLED_DATASETS, without importing the library here


def complete_dataset(ctx, param, incomplete: str):
    """TAB on --dataset: the bundled sets, then the files and folders of the shell."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(name) for name in BUNDLED if name.startswith(incomplete)] + \
        [CompletionItem(incomplete, type="file")]


def complete_item(ctx, param, incomplete: str):
    """TAB on an item name: the names of the chosen set (--dataset, given before the names, or emojis)."""
    from genval.data._bitmaps import load_dataset

    try:
        names = load_dataset(ctx.params.get("dataset") or "emojis").names
    except Exception:  # completion must never fail loudly; an unreadable set has no names to offer
        return []
    return [name for name in names if name.startswith(incomplete)]


def dataset_option(default: str = "emojis"):
    """``--dataset`` and the :func:`loader_options`. The command gets ``dataset``: the name or
    path as typed, or, when a loader option is given, the set loaded with them."""

    def decorate(command):
        command = loader_options()(command)
        command = click.option(
            "--dataset", "-d", default=default, show_default=True, metavar="NAME|PATH", shell_complete=complete_dataset,
            help="Bundled set (emojis, font, digits), a bitmap file or a folder of images: a C header (font.h or "
                 "font.h:Font2), a .txt bitmap file, IDX as MNIST ships (train-images-idx3-ubyte.gz), .npy or "
                 ".npz (mnist.npz:x_train), .csv (label,pixel0,...), or a folder of .png/.pgm images.",
        )(command)

        @functools.wraps(command)
        def wrapper(**kwargs):
            loader = {name: kwargs.pop(name) for name in LOADER_OPTIONS}
            if any(value is not None for value in loader.values()):
                from genval.data._bitmaps import load_dataset  # here: `genval --help` imports no library

                kwargs["dataset"] = load_dataset(kwargs["dataset"], **loader)
            return command(**kwargs)

        return wrapper

    return decorate


# numpy seeds are non-negative integers; a negative one would fail deep inside numpy without naming the option.
SEED = param_type("random_state")


def random_state_option(help_text: str = "Seed for every random choice."):
    return click.option("--random-state", "--seed", "random_state", default=0, show_default=True, type=SEED,
                        help=help_text)


def _set_quiet(ctx: click.Context, param, value: bool) -> None:
    if value:
        ctx.find_root().meta["genval.quiet"] = True
    _route_warnings(ctx)


def quiet() -> bool:
    """Whether ``--quiet`` asked for no progress bars and no notes (errors and genval's warnings still print)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().meta.get("genval.quiet"))


def _route_warnings(ctx: click.Context) -> None:
    """While the command runs, Python warnings (scikit-learn's ``ConvergenceWarning`` of a Gaussian mixture on
    duplicate codes, numpy's, a user model's) are notes: one line each, shown once, none with ``--quiet``.

    Python would print each as two lines, the library's file and line and then its source line, which reads
    like a traceback and is no use to someone at the terminal. Filters set by ``-W`` or
    ``PYTHONWARNINGS`` still apply first: ``-W error`` still raises.
    """
    root = ctx.find_root()
    if root.meta.get("genval.warnings") is not None:
        return
    shown = root.meta["genval.warnings"] = set()

    def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
        text = " ".join(str(message).split())
        # Read when warned, not when installed: --quiet may come after; a worker thread has no click context.
        if root.meta.get("genval.quiet") or (category, text) in shown:
            return
        shown.add((category, text))
        source = category.__module__.partition(".")[0]
        origin = "" if source == "builtins" else f" from {source}"
        click.echo(f"note: {category.__name__}{origin}: {text}", err=True)

    ctx.with_resource(warnings.catch_warnings())  # the filters and showwarning come back when the command ends
    warnings.showwarning = show_warning


quiet_option = click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=_set_quiet, is_eager=True,
                            help="No progress bars, notes or library warnings (such as scikit-learn's) on stderr; "
                                 "errors and genval's own warnings still print.")


def json_option(command):
    """``--json`` (one JSON document on stdout instead of text) and ``--quiet``/``-q`` (nothing on stderr but
    errors and warnings), the two options every command shares."""
    command = quiet_option(command)
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")(command)


plot_option = click.option("--plot", type=PictureFile(), default=None, metavar="FILE.png",
                           help="Also draw the result; .png, .svg or .pdf by the file's suffix.")


any_data_option = click.option(
    "--any-data", is_flag=True,
    help="Use --model with bitmaps of its size other than those it was trained on (refused by default: a genval "
         "model records a hash of its training pixels; a model made elsewhere records none and is not checked).")


MODEL_HELP = ("A model saved by `genval train --out` (.npz); an import path package.module:name of a fitted model "
              "or a zero-argument factory (the current folder is importable; any model with transform, "
              "inverse_transform and n_features_in_, such as a scikit-learn PCA); or an encoder and a decoder "
              "exported to ONNX, ENCODER.onnx,DECODER.onnx (pip install 'genval[onnx]'). A model made elsewhere "
              "has its decoded pixels clipped to [0, 1]. Default: the set's cached default model (trained on "
              "first use, random_state 0).")
model_option = click.option("--model", "-m", type=click.Path(dir_okay=False), default=None,
                            metavar="FILE|MODULE:NAME|ENC.onnx,DEC.onnx", help=MODEL_HELP)


MAP_SETTINGS = ("grid", "sigma", "som_learning_rate", "iterations", "topology", "neighborhood")


def space_options(command=None, *, sampling: bool = False):
    """The options that choose the set, the model and the map: ``space``, the keywords of
    :func:`genval.pipeline.build_space`.

    ``--map FILE`` loads a map saved by ``genval som --out`` instead of fitting one: the options
    that would set up the new map are then usage errors (``--random-state`` too, unless the command
    also samples with it: ``sampling``), not silently ignored.
    """
    if command is None:
        return functools.partial(space_options, sampling=sampling)
    seed_help = ("Seed of the map and of the sampling (with --map: of the sampling only)." if sampling else
                 "Seed of the map.")
    options = [
        model_option,
        click.option("--map", "som", type=click.Path(dir_okay=False), default=None, metavar="FILE.npz",
                     help="Use the map saved by `genval som --out FILE.npz` (made for this model and set) instead "
                          "of fitting one, so that every command sees the same neurons."),
        click.option("--grid", type=GridType(), default=None,
                     help="Map size, e.g. 3x3. Default: about 5*sqrt(n_items) neurons shaped like the codes."),
        click.option("--sigma", type=FiniteFloat(min=0, min_open=True), default=1.0, show_default=True,
                     help="Initial neighbourhood radius of the map (grid units)."),
        click.option("--som-learning-rate", "--som-lr", "som_learning_rate",
                     type=FiniteFloat(min=0, min_open=True), default=0.5, show_default=True,
                     help="Initial learning rate of the map (not the autoencoder's)."),
        click.option("--iterations", type=click.IntRange(min=1), default=None,
                     help="Map training steps; default 500 per neuron."),
        click.option("--topology", type=click.Choice(TOPOLOGIES), default="rectangular", show_default=True),
        click.option("--neighborhood", type=click.Choice(NEIGHBORHOODS), default="gaussian", show_default=True),
        random_state_option(seed_help),
        any_data_option,
    ]
    for option in reversed(options):
        command = option(command)
    names = ("dataset", "model", "som", *MAP_SETTINGS, "random_state", "any_data")
    fixed_by_a_map = MAP_SETTINGS if sampling else (*MAP_SETTINGS, "random_state")

    @functools.wraps(command)
    def wrapper(**kwargs):
        space = {name: kwargs.pop(name) for name in names}
        if space["som"] is not None:
            ctx = click.get_current_context()
            for param in ctx.command.params:
                if param.name in fixed_by_a_map and \
                        ctx.get_parameter_source(param.name) is not click.core.ParameterSource.DEFAULT:
                    raise click.UsageError(f"{param.opts[0]} sets up a new map, and --map {space['som']} is a "
                                           f"fitted one (with its own settings); leave out {param.opts[0]} or --map")
        return command(space=space, **kwargs)

    # Outermost, so that the set is loaded with the loader options before `space` is assembled.
    return dataset_option()(wrapper)


def emit_json(document) -> None:
    """One JSON document on stdout, always valid UTF-8 (see :func:`unicode_document`)."""
    click.echo(json.dumps(unicode_document(document), indent=2, ensure_ascii=False))


# The JSON vocabulary every command shares (README, "Scripting against the JSON"): `dataset` the set's
# title, `seed` the seed, `n` a count of samples, `model` the object below, a neuron the object below
# (1-based `number` as genval prints it, 0-based `row`/`col` as MiniSom indexes its grid), `checks` the
# object below.

def model_doc(model, file=None, kind: str | None = None) -> dict:
    """``model`` in a command's JSON: its file (or "default" for the set's cached default model; an import path or
    ``encoder.onnx,decoder.onnx`` as given), kind, layer sizes (none for a model whose layers genval cannot see)."""
    if kind is None:
        from genval.models._protocol import model_kind

        kind = model_kind(model)  # autoencoder, vae, or a model made elsewhere: pca, onnx, python
    return {"file": None if file is None else str(file), "kind": kind,
            "layer_sizes": [int(v) for v in getattr(model, "layer_sizes_", ())]}


def map_doc(som, file=None) -> dict:
    """``map`` in a command's JSON: the file it was read from or saved to (null: fitted for this run only),
    its grid and the seed it was fitted with."""
    seed = som.random_state if isinstance(som.random_state, int) else None
    return {"file": None if file is None else str(file), "grid": [int(g) for g in som.grid_], "seed": seed}


def neuron_doc(k: int, cols: int) -> dict:
    """A neuron in a command's JSON: ``number`` (1-based, as printed), ``row`` and ``col`` (0-based)."""
    return {"number": int(k) + 1, "row": int(k) // cols, "col": int(k) % cols}


def checks_doc(checks) -> dict:
    """``checks`` in a command's JSON: where they came from, and their names in order."""
    return {"title": checks.title, "names": list(checks.names)}


def note(message: str) -> None:
    """A message for the person at the terminal (stderr, so stdout stays data); none with ``--quiet``."""
    if not quiet():
        click.echo(message, err=True)


def save_plot(ax, path) -> None:
    from genval.plotting._base import save_figure

    save_figure(ax, path)
    note(f"wrote {path}")


def open_space(space: dict, **kwargs):
    """:func:`genval.pipeline.build_space` with a command's :func:`space_options` (and ``kwargs``),
    showing a note and a progress bar if a default model trains, and a bar while a big map fits."""
    from genval.pipeline import build_space  # here, so that commands without a latent space start faster

    dataset = space["dataset"]
    name = dataset if isinstance(dataset, str) else dataset.title
    with ProgressBar() as bar:
        def map_progress(done: int, passes: int) -> None:
            if done == 1:
                bar.start(passes, "fitting the map: batch passes")
            bar.advance(done)

        return build_space(**space, **kwargs, **training_callbacks(bar, name), map_progress=map_progress)


class ProgressBar:
    """Progress bars on stderr, fed by genval's progress callbacks; a context manager.

    :meth:`start` opens a bar (closing any open one); :meth:`epochs` is a
    ``progress(epochs_done, loss)`` callback for training, :meth:`points` a
    ``progress(done, total)`` one that opens its bar on the first call.
    """

    def __init__(self, label: str = ""):
        self.label = label
        self._bar = None
        self._done = 0
        self._info = None

    def start(self, total: int, label: str | None = None) -> None:
        self.close()
        if quiet():
            return
        self._bar = click.progressbar(length=total, label=label or self.label, file=sys.stderr, show_eta=False,
                                      item_show_func=lambda _: self._info)
        self._bar.__enter__()
        self._done, self._info = 0, None

    def advance(self, done: int, info: str | None = None) -> None:
        if self._bar is None:
            return
        self._info = info
        self._bar.update(max(0, done - self._done), current_item=done)
        self._done = max(self._done, done)

    def epochs(self, done: int, loss: float) -> None:
        self.advance(done, f"loss {loss:.4g}")

    def points(self, done: int, total: int) -> None:
        if self._bar is None:
            self.start(total)
        self.advance(done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()  # on errors too, so the message starts on a fresh line


def training_callbacks(bar: ProgressBar, dataset: str) -> dict:
    """``on_train`` and ``progress`` for :func:`genval.pipeline.build_space`: a note and a bar per default model."""

    def on_train(path, model) -> None:
        what = type(model).__name__
        note(f"first use of {dataset}: training its default {what} "
             + (f"(cached as {path})" if path is not None else "(not cached)"))
        bar.start(model.epochs, f"training the default {dataset} {what}: epochs")

    return {"on_train": on_train, "progress": bar.epochs}


def strip(blocks: list[list[str]], labels: list[str], gap: str = "  ") -> list[str]:
    """Bitmaps side by side, each under its label, as text lines."""
    widths = [max(len(b[0]), len(lab)) for b, lab in zip(blocks, labels)]
    lines = [gap.join(lab.ljust(w) for lab, w in zip(labels, widths)).rstrip()]
    for r in range(len(blocks[0])):
        lines.append(gap.join(b[r].ljust(w) for b, w in zip(blocks, widths)).rstrip())
    return lines


def wrap_strip(blocks: list[list[str]], labels: list[str], per_line: int = 12) -> list[str]:
    """:func:`strip` in rows of at most ``per_line`` bitmaps, a blank line between rows."""
    out: list[str] = []
    for s in range(0, len(blocks), per_line):
        if out:
            out.append("")
        out.extend(strip(blocks[s:s + per_line], labels[s:s + per_line]))
    return out

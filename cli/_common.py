"""What every genval command shares: option types, shared options, error handling."""

from __future__ import annotations

import functools
import json
import sys

import click

from genval.errors import GenvalError


class IntListType(click.ParamType):
    """Comma-separated positive integers: ``25,15``."""

    name = "N,N,..."

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = str(value).split(",")
        if str(value).strip() == "":
            return ()
        try:
            widths = tuple(int(p) for p in parts)
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of positive integers (e.g. 25,15)", param, ctx)
        if any(w < 1 for w in widths):
            self.fail(f"{value!r}: every layer width must be at least 1", param, ctx)
        return widths


def dataset_option(default: str = "emojis"):
    return click.option(
        "--dataset", "-d", default=default, show_default=True, metavar="NAME|PATH",
        help="Bundled set (emojis, font, digits), a C header (font.h or font.h:Font2) or a .txt bitmap file.",
    )


def seed_option(help_text: str = "Seed for every random choice."):
    return click.option("--seed", default=0, show_default=True, type=int, help=help_text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")


def library_errors(command):
    """Turn genval's (and the OS's) errors into one-line messages with exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (GenvalError, ValueError, KeyError, OSError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            raise click.ClickException(str(message)) from None

    return wrapper


def emit_json(document) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def note(message: str) -> None:
    """A message for the person at the terminal (stderr, so stdout stays data)."""
    click.echo(message, err=True)


class Progress:
    """A click progress bar on stderr fed by a library ``progress(done, loss)`` callback."""

    def __init__(self, total: int, label: str):
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr,
                                     show_eta=False, item_show_func=self._show)
        self.done = 0
        self.loss = None

    def _show(self, _item):
        return None if self.loss is None else f"loss {self.loss:.4g}"

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def __call__(self, done: int, loss: float) -> None:
        self.loss = loss
        self.bar.update(max(0, done - self.done), current_item=done)
        self.done = max(self.done, done)

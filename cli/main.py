"""The ``genval`` command group.

Each command lives in a module of its own, imported only when that command
runs: ``genval --help`` and shell completion of command names read the table
below and import nothing but click (the library takes most of a second to
import, and a shell's TAB pays for it on every key).
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

import click

from genval import __version__
from genval.errors import GenvalError

# name: (module in genval.cli, function, short help). A test holds each short
# help to the first line of the command's docstring.
COMMANDS = {
    "som": ("maps", "som", "Cluster the items' latent codes with a Kohonen map and list each neuron's items."),
    "interpolate": ("maps", "interpolate", "Walk from item START to item STOP in the latent space and decode what "
                                           "lies between."),
    "decode": ("maps", "decode", "Decode one latent point (X, Y): what does the model draw there?"),
    "sample": ("maps", "sample", "Decode random latent points and say what each looks like and resembles."),
    "grid": ("maps", "grid", "Draw the decoded latent plane: a SIZE x SIZE mosaic over the codes' box, items "
                             "overlaid."),
    "regions": ("regions", "regions", "Census the latent plane: every distinct decoded bitmap, its area and its verdict."),
    "explore": ("explore", "explore", "Write the latent plane as one HTML page: point at it to see what the decoder "
                                      "draws and the verdict."),
    "audit": ("audit", "audit",
              "Decode many latent points, judge each, and report what is new apart from what is copied."),
    "train": ("train", "train", "Train an autoencoder on a bitmap set and report its reconstructions."),
    "denoise": ("denoise", "denoise", "Train (or load) a denoising autoencoder and measure how often it restores "
                                      "noisy items."),
    "sweep": ("sweep", "sweep", "Train a grid of settings and tabulate the results, mean ± spread over seeds."),
    "show": ("datasets", "show", "Print the items of a bitmap set as rows of '#' and '.'."),
    "cache": ("cache", "cache", "List, clear or locate the models genval trained and cached."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, and which reports genval's errors.

    A :class:`~genval.errors.GenvalError` or a file-system error becomes a
    one-line message and exit code 1; any other exception is a bug and keeps
    its traceback.
    """

    def __init__(self, *args, lazy_commands: dict[str, tuple[str, str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *self.lazy_commands]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands or name not in self.lazy_commands:
            return super().get_command(ctx, name)
        module, attribute, _ = self.lazy_commands[name]
        command = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
        self.add_command(command, name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table, without importing any command."""
        limit = formatter.width - 6 - max(len(name) for name in self.lazy_commands)
        # A bare Command shortens the table's text to the width as click does for a real one.
        rows = [(name, click.Command(name, help=help_text).get_short_help_str(limit))
                for name, (_, _, help_text) in self.lazy_commands.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str):
        """Command names from the table (importing none), then the group's own options."""
        from click.shell_completion import CompletionItem

        names = [CompletionItem(name, help=help_text) for name, (_, _, help_text) in self.lazy_commands.items()
                 if name.startswith(incomplete)]
        return names + click.Command.shell_complete(self, ctx, incomplete)

    def invoke(self, ctx: click.Context):
        (_output := importlib.import_module(f"{__package__}._output")).escape_names_on_output()  # names as \xNN
        try:
            return super().invoke(ctx)
        except GenvalError as exc:
            raise click.ClickException(_output.one_line(str(exc))) from None
        except KeyboardInterrupt:
            # One line, and the shell's convention for a run ended by SIGINT (128 + 2).
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # `genval ... | head`: the reader has all it wanted
                _silence_stdout()
                raise click.exceptions.Exit(0) from None
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(_output.one_line(f"{where}{exc.strerror or exc}")) from None


INTERRUPTED = 130


def _silence_stdout() -> None:
    """Point stdout at the null device, as the Python docs advise after a ``BrokenPipeError``.

    Whatever is still buffered would otherwise fail again when Python flushes
    stdout at exit and print "Exception ignored ... Broken pipe".
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's capture): nothing to flush
        pass


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="genval")
def cli():
    """genval: is what an autoencoder generates a valid member of the set it learned?

    Train small autoencoders on bitmap sets (a 5x7 font, 5x7 emojis, your own
    C headers or text files), embed each item in a 2-D latent space, cluster
    the codes with a Kohonen map and look at what the decoder makes of the
    space between items.

    \b
    Examples:
      genval som --grid 3x3            which emojis share a neuron
      genval interpolate ':]' ';D'     decode the line between two of them
      genval audit --compare           how often what it decodes is a valid emoji

    \b
    Long options are the library's parameter names; the short forms stay:
      --n-latent (--latent)        --learning-rate (--lr)
      --random-state (--seed)      --stop-wrong-pixels (--stop-wrong)

    Run `genval COMMAND --help` for each command's options.
    """


def main() -> None:
    """The console script: the group, plus the interrupts and closed pipes that arrive outside a command."""
    try:
        cli(prog_name="genval")
    except KeyboardInterrupt:  # during start-up, before a command runs
        click.echo("\ninterrupted", err=True)
        sys.exit(INTERRUPTED)
    except BrokenPipeError:  # the last flush, after the command
        _silence_stdout()
        sys.exit(0)

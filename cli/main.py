"""The ``genval`` command group; each command lives in a module of its own."""

from __future__ import annotations

import click

from genval import __version__

from .audit import audit_command
from .datasets import show
from .denoise import denoise
from .maps import decode, grid, interpolate, sample, som
from .sweep import sweep
from .train import train


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="genval")
def cli():
    """genval: is what an autoencoder generates a valid member of the set it learned?

    Train small autoencoders on bitmap sets (a 5x7 font, 5x7 emojis, your own
    C headers or text files), embed each item in a 2-D latent space, cluster
    the codes with a Kohonen map and look at what the decoder makes of the
    space between items.

    \b
    Start here:
      genval som --grid 3x3            which emojis share a neuron
      genval interpolate ':]' ';D'     decode the line between two of them
      genval audit --compare           how often what it decodes is a valid emoji

    Run `genval COMMAND --help` for each command's options.
    """


for command in (som, interpolate, decode, sample, grid, train, denoise, sweep, show):
    cli.add_command(command)
cli.add_command(audit_command, name="audit")


def main() -> None:
    cli(prog_name="genval")

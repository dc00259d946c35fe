"""What the tests of the map commands share: a click runner and a command run through it."""

import pytest
from click.testing import CliRunner

from genval.cli.main import cli


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, list(args), catch_exceptions=False)

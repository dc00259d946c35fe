"""The docstring examples of the folders that install under another name.

pytest's ``--doctest-modules`` (see setup.cfg) runs the examples of genval/.
cli/ and datasets/ are installed as ``genval.cli`` and ``genval.datasets``;
collected from their folders, pytest would import them as top-level ``cli``
and ``datasets`` packages, so their examples run here, on the modules as
genval imports them.
"""

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("genval.cli", "genval.datasets")


def modules():
    for package in PACKAGES:
        yield package
        path = importlib.import_module(package).__path__
        yield from (f"{package}.{info.name}" for info in pkgutil.iter_modules(path))


@pytest.mark.parametrize("name", sorted(modules()))
def test_docstring_examples(name, request):
    module = importlib.import_module(name)
    flags = 0
    for flag in request.config.getini("doctest_optionflags"):
        flags |= doctest.OPTIONFLAGS_BY_NAME[flag]
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=flags)
    report = []
    for test in finder.find(module, name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_every_folder_module_is_found():
    found = set(modules())
    assert {"genval.cli", "genval.cli.main", "genval.datasets"} <= found

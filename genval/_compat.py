"""The module paths of genval 0.2.0, kept as deprecated aliases of where their code now lives.

0.2.0 was a flat package (``genval.walks``, ``genval.bitmaps``, ...); it now has
one subpackage per pipeline stage. ``import genval.walks`` (or ``from
genval.walks import walk``) still works: it gives a module that looks each name
up in the modules that now hold it, and warns once with a
``DeprecationWarning`` naming the new place. ``genval.audit`` and
``genval.plotting`` kept their names (they became packages) and need no alias.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

# 0.2.0 module -> the modules that hold its names now, the first public one named in the warning.
MOVED = {
    "genval.activations": ("genval.nn._activations",),
    "genval.autoencoder": ("genval.models._autoencoder",),
    "genval.bitmaps": ("genval.data._bitmaps",),
    "genval.cache": ("genval.models._cache",),
    "genval.classifier": ("genval.checks._classifier",),
    "genval.controls": ("genval.audit._controls",),
    "genval.denoise": ("genval.experiments._denoise",),
    "genval.explore": ("genval.pages._explore",),
    "genval.external": ("genval.models._external",),
    "genval.formats": ("genval.data._formats",),
    "genval.headers": ("genval.data._headers",),
    "genval.images": ("genval.data._images",),
    "genval.membership": ("genval.checks._membership",),
    "genval.network": ("genval.nn._network",),
    "genval.noise": ("genval.data._noise",),
    "genval.nullmodel": ("genval.checks._nullmodel",),
    "genval.optimizers": ("genval.nn._optimizers",),
    "genval.protocol": ("genval.models._protocol",),
    "genval.regions": ("genval.latent._regions",),
    "genval.rules": ("genval.checks._rules",),
    "genval.som": ("genval.latent._som",),
    "genval.sweep": ("genval.experiments._sweep",),
    "genval.training": ("genval.nn._training",),
    "genval.validity": ("genval.checks._validity",),
    "genval.walks": ("genval.latent._space", "genval.pipeline"),
}


def _public(module: str) -> str:
    """``genval.latent._space`` -> ``genval.latent``: the package that re-exports it."""
    head, _, tail = module.rpartition(".")
    return head if tail.startswith("_") else module


class _Alias(types.ModuleType):
    """A 0.2.0 module: every attribute is looked up in the modules that hold it now."""

    def __getattr__(self, name: str):
        for target in MOVED[self.__name__]:
            module = importlib.import_module(target)
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted({n for t in MOVED[self.__name__] for n in dir(importlib.import_module(t))})


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``genval.walks`` and the other 0.2.0 paths, and makes their aliases."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return _Alias(spec.name)

    def exec_module(self, module):
        where = " and ".join(dict.fromkeys(_public(t) for t in MOVED[module.__name__]))
        warnings.warn(f"{module.__name__} has moved: import from {where} (or from genval itself)",
                      DeprecationWarning, stacklevel=2)


def install_moved_modules() -> None:
    """Put the finder of 0.2.0's module paths on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())

"""The module paths of genval 0.2.0, kept as deprecated aliases of where their code now lives.

0.2.0 was a flat package (``genval.walks``, ``genval.bitmaps``, ...); it now has
one subpackage per pipeline stage. ``import genval.walks`` (or ``from
genval.walks import walk``) still works: it gives a module that looks each name
up in the stages that now hold it (their public names, then the modules behind
them), and warns once with a
``DeprecationWarning`` naming the new place. ``genval.audit`` and
``genval.plotting`` kept their names (they became packages) and need no alias.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import pkgutil
import sys
import types
import warnings

# 0.2.0 module -> the stages that hold its names now.
MOVED = {
    "genval.activations": ("genval.nn",),
    "genval.autoencoder": ("genval.models",),
    "genval.bitmaps": ("genval.data",),
    "genval.cache": ("genval.models",),
    "genval.classifier": ("genval.checks",),
    "genval.controls": ("genval.audit",),
    "genval.denoise": ("genval.experiments",),
    "genval.explore": ("genval.pages",),
    "genval.external": ("genval.models",),
    "genval.formats": ("genval.data",),
    "genval.headers": ("genval.data",),
    "genval.images": ("genval.data",),
    "genval.membership": ("genval.checks",),
    "genval.network": ("genval.nn",),
    "genval.noise": ("genval.data",),
    "genval.nullmodel": ("genval.checks",),
    "genval.optimizers": ("genval.nn",),
    "genval.protocol": ("genval.models",),
    "genval.regions": ("genval.latent",),
    "genval.rules": ("genval.checks",),
    "genval.som": ("genval.latent",),
    "genval.sweep": ("genval.experiments",),
    "genval.training": ("genval.nn",),
    "genval.validity": ("genval.checks",),
    "genval.walks": ("genval.latent", "genval.pipeline"),
}

# Names renamed with the move: (0.2.0 module, old name) -> (module, new name).
RENAMED = {("genval.formats", "read_text_file"): ("genval.data._formats", "read_bitmap_text")}


def _lookup(target: str, name: str):
    """``name`` from a stage's public names, else from the module of the stage that defines it."""
    module = importlib.import_module(target)
    if name in getattr(module, "__all__", ()) or not hasattr(module, "__path__"):
        return getattr(module, name)
    # The module that defines it (a constant has no __module__: the module holding it), else any that imports it.
    holders = [vars(importlib.import_module(info.name))
               for info in pkgutil.iter_modules(module.__path__, prefix=target + ".")]
    found = sorted((h for h in holders if name in h),
                   key=lambda h: getattr(h[name], "__module__", h["__name__"]) != h["__name__"])
    if found:
        return found[0][name]
    raise AttributeError(name)


class _Alias(types.ModuleType):
    """A 0.2.0 module: every attribute is looked up in the stages that hold it now."""

    def __getattr__(self, name: str):
        if (self.__name__, name) in RENAMED:
            module, new = RENAMED[self.__name__, name]
            return getattr(importlib.import_module(module), new)
        if not name.startswith("__"):
            for target in MOVED[self.__name__]:
                try:
                    return _lookup(target, name)
                except AttributeError:
                    continue
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``genval.walks`` and the other 0.2.0 paths, and makes their aliases."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return _Alias(spec.name)

    def exec_module(self, module):
        where = " and ".join(MOVED[module.__name__])
        warnings.warn(f"{module.__name__} has moved: import from {where} (or from genval itself)",
                      DeprecationWarning, stacklevel=2)


def install_moved_modules() -> None:
    """Put the finder of 0.2.0's module paths on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())

"""Public names imported on first use (PEP 562), so ``import genval`` stays fast.

Each package's ``__init__`` lists its public names and the private module that
defines each; :func:`lazy_exports` gives it the module-level ``__getattr__``
and ``__dir__`` that import a module only when one of its names is asked for.
scikit-learn, scipy, matplotlib and MiniSom therefore load only when something
needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str],
                 namespace: dict) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose names live in ``exports``' modules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Public name -> the module that defines it (absolute, or relative to
        ``package`` when it starts with a dot).
    namespace : dict
        The package's ``globals()``: a name, once imported, is kept there.

    Examples
    --------
    >>> import types
    >>> ns = {}
    >>> getattr_, dir_ = lazy_exports("genval", {"sqrt": "math"}, ns)
    >>> getattr_("sqrt")(9.0), "sqrt" in ns, "sqrt" in dir_()
    (3.0, True, True)
    """
    def __getattr__(name: str):
        module = exports.get(name)
        if module is None and name.startswith("__"):  # the import system asks for __path__, __wrapped__, ...
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if module is None:
            try:  # a subpackage or module, as genval.data
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        else:
            value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__

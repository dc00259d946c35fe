"""Models from anywhere: a genval file, a Python import path, an ONNX encoder/decoder pair, a PCA baseline.

:func:`open_model` reads what ``--model`` names and returns a
:class:`~genval.models.LatentModel`:

* ``model.npz``: a model saved by genval (:func:`genval.models.load_model`);
* ``package.module:name``: a fitted model in a module, or a zero-argument
  factory that returns one, as uvicorn and gunicorn name an app; the current
  folder is importable, so ``mymodels.py`` beside you is ``mymodels:vae``.
  ``name`` may be dotted (``mymodels:zoo.small``);
* ``encoder.onnx,decoder.onnx``: a model exported to ONNX as two graphs, run
  by onnxruntime (the optional extra ``genval[onnx]``): :class:`OnnxModel`.

:func:`pca_model` fits the baseline every comparison can hold beside an
autoencoder: scikit-learn's PCA, a linear autoencoder of the same latent
width. Every model made elsewhere is held to the protocol by
:class:`~genval.models.ForeignModel`: its decoded pixels are clipped to
[0, 1].
"""

from __future__ import annotations

import importlib
import math
import os
import re
import sys
from pathlib import Path

import numpy as np

from genval._utils.budget import chunk_rows
from genval.models._autoencoder import load_model
from genval.errors import ModelFileError, ParameterError
from genval.models._protocol import ForeignModel, LatentModel, as_latent_model, missing

__all__ = ["ONNX_EXTRA", "OnnxModel", "import_model", "open_model", "pca_model", "spec_kind"]

ONNX_EXTRA = "pip install 'genval[onnx]'"
_IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# Files people save models in that genval does not read, and what to do instead.
_FOREIGN_FILES = {".pkl": "a pickle", ".pickle": "a pickle", ".joblib": "a joblib pickle", ".pt": "a PyTorch file",
                  ".pth": "a PyTorch file", ".keras": "a Keras file", ".h5": "an HDF5 (Keras) file"}


def spec_kind(spec: str | os.PathLike) -> str:
    """What a ``--model`` value names: ``"onnx"`` (two files and a comma), ``"python"`` (an import path of a
    module that is not a file here) or ``"file"``.

    >>> spec_kind("enc.onnx,dec.onnx"), spec_kind("mymodels:vae"), spec_kind("font.npz")
    ('onnx', 'python', 'file')
    """
    text = os.fspath(spec)
    if "," in text:
        return "onnx"
    if _IMPORT_PATH.fullmatch(text) and not os.path.exists(text):
        return "python"
    return "file"


def open_model(spec: str | os.PathLike) -> LatentModel:
    """The model a ``--model`` value names (see the module's docstring for the three forms).

    Raises
    ------
    ModelFileError
        For a missing or unreadable file, an ONNX file given alone, a module
        or name that cannot be imported, a factory that fails, or ONNX
        without onnxruntime installed (the message names the extra).
    NotAModelError
        For an imported object that lacks the model protocol.

    Examples
    --------
    >>> open_model("pca.pkl")
    Traceback (most recent call last):
    ...
    genval.errors.ModelFileError: pca.pkl is a pickle, which genval does not read (unpickling runs code); ...
    """
    text = os.fspath(spec)
    kind = spec_kind(text)
    if kind == "onnx":
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2 or not all(parts):
            raise ModelFileError(f"{text!r}: an ONNX model is two files, the encoder's and the decoder's: "
                                 "encoder.onnx,decoder.onnx")
        return as_latent_model(OnnxModel(*parts), kind="onnx")
    if kind == "python":
        return import_model(text)
    suffix = Path(text).suffix.lower()
    if suffix == ".onnx":
        raise ModelFileError(f"{text}: an ONNX model is two files, the encoder's and the decoder's: give both, "
                             f"{text},decoder.onnx")
    if suffix in _FOREIGN_FILES:
        raise ModelFileError(f"{text} is {_FOREIGN_FILES[suffix]}, which genval does not read (unpickling runs "
                             "code); load the model in a module and name it, --model mymodels:model, or export it "
                             "to ONNX, --model encoder.onnx,decoder.onnx")
    return load_model(text)


def import_model(spec: str) -> LatentModel:
    """The model an import path ``package.module:name`` names, importing from the current folder too.

    ``name`` is a fitted model, or a zero-argument factory (a function or a
    class) that returns one; it may be dotted (``module:obj.attr``).

    Raises
    ------
    ModelFileError
        When the module cannot be imported (or raises while it is), the name
        is not in it, or calling the factory raises.
    NotAModelError
        When what it names (or returns) lacks the model protocol.
    ParameterError
        When it is an estimator that was never fitted.
    """
    module_name, _, attribute = spec.partition(":")
    if not _IMPORT_PATH.fullmatch(spec):
        raise ModelFileError(f"{spec!r} is not an import path like package.module:name")
    here = os.getcwd()
    added = here not in sys.path
    if added:  # as uvicorn does: the folder you run genval from is importable
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise ModelFileError(f"--model {spec}: no module named {exc.name!r} in the current folder ({here}) or "
                                 "the installed packages") from None
        raise ModelFileError(f"--model {spec}: importing {module_name} failed: {_one_line(exc)}") from None
    except Exception as exc:  # the user's module: whatever it raises is reported in one line
        raise ModelFileError(f"--model {spec}: importing {module_name} failed: {_one_line(exc)}") from None
    finally:
        if added:
            sys.path.remove(here)
    found = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ModelFileError(f"--model {spec}: {module_name} has no {attribute!r} (it defines "
                                 f"{', '.join(_public_names(module)) or 'nothing public'})")
        found = getattr(found, part)
    if missing(found) and callable(found):  # a factory, or a class to instantiate with no arguments
        try:
            found = found()
        except Exception as exc:
            raise ModelFileError(f"--model {spec}: calling {attribute}() failed: {_one_line(exc)}") from None
    return as_latent_model(found)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _public_names(module) -> list[str]:
    return sorted(name for name in vars(module) if not name.startswith("_"))[:12]


def pca_model(X, n_latent: int) -> LatentModel:
    """scikit-learn's PCA with ``n_latent`` components fitted on ``X``: the linear autoencoder baseline.

    Deterministic (the full SVD). Its ``inverse_transform`` is unbounded, so
    its decoded pixels are clipped to [0, 1] (:class:`~genval.models.ForeignModel`).

    Parameters
    ----------
    X : array-like (n_items, n_features) or BitmapSet
    n_latent : int
        The code width; at most ``min(n_items, n_features)``.

    Raises
    ------
    ParameterError
        For a width below 1 or above ``min(n_items, n_features)``.

    Examples
    --------
    >>> from genval import load_dataset
    >>> model = pca_model(load_dataset("emojis"), 2)
    >>> model.kind, model.n_latent, model.layer_sizes_
    ('pca', 2, (35, 2, 35))
    """
    from sklearn.decomposition import PCA

    X = np.asarray(getattr(X, "X", X), dtype=float)
    most = min(X.shape)
    if not isinstance(n_latent, (int, np.integer)) or not 1 <= n_latent <= most:
        raise ParameterError(f"a PCA of {X.shape[0]} items of {X.shape[1]} pixels takes 1 to {most} components, "
                             f"got {n_latent!r}")
    return ForeignModel(PCA(n_components=int(n_latent), svd_solver="full").fit(X), "pca")


# ------------------------------------------------------------------ ONNX

_ONNX_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16}


class OnnxModel:
    """An encoder and a decoder exported to ONNX, run by onnxruntime: a :class:`~genval.models.LatentModel`.

    Each graph takes one input and its first output is the result: the
    encoder maps pixels ``(n, n_features)`` (or images ``(n, 1, h, w)``:
    the flat rows are reshaped to the input's shape) to codes; for a VAE
    export the encoder's first output is the code, its mean. The decoder maps
    codes to pixels in [0, 1] (a sigmoid at its end). A graph exported with a
    fixed batch size is run that many rows at a time.

    Parameters
    ----------
    encoder, decoder : path
        The two ``.onnx`` files.

    Attributes
    ----------
    n_features_in_ : int
        Pixels per item, from the encoder's input shape (or the decoder's output).
    n_latent : int
        The code width, from the decoder's input shape (or the encoder's output).

    Raises
    ------
    ModelFileError
        When onnxruntime is not installed (``pip install 'genval[onnx]'``), a
        file is missing or not a readable ONNX graph, or the graphs' shapes
        do not fit together or leave the pixel count or code width unknown.
    """

    def __init__(self, encoder: str | os.PathLike, decoder: str | os.PathLike):
        self.encoder, self.decoder = os.fspath(encoder), os.fspath(decoder)
        self._encoder = _session(self.encoder)
        self._decoder = _session(self.decoder)
        self._enc_in, self._enc_out = _only_input(self._encoder, self.encoder), self._encoder.get_outputs()[0]
        self._dec_in, self._dec_out = _only_input(self._decoder, self.decoder), self._decoder.get_outputs()[0]
        self.n_features_in_ = _width(self._enc_in.shape) or _width(self._dec_out.shape)
        self.n_latent = _width(self._dec_in.shape) or _width(self._enc_out.shape)
        for name, value, what in (("n_features_in_", self.n_features_in_, "pixels per item"),
                                  ("n_latent", self.n_latent, "the code width")):
            if value is None:
                raise ModelFileError(f"{self.encoder},{self.decoder}: the graphs leave {what} unknown (a dynamic "
                                     "dimension besides the batch); export them with a fixed shape but the batch's")
        for path, node, width, what in ((self.encoder, self._enc_out, self.n_latent, "codes"),
                                        (self.decoder, self._dec_out, self.n_features_in_, "pixels")):
            found = _width(node.shape)
            if found is not None and found != width:
                raise ModelFileError(f"{path} puts out {found} values per item; expected {width} {what} "
                                     "(are the encoder and the decoder from one model, in that order?)")

    def transform(self, X) -> np.ndarray:
        """Codes of ``X`` ``(n, n_features)``: the encoder's first output, ``(n, n_latent)``."""
        return _run(self._encoder, self._enc_in, np.asarray(X), self.n_latent)

    def inverse_transform(self, Z) -> np.ndarray:
        """Pixels of the codes ``Z`` ``(n, n_latent)``: the decoder's first output, ``(n, n_features)``."""
        return _run(self._decoder, self._dec_in, np.asarray(Z), self.n_features_in_)

    def __repr__(self) -> str:
        return f"OnnxModel({self.encoder!r}, {self.decoder!r})"


def _session(path: str):
    try:
        import onnxruntime
    except ImportError:
        raise ModelFileError(f"running ONNX models ({path}) needs onnxruntime, genval's optional extra onnx: "
                             f"{ONNX_EXTRA}") from None
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: no such ONNX file")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings would break the CLI's one-line messages
    try:
        return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for a broken graph
        raise ModelFileError(f"{path} is not a readable ONNX graph: {_one_line(exc)}") from None


def _only_input(session, path: str):
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ModelFileError(f"{path} takes {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); genval "
                             "feeds one: pixels to the encoder, codes to the decoder")
    if inputs[0].type not in _ONNX_TYPES:
        raise ModelFileError(f"{path} takes {inputs[0].type}; expected a float tensor")
    return inputs[0]


def _width(shape) -> int | None:
    """Values per item of a graph's shape ``[batch, ...]``, or None when a dimension besides the batch is dynamic."""
    rest = list(shape)[1:]
    if not rest or not all(isinstance(d, int) and d > 0 for d in rest):
        return None
    return math.prod(rest)


def _run(session, node, rows: np.ndarray, width: int) -> np.ndarray:
    """The graph's first output for ``rows``, a fixed batch size's worth at a time when the graph has one."""
    shape = [d if isinstance(d, int) and d > 0 else -1 for d in node.shape]
    rows = rows.astype(_ONNX_TYPES[node.type], copy=False)
    fixed = bool(shape) and shape[0] > 0
    # a dynamic batch goes a memory budget's worth of rows at a time (its hidden layers: a few times the widths)
    batch = shape[0] if fixed else chunk_rows(32 * (math.prod(rows.shape[1:]) + width))
    out = []
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        short = batch - len(chunk) if fixed else 0
        if short:  # a fixed batch size: pad the last chunk with its last row, then drop the padding
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], short, axis=0)])
        result = session.run([session.get_outputs()[0].name], {node.name: chunk.reshape([len(chunk), *shape[1:]])})[0]
        out.append(np.asarray(result, dtype=float).reshape(len(chunk), -1)[:len(chunk) - short])
    return np.concatenate(out) if out else np.empty((0, width))

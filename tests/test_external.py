"""Models from anywhere: an import path, an ONNX encoder/decoder pair, the PCA baseline, through the library and
every command that takes --model."""

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genval import build_space, load_dataset
from genval.audit._audit import audit
from genval.cli.main import cli
from genval.errors import GenvalError, ModelFileError, NotAModelError, ParameterError, ShapeMismatchError
from genval.models._external import OnnxModel, import_model, open_model, spec_kind

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

N_FEATURES, N_LATENT = 35, 2
RNG = np.random.default_rng(7)
W_ENC, B_ENC = RNG.normal(size=(N_FEATURES, N_LATENT)), RNG.normal(size=N_LATENT)
W_DEC, B_DEC = RNG.normal(size=(N_LATENT, N_FEATURES)), RNG.normal(size=N_FEATURES)


def _graph(path, W, b, *, sigmoid, batch="N", image=None):
    """A linear layer (and a sigmoid) as an ONNX file: what a tiny PyTorch or Keras export holds."""
    n_in, n_out = W.shape
    in_shape = [batch, *image] if image else [batch, n_in]
    nodes = []
    x = "x"
    if image:
        nodes.append(helper.make_node("Flatten", ["x"], ["flat"], axis=1))
        x = "flat"
    nodes.append(helper.make_node("MatMul", [x, "W"], ["xw"]))
    nodes.append(helper.make_node("Add", ["xw", "b"], ["y" if not sigmoid else "pre"]))
    if sigmoid:
        nodes.append(helper.make_node("Sigmoid", ["pre"], ["y"]))
    graph = helper.make_graph(
        nodes, "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, n_out])],
        [numpy_helper.from_array(W.astype(np.float32), "W"), numpy_helper.from_array(b.astype(np.float32), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what onnxruntime of the last years reads
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def _pair(folder, **kwargs):
    enc = _graph(Path(folder) / "encoder.onnx", W_ENC, B_ENC, sigmoid=False, **kwargs)
    dec = _graph(Path(folder) / "decoder.onnx", W_DEC, B_DEC, sigmoid=True, batch=kwargs.get("batch", "N"))
    return f"{enc},{dec}"


def encode_reference(X):
    return np.asarray(X, dtype=np.float64) @ W_ENC + B_ENC


def decode_reference(Z):
    return 1 / (1 + np.exp(-(np.asarray(Z, dtype=np.float64) @ W_DEC + B_DEC)))


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return _pair(tmp_path_factory.mktemp("onnx"))


def test_an_onnx_decoder_decodes_as_the_numpy_reference(pair, emojis):
    model = open_model(pair)
    assert (model.kind, model.n_features_in_, model.n_latent) == ("onnx", 35, 2)
    Z = np.random.default_rng(0).normal(scale=2, size=(500, 2))
    np.testing.assert_allclose(model.inverse_transform(Z), decode_reference(Z), atol=1e-5, rtol=0)
    np.testing.assert_allclose(model.transform(emojis.X), encode_reference(emojis.X), atol=1e-5, rtol=0)
    space = build_space(emojis, pair, grid=(3, 3))
    np.testing.assert_allclose(space.locate(Z[:20]).pixels, decode_reference(Z[:20]), atol=1e-5, rtol=0)
    assert space.model.transform(emojis.X[:0]).shape == (0, 2)


def test_a_fixed_batch_and_image_shaped_input_run_as_the_dynamic_graph(tmp_path, emojis):
    fixed = open_model(_pair(tmp_path, batch=4, image=(1, 7, 5)))
    Z = np.random.default_rng(1).normal(size=(10, 2))  # 10 rows: two batches of 4 and one padded
    np.testing.assert_allclose(fixed.inverse_transform(Z), decode_reference(Z), atol=1e-5, rtol=0)
    np.testing.assert_allclose(fixed.transform(emojis.X), encode_reference(emojis.X), atol=1e-5, rtol=0)


def test_an_onnx_audit_is_seeded_like_any_other(pair, emojis):
    first, again = (audit(build_space(emojis, pair, grid=(3, 3)), "random", 300, random_state=2).to_dict()
                    for _ in range(2))
    assert first == again and first["n"] == 300


def test_onnx_mistakes_are_one_line_errors(pair, tmp_path):
    enc, dec = pair.split(",")
    with pytest.raises(ModelFileError, match="an ONNX model is two files, the encoder's and the decoder's: give both"):
        open_model(enc)
    with pytest.raises(ModelFileError, match="is two files"):
        open_model(f"{enc},{dec},{dec}")
    with pytest.raises(ModelFileError, match="nothing.onnx: no such ONNX file"):
        open_model(f"{tmp_path / 'nothing.onnx'},{dec}")
    wide = _graph(tmp_path / "wide.onnx", np.ones((3, 35)), np.zeros(35), sigmoid=True)  # a decoder of 3-D codes
    with pytest.raises(ModelFileError, match="encoder.onnx puts out 2 values per item; expected 3 codes"):
        open_model(f"{enc},{wide}")
    with pytest.raises(ShapeMismatchError, match="the model expects 2 pixels per item but emojis has 35"):
        build_space(load_dataset("emojis"), f"{dec},{enc}")  # swapped
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a graph")
    with pytest.raises(ModelFileError, match="junk.onnx is not a readable ONNX graph"):
        open_model(f"{junk},{dec}")


def test_without_onnxruntime_the_error_names_the_extra(pair, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime raises ImportError
    with pytest.raises(ModelFileError, match=r"needs onnxruntime, genval's optional extra onnx: "
                                             r"pip install 'genval\[onnx\]'"):
        OnnxModel(*pair.split(","))


MODULE = '''
import numpy as np
from sklearn.decomposition import PCA
from genval import load_dataset

X = load_dataset("emojis").X
pca = PCA(2).fit(X)

class Linear:
    n_features_in_ = 35
    W = np.random.default_rng(0).normal(size=(35, 2))
    def transform(self, X):
        return (np.asarray(X) - 0.5) @ self.W
    def inverse_transform(self, Z):
        return 1 / (1 + np.exp(-(np.asarray(Z) @ self.W.T)))

def make():
    return Linear()

class Zoo:
    small = PCA(3).fit(X)

def broken():
    raise RuntimeError("no weights here")

unfitted = PCA(2)
text = "not a model"
'''


@pytest.fixture
def module(tmp_path, monkeypatch, request):
    """A module of models in the current folder, under a name of its own (imports are cached per process)."""
    name = f"models_{request.node.name.replace('[', '_').replace(']', '').replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.chdir(tmp_path)
    yield name
    sys.modules.pop(name, None)


def test_an_import_path_names_a_model_or_a_factory(module, emojis):
    pca = import_model(f"{module}:pca")
    assert pca.kind == "pca" and pca.estimator is sys.modules[module].pca
    made = import_model(f"{module}:make")
    assert made.kind == "python"
    np.testing.assert_array_equal(made.transform(emojis.X), (emojis.X - 0.5) @ sys.modules[module].Linear.W)
    assert import_model(f"{module}:Linear").kind == "python"  # a class is a factory too
    assert import_model(f"{module}:Zoo.small").n_latent == 3  # a dotted name
    assert spec_kind(f"{module}:pca") == "python"


def test_import_path_mistakes_are_one_line_errors(module):
    with pytest.raises(ModelFileError, match=r"no module named 'nowhere_xyz' in the current folder"):
        import_model("nowhere_xyz:model")
    with pytest.raises(ModelFileError, match=rf"{module} has no 'nothing' \(it defines Linear, PCA, X, Zoo, broken"):
        import_model(f"{module}:nothing")
    with pytest.raises(ModelFileError, match=r"calling broken\(\) failed: RuntimeError: no weights here"):
        import_model(f"{module}:broken")
    with pytest.raises(ParameterError, match="has no n_features_in_: it is not fitted"):
        import_model(f"{module}:unfitted")
    with pytest.raises(NotAModelError, match=r"\(a str\) lacks transform, inverse_transform, n_features_in_"):
        import_model(f"{module}:text")


def test_genval_reads_no_pickles():
    with pytest.raises(ModelFileError, match="pca.pkl is a pickle, which genval does not read"):
        open_model("pca.pkl")


# Every command that takes --model, with the cheapest settings.
COMMANDS = {
    "som": ["som", "--grid", "3x3"],
    "interpolate": ["interpolate", ":)", ":(", "--grid", "3x3", "--steps", "4"],
    "decode": ["decode", "0", "0", "--grid", "3x3"],
    "sample": ["sample", "-n", "4", "--grid", "3x3"],
    "grid": ["grid", "--size", "3"],
    "regions": ["regions", "--max-side", "16"],
    "audit": ["audit", "-n", "100", "--grid", "3x3"],
}


def _schemas():
    from importlib.resources import files

    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = {p.name[:-5]: json.loads(p.read_text()) for p in files("genval").joinpath("schemas").iterdir()
               if p.name.endswith(".json")}
    registry = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in schemas.values()])
    return lambda name: Draft202012Validator(schemas[name], registry=registry)


@pytest.mark.parametrize("kind", ["pca", "python", "onnx"])
def test_every_map_command_takes_each_kind_with_the_same_schema(kind, module, tmp_path):
    spec = {"pca": f"{module}:pca", "python": f"{module}:make", "onnx": _pair(tmp_path)}[kind]
    validator = _schemas()
    for name, args in COMMANDS.items():
        result = CliRunner().invoke(cli, [*args, "--model", spec, "--json", "-q"])
        assert result.exit_code == 0, (name, result.output)
        doc = json.loads(result.stdout)
        assert doc["model"]["kind"] == kind and doc["model"]["file"] == spec, name
        assert list(validator(name).iter_errors(doc)) == [], name
    page = tmp_path / "page.html"
    result = CliRunner().invoke(cli, ["explore", "--model", spec, "--grid", "3x3", "--resolution", "9", "--out", str(page),
                                      "-q"])
    assert result.exit_code == 0, result.output
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_the_cli_reports_a_bad_model_in_one_line(module, tmp_path):
    for spec, message in ((f"{module}:text", "lacks transform, inverse_transform, n_features_in_"),
                          ("nowhere_xyz:m", "no module named 'nowhere_xyz'"),
                          (str(tmp_path / "e.onnx"), "an ONNX model is two files")):
        result = CliRunner().invoke(cli, ["som", "--model", spec])
        assert result.exit_code == 1, result.output
        assert message in result.stderr and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1


def test_audit_compare_adds_a_pca_row_of_the_autoencoder_s_width(module):
    result = CliRunner().invoke(cli, ["audit", "--compare", "--pca", "-n", "100", "--grid", "3x3", "--json", "-q"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["models"]["pca"] == {"file": None, "kind": "pca", "layer_sizes": [35, 2, 35]}
    assert {row["label"] for row in doc["rows"]} == {"autoencoder", "pca"}
    assert list(_schemas()("audit-compare").iter_errors(doc)) == []
    text = CliRunner().invoke(cli, ["audit", "--compare", "--pca", "-n", "100", "--grid", "3x3", "-q"]).stdout
    assert "pca (pca): made outside genval; decoded pixels clipped to [0, 1]" in text
    own = CliRunner().invoke(cli, ["audit", "--compare", "--pca", "--model", f"{module}:make", "-n", "100", "--grid",
                                   "3x3", "--json", "-q"])
    models = json.loads(own.stdout)["models"]  # a model made elsewhere is labelled by its kind
    assert models["python"] == {"file": f"{module}:make", "kind": "python", "layer_sizes": []}
    assert models["pca"]["layer_sizes"] == [35, 2, 35]
    usage = CliRunner().invoke(cli, ["audit", "--pca"])
    assert usage.exit_code == 2 and "--pca adds a PCA baseline to --compare" in usage.stderr


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40).filter(lambda t: ":" not in t))  # no import paths: importing runs code
def test_any_model_value_without_an_import_path_fails_as_a_genval_error(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an empty folder: no file any text could name
    assert spec_kind(text) in ("file", "onnx")
    with pytest.raises(GenvalError):
        open_model(text)

"""Saving and loading a map (LatentSOM.save, load_som): the same map back, how it was trained, and a
record of the codes it was fitted on that refuses other codes.

How map files are read (every header checked first) is tested in tests/test_map_files.py.
"""

import numpy as np
import pytest

from genval import ModelFileError
from genval.latent import LatentSOM, load_som

import _som_fixtures

codes = _som_fixtures.codes  # the shared fixture: 18 two-dimensional codes in three blobs


def test_save_load_round_trip(tmp_path, codes):
    som = LatentSOM(grid=(2, 3), topology="hexagonal", sigma=0.8).fit(codes)
    path = tmp_path / "map.npz"
    som.save(path)
    again = load_som(path)
    assert again.get_params() == som.get_params()
    np.testing.assert_array_equal(again.weights_, som.weights_)
    np.testing.assert_array_equal(again.labels_, som.labels_)
    assert (again.grid_, again.seed_, again.n_iterations_, again.n_features_in_) == \
        (som.grid_, som.seed_, som.n_iterations_, 2)
    probe = np.random.default_rng(1).uniform(-2, 6, size=(50, 2))
    np.testing.assert_array_equal(again.winners(probe), som.winners(probe))
    assert again.topographic_error(codes) == som.topographic_error(codes)
    np.testing.assert_array_equal(again.umatrix(), som.umatrix())
    (tmp_path / "bad.npz").write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="bad.npz: not a readable genval map"):
        load_som(tmp_path / "bad.npz")
    with pytest.raises(ModelFileError, match="no such map file"):
        load_som(tmp_path / "missing.npz")


def test_saved_map_keeps_how_it_was_trained(tmp_path, codes):
    som = LatentSOM(grid=(16, 17), iterations=4).fit(codes)
    som.save(tmp_path / "map.npz")
    again = load_som(tmp_path / "map.npz")
    assert again.algorithm_ == "batch"
    np.testing.assert_array_equal(again.weights_, som.weights_)


def test_a_map_records_its_codes_and_refuses_others(tmp_path, codes):
    from genval import DataMismatchError, ShapeMismatchError

    som = LatentSOM(grid=(2, 3), random_state=0).fit(codes)
    assert som.training_data_["n_items"] == 18 and som.training_data_["n_features"] == 2
    assert som.check_training_data(codes) is True
    path = tmp_path / "map.npz"
    som.save(path)
    again = load_som(path)
    assert again.training_data_ == som.training_data_ and again.check_training_data(codes) is True
    with pytest.raises(DataMismatchError, match=r"this map was fitted on other codes \(18 codes of 2 dimensions, "
                                                r"sha256 [0-9a-f]{12}\), not on these \(17 codes of 2 dimensions"):
        again.check_training_data(codes[:-1])
    with pytest.raises(DataMismatchError):
        again.check_training_data(codes + 1e-3)
    with pytest.raises(ShapeMismatchError, match="fitted on codes of 2 dimensions, and these have 3"):
        again.check_training_data(np.column_stack([codes, codes[:, 0]]))
    again.training_data_ = None  # a file saved before maps kept a record: only the width can be checked
    assert again.check_training_data(codes + 1) is False

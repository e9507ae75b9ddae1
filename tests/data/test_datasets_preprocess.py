"""Host-side preprocessing: scale, standardize, flatten, train_val_split."""

import numpy as np
import pytest

from tests.conftest import assert_close_by_bound, gamma, unit_roundoff
from xpnet.datasets import flatten, scale, standardize, train_val_split


def test_scale_maps_0_255_to_unit_interval():
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    out = scale(x)
    assert out.dtype == np.float32 and out.shape == (1, 3)
    np.testing.assert_allclose(out, [[0.0, 0.2, 1.0]], rtol=unit_roundoff(np.float32))  # one correctly rounded division
    assert scale(x, dtype="float64").dtype == np.float64
    assert x.tolist() == [[0, 51, 255]]  # input untouched


def test_scale_rejects_floats_and_out_of_range():
    with pytest.raises(TypeError, match="already scaled"):
        scale(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="from 0 to 300"):
        scale(np.array([0, 300]))
    with pytest.raises(TypeError, match="floating-point dtype"):
        scale(np.zeros(3, np.uint8), dtype="int32")


def test_standardize_global_statistics_round_trip():
    rng = np.random.default_rng(1)
    train, test = scale(rng.integers(0, 256, (50, 8))), scale(rng.integers(0, 256, (10, 8)))
    z, mean, std = standardize(train)
    assert isinstance(mean, float) and isinstance(std, float)
    assert z.dtype == np.float32
    assert abs(float(z.mean())) < 1e-5 and abs(float(z.std()) - 1) < 1e-4
    z_test, mean_again, std_again = standardize(test, mean, std)
    assert (mean_again, std_again) == (mean, std)
    # z has entries near zero, where no rtol holds: against the float64 values, the float32
    # result is within γ_5·(|x| + |mean|)/std (a subtraction and a division, and the rounding of
    # x, mean and std to float32).
    exact = (test.astype(np.float64) - mean) / std
    assert_close_by_bound(z_test, exact, gamma(5, np.float32) * (np.abs(test) + abs(mean)) / std)


def test_standardize_per_feature_handles_constant_columns():
    x = np.array([[0.0, 1.0, 5.0], [0.0, 3.0, 5.0]])
    z, mean, std = standardize(x, per_feature=True)
    assert mean.shape == (3,) and std.tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(z, [[0, -1, 0], [0, 1, 0]])
    assert z.dtype == np.float64


def test_standardize_argument_checks():
    with pytest.raises(ValueError, match="both mean and std"):
        standardize(np.zeros((2, 2)), mean=0.0)
    with pytest.raises(ValueError, match="std > 0"):
        standardize(np.zeros((2, 2)), mean=0.0, std=0.0)


def test_flatten():
    x = np.zeros((4, 28, 28), np.uint8)
    assert flatten(x).shape == (4, 784) and np.shares_memory(flatten(x), x)
    assert flatten(np.zeros((4, 784))).shape == (4, 784)
    with pytest.raises(ValueError, match=r"\(N, \.\.\.\)"):
        flatten(np.zeros(3))


def test_train_val_split_is_deterministic_and_disjoint():
    x = np.arange(100).reshape(100, 1) * 10
    y = np.arange(100)
    x_train, y_train, x_val, y_val = train_val_split(x, y, 0.2, seed=7)
    assert len(x_val) == 20 and len(x_train) == 80
    assert sorted(np.concatenate([y_train, y_val]).tolist()) == list(range(100))
    np.testing.assert_array_equal(x_train[:, 0], y_train * 10)  # pairs stay together
    assert np.all(np.diff(y_train) > 0) and np.all(np.diff(y_val) > 0)  # original order kept
    again = train_val_split(x, y, 0.2, seed=7)
    np.testing.assert_array_equal(again[3], y_val)
    other = train_val_split(x, y, 0.2, seed=8)
    assert other[3].tolist() != y_val.tolist()
    expected_val = np.sort(np.random.default_rng(7).permutation(100)[:20])
    np.testing.assert_array_equal(y_val, expected_val)


def test_train_val_split_zero_fraction():
    x, y = np.zeros((5, 2)), np.arange(5)
    x_train, y_train, x_val, y_val = train_val_split(x, y, 0.0)
    assert x_train is x and y_train is y and x_val.shape == (0, 2) and y_val.shape == (0,)


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5, "0.2", float("nan")])
def test_train_val_split_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="0 <= val_fraction < 1"):
        train_val_split(np.zeros((10, 1)), np.zeros(10), fraction)


def test_train_val_split_needs_both_parts_non_empty():
    with pytest.raises(ValueError, match="both parts must be non-empty"):
        train_val_split(np.zeros((3, 1)), np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="both parts must be non-empty"):
        train_val_split(np.zeros((3, 1)), np.zeros(3), 0.9)
    with pytest.raises(ValueError, match="x has 3 samples but y has 2"):
        train_val_split(np.zeros((3, 1)), np.zeros(2), 0.5)

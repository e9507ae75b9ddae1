"""Inputs to the estimator: scikit-learn's array-API dispatch setting, host copies, dtypes."""

from __future__ import annotations

import numpy as np

from ..backend import backend_of

try:  # scikit-learn >= 1.9
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # older: methods accept inputs of any namespace (converted to the model's)

    def check_same_namespace(X, estimator, *, attribute, method):
        return None


__all__ = ["check_same_namespace"]


def _dispatch_enabled() -> bool:
    from sklearn import get_config

    return bool(get_config()["array_api_dispatch"])


def _host(a) -> np.ndarray:
    """Any array (NumPy, another Array API library, any device) as a NumPy array."""
    if isinstance(a, np.ndarray):
        return a
    try:
        return backend_of(a).to_numpy(a)
    except TypeError:
        return np.asarray(a)


def _dtype_name(X) -> str:
    return str(X.dtype).rsplit(".", 1)[-1]

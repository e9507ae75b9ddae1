"""Shared fixtures (the backends every core test runs on, the real-data location) and the
rule for float tolerances.

The same tests run on NumPy and on array-api-strict (which fails loudly on anything outside
the Array API standard), including array-api-strict's non-default device "device1" (which
catches accidental conversions to NumPy), on PyTorch's CPU and JAX when they are installed, and on CuPy
when a CUDA GPU is usable (those cases are marked ``gpu`` and skipped cleanly otherwise).

Float tolerances (the helpers in the section "Rounding-error bounds" below, docs/testing.md):
a tolerance follows from the dtype's ε, the length of the reduction and the magnitude of the
values, never from what one machine happens to print. They are Higham's worst-case bounds
(*Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1 and Theorem 3.5), which hold
for any summation order, blocking and use of FMA, so for every BLAS kernel and library.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

import xpnet

REPO = Path(__file__).resolve().parents[1]


HAVE_GPU = bool(xpnet.backend.cuda_devices())  # the backend's own (and only) CUDA probe
HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_JAX = importlib.util.find_spec("jax") is not None
if HAVE_JAX:  # the gradient checks run in float64, which JAX only offers in 64-bit mode
    import jax

    jax.config.update("jax_enable_x64", True)

BACKEND_SPECS = [
    "numpy",
    "array_api_strict",
    "array_api_strict:device1",
    pytest.param("torch", marks=pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch not installed")),
    pytest.param("jax", marks=pytest.mark.skipif(not HAVE_JAX, reason="JAX not installed")),
    pytest.param("cupy", marks=pytest.mark.gpu),
]


def pytest_configure(config):
    config.addinivalue_line("markers", "dask: needs the optional dask[array] and distributed (skipped otherwise)")


def pytest_collection_modifyitems(config, items):
    if HAVE_GPU:
        return
    skip = pytest.mark.skip(reason="needs a usable CUDA GPU with CuPy")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def max_examples(backend: xpnet.Backend, n: int) -> int:
    """How many hypothesis examples a property test tries on ``backend``: ``n``, or a fifth of
    it (at least 4) on a backend that compiles. JAX compiles every new shape (about 50 ms per
    XLA compilation on these CPUs) and each example draws a new architecture, so its examples
    cost a second or more each; the math they check is the same code on every backend."""
    return max(4, n // 5) if backend.compiles else n


@pytest.fixture(params=BACKEND_SPECS)
def backend(request) -> xpnet.Backend:
    """Each backend in turn (numpy, array_api_strict, its device1, torch, cupy)."""
    return xpnet.get_backend(request.param)


def native(backend: xpnet.Backend, a):
    """``a`` (NumPy or a list) as an array of ``backend`` on its device, dtype kept."""
    import numpy as np

    return backend.asarray(np.asarray(a))


INPUT_KINDS = ["numpy", "list", "native"]


@pytest.fixture(params=INPUT_KINDS)
def as_input(request, backend):
    """How a test hands data to a public entry point: a function turning a NumPy array into
    a NumPy array, a Python list, or an array native to ``backend`` (on its device)."""
    kind = request.param
    if kind == "numpy":
        return lambda a: a
    if kind == "list":
        return lambda a: a.tolist()
    return lambda a: native(backend, a)


def shared_data_dir() -> Path | None:
    """Where the real MNIST/Fashion-MNIST files are: $XPNET_TEST_DATA, else ../shared/data."""
    env = os.environ.get("XPNET_TEST_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("real data not found: set XPNET_TEST_DATA or put it at ../shared/data")
    return path


# Hypothesis explores new examples on every local run; in CI (CI=true) it replays a fixed
# sequence, so a red CI is always reproducible.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")


# -- Rounding-error bounds ---------------------------------------------------------------------
# The rule for every float comparison of these tests: a tolerance follows from the dtype's
# unit roundoff u = ε/2, the length k of the reduction and the magnitude of the values. A sum of
# k products computed in floating point, in any order, blocked or not, with or without FMA,
# is within γ_k·Σ|a_i·b_i| of the exact sum, γ_k = k·u/(1 − k·u) (Higham, Accuracy and
# Stability of Numerical Algorithms, 2nd ed., §3.1, Thm 3.5; §3.5 for matrix products). So
#
# * ``|fl(A·B) − A·B| ≤ γ_k·(|A|·|B|)`` elementwise: `matmul_error_bound`;
# * an MLP's logits are off by at most `forward_error_bound` (the products' bounds pushed
#   through the layers: an error E in a layer's input becomes E·|W|ᵀ after the next);
# * softmax turns a logit error δ into a *relative* error of the probabilities,
#   ``|Δp_i| ≤ p_i·(e^{2δ} − 1 + (k + 20)·u)``: `softmax_error_bound`. A probability of 1e-9
#   carries the logits' absolute error as relative error (p ∝ e^z), which is why ``rtol``
#   alone fails on tiny probabilities and an ``atol`` picked by eye is tuned to one kernel;
# * the same errors pushed through backprop and the mean loss: `gradient_error_bounds`,
#   `mean_cross_entropy_error_bound`.
#
# Each bound is against the exact result of the same (rounded) inputs, computed here in float64
# on the host, so two implementations that each meet it differ by at most 2×bound: compare two
# backends, kernels or layouts with ``assert_close_by_bound(a, b, 2 * bound)``, a result against
# a float64 reference with ``1 * bound``. The bounds assume IEEE arithmetic in ``dtype`` (no
# TF32/bfloat16 matrix units, no flush-to-zero of the values compared).
#
# Where a worst-case bound would be uselessly loose, e.g. after many training steps (rounding
# differences there grow chaotically), restructure the test instead: compare after one step, or
# in float64. Exact equality stays where it is guaranteed: the same code on the same backend,
# kernel and inputs.

#: Allowance for an activation's own rounding, in units of u·|A| (1 ulp ≤ 2u relative): ReLU
#: and the identity are exact, leaky ReLU rounds one product, tanh and the logistic sigmoid
#: (an exp, an add and a divide) are within a few ulps in every libm and SIMD implementation
#: (NumPy allows its SIMD float32 functions 4 ulp).
ACTIVATION_ROUNDING = {"relu": 0, "identity": 0, "leaky_relu": 1, "tanh": 8, "sigmoid": 12}


def unit_roundoff(dtype) -> float:
    """The unit roundoff u of a floating-point dtype: half its machine epsilon.

    Parameters
    ----------
    dtype
        A NumPy dtype or its name (``"float32"``, ``np.float64``, ...).

    Returns
    -------
    float
        ``finfo(dtype).eps / 2``: 2⁻²⁴ ≈ 5.96e-8 for float32, 2⁻⁵³ ≈ 1.11e-16 for float64. Every
        correctly rounded operation has a relative error of at most u.
    """
    return float(np.finfo(np.dtype(dtype)).eps) / 2


def gamma(n: int, dtype) -> float:
    """Higham's γ_n = n·u / (1 − n·u): the relative error bound of a length-n reduction.

    Parameters
    ----------
    n
        Number of terms (or of rounded operations in a chain).
    dtype
        The dtype the reduction is computed in.

    Returns
    -------
    float
        γ_n, valid for any summation order, blocking or FMA use.

    Raises
    ------
    ValueError
        When n·u ≥ 1 (no bound of this form exists).
    """
    nu = n * unit_roundoff(dtype)
    if nu >= 1:
        raise ValueError(f"n·u = {nu} >= 1: no rounding bound for a reduction of {n} terms")
    return nu / (1 - nu)


def _host64(a) -> np.ndarray:
    """Any array (NumPy, a list, an array of any backend) as a float64 NumPy array (exactly)."""
    if not isinstance(a, (np.ndarray, list, tuple, float, int)):
        a = xpnet.to_numpy(a)
    return np.asarray(a, dtype=np.float64)


def matmul_error_bound(A, B, dtype) -> np.ndarray:
    """Elementwise bound on the rounding error of the product ``A @ B`` computed in ``dtype``.

    Parameters
    ----------
    A, B
        The factors (any backend; ``(m, k)`` and ``(k, n)``), as given to the product.
    dtype
        The dtype the product is computed in.

    Returns
    -------
    numpy.ndarray
        ``γ_k·(|A|·|B|)``, shape ``(m, n)``, float64 (computed on the host; its own rounding is
        ~1e-16 relative, negligible): ``|fl(A·B) − A·B|`` is at most this for every kernel.
    """
    A, B = _host64(A), _host64(B)
    return gamma(A.shape[-1], dtype) * (np.abs(A) @ np.abs(B))


def _activation64(name: str):
    from xpnet.nn.activations import LEAKY_SLOPE

    return {
        "relu": lambda z: np.maximum(z, 0.0),
        "identity": lambda z: z,
        "tanh": np.tanh,
        "leaky_relu": lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    }[name]


def _forward_with_bounds(params, X, dtype, activation, input_error):
    """Exact forward pass with bounds: per layer ``(A_{l−1}, E_{l−1}, Z_l, E_Z, A_l, E_l)``."""
    p = {k: _host64(v) for k, v in params.items()}
    L = len(p) // 2
    g, c = _activation64(activation), ACTIVATION_ROUNDING[activation]
    u = unit_roundoff(dtype)
    A = _host64(X)
    E = np.broadcast_to(_host64(input_error), A.shape)
    layers = []
    for l in range(1, L + 1):
        W, b = p[f"W{l}"], p[f"b{l}"]
        absWT = np.abs(W).T
        Z = A @ W.T + b
        EZ = E @ absWT + gamma(W.shape[1] + 1, dtype) * ((np.abs(A) + E) @ absWT + np.abs(b))
        if l < L:
            A_next = g(Z)
            E_next = EZ + c * u * (np.abs(A_next) + EZ)
        else:
            A_next, E_next = Z, EZ
        layers.append((A, E, Z, EZ, A_next, E_next))
        A, E = A_next, E_next
    return layers


def forward_error_bounds(params, X, dtype, activation: str = "relu", input_error=0.0) -> list:
    """The exact forward pass and a bound on each layer's rounding error, layer by layer.

    For ``Z_l = A_{l−1}·W_lᵀ + b_l``, ``A_l = g(Z_l)`` (g 1-Lipschitz), computed in ``dtype``
    from inputs ``X`` that are off by at most ``E_0 = input_error``:
    ``E_l = E_{l−1}·|W_l|ᵀ + γ_{k+1}·((|A_{l−1}| + E_{l−1})·|W_l|ᵀ + |b_l|)`` with
    ``k = n_{l−1}`` (the bias is the product's (k+1)-th term), plus ``c_g·u·(|A_l| + E_l)``
    for the activation's own rounding (`ACTIVATION_ROUNDING`).

    Parameters
    ----------
    params
        ``{"W1": (n1, n0), "b1": (n1,), ..., "WL": (nL, n_{L−1}), "bL": (nL,)}``, the values
        the computation uses (any backend; float32 values are widened exactly).
    X
        Inputs ``(m, n0)``, as given to the forward pass.
    dtype
        The dtype the forward pass computes in.
    activation
        Hidden activation name (a key of `ACTIVATION_ROUNDING`).
    input_error
        Bound on the error of ``X`` itself (0: the inputs are the same numbers).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        For l = 1 … L: ``(exact, bound)``, float64 ``(m, n_l)``, where ``exact`` is A_l for
        hidden layers and the logits Z_L for the last, and ``bound`` bounds its error.
    """
    return [(A, E) for *_, A, E in _forward_with_bounds(params, X, dtype, activation, input_error)]


def forward_error_bound(params, X, dtype, activation: str = "relu", input_error=0.0) -> np.ndarray:
    """Bound on the rounding error of an MLP's logits Z_L computed in ``dtype``.

    The last bound of `forward_error_bounds` (see there for the recurrence and parameters).

    Returns
    -------
    numpy.ndarray
        float64 ``(m, nL)``: ``|Ẑ_L − Z_L| ≤`` this, elementwise, for any kernel.
    """
    return forward_error_bounds(params, X, dtype, activation, input_error)[-1][1]


def softmax_error_bound(Z, logit_error, dtype) -> np.ndarray:
    """Bound on the error of ``softmax(Ẑ)`` computed in ``dtype`` from logits off by ``logit_error``.

    With δ the largest logit error of a row, the max-shifted logits are off by at most
    ``δ' = δ + u·(S + 2δ)`` (S the row's largest ``|z_j − max z|``: the subtraction's own
    rounding), and softmax is shift-invariant, so the exact softmax of the rounded logits is
    within a factor ``e^{±2δ'}`` of ``p``. Computing it adds at most ``(k + 20)·u`` relative:
    ``(k − 1)·u`` for the sum of k exponentials, 2·8u for two exps of at most 4 ulp, u for the
    division, and a few u of second-order terms. Hence
    ``|p̂_i − p_i| ≤ p_i·(e^{2δ'} − 1 + (k + 20)·u)``.

    Parameters
    ----------
    Z
        The exact logits ``(m, k)`` (e.g. the first value of `forward_error_bounds`' last pair).
    logit_error
        Elementwise (or scalar) bound on the computed logits' error.
    dtype
        The dtype the logits and the softmax are computed in.

    Returns
    -------
    numpy.ndarray
        float64 ``(m, k)``: the bound on ``|p̂ − p|`` with ``p = softmax(Z)``.
    """
    Z = _host64(Z)
    u, k = unit_roundoff(dtype), Z.shape[1]
    delta = np.broadcast_to(_host64(logit_error), Z.shape).max(axis=1, keepdims=True)
    shifted = Z - Z.max(axis=1, keepdims=True)
    spread = np.abs(shifted).max(axis=1, keepdims=True)
    delta = delta + u * (spread + 2 * delta)
    P = np.exp(shifted)
    P /= P.sum(axis=1, keepdims=True)
    return P * (np.expm1(2 * delta) + (k + 20) * u)


def proba_error_bound(params, X, dtype, activation: str = "relu", input_error=0.0):
    """The exact ``predict_proba`` of an MLP and the bound on its error in ``dtype``.

    `forward_error_bound` for the logits, then `softmax_error_bound`.

    Returns
    -------
    P : numpy.ndarray
        softmax of the exact logits, float64 ``(m, nL)``.
    bound : numpy.ndarray
        ``|P̂ − P| ≤ bound`` elementwise, for any kernel.
    """
    Z, E = forward_error_bounds(params, X, dtype, activation, input_error)[-1]
    shifted = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return P, softmax_error_bound(Z, E, dtype)


def _softmax64(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def mean_cross_entropy_error_bound(params, X, labels, dtype, activation: str = "relu", input_error=0.0):
    """The exact mean cross-entropy of an MLP and the bound on its error in ``dtype``.

    Per sample, ``ℓ_i = log Σ_j e^{z_ij} − z_{i,y_i}`` moves by at most 2δ_i when every logit of
    the row moves by at most δ_i (δ_i as in `softmax_error_bound`, with the shift's rounding);
    computing it adds at most ``(k + 8)·u`` (sum and exps, as there) ``+ 9u·|log s_i|`` (a log
    of at most 4 ulp and the subtraction); the mean of m non-negative terms, in any order and
    grouping (per-batch means included), adds ``γ_{2m+4}`` relative.

    Parameters
    ----------
    params, X, dtype, activation, input_error
        As in `forward_error_bounds`.
    labels
        Integer class of each sample, ``(m,)``.

    Returns
    -------
    loss : float
        The exact mean cross-entropy (of the given parameters and inputs).
    bound : float
        ``|computed mean − loss| ≤ bound`` for any kernel and summation order.
    """
    Z, E = forward_error_bounds(params, X, dtype, activation, input_error)[-1]
    labels = np.asarray(labels).astype(np.int64)
    u, (m, k) = unit_roundoff(dtype), Z.shape
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_s = np.log(np.exp(shifted).sum(axis=1))
    ell = log_s - shifted[np.arange(m), labels]
    delta = E.max(axis=1)
    delta = delta + u * (np.abs(shifted).max(axis=1) + 2 * delta)
    per_sample = 2 * delta + (k + 8) * u + 9 * u * np.abs(log_s)
    loss = float(ell.mean())
    return loss, float(per_sample.mean() + gamma(2 * m + 4, dtype) * (loss + per_sample.mean()))


def gradient_error_bounds(params, X, labels, dtype, activation: str = "relu", weights=None, input_error=0.0) -> dict:
    """Elementwise bounds on the rounding error of the backprop gradients of the mean cross-entropy.

    The errors of the forward pass (`forward_error_bounds`) and of the probabilities
    (`softmax_error_bound`) are pushed through ``dZ_L = (P − Y)·c_i`` (``c_i = 1/m``, or
    ``w_i/Σw``), ``dW_l = dZ_lᵀ·A_{l−1}``, ``db_l = 1ᵀ·dZ_l`` and
    ``dZ_{l−1} = (dZ_l·W_l) ⊙ g′(Z_{l−1})`` with the product rule of `matmul_error_bound`
    applied to perturbed factors: ``|Â·B̂ − A·B| ≤ E_A·(|B| + E_B) + |A|·E_B +
    γ_k·(|A| + E_A)·(|B| + E_B)``. Where a ReLU (or leaky ReLU) pre-activation lies within its
    own error bound of 0 the two computations may take different branches, and the bound allows
    the whole ``|dA|`` there; g′ = 1 − A² (tanh) and A(1 − A) (sigmoid) carry A's error.

    Parameters
    ----------
    params, X, dtype, activation, input_error
        As in `forward_error_bounds`.
    labels
        Integer class of each sample, ``(m,)``.
    weights
        Per-sample weights ``(m,)`` (``None``: the plain mean).

    Returns
    -------
    dict
        ``{"W1": bound (n1, n0), "b1": bound (n1,), ...}``, float64, the shapes of ``params``.
    """
    from xpnet.nn.activations import LEAKY_SLOPE

    layers = _forward_with_bounds(params, X, dtype, activation, input_error)
    p = {k: _host64(v) for k, v in params.items()}
    L, u = len(layers), unit_roundoff(dtype)
    Z_L, E_L = layers[-1][2], layers[-1][3]
    m, k = Z_L.shape
    P, EP = _softmax64(Z_L), softmax_error_bound(Z_L, E_L, dtype)
    Y = np.eye(k)[np.asarray(labels).astype(np.int64)]
    c = np.full((m, 1), 1.0 / m) if weights is None else (_host64(weights) / _host64(weights).sum())[:, None]
    dZ = (P - Y) * c
    EdZ = c * ((1 + u) * EP + gamma(m + 3, dtype) * (np.abs(P - Y) + EP))

    def product(A, EA, B, EB, n):
        aA, aB = np.abs(A) + EA, np.abs(B) + EB
        return EA @ aB + np.abs(A) @ EB + gamma(n, dtype) * (aA @ aB)

    bounds = {}
    for l in range(L, 0, -1):
        A_prev, E_prev = layers[l - 1][0], layers[l - 1][1]
        bounds[f"W{l}"] = product(dZ.T, EdZ.T, A_prev, E_prev, m)
        bounds[f"b{l}"] = EdZ.sum(axis=0) + gamma(m, dtype) * (np.abs(dZ) + EdZ).sum(axis=0)
        if l == 1:
            break
        W = p[f"W{l}"]
        dA = dZ @ W
        EdA = product(dZ, EdZ, W, np.zeros_like(W), W.shape[0])
        _, _, Zh, EZh, Ah, EAh = layers[l - 2]
        if activation in ("relu", "leaky_relu"):
            slope = 0.0 if activation == "relu" else LEAKY_SLOPE
            d = np.where(Zh > 0, 1.0, slope)
            ambiguous = np.abs(Zh) <= EZh
            EdZ = np.where(ambiguous, np.abs(dA) + EdA, EdA * d) + (u * (np.abs(dA) + EdA) if slope else 0.0)
            dZ = dA * d
        elif activation == "identity":
            EdZ = EdA
            dZ = dA
        else:
            if activation == "tanh":
                d, Ed = 1 - Ah**2, (2 * np.abs(Ah) + EAh) * EAh + 3 * u
            else:  # sigmoid
                d, Ed = Ah * (1 - Ah), (np.abs(1 - 2 * Ah) + EAh) * EAh + 3 * u
            EdZ = EdA * (np.abs(d) + Ed) + np.abs(dA) * Ed + u * (np.abs(dA) + EdA) * (np.abs(d) + Ed)
            dZ = dA * d
    return {name: bounds[name] for name in p}


def assert_close_by_bound(actual, desired, bound, err_msg: str = "") -> float:
    """Assert ``|actual − desired| ≤ bound`` elementwise; report the worst ratio to the bound.

    Parameters
    ----------
    actual, desired
        Arrays of the same shape (any backend; compared in float64 on the host).
    bound
        Elementwise (or scalar) bound, e.g. ``2 * matmul_error_bound(...)`` for two
        computations that each meet the bound, ``1 *`` one against a float64 reference.
    err_msg
        Prepended to the failure message.

    Returns
    -------
    float
        The worst ratio ``|actual − desired| / bound`` (below 1 when the assertion holds): how
        far below the bound the observed error is.

    Raises
    ------
    AssertionError
        When the shapes differ, a value is not finite, or some error exceeds its bound; the
        message names the worst entry and its ratio.
    """
    a, d = _host64(actual), _host64(desired)
    b = np.broadcast_to(_host64(bound), d.shape)
    prefix = f"{err_msg}: " if err_msg else ""
    assert a.shape == d.shape, f"{prefix}shapes differ: {a.shape} vs {d.shape}"
    assert np.isfinite(a).all() and np.isfinite(d).all(), f"{prefix}non-finite values"
    diff = np.abs(a - d)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / b)
    worst = float(ratio.max()) if ratio.size else 0.0
    if worst > 1:
        i = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        n_bad = int((ratio > 1).sum())
        raise AssertionError(
            f"{prefix}{n_bad} of {ratio.size} entries differ by more than the rounding bound; worst "
            f"|actual − desired| / bound = {worst:.3g} at {tuple(int(j) for j in i)}: actual "
            f"{a[i]!r}, desired {d[i]!r}, bound {b[i]:.3g}"
        )
    return worst

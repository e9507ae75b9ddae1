"""``xpnet.sklearn.MLPClassifier``: scikit-learn's ``MLPClassifier``, trained by xpnet.

A drop-in replacement for `sklearn.neural_network.MLPClassifier`: the same constructor
parameters (names, defaults, meanings), the same fitted attributes, ``fit``/``partial_fit``/
``predict``/``predict_proba``/``predict_log_proba``/``score``, and it passes scikit-learn's own
``check_estimator``. The network, its gradients and its updates are xpnet's
([`xpnet.MLP`][xpnet.model.mlp.MLP], [`xpnet.nn.network`][xpnet.nn.network], [`xpnet.nn.optim`][xpnet.nn.optim]), so it trains on any xpnet
backend: ``backend="gpu"`` trains on CuPy, and with
``sklearn.set_config(array_api_dispatch=True)`` it trains on the backend and device of the
input arrays themselves (CuPy, PyTorch, array-api-strict, ...) and answers in their namespace.

Importing this module imports scikit-learn (``pip install "xpnet[sklearn]"``); ``import xpnet``
does not.

What scikit-learn's semantics add to [`xpnet.MLP.fit`][xpnet.model.mlp.MLP.fit], implemented here as small pieces:

* ``alpha``: the L2 penalty ``α/(2·s_b)·Σ_l ‖W_l‖²`` of each mini-batch b (weights only, not
  the biases; ``s_b`` is the batch's sum of sample weights, its size without weights), whose
  gradient ``α·W_l/s_b`` `_L2OnWeights` adds inside the optimizer step (``_optim``);
* ``learning_rate="invscaling"``/``"adaptive"`` (``solver="sgd"``), ``tol``,
  ``n_iter_no_change``, ``early_stopping``: decided between epochs, while
  [`xpnet.MLP.fit_epochs`][xpnet.model.mlp.MLP.fit_epochs] hands over each finished epoch (``_epochs``);
* the initial weights: scikit-learn's Glorot-uniform draw (weights *and* biases uniform in
  ``±√(f/(fan_in + fan_out))``, f = 2 for ``logistic``, else 6), from the same
  ``random_state`` stream in the same order, so both libraries start from the same numbers
  (``_estimator``, with the class itself; ``_inputs`` holds the input helpers).

Binary problems: xpnet's output layer is a softmax, so two classes get two output units
(``n_outputs_ == 2``, ``out_activation_ == "softmax"``, ``coefs_[-1]`` has two columns), where
scikit-learn uses one logistic unit. The models are equivalent:
``softmax([z₀, z₁])₁ = σ(z₁ − z₀)``, the loss is the same binary cross-entropy, and
``predict_proba`` returns ``(n, 2)`` in both.

ONNX: a pipeline holding either estimator converts with ``skl2onnx.to_onnx``; the converters
(``_onnx``) register themselves when skl2onnx is imported, without importing it here.
"""

from . import _onnx
from ._classifier import MLPClassifier
from ._onnx import register_skl2onnx
from ._regressor import MLPRegressor

# Pickles name the classes where users import them from (as before the package split).
MLPClassifier.__module__ = MLPRegressor.__module__ = __name__
register_skl2onnx.__module__ = __name__

__all__ = ["MLPClassifier", "MLPRegressor", "register_skl2onnx"]

_onnx.install()  # skl2onnx converters: now if skl2onnx is imported, else when it is (docs/export.md)

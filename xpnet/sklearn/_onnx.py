"""skl2onnx converters for ``MLPClassifier`` and ``MLPRegressor``: a pipeline holding one
converts with ``skl2onnx.to_onnx`` as one holding scikit-learn's own estimator does.

skl2onnx takes a few seconds to import, so ``import xpnet.sklearn`` does not import it.
The converters are registered (``skl2onnx.update_registered_converter``)

* at once, when skl2onnx is already imported when ``xpnet.sklearn`` is;
* otherwise right after skl2onnx is imported, by a one-line finder on ``sys.meta_path``
  that watches for that one name and does nothing else;
* and whenever [`register_skl2onnx`][xpnet.sklearn.register_skl2onnx] is called (it may be
  called any number of times).

The nodes are [`xpnet.interop.onnx.emit_inference`][xpnet.interop.onnx.emit_inference]'s, the
same as ``xpnet.export`` writes, emitted into skl2onnx's container: a classifier gives
``label`` (the values of ``classes_``, int64 or strings) and ``probabilities``, a regressor
``variable`` ``[N, n_outputs_]``. The input may be float32 or float64 (or int64): it is cast to
the model's dtype, and the float outputs are cast to the input's float type, as skl2onnx
declares them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys

import numpy as np

__all__ = ["register_skl2onnx"]

log = logging.getLogger("xpnet.sklearn")

_state = {"registered": False}


def register_skl2onnx() -> None:
    """Register the skl2onnx shape calculators and converters of
    [`MLPClassifier`][xpnet.sklearn.MLPClassifier] and [`MLPRegressor`][xpnet.sklearn.MLPRegressor].

    Needs skl2onnx (``pip install skl2onnx``); calling it again does nothing. It runs by
    itself when skl2onnx is imported (see the module docstring), so calling it is only needed
    to fail early with a clear message when skl2onnx is missing.

    Raises
    ------
    ExportExtraMissing
        skl2onnx is not installed.
    """
    if _state["registered"]:
        return
    from .._lib.extras import require

    require("skl2onnx", "converting a pipeline with skl2onnx", "pip install skl2onnx")
    from skl2onnx import update_registered_converter

    from ._classifier import MLPClassifier
    from ._regressor import MLPRegressor

    update_registered_converter(
        MLPClassifier,
        "XpnetMLPClassifier",
        _classifier_shapes,
        _convert,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
    update_registered_converter(MLPRegressor, "XpnetMLPRegressor", _regressor_shapes, _convert)
    _state["registered"] = True
    log.debug("registered the skl2onnx converters of xpnet.sklearn")


def _classifier_shapes(operator) -> None:
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    calculate_linear_classifier_output_shapes(operator)


def _regressor_shapes(operator) -> None:
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    kind = operator.inputs[0].type
    cls = type(kind) if isinstance(kind, (FloatTensorType, DoubleTensorType)) else FloatTensorType
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].set_type(cls([n, operator.raw_operator.n_outputs_]))


def _dtype_of(onnx_type) -> str:
    """The NumPy dtype name of an skl2onnx tensor type."""
    from onnx import helper

    return np.dtype(helper.tensor_dtype_to_np_dtype(onnx_type.to_onnx_type().tensor_type.elem_type)).name


class _ContainerEmitter:
    """[`emit_inference`][xpnet.interop.onnx.emit_inference]'s emitter on skl2onnx's scope and container."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container

    def constant(self, hint: str, array) -> str:
        from onnx import TensorProto, numpy_helper

        name = self.scope.get_unique_variable_name(hint)
        array = np.asarray(array)
        if array.dtype == object:  # string class labels
            content = [str(s).encode("utf-8") for s in array.ravel()]
            self.container.add_initializer(name, TensorProto.STRING, list(array.shape), content)
        else:
            self.container.add_initializer(name, None, None, numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs, hint: str, output: str | None = None, **attrs) -> str:
        out = output if output is not None else self.scope.get_unique_variable_name(hint)
        self.container.add_node(
            op, list(inputs), [out], name=self.scope.get_unique_operator_name(f"Xpnet{op}"), **attrs
        )
        return out


def _convert(scope, operator, container) -> None:
    from ..interop.onnx import emit_inference

    estimator = operator.raw_operator
    model = estimator.model_
    x = operator.inputs[0]
    emit = _ContainerEmitter(scope, container)
    if model.head.classifies:
        nocl = bool(container.get_options(estimator, dict(nocl=False))["nocl"])
        outputs = {"label": operator.outputs[0].full_name, "probabilities": operator.outputs[1].full_name}
        out_dtype = _dtype_of(operator.outputs[1].type)
        classes = None if nocl else np.asarray(estimator.classes_)
    else:
        outputs = {"values": operator.outputs[0].full_name}
        out_dtype = _dtype_of(operator.outputs[0].type)
        classes = None
    emit_inference(emit, model, x.full_name, _dtype_of(x.type), outputs, classes, out_dtype)


class _RegisterAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ``skl2onnx`` is imported it hands the import to the usual
    path finder, with a loader that registers the converters once the package has run."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "skl2onnx" or _state["registered"]:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


class _RegisteringLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        try:
            register_skl2onnx()
        except Exception as exc:  # noqa: BLE001 - never break the user's own import of skl2onnx
            log.warning("could not register xpnet.sklearn's skl2onnx converters: %s", exc)

    def __getattr__(self, name):  # get_resource_reader, is_package, ... of the real loader
        return getattr(self.loader, name)


def install() -> None:
    """Register now if skl2onnx is imported, else once it is (called by ``import xpnet.sklearn``)."""
    if "skl2onnx" in sys.modules:
        try:
            register_skl2onnx()
        except Exception as exc:  # noqa: BLE001 - a broken skl2onnx must not break import xpnet.sklearn
            log.warning("could not register xpnet.sklearn's skl2onnx converters: %s", exc)
    elif not any(isinstance(f, _RegisterAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImport())

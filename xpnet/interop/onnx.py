"""An [`MLP`][xpnet.model.mlp.MLP] as an ONNX graph: raw inputs in, what ``predict`` answers out.

The graph is written node by node from the model's parameters with the ``onnx`` package's
helper API (no tracing, no PyTorch). It is the whole inference path:

    input ─(Cast)─ Div 255 ─ Sub mean ─ Div std ─┬─ Gemm W1,b1 ─ g ─ … ─ Gemm WL,bL ─ head
             (only the steps the model's          │
              Preprocessing has)                   └ g: Relu | Max(Z, 0.01·Z) | Tanh | Sigmoid | (identity)

| head (``loss``)   | outputs                                                                 |
| ----------------- | ----------------------------------------------------------------------- |
| ``cross_entropy`` | ``label`` (int64, ``[N]``: ``ArgMax`` of the logits), ``probabilities`` (``[N, K]``: ``Softmax``) |
| ``squared_error`` | ``values`` (``[N, n_L]``: the logits themselves)                         |
| ``poisson``       | ``values`` (``[N, n_L]``: ``Exp`` of the logits)                         |

``N`` is a dynamic dimension (``"batch"``); every float tensor has the model's dtype
(float32 or float64). Opset [`OPSET`][xpnet.interop.onnx.OPSET], IR version
[`IR_VERSION`][xpnet.interop.onnx.IR_VERSION]. Dropout is left out: inference never drops.

[`emit_inference`][xpnet.interop.onnx.emit_inference] writes the nodes through a small
emitter interface, so that the same code builds this module's stand-alone graph and the
nodes the skl2onnx converter of ``xpnet.sklearn`` adds to a pipeline's graph.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._lib.extras import require
from .._lib.fileio import atomic_write
from ..errors import ExportError
from ..nn.activations import LEAKY_SLOPE, get_activation

__all__ = [
    "OPSET",
    "IR_VERSION",
    "INPUT_NAME",
    "INPUT_DTYPES",
    "to_onnx",
    "save_onnx",
    "emit_inference",
    "GraphEmitter",
]

OPSET = 17
"""The ONNX operator set the graph is written in (onnxruntime has run it since 1.14)."""
IR_VERSION = 8
"""The IR version that goes with opset 17 (onnx's own table: opset 17 ↔ IR 8)."""
INPUT_NAME = "input"
"""The name of the graph's one input."""
INPUT_DTYPES = ("uint8", "float32", "float64")
"""What the graph's input may hold: raw pixels as bytes, or floats."""

_ACTIVATION_OPS: dict[str, tuple[str | None, dict]] = {
    "relu": ("Relu", {}),
    "leaky_relu": ("leaky", {}),  # Max(Z, slope·Z): see emit_inference
    "tanh": ("Tanh", {}),
    "sigmoid": ("Sigmoid", {}),
    "identity": (None, {}),
}


class GraphEmitter:
    """Collects the initializers and nodes of one stand-alone graph, naming them uniquely."""

    def __init__(self):
        self.initializers = []
        self.nodes = []
        self._names: set[str] = set()

    def _unique(self, hint: str) -> str:
        name, i = hint, 1
        while name in self._names:
            i += 1
            name = f"{hint}_{i}"
        self._names.add(name)
        return name

    def constant(self, hint: str, array: np.ndarray) -> str:
        """Add ``array`` as an initializer; returns its name."""
        from onnx import numpy_helper

        name = self._unique(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, output: str | None = None, **attrs) -> str:
        """Add one node; returns the name of its output (``output`` if given)."""
        from onnx import helper

        out = output if output is not None else self._unique(hint)
        if output is not None:
            self._names.add(output)
        self.nodes.append(helper.make_node(op, inputs, [out], name=self._unique(f"{op}_{hint}"), **attrs))
        return out


def _onnx_float(dtype_name: str) -> int:
    from onnx import TensorProto

    return {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}[dtype_name]


def emit_inference(
    emit,
    model,
    x: str,
    input_dtype: str,
    outputs: dict,
    classes: np.ndarray | None = None,
    output_dtype: str | None = None,
) -> None:
    """Write the nodes of ``model``'s inference path from the tensor ``x`` to ``outputs``.

    Parameters
    ----------
    emit
        Where the nodes go: an object with ``constant(hint, array) -> name`` and
        ``node(op, inputs, hint, output=None, **attrs) -> name``
        ([`GraphEmitter`][xpnet.interop.onnx.GraphEmitter], or the skl2onnx adapter).
    model : MLP
        The model; its host parameters are copied into the graph.
    x : str
        The name of the input tensor, ``(N, n_0)`` raw inputs (what ``model.predict`` takes).
    input_dtype : str
        ``x``'s element type (``"uint8"``, ``"float32"``, ``"float64"``, ``"int64"``, ...).
    outputs : dict
        The output names: ``{"label": ..., "probabilities": ...}`` for a classifier,
        ``{"values": ...}`` for a regressor. A key left out is not computed.
    classes : numpy.ndarray, optional
        The labels of the classes (a scikit-learn classifier's ``classes_``, numbers or
        strings): ``label`` is then ``classes[argmax]``, else the index ``argmax``.
    output_dtype : str, optional
        Cast the float outputs to this dtype (default: the model's).
    """
    dtype = model.dtype_name
    ftype = np.dtype(dtype)
    if input_dtype != dtype:
        x = emit.node("Cast", [x], "x_cast", to=_onnx_float(dtype))
    pre = model.preprocessing
    if pre is not None:  # Preprocessing.transform: ((x / 255) − mean) / std, in the model's dtype
        if pre.scale:
            x = emit.node("Div", [x, emit.constant("scale", np.asarray(255, ftype))], "x_scaled")
        if pre.mean is not None:
            x = emit.node("Sub", [x, emit.constant("mean", np.asarray(pre.mean, ftype))], "x_centred")
            x = emit.node("Div", [x, emit.constant("std", np.asarray(pre.std, ftype))], "x_standardised")
    params = model.numpy_params(averaged=True)
    op, attrs = _ACTIVATION_OPS[get_activation(model.activation).name]
    L = model.n_layers
    A = x
    for l in range(1, L + 1):
        W = emit.constant(f"W{l}", params[f"W{l}"].astype(ftype, copy=False))
        b = emit.constant(f"b{l}", params[f"b{l}"].astype(ftype, copy=False))
        A = emit.node("Gemm", [A, W, b], f"Z{l}", transB=1)  # Z_l = A_{l−1}·W_lᵀ + b_l
        if l < L and op == "leaky":
            # max(Z, 0.01·Z) = Z where Z > 0, else 0.01·Z, with the slope in the model's dtype:
            # LeakyRelu's alpha is a float32 attribute, 2e-10 off in float64.
            slope = emit.node("Mul", [A, emit.constant("slope", np.asarray(LEAKY_SLOPE, ftype))], f"slope_Z{l}")
            A = emit.node("Max", [A, slope], f"A{l}")
        elif l < L and op is not None:
            A = emit.node(op, [A], f"A{l}", **attrs)
    Z = A
    cast_to = None if output_dtype in (None, dtype) else _onnx_float(output_dtype)

    def finish(name, hint, op_name, inputs, **kw):
        if cast_to is None:
            emit.node(op_name, inputs, hint, output=name, **kw)
        else:
            emit.node("Cast", [emit.node(op_name, inputs, hint, **kw)], f"{hint}_cast", output=name, to=cast_to)

    if model.head.classifies:
        if "probabilities" in outputs:
            finish(outputs["probabilities"], "probabilities", "Softmax", [Z], axis=1)
        if "label" in outputs:
            if classes is None:
                emit.node("ArgMax", [Z], "label", output=outputs["label"], axis=1, keepdims=0)
            else:
                index = emit.node("ArgMax", [Z], "label_index", axis=1, keepdims=0)
                emit.node(
                    "Gather",
                    [emit.constant("classes", _label_array(classes)), index],
                    "label",
                    output=outputs["label"],
                    axis=0,
                )
        return
    head = model.head.name
    if head == "squared_error":
        finish(outputs["values"], "values", "Identity", [Z])
    elif head == "poisson":
        finish(outputs["values"], "values", "Exp", [Z])
    else:  # pragma: no cover - a head added to xpnet.losses without an ONNX form
        raise ExportError(f"the {head!r} head has no ONNX form yet")


def _label_array(classes: np.ndarray) -> np.ndarray:
    """Class labels as ONNX can hold them: int64 for integers and booleans, else strings."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64)
    if classes.dtype.kind in "USO":
        return np.array([str(c) for c in classes], dtype=object)
    raise ExportError(f"class labels of dtype {classes.dtype} cannot be graph outputs; use integer or string labels")


def to_onnx(model, *, input_dtype: str | None = None, classes: np.ndarray | None = None):
    """The ONNX model (``onnx.ModelProto``) of ``model``'s inference path, checked by
    ``onnx.checker``.

    Parameters
    ----------
    model : MLP
        Any backend; its parameters are copied to the host.
    input_dtype : {"uint8", "float32", "float64"} or None
        The element type of the input ``input`` (``None``: the model's dtype).
    classes : numpy.ndarray, optional
        Labels for the ``label`` output (see [`emit_inference`][xpnet.interop.onnx.emit_inference]).

    Returns
    -------
    onnx.ModelProto
        Input ``input`` ``[batch, n_0]``; outputs ``label`` ``[batch]`` and ``probabilities``
        ``[batch, K]`` for a classifier, ``values`` ``[batch, n_L]`` for a regressor.
    """
    onnx = require("onnx", "exporting to ONNX")
    from onnx import TensorProto, helper

    dtype = model.dtype_name
    input_dtype = dtype if input_dtype is None else str(input_dtype)
    if input_dtype not in INPUT_DTYPES:
        raise ExportError(f"input_dtype must be one of {', '.join(INPUT_DTYPES)}; got {input_dtype!r}")
    elem = {"uint8": TensorProto.UINT8, "float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}
    emit = GraphEmitter()
    emit._names.add(INPUT_NAME)
    if model.head.classifies:
        outputs = {"label": "label", "probabilities": "probabilities"}
        label_type = TensorProto.INT64
        if classes is not None and _label_array(classes).dtype == object:
            label_type = TensorProto.STRING
        graph_outputs = [
            helper.make_tensor_value_info("label", label_type, ["batch"]),
            helper.make_tensor_value_info("probabilities", elem[dtype], ["batch", model.sizes[-1]]),
        ]
    else:
        outputs = {"values": "values"}
        graph_outputs = [helper.make_tensor_value_info("values", elem[dtype], ["batch", model.sizes[-1]])]
    emit_inference(emit, model, INPUT_NAME, input_dtype, outputs, classes)
    graph = helper.make_graph(
        emit.nodes,
        "xpnet_mlp",
        [helper.make_tensor_value_info(INPUT_NAME, elem[input_dtype], ["batch", model.sizes[0]])],
        graph_outputs,
        initializer=emit.initializers,
    )
    from ..backend.environment import xpnet_version

    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="xpnet",
        producer_version=xpnet_version(),
        doc_string=f"xpnet MLP {model.sizes}, {model.activation}, {model.head.name}, {dtype}",
    )
    helper.set_model_props(
        proto,
        {
            "sizes": ",".join(str(s) for s in model.sizes),
            "activation": model.activation,
            "loss": model.head.name,
            "dtype": dtype,
            "preprocessing": "none" if model.preprocessing is None else model.preprocessing.describe(),
        },
    )
    onnx.checker.check_model(proto, full_check=True)
    return proto


def save_onnx(
    model, path: str | os.PathLike, *, input_dtype: str | None = None, classes: np.ndarray | None = None
) -> Path:
    """Write [`to_onnx`][xpnet.interop.onnx.to_onnx]'s graph to ``path``, atomically."""
    data = to_onnx(model, input_dtype=input_dtype, classes=classes).SerializeToString()
    path = Path(path)
    with atomic_write(path, "wb") as stream:
        stream.write(data)
    return path


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)

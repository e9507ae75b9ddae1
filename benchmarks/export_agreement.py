"""How closely the exported files answer as xpnet does (docs/export.md).

Exports a checkpoint's model as ONNX (uint8 and float input) and as safetensors, in float32
and float64, then compares on the 10,000 MNIST t10k images: onnxruntime against
``predict_proba``/``predict``, PyTorch (docs/_snippets/export-torch.py, as the docs show it)
against ``predict_proba``, and ``xpnet.load`` of the safetensors file against the weights.

    python benchmarks/export_agreement.py MODEL.npz [T10K_IMAGES.gz]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

import xpnet
from xpnet.datasets import read_idx

SNIPPET = Path(__file__).resolve().parents[1] / "docs" / "_snippets" / "export-torch.py"


def main(checkpoint: str, images: str = "../shared/data/mnist-t10k/t10k-images-idx3-ubyte.gz") -> None:
    x = read_idx(images).reshape(-1, 784)
    checkpoint = os.path.abspath(checkpoint)
    print(f"{len(x)} images; onnxruntime {ort.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        for dtype in ("float32", "float64"):
            model = xpnet.load(checkpoint, backend="cpu", dtype=dtype)
            proba, labels = model.predict_proba(x), model.predict(x)
            for input_dtype in ("uint8", dtype):
                path = xpnet.export(model, f"m-{input_dtype}.onnx", input_dtype=input_dtype)
                session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                lab, p = session.run(None, {"input": x.astype(input_dtype)})
                print(
                    f"onnxruntime, {dtype} model, {input_dtype} input: max |Δ probability| "
                    f"{np.abs(p - proba).max():.2e}; labels equal: {bool((lab == labels).all())}"
                )
            xpnet.export(model, "model.safetensors")
            scope: dict = {}
            exec(SNIPPET.read_text(encoding="utf-8"), scope)
            p = scope["predict_proba"](x).numpy()
            back = xpnet.load("model.safetensors", backend="cpu").numpy_params()
            same = all(np.array_equal(a, back[k]) and a.dtype == back[k].dtype for k, a in model.numpy_params().items())
            print(
                f"torch, {dtype}: max |Δ probability| {np.abs(p - proba).max():.2e}; argmax equal: "
                f"{bool((p.argmax(1) == labels).all())}; xpnet.load gives the same weights bit for bit: {same}"
            )


if __name__ == "__main__":
    main(*sys.argv[1:])

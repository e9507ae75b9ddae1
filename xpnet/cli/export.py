"""``xpnet export``: a trained model as ONNX or safetensors ([`xpnet.interop.export`][xpnet.interop.export])."""

from __future__ import annotations

from pathlib import Path

import click

from . import output as out
from .options import CONTEXT_SETTINGS

__all__ = ["export"]


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, path_type=Path))
@click.argument("out_path", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--input-dtype",
    type=click.Choice(["uint8", "float32", "float64"]),
    help="ONNX only: the element type of the graph's input (default: the model's dtype). "
    "uint8 takes raw pixels as bytes.",
)
def export(model_path: Path, out_path: Path, input_dtype: str | None) -> None:
    """Write a trained model to OUT as ONNX or safetensors, by OUT's suffix.

    MODEL is a checkpoint (model.npz) or a run directory. An .onnx file holds the whole
    inference path (the model's input transform, the layers, softmax and argmax), an
    .safetensors file the weights under torch.nn.Sequential names with the settings as
    metadata (docs/export.md). Needs: pip install "xpnet[export]".

    \b
    Examples:
      xpnet export runs/mnist-20250101-120000 mnist.onnx --input-dtype uint8
      xpnet export model.npz model.safetensors
    """
    from ..interop import SUFFIXES
    from ..interop import export as export_model
    from ..runs import find_checkpoint

    path = export_model(find_checkpoint(model_path), out_path, input_dtype=input_dtype)
    size = path.stat().st_size
    out.console().print(f"wrote {out.esc(path)} ({SUFFIXES[path.suffix.lower()]}, {size / 1024:.1f} KiB)")

"""Real MNIST digits re-drawn the way people make pictures of digits (for tests and benchmarks).

Each rendering starts from a 28×28 MNIST digit: it is enlarged (bicubic), thresholded at half
intensity and thinned to a one-pixel skeleton (Zhang–Suen), which stands for the path of the
pen. The skeleton is then drawn with a pen of a chosen width on a chosen canvas, together with
the digit's own shape eroded (or dilated) so that its mean stroke is the pen's width: what the
writer filled in (a loop closed with ink, a blot) stays filled in, as it would with any pen,
instead of thinning to a short line that makes a "6" look like an "l". Measured over
t10k[8000:10000] (`redrawn_directly`, plain model of `benchmarks/image_preprocessing.py`):
re-stroking the skeleton alone lost 37 digits the arrays got right; with the digit's own
shape, 20.

``mnist-enlarged``
    the reference: the MNIST digit itself, enlarged 10× (bicubic) and inverted to dark on
    white, 280×280 PNG. No re-drawing, so it measures the preprocessing alone.
``thin-pen``
    3-pixel black line, digit ~260 px tall on a 400×400 white canvas (Paint, a tablet), PNG.
``fat-marker``
    ~34-pixel marker line on a 400×400 white canvas, PNG.
``photo``
    a phone photo: coloured ink (blue, red, green or black) 7 px wide on cream paper, light
    falling off across the page, a shadowed corner with a soft edge, sensor noise
    (σ = 5 gray levels), 640×480, saved as JPEG quality 70.
``canvas-rgba``
    a browser canvas export: black 18-pixel strokes on a *transparent* 280×280 canvas, RGBA PNG.
``small-offcentre``
    a small digit (~70 px) 5 px wide placed off centre on a 400×300 white picture, PNG.
``chalkboard``
    the other polarity: white chalk 10 px wide on a dark green, noisy board, JPEG.

Coarse digits (`COARSE_KINDS`), as old optical-digit datasets keep them (the UCI "optdigits" set:
an 8×8 grid of 16 grey levels): the central 24×24 of the MNIST digit averaged over 3×3 blocks to
8×8 and rounded to 16 levels (`coarse`), then enlarged by nearest neighbour:

``coarse-8x8``
    the 8×8 picture itself, dark on white, gray PNG.
``coarse-x4``
    32×32 (×4), white on black, gray PNG.
``coarse-x10``
    80×80 (×10), dark on white, RGB PNG.
``coarse-x12.5``
    100×100 (×12.5: blocks of 12 and 13 pixels), white on black, gray PNG.
``coarse-x35``
    280×280 (×35, the size of ``xpnet serve``'s pad), dark on white, RGB PNG.
``coarse-x35-rgba``
    280×280, black ink whose opacity is the grey level, on a transparent canvas (RGBA PNG).

The same digits as arrays, for comparison, are `coarse_as_array`: the 8×8 grid enlarged
bilinearly back to 24×24 and placed in the 28×28 frame, with no picture and no preprocessing.

All randomness comes from the ``rng`` passed in, so a seed gives the same pictures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

KINDS = ("mnist-enlarged", "thin-pen", "fat-marker", "photo", "canvas-rgba", "small-offcentre", "chalkboard")
SUFFIX = {
    "mnist-enlarged": ".png",
    "thin-pen": ".png",
    "fat-marker": ".png",
    "photo": ".jpg",
    "canvas-rgba": ".png",
    "small-offcentre": ".png",
    "chalkboard": ".jpg",
}


COARSE_KINDS = ("coarse-8x8", "coarse-x4", "coarse-x10", "coarse-x12.5", "coarse-x35", "coarse-x35-rgba")
#: Side of a coarse digit's grid and its number of grey levels.
COARSE_SIDE, COARSE_LEVELS = 8, 16


def coarse(digit: np.ndarray) -> np.ndarray:
    """``digit`` (28×28 or 784, MNIST) as an 8×8 grid of 16 grey levels.

    The central 24×24 (MNIST's 20×20 box and most of its margin) is averaged over 3×3 blocks,
    ``g = mean / 255``, and rounded to ``round(15 g)``; the result is returned as gray levels
    ``17 · round(15 g)`` (0, 17, …, 255), white digit on black.
    """
    d = np.asarray(digit, dtype=np.float64).reshape(28, 28)[2:26, 2:26]
    means = d.reshape(COARSE_SIDE, 3, COARSE_SIDE, 3).mean(axis=(1, 3))
    levels = np.rint(means / 255.0 * (COARSE_LEVELS - 1))
    return (levels * (255 // (COARSE_LEVELS - 1))).astype(np.uint8)


def coarse_as_array(grid: np.ndarray) -> np.ndarray:
    """An 8×8 `coarse` grid given back to the network as an array: enlarged bilinearly (cell
    centres interpolated, Pillow) to 24×24, placed in the middle of 28×28. Shape ``(784,)``, uint8."""
    big = Image.fromarray(np.asarray(grid, dtype=np.float32), mode="F").resize((24, 24), Image.BILINEAR)
    out = np.zeros((28, 28))
    out[2:26, 2:26] = np.asarray(big)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(784)


def render_coarse(kind: str, grid: np.ndarray) -> Image.Image:
    """The picture of a `coarse` 8×8 grid for one of `COARSE_KINDS`: enlarged by nearest neighbour."""
    g = np.asarray(grid, dtype=np.uint8)
    sizes = {"coarse-8x8": 8, "coarse-x4": 32, "coarse-x10": 80, "coarse-x12.5": 100, "coarse-x35": 280}
    if kind == "coarse-x35-rgba":
        rgba = np.zeros((8, 8, 4), np.uint8)
        rgba[:, :, 3] = g
        return Image.fromarray(rgba, mode="RGBA").resize((280, 280), Image.NEAREST)
    if kind not in sizes:
        raise ValueError(f"unknown coarse kind {kind!r}; known: {', '.join(COARSE_KINDS)}")
    light_on_dark = kind in ("coarse-x4", "coarse-x12.5")
    img = Image.fromarray(g if light_on_dark else 255 - g, mode="L").resize((sizes[kind],) * 2, Image.NEAREST)
    return img.convert("RGB") if kind in ("coarse-x10", "coarse-x35") else img


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang–Suen thinning of a bool array to 1-pixel-wide, 8-connected lines."""
    img = np.pad(mask.astype(bool), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = np.pad(img, 1)
            n = [
                p[:-2, 1:-1],
                p[:-2, 2:],
                p[1:-1, 2:],
                p[2:, 2:],
                p[2:, 1:-1],
                p[2:, :-2],
                p[1:-1, :-2],
                p[:-2, :-2],
            ]
            b = sum(x.astype(np.int8) for x in n)
            a = sum((~n[i] & n[(i + 1) % 8]).astype(np.int8) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                cond = ~(p2 & p4 & p6) & ~(p4 & p6 & p8)
            else:
                cond = ~(p2 & p4 & p8) & ~(p2 & p6 & p8)
            remove = img & (b >= 2) & (b <= 6) & (a == 1) & cond
            if remove.any():
                img = img & ~remove
                changed = True
        if not changed:
            return img[1:-1, 1:-1]


def _disk_dilate(mask: np.ndarray, radius: float) -> np.ndarray:
    """Dilate by a disk of ``radius`` px (exact, by stamping disk offsets)."""
    r = int(np.ceil(radius))
    if r <= 0:
        return mask.copy()
    out = np.zeros_like(mask)
    p = np.pad(mask, r)
    h, w = mask.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy * dy + dx * dx <= radius * radius + 1e-9:
                out |= p[r + dy : r + dy + h, r + dx : r + dx + w]
    return out


def same_shape_at_width(crop: np.ndarray, pen: float, upscale: int = 4) -> np.ndarray:
    """The digit's own shape with its mean stroke made ``pen`` wide (``pen`` in crop pixels).

    The digit is the crop enlarged ``upscale``× (bicubic) above 127; its mean stroke width
    ``w`` is `xpnet.images.digit.stroke_width`. Eroding it by ``(w − pen)/2``
    (or dilating, for a wider pen) makes a stroke of width ``w`` one of width ``pen`` and
    keeps what the writer drew wider than their stroke — a loop filled with ink, a blot —
    wider by the same amount, where a skeleton would turn a filled loop into a short line.
    Parts narrower than ``w`` may vanish; `stroke_coverage` joins them with the skeleton.

    Returns
    -------
    numpy.ndarray
        Bool, the crop's shape times ``upscale``.
    """
    from xpnet.images.digit import stroke_width

    img = Image.fromarray(np.asarray(crop, dtype=np.uint8))
    mask = np.asarray(img.resize((img.width * upscale, img.height * upscale), Image.BICUBIC)) > 127
    change = (upscale * pen - stroke_width(mask)) / 2
    r = int(np.ceil(abs(change))) + 1
    if change >= 0:
        return _disk_dilate(np.pad(mask, r), change)[r:-r, r:-r]
    return (~_disk_dilate(~np.pad(mask, r), -change))[r:-r, r:-r]


def stroke_coverage(digit: np.ndarray, height: int, pen: float, own_shape: bool = True) -> np.ndarray:
    """Ink coverage (0..1) of ``digit`` re-drawn ``height`` px tall with a pen ``pen`` px wide.

    The pen path is the skeleton of the digit enlarged so that its 20-pixel MNIST box becomes
    ``height`` pixels; the stroke is the path dilated by a disk of diameter ``pen``, drawn at
    twice the size and reduced (anti-aliasing). With ``own_shape`` (the default) the digit's
    own shape at the pen's width (`same_shape_at_width`) is added, so that what the writer
    filled in stays filled in; without it, only the skeleton is re-stroked.
    """
    d = np.asarray(digit, dtype=np.uint8).reshape(28, 28)
    rows, cols = np.flatnonzero((d > 127).any(axis=1)), np.flatnonzero((d > 127).any(axis=0))
    if rows.size == 0:
        raise ValueError("empty digit")
    box = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    crop = d[max(rows[0] - 1, 0) : rows[-1] + 2, max(cols[0] - 1, 0) : cols[-1] + 2]
    scale = 2.0 * height / box
    big = Image.fromarray(crop).resize(
        (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))), Image.BICUBIC
    )
    path = skeleton(np.asarray(big) > 127)
    ink = _disk_dilate(np.pad(path, int(pen) + 2), pen)  # radius pen at 2x size = diameter pen at 1x
    if own_shape:
        shape = same_shape_at_width(crop, pen * box / height)
        shape = (
            np.asarray(Image.fromarray(shape.astype(np.uint8) * 255).resize((big.width, big.height), Image.BILINEAR))
            > 127
        )
        ink |= np.pad(shape, int(pen) + 2)
    cov = Image.fromarray(ink.astype(np.float32), mode="F")
    cov = cov.resize((max(1, ink.shape[1] // 2), max(1, ink.shape[0] // 2)), Image.BOX)
    return np.clip(np.asarray(cov, dtype=np.float64), 0, 1)


def _place(canvas_hw, cov, rng, centre_jitter=0.08, centre=None):
    """A full-canvas coverage map with ``cov`` placed near ``centre`` (fractions), jittered."""
    h, w = canvas_hw
    out = np.zeros((h, w))
    ch, cw = cov.shape
    cy, cx = centre if centre is not None else (0.5, 0.5)
    cy += rng.uniform(-centre_jitter, centre_jitter)
    cx += rng.uniform(-centre_jitter, centre_jitter)
    top = int(np.clip(round(cy * h - ch / 2), 0, max(0, h - ch)))
    left = int(np.clip(round(cx * w - cw / 2), 0, max(0, w - cw)))
    ch, cw = min(ch, h - top), min(cw, w - left)
    out[top : top + ch, left : left + cw] = cov[:ch, :cw]
    return out


def _to_rgb(values: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), mode="RGB")


def render(kind: str, digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """One picture of ``digit`` (28×28 or 784 uint8, MNIST) of the given ``kind`` (see module doc)."""
    if kind == "mnist-enlarged":
        big = Image.fromarray(255 - np.asarray(digit, dtype=np.uint8).reshape(28, 28)).resize((280, 280), Image.BICUBIC)
        return big.convert("RGB")
    if kind == "thin-pen":
        cov = _place((400, 400), stroke_coverage(digit, int(rng.integers(230, 290)), 3.0), rng)
        ink = rng.uniform(0, 40)
        return _to_rgb(np.repeat((255 - (255 - ink) * cov)[:, :, None], 3, axis=2))
    if kind == "fat-marker":
        cov = _place((400, 400), stroke_coverage(digit, int(rng.integers(240, 290)), float(rng.uniform(30, 38))), rng)
        colour = np.array([rng.uniform(0, 50), rng.uniform(0, 50), rng.uniform(0, 80)])
        return _to_rgb(255 * (1 - cov[:, :, None]) + colour * cov[:, :, None])
    if kind == "photo":
        h, w = 480, 640
        cov = _place((h, w), stroke_coverage(digit, int(rng.integers(260, 330)), float(rng.uniform(6, 9))), rng)
        paper = np.array([rng.uniform(225, 245), rng.uniform(215, 235), rng.uniform(190, 215)])
        inks = [(40, 60, 170), (175, 40, 45), (30, 115, 60), (45, 45, 55)]
        ink = np.array(inks[int(rng.integers(len(inks)))], dtype=float)
        ys, xs = np.mgrid[0:h, 0:w] / max(h, w)
        angle = rng.uniform(0, 2 * np.pi)
        light = 1.0 - 0.3 * ((np.cos(angle) * xs + np.sin(angle) * ys) - (np.cos(angle) + np.sin(angle)) * 0.25)
        light -= 0.25 * ((ys - 0.4) ** 2 + (xs - 0.6) ** 2)  # vignetting
        # a shadow over one corner, soft-edged: a half-plane cutting the corner
        corner = rng.integers(4)
        sy, sx = (ys if corner < 2 else ys[::-1]), (xs if corner % 2 == 0 else xs[:, ::-1])
        shadow = ((sy + sx) < rng.uniform(0.3, 0.45)).astype(np.float32)
        shadow = (
            np.asarray(Image.fromarray(shadow * 255).convert("L").filter(ImageFilter.GaussianBlur(8)), dtype=float)
            / 255
        )
        light = np.clip(light * (1 - 0.45 * shadow), 0.2, 1.1)
        colour = (paper * (1 - cov[:, :, None]) + ink * cov[:, :, None]) * light[:, :, None]
        colour += rng.normal(0, 5, colour.shape)
        return _to_rgb(colour)
    if kind == "canvas-rgba":
        cov = _place((280, 280), stroke_coverage(digit, int(rng.integers(170, 220)), float(rng.uniform(14, 20))), rng)
        rgba = np.zeros((280, 280, 4))
        rgba[:, :, 3] = 255 * cov
        return Image.fromarray(np.clip(np.rint(rgba), 0, 255).astype(np.uint8), mode="RGBA")
    if kind == "small-offcentre":
        centre = (rng.choice([0.25, 0.75]), rng.choice([0.2, 0.8]))
        cov = _place(
            (300, 400),
            stroke_coverage(digit, int(rng.integers(55, 85)), 5.0),
            rng,
            centre_jitter=0.05,
            centre=centre,
        )
        ink = rng.uniform(0, 60)
        return _to_rgb(np.repeat((250 - (250 - ink) * cov)[:, :, None], 3, axis=2))
    if kind == "chalkboard":
        h, w = 360, 360
        cov = _place((h, w), stroke_coverage(digit, int(rng.integers(220, 280)), float(rng.uniform(8, 12))), rng)
        board = np.array([35, 55, 45], dtype=float) * (1 + 0.25 * rng.uniform(-1, 1))
        chalk = np.array([235, 235, 225], dtype=float) * rng.uniform(0.8, 1.0)
        colour = board * (1 - cov[:, :, None]) + chalk * cov[:, :, None]
        colour += rng.normal(0, 6, colour.shape)
        return _to_rgb(colour)
    raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")


def redrawn_directly(digit: np.ndarray, pen: float = 2.55) -> np.ndarray:
    """The re-drawing alone: ``digit``'s skeleton stroked with a ``pen``-pixel round pen at
    MNIST's scale, rasterised straight into MNIST's frame (no picture, no background, no
    threshold).

    The pen path is drawn 200 pixels tall with a pen ``10 · pen`` pixels wide (so ``pen``
    pixels once the box is 20 pixels; 2.55 is MNIST's median stroke width, see
    `xpnet.images.digit.MNIST_STROKE_WIDTH`), and its coverage goes through the
    pipeline's last step, [render][xpnet.images.digit.render] (box to 20×20 with area
    averaging, centre of mass to the centre). Comparing a model on these with the same model
    on MNIST's arrays measures what the re-drawing changes; comparing with ``load_image`` on a
    picture measures what the preprocessing loses.

    Returns
    -------
    numpy.ndarray
        Shape ``(784,)``, uint8.
    """
    from xpnet.images.digit import render as mnist_render

    return mnist_render(stroke_coverage(digit, 200, 10.0 * pen))


def write(kind: str, digit: np.ndarray, rng: np.random.Generator, directory, stem: str) -> Path:
    """Render and save one picture (PNG, or JPEG quality 70 for photos); return its path."""
    path = Path(directory) / f"{stem}{SUFFIX[kind]}"
    img = render(kind, digit, rng)
    if SUFFIX[kind] == ".jpg":
        img.save(path, "JPEG", quality=70)
    else:
        img.save(path, "PNG")
    return path

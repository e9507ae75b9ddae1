"""The steps that turn a picture of one digit into an MNIST-style 28×28 image.

MNIST (LeCun et al.) was made from binary NIST scans: each digit was size-normalised to fit a
20×20 box, keeping its aspect ratio, with anti-aliasing (so edges are gray), then placed in a
28×28 field so that its centre of mass is at the centre. A user's picture is not a binary
scan: the paper is uneven, the ink coloured, the pen thin or fat. The steps here first recover
a clean binary digit, at a working resolution, and then repeat MNIST's preparation on it:

1. [`working_size`][xpnet.images.mnistify.working_size] — resample so the longer side is between 200 and 400 pixels;
2. [`foreground`][xpnet.images.mnistify.foreground] — estimate the paper (background) and measure how far each pixel's
   colour is from it, on the side of the ink (dark ink on light paper or light on dark);
3. [`threshold`][xpnet.images.mnistify.threshold] — separate ink from noise with a threshold set from the noise level and
   the ink's own contrast;
4. [`select_digit`][xpnet.images.digit.select_digit] — group marks that belong together; refuse "more than one object";
   drop specks;
5. [`normalise_stroke`][xpnet.images.digit.normalise_stroke] — thicken or thin the strokes to MNIST's relative width;
6. [`render`][xpnet.images.digit.render] — crop to the bounding box, anti-alias it into 20×20 (aspect kept) and
   place its centre of mass at the centre of 28×28 (a sub-pixel, bilinear shift).

The image operations are SciPy's ``ndimage`` (grey-level closing, connected components, binary
dilation and maximum filters, centre of mass, sub-pixel shift) and Pillow's resampling (area averaging, which
``ndimage.zoom`` does not do); the binary-mask operations the steps share are in
[`xpnet.images.morphology`][xpnet.images.morphology]. A picture whose real resolution is far below
its pixel count (a nearest-neighbour upscale) or that is small to begin with is read as the
coarse image it is, without steps 3–5 ([`xpnet.images.lowres`][xpnet.images.lowres]).
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from .digit import (
    BOX,
    CENTRE,
    FRAME,
    MIN_CONTRAST,
    MNIST_STROKE_WIDTH,
    _away_from_border,
    _border,
    normalise_stroke,
    render,
    select_digit,
    stroke_width,
)
from .errors import BlankImageError, ImageError

__all__ = [
    "prepare",
    "working_size",
    "foreground",
    "threshold",
    "select_digit",
    "normalise_stroke",
    "render",
    "stroke_width",
    "MNIST_STROKE_WIDTH",
    "BOX",
    "FRAME",
    "CENTRE",
]

log = logging.getLogger("xpnet.images")

#: Working resolution bounds (longer side, pixels).
WORK_MIN, WORK_MAX = 200, 400
#: Resolution at which the background is estimated (longer side, pixels).
BACKGROUND_SIDE = 160
#: The paper's and the ink's statistics (medians, the polarity's tails) are estimated on a
#: regular grid of at most this many pixels.
SAMPLE = 20_000


# ---------------------------------------------------------------------------------------------
def prepare(img, name: str = "the image", steps: dict | None = None) -> np.ndarray:
    """Run every step on an ``RGBA`` Pillow image; return the flat ``(784,)`` uint8 digit.

    A nearest-neighbour upscale is first reduced to the picture it was made from
    ([`find_blocks`][xpnet.images.lowres.find_blocks]). Then a 28×28 picture is taken as
    MNIST-prepared (only made gray and white-on-black); one of at most
    `lowres.COARSE_MAX` pixels a side is read as a coarse image
    ([`prepare_coarse`][xpnet.images.lowres.prepare_coarse]: no threshold, no stroke change);
    any other goes through steps 1–6 of this module.

    Parameters
    ----------
    img : PIL.Image.Image
        Mode ``"RGBA"`` (see [`open_image`][xpnet.images.decode.open_image]).
    name : str
        What to call the image in error messages.
    steps : dict, optional
        When given, filled with the intermediate arrays (``"working"``, ``"foreground"``,
        ``"mask"``, ``"digit"``, ``"stroke"``, ``"output"``; ``"blocks"``, the reduced picture,
        for an upscale; a coarse picture's are listed in
        [`prepare_coarse`][xpnet.images.lowres.prepare_coarse]) for pictures and debugging.

    Returns
    -------
    numpy.ndarray
        Shape ``(784,)``, dtype uint8, white digit (255) on black (0).

    Raises
    ------
    BlankImageError
        Nothing stands out from the background.
    MultipleObjectsError
        Two or more marks of comparable size, far apart.
    """
    from PIL import Image

    from .lowres import COARSE_MAX, find_blocks, prepare_coarse

    steps = {} if steps is None else steps
    rgba = np.asarray(img)
    blocks = find_blocks(rgba)
    if blocks is not None:
        # a nearest-neighbour upscale: the picture it was made from, exactly
        rgba = blocks.downsample(rgba)
        steps["blocks"] = rgba
        log.debug("%s: blocks of %.3g pixels, read as %dx%d", name, blocks.factor, rgba.shape[1], rgba.shape[0])
        img = Image.fromarray(rgba, mode="RGBA")
    alpha = rgba[:, :, 3]
    transparent_background = float(np.median(_border(alpha))) < 128 and alpha.max() > 0
    if img.size == (FRAME, FRAME):
        rgb = rgba[:, :, :3].astype(np.float32)
        if not transparent_background and alpha.min() < 255:
            a = alpha[:, :, None] / np.float32(255)  # composite over white paper: c' = a·c + (1 − a)·255
            rgb = rgb * a + 255 * (1 - a)
        values = alpha.astype(np.float32) if transparent_background else rgb
        return _already_mnist(values, transparent_background, name, steps)
    if max(img.size) <= COARSE_MAX:
        return prepare_coarse(rgba, transparent_background, name, steps)
    if transparent_background:
        # A canvas export: the strokes are whatever is opaque; their colour does not matter.
        work = np.asarray(working_size(img.getchannel("A")), dtype=np.float32)
        steps["working"] = work
        f = work
    else:
        if alpha.min() < 255:  # composite over white paper: c' = a·c + (1 − a)·255
            img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img)
        work = np.asarray(working_size(img.convert("RGB")))
        steps["working"] = work
        if (work[:, :, 0] == work[:, :, 1]).all() and (work[:, :, 1] == work[:, :, 2]).all():
            work = work[:, :, :1]  # gray: one channel says all (the per-channel maximum is that channel)
        f = foreground(work.astype(np.float32))
    steps["foreground"] = f
    mask = threshold(f, name)
    steps["mask"] = mask
    digit = select_digit(mask, name)
    steps["digit"] = digit
    stroke = normalise_stroke(digit)
    steps["stroke"] = stroke
    out = render(stroke)
    steps["output"] = out.reshape(FRAME, FRAME)
    return out


def _already_mnist(values: np.ndarray, transparent: bool, name: str, steps: dict) -> np.ndarray:
    """A 28×28 picture is taken to be MNIST-prepared already: only gray and polarity change.

    Gray is the luminance ``Y = 0.299 R + 0.587 G + 0.114 B``; it is inverted (``255 − Y``)
    when the border's median is above 127 (a light background).
    """
    gray = values if transparent else _luminance(values)
    if not transparent and float(np.median(_border(gray))) > 127:
        gray = 255.0 - gray
    if float(gray.max()) - float(np.median(_border(gray))) < MIN_CONTRAST:
        raise BlankImageError(f"{name}: nothing drawn (the 28x28 image is uniform)")
    out = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    steps["output"] = out
    return out.reshape(FRAME * FRAME)


# -- 1. working size ----------------------------------------------------------------------------
def working_size(img):
    """Resample so the longer side is within ``[WORK_MIN, WORK_MAX]`` pixels.

    Larger pictures are reduced with area averaging (Pillow's ``BOX`` filter after a fast
    ``reduce``), which also averages away sensor and JPEG noise; smaller ones are enlarged
    with bicubic interpolation so that the later morphology has pixels to work with.

    Parameters
    ----------
    img : PIL.Image.Image

    Returns
    -------
    PIL.Image.Image
    """
    from PIL import Image

    long_side = max(img.size)
    if long_side > WORK_MAX:
        s = WORK_MAX / long_side
    elif long_side < WORK_MIN:
        s = WORK_MIN / long_side
    else:
        return img
    size = (max(1, round(img.width * s)), max(1, round(img.height * s)))
    if s < 1:
        return img.resize(size, Image.Resampling.BOX, reducing_gap=3.0)
    return img.resize(size, Image.Resampling.BICUBIC)


# -- 2. foreground -------------------------------------------------------------------------------
def foreground(rgb: np.ndarray) -> np.ndarray:
    """How strongly each pixel is ink: its colour's distance from the local paper colour.

    Two passes. **Pass 1** takes the picture's median colour ``B⁰`` (the paper covers most of
    it; this and the polarity below are estimated on a regular grid of at most `SAMPLE`
    pixels, `_sample`). The ink's polarity ``s`` is −1 (dark ink) when the largest 0.5 % of
    ``max_c (B⁰_c − I_c)`` exceed on average those of ``max_c (I_c − B⁰_c)``, else +1: the ink
    is the far tail. The paper is then estimated per channel as the 75th percentile (25th
    for light ink) of each of 4×4 blocks, interpolated bilinearly between block centres,
    ``B¹``, which ignores ink covering up to three quarters of a block (a fat marker);
    the ink mask of ``max_c s·(I_c − B¹_c)`` (see [`threshold`][xpnet.images.mnistify.threshold]) gives the stroke width
    ``w`` ([`stroke_width`][xpnet.images.digit.stroke_width]), measured on the parts of the mask that do not touch the
    picture's edge (`_away_from_border`): a shadow runs off the picture, a framed digit does not.

    **Pass 2** re-estimates the paper as a morphological closing (dark ink: a maximum filter
    then a minimum filter; light ink: the reverse) with a square window of side
    ``k = clip(5 w, L/40, L/2)`` (``L`` the longer side), computed at
    `BACKGROUND_SIDE` pixels and interpolated back. A closing removes every dark
    feature narrower than ``k`` — the strokes — but keeps any lighting change wider than ``k``,
    including the sharp edge of a shadow, exactly where it is. The foreground is

    ``f = max(0, max_c s · (I_c − B_c))``

    the largest per-channel difference, so blue ink on white (whose red and green channels
    differ most) and dark ink on yellow paper both give a strong signal, whatever their
    luminance.

    Parameters
    ----------
    rgb : numpy.ndarray
        Shape ``(H, W, 3)``, float, 0..255 (or ``(H, W, 1)`` for a gray picture).

    Returns
    -------
    numpy.ndarray
        Shape ``(H, W)``, float32, ≥ 0 (gray levels of ink contrast).
    """
    h, w = rgb.shape[:2]
    planes = np.ascontiguousarray(np.moveaxis(rgb, 2, 0), dtype=np.float32)  # (C, H, W): fast per-channel maxima
    sample = np.stack([_sample(p) for p in planes])
    d = sample - np.median(sample.reshape(sample.shape[0], -1), axis=1)[:, None, None]
    dark, light = -np.min(d, axis=0), np.max(d, axis=0)
    q = max(1, int(0.005 * dark.size))
    s = -1.0 if np.partition(dark.ravel(), -q)[-q:].mean() >= np.partition(light.ravel(), -q)[-q:].mean() else 1.0
    # the paper is brighter than 75 % of a block (dark ink) or darker (light ink)
    b1 = _block_percentile(planes, 4, 75.0 if s < 0 else 25.0)
    f1 = np.maximum(np.max(s * (planes - b1), axis=0), 0.0)
    try:
        width = stroke_width(_away_from_border(threshold(f1, "pass 1")))
    except ImageError:
        width = 1.0
    long_side = max(h, w)
    k = float(np.clip(5.0 * width, long_side / 40.0, long_side / 2.0))
    b2 = _closing(planes, k, dark_ink=s < 0)
    f = np.max(s * (planes - b2), axis=0)
    return np.maximum(f, 0.0).astype(np.float32)


def _block_percentile(planes: np.ndarray, blocks: int, percentile: float = 50.0) -> np.ndarray:
    """Per-channel percentile of a ``blocks``-per-longer-side grid, bilinearly interpolated.

    ``planes`` is ``(C, H, W)``; the percentile interpolates linearly between the two order
    statistics around rank ``p (n − 1) / 100`` (NumPy's default), found by partitioning.
    """
    c, h, w = planes.shape
    b = int(np.ceil(max(h, w) / blocks))
    gh, gw = int(np.ceil(h / b)), int(np.ceil(w / b))
    padded = np.pad(planes, ((0, 0), (0, gh * b - h), (0, gw * b - w)), mode="reflect" if min(h, w) > b else "edge")
    cells = padded.reshape(c, gh, b, gw, b).transpose(0, 1, 3, 2, 4).reshape(c, gh, gw, b * b)
    rank = percentile / 100.0 * (b * b - 1)
    lo, hi = int(np.floor(rank)), int(np.ceil(rank))
    part = np.partition(cells, [lo, hi] if hi != lo else [lo], axis=3)
    grid = part[..., lo] + (part[..., hi] - part[..., lo]) * (rank - lo)
    return _resize_planes(grid, (gw * b, gh * b))[:, :h, :w]


def _closing(planes: np.ndarray, k: float, dark_ink: bool) -> np.ndarray:
    """Grey-level closing (``dark_ink``) or opening, square window ``k`` px, at `BACKGROUND_SIDE`.

    ``scipy.ndimage.grey_closing`` per channel of ``(C, H, W)`` planes: a maximum filter then a
    minimum filter (the reverse for an opening), each separable and ``O(1)`` per pixel
    whatever ``k``; the borders are mirrored.
    """
    from PIL import Image

    _, h, w = planes.shape
    scale = min(1.0, BACKGROUND_SIDE / max(h, w))
    small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = _resize_planes(planes, small_size, Image.Resampling.BOX) if scale < 1 else planes
    kk = max(3, int(round(k * scale)) | 1)
    morph = ndimage.grey_closing if dark_ink else ndimage.grey_opening
    out = morph(small, size=(1, kk, kk), mode="mirror")
    return _resize_planes(out, (w, h)) if scale < 1 else out


def _resize_planes(a: np.ndarray, size: tuple[int, int], resample=None) -> np.ndarray:
    """Resize each plane of a float ``(C, H, W)`` array to ``size = (width, height)`` (Pillow, mode ``F``)."""
    from PIL import Image

    resample = Image.Resampling.BILINEAR if resample is None else resample
    return np.stack(
        [
            np.asarray(Image.fromarray(np.ascontiguousarray(p, dtype=np.float32), mode="F").resize(size, resample))
            for p in a
        ]
    )


# -- 3. threshold --------------------------------------------------------------------------------
def threshold(f: np.ndarray, name: str = "the image") -> np.ndarray:
    """Ink mask from the foreground map, with a threshold set by the noise and the ink.

    The paper dominates the picture, so the median ``m`` and the median absolute deviation
    of ``f`` describe its noise: ``σ = 1.4826 · median|f − m|`` (both on a regular grid of at
    most `SAMPLE` of the pixels, see `_sample`). A pixel may be ink when
    ``f > T_noise = m + 4 σ + 8`` (the 8 gray levels absorb JPEG block edges; 4 σ makes a
    false alarm from Gaussian noise a 3-in-100,000 event, and the majority vote and
    [`select_digit`][xpnet.images.digit.select_digit] remove the few isolated pixels that pass). The ink's contrast ``C`` is the
    90th percentile of ``f`` over those pixels, and the final threshold is the half-way point

    ``T = max(T_noise, m + (C − m) / 2)``,

    the usual edge definition (half maximum), which keeps stroke widths independent of the
    ink's darkness. The mask is then smoothed by a 3×3 majority vote (unless that removes
    more than 30 % of it), so that JPEG-ragged edges do not inflate the perimeter that
    [`stroke_width`][xpnet.images.digit.stroke_width] measures.

    Parameters
    ----------
    f : numpy.ndarray
        Shape ``(H, W)``, the output of [`foreground`][xpnet.images.mnistify.foreground] (or an alpha channel).
    name : str
        For the error message.

    Returns
    -------
    numpy.ndarray
        Shape ``(H, W)``, bool.

    Raises
    ------
    BlankImageError
        Fewer than ``max(6, 0.0002 H W)`` pixels pass ``T_noise``, or ``C − m`` is under
        `MIN_CONTRAST` gray levels.
    """
    sample = _sample(f)
    m = float(np.median(sample))
    sigma = 1.4826 * float(np.median(np.abs(sample - m)))
    t_noise = m + 4.0 * sigma + 8.0
    candidates = f[f > t_noise]
    if candidates.size < max(6, int(2e-4 * f.size)):
        raise BlankImageError(
            f"{name}: nothing drawn (no mark stands out from the background); "
            "draw a digit, or use a picture with more contrast"
        )
    c = float(np.percentile(candidates, 90))
    if c - m < MIN_CONTRAST:
        raise BlankImageError(
            f"{name}: nothing drawn (the darkest marks differ from the paper by only {c - m:.0f} of 255 gray levels)"
        )
    mask = f > max(t_noise, m + 0.5 * (c - m))
    return _smooth(mask)


def _smooth(mask: np.ndarray) -> np.ndarray:
    """3×3 majority vote (a pixel is ink when 5 of its 9 are): ragged JPEG edges become smooth.

    The vote is a separable 3×3 box sum in uint8 (the outside counted as paper). Skipped when
    it would remove more than 30 % of the ink (1-pixel lines would vanish).
    """
    p = np.pad(mask, 1).view(np.uint8)
    rows = p[:-2] + p[1:-1] + p[2:]
    votes = rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]
    smoothed = votes >= 5
    return smoothed if smoothed.sum() >= 0.7 * mask.sum() else mask


def _sample(a: np.ndarray) -> np.ndarray:
    """Every ``s``-th row and column of ``a`` (``s`` the smallest that leaves at most `SAMPLE`
    pixels): the statistics of the paper and the ink, at a fraction of the cost."""
    s = max(1, int(np.ceil(np.sqrt(a.shape[-2] * a.shape[-1] / SAMPLE))))
    return a[..., ::s, ::s]


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114

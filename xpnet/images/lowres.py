"""Coarse pictures: nearest-neighbour upscales (pixel art, an 8×8 digit blown up to 280×280) and
pictures that are small to begin with.

An 8×8 digit of 16 grey levels enlarged by nearest neighbour is a picture of blocks of identical
pixels. Read as a pen drawing it goes wrong twice: the half-intensity threshold turns its grey
cells into a ragged mask, and the stroke-width step, which sees the whole 8×8 digit as one or
two fat strokes, thins it. Here such a picture is first found and reduced *exactly* to the
picture it was made from ([`find_blocks`][xpnet.images.lowres.find_blocks]); when that, or the
picture itself, is at most `COARSE_MAX` pixels on its longer side, its grey levels are read
as what they are, the ink's coverage of each cell, and only MNIST's own steps are applied
([`prepare_coarse`][xpnet.images.lowres.prepare_coarse]): no threshold, no thinning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .digit import MIN_CONTRAST, _border, render, select_digit
from .errors import BlankImageError
from .morphology import label

__all__ = ["Blocks", "find_blocks", "prepare_coarse", "COARSE_MAX", "MIN_FACTOR", "MIN_EDGES"]

#: A picture whose real longer side (after [`find_blocks`][xpnet.images.lowres.find_blocks]) is at
#: most this many pixels is read as a coarse image (MNIST itself is 28; a stroke there is 2–3 pixels
#: wide, too few to threshold and thin as a pen stroke).
COARSE_MAX = 64
#: The smallest block side (pixels per real pixel) called an upscale.
MIN_FACTOR = 2
#: The fewest block boundaries (rows and columns together, the picture's own edges not counted)
#: that make a picture of blocks: fewer, and a plain drawing of a few axis-aligned rectangles
#: would pass for one.
MIN_EDGES = 5
#: The coarse digit's box is enlarged to at least this many pixels (bicubic) before it is
#: area-averaged into 20×20, so that the cells' edges come out smooth.
FINE_BOX = 80
#: The box that goes into MNIST's 20×20 is that of the enlarged coverage at or above this level
#: (tuned on t10k[8000:8600]: 0.5 made the digits too large, 0.2 too small; 0.3–0.4 read best).
BOX_LEVEL = 0.35


@dataclass(frozen=True)
class Blocks:
    """Where a nearest-neighbour upscale's blocks are, per axis.

    Attributes
    ----------
    factor : float
        Pixels per real pixel, ``W / n`` (the same, within 10 %, on both axes).
    rows, cols : numpy.ndarray
        The first row (column) of each run of identical rows (columns).
    row_counts, col_counts : numpy.ndarray
        How many real pixels each run stands for (``≥ 1``; more where neighbouring real pixels
        were equal).
    """

    factor: float
    rows: np.ndarray
    row_counts: np.ndarray
    cols: np.ndarray
    col_counts: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """The real picture's ``(height, width)``."""
        return int(self.row_counts.sum()), int(self.col_counts.sum())

    def downsample(self, a: np.ndarray) -> np.ndarray:
        """The real picture: one pixel of every run, repeated as many times as it stands for.

        Exact: upscaling the result by nearest neighbour with the same blocks gives ``a`` back.
        """
        small = a[self.rows][:, self.cols]
        return np.repeat(np.repeat(small, self.row_counts, axis=0), self.col_counts, axis=1)


def _pixel_values(a: np.ndarray) -> np.ndarray:
    """One comparable value per pixel: an ``(H, W, 4)`` uint8 array viewed as ``(H, W)`` uint32."""
    if a.ndim == 3 and a.shape[2] == 4 and a.dtype == np.uint8:
        return np.ascontiguousarray(a).view(np.uint32)[:, :, 0]
    if a.ndim == 3:
        return np.ascontiguousarray(a).view([("", a.dtype)] * a.shape[2])[:, :, 0]
    return a


def _boundaries(changed: np.ndarray) -> np.ndarray:
    """``[0, i₁, …, i_k, n]``: where runs start (``changed[i − 1]``: element ``i`` differs from ``i − 1``)."""
    return np.concatenate(([0], np.flatnonzero(changed) + 1, [changed.size + 1]))


def _lone(changed: np.ndarray) -> bool:
    """Whether some run is one element long (two changes side by side, or one at either end)."""
    c = np.concatenate(([True], changed, [True]))
    return bool((c[1:] & c[:-1]).any())


def _factors(b: np.ndarray) -> np.ndarray | None:
    """Block sides ``f = n_pixels / n`` (``n`` an integer) that put every boundary in ``b`` on the grid.

    Nearest-neighbour upscaling by ``f`` starts real pixel ``c`` at pixel ``⌈c f − ½⌉`` (Pillow)
    or ``⌈c f⌉`` (others): each boundary ``b_j`` is ``c_j f + e_j`` with ``c_j = round(b_j / f)``
    and the ``e_j`` (0 at both ends of the axis) spread over less than one pixel. Returns every
    ``f ≥ MIN_FACTOR`` for which they spread over at most 1 and each run holds ≥ 1 real pixel;
    ``None`` when the axis has no inner boundary (nothing to fit).
    """
    if b.size <= 2:
        return None
    length = int(b[-1])
    m = int(np.diff(b).min())
    n = np.arange(max(1, int(np.ceil(length / (m + 1)))), length // MIN_FACTOR + 1)
    if n.size == 0:
        return np.empty(0)
    f = length / n
    c = np.rint(b[None, :] / f[:, None])
    e = b[None, :] - c * f[:, None]
    ok = (np.ptp(e, axis=1) <= 1.0 + 1e-9) & (np.diff(c, axis=1) >= 1).all(axis=1)
    return f[ok]


def find_blocks(rgba: np.ndarray) -> Blocks | None:
    """Find a nearest-neighbour upscale: runs of identical rows and columns on one grid.

    Rows (columns) are compared with their neighbours; the runs of identical ones are the
    blocks. A picture is an upscale by ``f`` when no run is a single pixel, every boundary lies
    on a grid of side ``f = W / n_x ≈ H / n_y`` (within one pixel, for non-integer factors), ``f ≥
    MIN_FACTOR``, and there are at least `MIN_EDGES` inner boundaries. The largest such
    ``f`` is taken (the coarsest picture that gives this one back). Anti-aliased drawings,
    photos and JPEGs (whose blocks are not exactly equal) have runs of one pixel somewhere
    and are never taken for upscales.

    Parameters
    ----------
    rgba : numpy.ndarray
        Shape ``(H, W)`` or ``(H, W, C)``, the decoded picture (``(H, W, 4)`` uint8 for
        [`prepare`][xpnet.images.mnistify.prepare]).

    Returns
    -------
    Blocks or None
        ``None`` when the picture is not an upscale.
    """
    v = _pixel_values(rgba)
    if rgba.ndim == 3 and rgba.shape[2] == 4 and rgba.dtype == np.uint8:
        clear = rgba[:, :, 3] == 0
        if clear.any():  # a transparent pixel's colour is invisible: all transparent pixels are equal
            v = np.where(clear, 0, v)
    h, w = v.shape
    if min(h, w) < 2 * MIN_FACTOR:
        return None
    # a few rows (columns) change where all of them do, or less often: one of their runs one
    # pixel long is one of the picture's (a photo stops here, on its first rows)
    some = np.linspace(0, h - 1, min(h, 9)).astype(int)
    if _lone((v[some, 1:] != v[some, :-1]).any(axis=0)):
        return None
    some = np.linspace(0, w - 1, min(w, 9)).astype(int)
    if _lone((v[1:, some] != v[:-1, some]).any(axis=1)):
        return None
    cols_changed = (v[:, 1:] != v[:, :-1]).any(axis=0)
    rows_changed = (v[1:, :] != v[:-1, :]).any(axis=1)
    if _lone(cols_changed) or _lone(rows_changed):
        return None
    bx, by = _boundaries(cols_changed), _boundaries(rows_changed)
    if bx.size + by.size - 4 < MIN_EDGES:
        return None
    fx, fy = _factors(bx), _factors(by)
    if fx is None:
        fx = fy
    if fy is None:
        fy = fx
    if fx is None or fy is None:  # no inner boundary on either axis: ruled out by MIN_EDGES above
        return None
    pairs = [(a, b) for a in fx for b in fy if abs(a - b) <= 0.1 * max(a, b)]
    if not pairs:
        return None
    f_x, f_y = max(pairs, key=lambda p: min(p))
    return Blocks(
        factor=float(min(f_x, f_y)),
        rows=by[:-1],
        row_counts=_counts(by, f_y),
        cols=bx[:-1],
        col_counts=_counts(bx, f_x),
    )


def _counts(b: np.ndarray, f: float) -> np.ndarray:
    c = np.rint(b / f).astype(np.int64)
    if b.size == 2:
        c[-1] = max(1, c[-1])
    return np.diff(c)


def _coarse_foreground(rgb: np.ndarray) -> np.ndarray:
    """Ink signal of a small picture: ``f = max(0, max_c s·(I_c − B_c))``, ``B`` the border's median colour.

    The polarity ``s`` is −1 (dark ink) when the pixels darker than ``B`` differ from it more,
    in total, than those lighter (``Σ max_c(B_c − I_c)`` against ``Σ max_c(I_c − B_c)``), else +1.
    """
    d = rgb - np.median(_border(rgb), axis=0)
    dark, light = np.max(-d, axis=2), np.max(d, axis=2)
    s = -1.0 if np.maximum(dark, 0).sum() >= np.maximum(light, 0).sum() else 1.0
    return np.maximum(np.max(s * d, axis=2), 0.0)


def prepare_coarse(rgba: np.ndarray, transparent: bool, name: str = "the image", steps: dict | None = None):
    """A coarse picture → 28×28: its grey levels are the ink's coverage; only MNIST's steps follow.

    1. **Ink**: the alpha channel of a transparent picture, else
       `_coarse_foreground` (the paper is the border's
       median colour; a small picture has no room for lighting to vary). The noise floor
       ``m + 4σ`` of the border's ink values (``σ = 1.4826 · MAD``) is subtracted, and the
       result divided by its maximum ``C``: coverage ``q ∈ [0, 1]``. ``C`` under
       `mnistify.MIN_CONTRAST` is "nothing drawn".
    2. **One digit**: [`select_digit`][xpnet.images.digit.select_digit] on ``q ≥ ½`` (specks
       dropped, several marks far apart refused); the fainter cells of the marks it keeps stay.
    3. **MNIST's steps**: the cells, padded by one empty cell, are enlarged by ``U = ⌈80 / k⌉``
       (``k`` the kept marks' longer side in cells) with bicubic interpolation between the
       cell centres (clipped to 0..1), and [`render`][xpnet.images.digit.render] puts the
       box of the enlarged coverage at or above `BOX_LEVEL` into 20×20 by area averaging, the
       fainter edge with it, and the centre of mass at the centre.

    Parameters
    ----------
    rgba : numpy.ndarray
        Shape ``(H, W, 4)``, uint8, the picture at its real resolution.
    transparent : bool
        Whether its border is transparent (a canvas export: the alpha channel is the ink).
    name : str
        For error messages.
    steps : dict, optional
        Filled with ``"working"`` (the picture, float), ``"foreground"`` (coverage ``q``),
        ``"mask"`` (``q ≥ ½``), ``"digit"`` (the kept cells), ``"coverage"`` (the enlarged
        coverage) and ``"output"``.

    Returns
    -------
    numpy.ndarray
        Shape ``(784,)``, uint8.

    Raises
    ------
    BlankImageError
        Nothing stands out from the background.
    MultipleObjectsError
        Two or more marks of comparable size, far apart.
    """
    from PIL import Image

    steps = {} if steps is None else steps
    values = rgba.astype(np.float32)
    if transparent:
        f = values[:, :, 3]
        steps["working"] = f
    else:
        a = values[:, :, 3:] / 255.0
        rgb = values[:, :, :3] * a + 255.0 * (1.0 - a)  # over white paper
        steps["working"] = rgb
        f = _coarse_foreground(rgb)
    edge = _border(f)
    m = float(np.median(edge))
    floor = m + 4.0 * 1.4826 * float(np.median(np.abs(edge - m)))
    f = np.maximum(f - floor, 0.0)
    contrast = float(f.max())
    if contrast < MIN_CONTRAST:
        raise BlankImageError(
            f"{name}: nothing drawn (the darkest marks differ from the background by only "
            f"{contrast:.0f} of 255 gray levels)"
        )
    q = f / contrast
    steps["foreground"] = q
    mask = q >= 0.5
    steps["mask"] = mask
    digit = select_digit(mask, name)
    marks, _ = label(q > 0)
    kept = np.unique(marks[digit])
    q = np.where(np.isin(marks, kept[kept > 0]), q, 0.0).astype(np.float32)
    steps["digit"] = digit
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    k = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    u = max(1, int(np.ceil(FINE_BOX / k)))
    padded = np.pad(q, 1)
    fine = np.asarray(
        Image.fromarray(padded, mode="F").resize((padded.shape[1] * u, padded.shape[0] * u), Image.Resampling.BICUBIC),
        dtype=np.float32,
    )
    fine = np.clip(fine, 0.0, 1.0)
    steps["coverage"] = fine
    inked = fine >= BOX_LEVEL
    fr, fc = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    out = render(fine, box=(fr[0], fc[0], fr[-1] + 1, fc[-1] + 1))
    steps["output"] = out.reshape(28, 28)
    return out

"""From a binary mask of ink to an MNIST-like 28×28 digit: steps 4–6 of
[`prepare`][xpnet.images.mnistify.prepare], shared with the coarse pictures of
[`xpnet.images.lowres`][xpnet.images.lowres].

4. [`select_digit`][xpnet.images.digit.select_digit] — group marks that belong together; refuse "more than one object";
5. [`normalise_stroke`][xpnet.images.digit.normalise_stroke] — thicken or thin the strokes to MNIST's relative width;
6. [`render`][xpnet.images.digit.render] — scale into a 20×20 box, centre the mass in a 28×28 frame.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from .errors import BlankImageError, MultipleObjectsError
from .morphology import dilate, erode, label, pool

__all__ = [
    "select_digit",
    "normalise_stroke",
    "render",
    "stroke_width",
    "MNIST_STROKE_WIDTH",
    "MIN_CONTRAST",
    "BOX",
    "FRAME",
    "CENTRE",
]

log = logging.getLogger("xpnet.images")

#: Side of the box the digit is scaled into, and of the output frame (MNIST's 20 and 28).
BOX, FRAME = 20, 28
#: Where the centre of mass goes, in pixel-index coordinates (row, column). Measured on the
#: MNIST test split: the mean centre of mass of the 10,000 digits is (13.99, 14.01).
CENTRE = 14.0
#: MNIST's median stroke width in output pixels, measured on the test split with
#: [`stroke_width`][xpnet.images.digit.stroke_width] on pixels above 127 (10th–90th percentile: 1.86–3.57).
MNIST_STROKE_WIDTH = 2.55
#: Relative stroke widths (output pixels) left as they are; outside, strokes are brought to
#: `MNIST_STROKE_WIDTH`.
STROKE_KEEP = (1.9, 3.6)
#: The weakest ink contrast still called a drawing, in gray levels (of 255) above the paper.
MIN_CONTRAST = 24.0


# -- 4. one digit --------------------------------------------------------------------------------
def select_digit(mask: np.ndarray, name: str = "the image") -> np.ndarray:
    """Keep the digit, drop specks, and refuse pictures of several things.

    The mask is max-pooled to at most 100 pixels a side and its 8-connected components are
    found. Specks — components with under 5 % of the largest one's ink that are farther than
    ``0.08 ·`` (the largest component's longer side) from a bigger one — are dropped. Marks
    closer than ``g = 0.25 ·`` (the largest component's longer side) belong
    together (a "5" whose bar does not touch, a pen that skipped): components are grouped by
    dilating with a ``(2g+1)``-square. A group is significant when it holds at least 25 % of
    the ink of the largest group; smaller ones (dust, specks, JPEG blotches) are removed.

    Parameters
    ----------
    mask : numpy.ndarray
        Shape ``(H, W)``, bool.
    name : str
        For the error message.

    Returns
    -------
    numpy.ndarray
        Shape ``(H, W)``, bool: the pixels of the one significant group.

    Raises
    ------
    MultipleObjectsError
        Two or more significant groups.
    """
    h, w = mask.shape
    ink, p = pool(mask)
    pooled = ink > 0
    labels, n = label(pooled)
    if n == 0:
        raise BlankImageError(f"{name}: nothing drawn")
    # each component's longer side, from its bounding box
    size = max(max(r.stop - r.start, c.stop - c.start) for r, c in ndimage.find_objects(labels))
    comp_ink = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=n + 1)
    big = comp_ink >= 0.05 * comp_ink.max()
    big[0] = False
    if not big[1:].all():
        near = dilate(big[labels] & pooled, max(1, int(np.ceil(0.08 * size))), square=True)
        touched = np.bincount(labels[near], minlength=n + 1) > 0
        specks = ~big & ~touched
        specks[0] = False
        if specks.any():
            log.debug("%s: dropped %d specks away from the digit", name, int(specks.sum()))
            gone = specks[labels]
            pooled = pooled & ~gone
            ink = np.where(gone, 0, ink)
    g = max(1, int(np.ceil(0.25 * size)))
    groups, n_groups = label(dilate(pooled, g, square=True) if n > 1 else pooled)
    group_ink = np.bincount(groups[pooled], weights=ink[pooled], minlength=n_groups + 1)
    group_ink[0] = 0
    main = int(np.argmax(group_ink))
    significant = np.flatnonzero(group_ink >= 0.25 * group_ink[main])
    if significant.size > 1:
        raise MultipleObjectsError(
            f"{name}: {significant.size} separate marks far apart, not one digit; "
            "crop the picture to a single digit (or erase the other marks)",
            count=int(significant.size),
        )
    keep = (groups == main) & pooled
    if p > 1:
        keep = np.repeat(np.repeat(keep, p, axis=0), p, axis=1)[:h, :w]
    return mask & keep


def _away_from_border(mask: np.ndarray) -> np.ndarray:
    """The mask without its components that touch the picture's edge, unless nothing would remain.

    A shadow or a lighting edge runs off the picture; a digit that someone framed does not.
    Used only where the stroke width is first measured, so that a shadow's edge caught by
    the rough first paper estimate does not pass for a very wide stroke (components are
    found on the mask pooled as in [`select_digit`][xpnet.images.digit.select_digit]).
    """
    h, w = mask.shape
    ink, p = pool(mask)
    labels, n = label(ink > 0)
    if n < 2:
        return mask
    at_edge = np.zeros(n + 1, dtype=bool)
    at_edge[_border(labels)] = True
    inner = (labels > 0) & ~at_edge[labels]
    if not inner.any():
        return mask
    if p > 1:
        inner = np.repeat(np.repeat(inner, p, axis=0), p, axis=1)[:h, :w]
    return mask & inner


# -- 5. stroke width -----------------------------------------------------------------------------
def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary drawing, ``w = 2A / P_e``.

    For a stroke of length ``ℓ ≫ w`` the area is ``A = w ℓ`` and the perimeter ``P_e ≈ 2ℓ``.
    The perimeter is measured by counting pixel edges between ink and paper, ``P_4``, which
    overestimates a curve's Euclidean length by ``4/π`` on average over orientations, so
    ``P_e = (π/4) P_4``.

    Parameters
    ----------
    mask : numpy.ndarray
        Shape ``(H, W)``, bool.

    Returns
    -------
    float
        Width in pixels (0 for an empty mask).
    """
    m = np.pad(mask, 1)
    area = float(m.sum())
    edges = float((m[1:, :] != m[:-1, :]).sum() + (m[:, 1:] != m[:, :-1]).sum())
    return 0.0 if edges == 0 else 2.0 * area / (edges * np.pi / 4.0)


def normalise_stroke(mask: np.ndarray) -> np.ndarray:
    """Thicken a thin pen or thin a fat marker to MNIST's stroke width, relative to the digit.

    With the stroke width ``w`` ([`stroke_width`][xpnet.images.digit.stroke_width]) and the bounding box's longer side
    ``S``, the width after scaling into the 20-pixel box would be ``20 w / S``. Inside
    `STROKE_KEEP` nothing changes. Otherwise the mask is dilated (or eroded) by ``r``
    pixels, where ``r`` solves ``(w + 2r) / (S + 2r) = t`` with ``t = 2.55 / 20``
    (`MNIST_STROKE_WIDTH`), since growing a stroke by ``r`` on each side also grows the
    box: ``r = (t S − w) / (2 (1 − t))``, with the octagon of
    [`morphology.dilate`][xpnet.images.morphology.dilate] (close to a disk; the exact disk, a
    thresholded Euclidean distance transform, was tried and read 0.1–0.2 points worse on three
    picture kinds of t10k[9000:10000]). Erosion stops early (a smaller ``r``) rather than
    remove more than half the ink.

    Parameters
    ----------
    mask : numpy.ndarray
        Shape ``(H, W)``, bool, non-empty.

    Returns
    -------
    numpy.ndarray
        Bool, the digit's bounding box padded by ``max(r, 0)`` on every side (so nothing
        grown is cut off); [`render`][xpnet.images.digit.render] crops to the box again.
    """
    w = stroke_width(mask)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    mask = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    s = float(max(mask.shape))
    relative = BOX * w / s
    if STROKE_KEEP[0] <= relative <= STROKE_KEEP[1]:
        return mask
    t = MNIST_STROKE_WIDTH / BOX
    r = int(round((t * s - w) / (2.0 * (1.0 - t))))
    if r > 0:
        return dilate(np.pad(mask, r), r)
    area = mask.sum()
    for steps in range(-r, 0, -1):
        eroded = erode(mask, steps)
        if eroded.sum() >= 0.5 * area:
            return eroded
    return mask


# -- 6. box and centre ---------------------------------------------------------------------------
def render(mask: np.ndarray, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """MNIST's last steps: bounding box → 20×20 (aspect kept, anti-aliased), centre of mass → centre.

    The box ``h × w`` is scaled by ``20 / max(h, w)`` with area averaging (each output pixel
    is the fraction of its area covered by ink, times 255: the anti-aliased edge; Pillow's
    ``BOX`` filter). The result's centre of mass ``(ȳ, x̄) = Σ p·(y, x) / Σ p``
    (``scipy.ndimage.center_of_mass``) is moved to `CENTRE` by the sub-pixel shift
    ``(dy, dx) = (14 − ȳ, 14 − x̄)`` (kept so that the box stays inside the 28×28 frame),
    resampled bilinearly (``scipy.ndimage.shift``, order 1): ``out(r, c) = p(r − dy, c − dx)``
    interpolated between the four nearest pixels. A whole-pixel shift leaves the centre up to
    half a pixel off; measured on 200 tuning digits (t10k[8000:8200], see
    `benchmarks/image_preprocessing.py`) the sub-pixel shift gained 0–1 point per picture kind
    and lost on none.

    Parameters
    ----------
    mask : numpy.ndarray
        Shape ``(H, W)``: bool (ink), or float coverage in 0..1 (a coarse picture's ink,
        [`xpnet.images.lowres`][xpnet.images.lowres]); not all zero.
    box : (top, left, bottom, right), optional
        The rows ``top:bottom`` and columns ``left:right`` that go into the 20×20 box
        (default: the bounding box of ``mask > 0``). Coverage outside it (a coarse picture's
        soft edge) is scaled with it and kept, up to the frame's edge.

    Returns
    -------
    numpy.ndarray
        Shape ``(784,)``, uint8.
    """
    from PIL import Image

    cov = np.asarray(mask, dtype=np.float32)
    rows, cols = np.flatnonzero((cov > 0).any(axis=1)), np.flatnonzero((cov > 0).any(axis=0))
    top, left, bottom, right = (rows[0], cols[0], rows[-1] + 1, cols[-1] + 1) if box is None else box
    h, w = bottom - top, right - left
    scale = BOX / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    # the whole support, scaled as the box is: (r0, c0) is where the box starts in it
    crop = cov[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    sh, sw = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    small = np.asarray(Image.fromarray(crop, mode="F").resize((sw, sh), Image.Resampling.BOX), dtype=np.float32) * 255.0
    r0, c0 = round((top - rows[0]) * scale), round((left - cols[0]) * scale)
    margin = (FRAME - BOX) // 2  # place the box at (margin, margin), then shift it
    pad = max(sh, sw)  # room for what lies outside the box
    frame = np.zeros((FRAME + 2 * pad, FRAME + 2 * pad), dtype=np.float32)
    y0, x0 = pad + margin - r0, pad + margin - c0
    frame[y0 : y0 + sh, x0 : x0 + sw] = small
    cy, cx = ndimage.center_of_mass(frame)
    dy = float(np.clip(CENTRE + pad - cy, -margin, FRAME - margin - nh))
    dx = float(np.clip(CENTRE + pad - cx, -margin, FRAME - margin - nw))
    moved = ndimage.shift(frame, (dy, dx), order=1, mode="constant", cval=0.0, prefilter=False)
    out = moved[pad : pad + FRAME, pad : pad + FRAME]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(FRAME * FRAME)


# -- helpers -------------------------------------------------------------------------------------
def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0, :], a[-1, :], a[:, 0], a[:, -1]], axis=0)

"""Gradient checking: backprop gradients against central finite differences, in float64.

For a parameter entry θ_j the central difference is

    g_j ≈ (L(θ + ε·e_j) − L(θ − ε·e_j)) / (2ε)

with truncation error O(ε²) and rounding error about machine-ε·|L|/ε. In float64 with
ε = 1e-6 both are around 1e-10, far below the gradients; in float32 the rounding term alone
would be about 0.1, which is why the check always runs on a float64 copy of the model.

Per parameter the error is the norm-relative error over the checked entries,

    ‖g_fd − g_bp‖₂ / (‖g_fd‖₂ + ‖g_bp‖₂)

(0 when both are 0). A parameter passes when that is ≤ ``tol`` or when the largest absolute
difference is ≤ ``max(atol, rounding)`` (a dead ReLU unit has an exactly-zero gradient, and the
relative error of two numbers that are both ~0 means nothing). ``rounding`` is the rounding
error of the central difference itself, ``8·ε_mach·max(1, |L|)/ε`` (8 as a margin): with an
unbounded activation (identity) the loss can reach tens, and then a small gradient's absolute
error is rounding, not backprop. The directional check passes on the same two conditions.

ReLU and leaky ReLU have a kink at 0: a finite difference that steps across it measures the
wrong slope. The report gives the smallest |Z| over the hidden pre-activations; when it is below
``10·ε`` a failure may be a kink, not a bug.

Perturbations are built as ``reshape(astype(arange(n) == j), shape)`` — arrays, not item
assignment — so the check runs on every backend, JAX's immutable arrays included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..backend import array_namespace, device_of
from ..nn import dropout, network, step
from . import compiled

__all__ = ["gradcheck", "GradcheckReport", "ParameterCheck", "directional_check", "finite_differences"]


@dataclass
class ParameterCheck:
    """Result for one parameter array."""

    name: str
    shape: tuple
    n_checked: int
    max_abs_error: float
    rel_error: float
    passed: bool


@dataclass
class GradcheckReport:
    """Per-parameter results, the directional check, and whether everything passed."""

    parameters: list = field(default_factory=list)
    directional_rel_error: float = 0.0
    directional_abs_error: float = 0.0
    rounding: float = 0.0
    eps: float = 1e-6
    tol: float = 1e-7
    atol: float = 1e-9
    min_abs_preactivation: float = math.inf

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.parameters) and (
            self.directional_rel_error <= self.tol or self.directional_abs_error <= max(self.atol, self.rounding)
        )

    def table(self) -> list[tuple[str, ...]]:
        """The per-parameter results as rows of text: a header, then one row per parameter.

        Columns: ``param``, ``shape``, ``checked``, ``max |fd − bp|``, ``rel error``,
        ``result`` (``ok`` or ``FAIL``). ``str(report)`` and ``xpnet gradcheck`` both show it.
        """
        rows: list[tuple[str, ...]] = [("param", "shape", "checked", "max |fd − bp|", "rel error", "result")]
        rows += [
            (
                p.name,
                str(p.shape),
                str(p.n_checked),
                f"{p.max_abs_error:.2e}",
                f"{p.rel_error:.2e}",
                "ok" if p.passed else "FAIL",
            )
            for p in self.parameters
        ]
        return rows

    def summary(self) -> str:
        """One line: the directional check's error, the settings and the smallest |Z|."""
        return (
            f"directional derivative (all parameters): rel error {self.directional_rel_error:.2e}; "
            f"eps {self.eps:g}, tol {self.tol:g}, rounding floor {max(self.atol, self.rounding):.1e}; "
            f"smallest |Z| {self.min_abs_preactivation:.1e}"
        )

    def __str__(self) -> str:
        rows = self.table()
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(
                cell.ljust(w) if i < 2 else cell.rjust(w) if i < 5 else cell
                for i, (cell, w) in enumerate(zip(row, widths))
            ).rstrip()
            for row in rows
        ]
        return "\n".join([*lines, self.summary(), "PASSED" if self.passed else "FAILED"])


def finite_differences(
    params: dict,
    X,
    Y,
    weights,
    entries: dict,
    directions: dict,
    eps,
    masks=None,
    *,
    activation,
    map,
    loss="cross_entropy",
    l2=0.0,
) -> dict:
    """Everything gradcheck compares, as one pure function (compiled once on JAX).

    Parameters
    ----------
    params : dict
        The network's parameters (float64).
    X, Y, weights
        The batch: inputs ``(m, n0)``, targets ``(m, nL)`` (one-hot rows for cross-entropy),
        per-sample weights or None.
    entries : dict
        For each parameter name, the flat indices j to check, ``(k,)`` integers.
    directions : dict
        A direction like ``params`` (not normalised) for the directional derivative.
    eps : float
        The step ε.
    masks : list, optional
        Fixed dropout masks, one ``(m, n_l)`` array or None per hidden layer (the loss is
        then that of the thinned network, a deterministic function of θ).
    activation, map, loss, l2
        Static: the hidden activation, the backend's [`map`][xpnet.backend.Backend.map], the
        loss head's name and the L2 penalty's λ
        ([`step.mean_loss`][xpnet.nn.step.mean_loss] is the function differentiated).

    Returns
    -------
    dict
        ``"loss"`` L(θ) and ``"grads"`` (backprop); ``"fd"``: per parameter the central
        differences ``(L(θ + ε·e_j) − L(θ − ε·e_j)) / 2ε``, ``(k,)``; with ``d`` the unit
        direction, ``"directional"``: ``(L(θ + ε·d) − L(θ − ε·d)) / 2ε``, ``"analytic"``
        ``Σ ⟨∇L, d⟩`` and ``"grad_norm"`` ``‖∇L‖₂``; ``"min_abs_z"``: the smallest ``|Z_l|``
        of each hidden layer.
    """
    xp = array_namespace(X)
    value, grads = step.loss_and_gradients(params, X, Y, activation, weights, loss, l2, masks)
    out = {"loss": value, "grads": grads, "fd": {}}

    def mean_loss(p):
        return step.mean_loss(p, X, Y, activation, weights, loss, l2, masks)

    for name, js in entries.items():
        p = params[name]

        def one(j, name=name, p=p):
            e = eps * _unit(xp, p, j)
            up = mean_loss({**params, name: p + e})
            down = mean_loss({**params, name: p - e})
            return (up - down) / (2 * eps)

        out["fd"][name] = map(one, js)
    norm = xp.sqrt(sum(xp.sum(d * d) for d in directions.values()))
    d = {k: v / norm for k, v in directions.items()}
    plus = mean_loss({k: params[k] + eps * d[k] for k in params})
    minus = mean_loss({k: params[k] - eps * d[k] for k in params})
    out["directional"] = (plus - minus) / (2 * eps)
    out["analytic"] = sum(xp.sum(grads[k] * d[k]) for k in params)
    out["grad_norm"] = xp.sqrt(sum(xp.sum(g * g) for g in grads.values()))
    _, (_, preacts) = network.forward(params, X, activation)
    out["min_abs_z"] = [xp.min(xp.abs(Z)) for Z in preacts]
    return out


def _unit(xp, like, j: int):
    """The array with a 1 at flat index j and 0 elsewhere, shaped like ``like``."""
    n = math.prod(like.shape)
    flat = xp.astype(xp.arange(n, device=device_of(like)) == j, like.dtype)
    return xp.reshape(flat, like.shape)


def directional_check(
    params: dict,
    X,
    Y,
    grads: dict,
    directions: dict,
    activation="relu",
    eps: float = 1e-6,
    weights=None,
    loss="cross_entropy",
    l2: float = 0.0,
    masks=None,
) -> float:
    """Relative error of the directional derivative along ``directions`` (normalised to unit
    length d): ``(L(θ+εd) − L(θ−εd))/(2ε)`` against ``Σ ⟨∇L, d⟩``. Checks all parameters at once.

    The error is ``|fd − bp| / max(|fd| + |bp|, ‖∇L‖₂)``. A random direction can be almost
    orthogonal to the gradient, making both derivatives tiny; the gradient's norm (the largest
    directional derivative there is) then sets the scale instead, so rounding noise in a
    near-zero derivative is not reported as a failure.
    """
    return _directional(params, X, Y, grads, directions, activation, eps, weights, loss, l2, masks)[0]


def _directional(
    params, X, Y, grads, directions, activation, eps, weights, loss="cross_entropy", l2=0.0, masks=None
) -> tuple[float, float]:
    """[`directional_check`][xpnet.model.gradcheck.directional_check]'s relative error and the absolute error ``|fd − bp|``."""
    xp = array_namespace(X)
    norm = math.sqrt(sum(float(xp.sum(d * d)) for d in directions.values()))
    directions = {k: d / norm for k, d in directions.items()}
    plus = {k: params[k] + eps * directions[k] for k in params}
    minus = {k: params[k] - eps * directions[k] for k in params}
    up = float(step.mean_loss(plus, X, Y, activation, weights, loss, l2, masks))
    down = float(step.mean_loss(minus, X, Y, activation, weights, loss, l2, masks))
    numeric = (up - down) / (2 * eps)
    analytic = sum(float(xp.sum(grads[k] * directions[k])) for k in params)
    grad_norm = math.sqrt(sum(float(xp.sum(g * g)) for g in grads.values()))
    return _directional_errors(numeric, analytic, grad_norm)


def _directional_errors(numeric: float, analytic: float, grad_norm: float) -> tuple[float, float]:
    """``|fd − bp| / max(|fd| + |bp|, ‖∇L‖₂)`` and ``|fd − bp|``."""
    denom = max(abs(numeric) + abs(analytic), grad_norm)
    error = abs(numeric - analytic)
    return (0.0 if denom == 0 else error / denom), error


def gradcheck(
    model,
    X,
    y,
    eps: float = 1e-6,
    tol: float = 1e-7,
    atol: float = 1e-9,
    max_entries: int | None = 256,
    seed: int = 0,
    sample_weight=None,
    l2: float = 0.0,
) -> GradcheckReport:
    """Compare ``model``'s backprop gradients on ``(X, y)`` with central finite differences.

    The model is copied to float64 on its own backend; it is not modified. A model with
    dropout is checked with its masks fixed: one draw for the batch, seeded by ``seed``
    ([`xpnet.nn.dropout`][xpnet.nn.dropout]), makes the loss a deterministic function of the
    parameters, the one whose gradient a training step follows.

    Parameters
    ----------
    model
        an [`MLP`][xpnet.model.mlp.MLP].
    X, y
        a (small) batch: ``(m, n0)`` features and ``m`` integer labels (real targets for a
        regressor); the model's loss head is checked.
    eps
        finite-difference step.
    tol
        largest accepted norm-relative error per parameter (and for the directional check).
    atol
        a parameter also passes when every checked entry differs by at most this much (or by
        at most the rounding error of the central difference, whichever is larger).
    max_entries
        check at most this many randomly chosen entries per parameter (``None``: all).
    seed
        chooses the entries and the random direction.
    sample_weight
        optional per-sample weights ``(m,)``: checks the weighted mean loss
        ``Σ w_i ℓ_i / Σ w_i`` instead of the plain mean.
    l2
        λ of [`fit`][xpnet.model.mlp.MLP.fit]'s L2 penalty, included in the checked loss.

    Returns
    -------
    [`GradcheckReport`][xpnet.model.gradcheck.GradcheckReport]; ``print(report)`` shows a table, ``report.passed`` the verdict.
    """
    m64 = model.copy(dtype="float64")
    backend = m64.backend
    xp = backend.xp
    Xd, yd, wd = m64.validate_data(X, y, sample_weight)
    Y = m64.head.targets(yd, m64.sizes[-1], m64.dtype)
    params = m64.params
    rng = backend.rng(seed)
    entries = {}
    for name, p in params.items():
        size = math.prod(p.shape)
        if max_entries is None or size <= max_entries:
            entries[name] = list(range(size))
        else:
            entries[name] = sorted(rng.choice(size, size=max_entries, replace=False).tolist())
    directions = {k: backend.asarray(rng.standard_normal(p.shape), "float64") for k, p in params.items()}
    masks = None
    if any(m64.dropout):
        keys = dropout.epoch_keys(backend.rng((seed, 0, dropout.KEY_STREAM)), 1, len(m64.dropout))[0].tolist()
        masks = dropout.batch_masks(xp, m64.sizes[1:-1], Xd.shape[0], m64.dtype, backend.device, keys, m64.dropout)
    check = compiled.compiled(
        backend,
        finite_differences,
        activation=m64.activation,
        map=backend.map,
        loss=m64.head,
        l2=float(l2),
    )
    out = check(
        params,
        Xd,
        Y,
        wd,
        {k: backend.asarray(v, backend.index_dtype) for k, v in entries.items()},
        directions,
        float(eps),
        masks,
    )

    report = GradcheckReport(eps=eps, tol=tol, atol=atol)
    report.rounding = 8 * 2.0**-52 * max(1.0, abs(float(out["loss"]))) / eps
    floor = max(atol, report.rounding)
    if out["min_abs_z"]:
        report.min_abs_preactivation = min(float(z) for z in out["min_abs_z"])
    for name, p in params.items():
        g_flat = backend.to_numpy(xp.reshape(out["grads"][name], (-1,)))
        fds = backend.to_numpy(out["fd"][name]).tolist()
        sq_diff = sq_fd = sq_bp = 0.0
        max_abs = 0.0
        for j, fd in zip(entries[name], fds):
            bp = float(g_flat[j])
            sq_diff += (fd - bp) ** 2
            sq_fd += fd * fd
            sq_bp += bp * bp
            max_abs = max(max_abs, abs(fd - bp))
        denom = math.sqrt(sq_fd) + math.sqrt(sq_bp)
        rel = 0.0 if denom == 0 else math.sqrt(sq_diff) / denom
        report.parameters.append(
            ParameterCheck(name, tuple(p.shape), len(entries[name]), max_abs, rel, rel <= tol or max_abs <= floor)
        )

    report.directional_rel_error, report.directional_abs_error = _directional_errors(
        float(out["directional"]), float(out["analytic"]), float(out["grad_norm"])
    )
    return report


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings

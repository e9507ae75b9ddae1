"""Optimizers (SGD with momentum/Nesterov, Adam, AdamW) and learning-rate schedules.

An optimizer updates a parameter dict from a gradient dict of the same names and shapes. It
keeps its own state (velocities, moments, step count), created on the first step with the
parameters' namespace, dtype and device.

Updates are written as augmented assignments on dict items (``params[k] -= lr * step``): on
NumPy, CuPy, PyTorch and array-api-strict, whose arrays are writeable, Python performs them in
place and no new parameter array is allocated; on JAX, whose arrays are immutable, Python falls
back to ``params[k] = params[k] - lr * step``. The same code is therefore in-place where it can
be and functional where it must be.

Learning rates and all other hyper-parameters are Python floats: a NumPy float64 scalar would
silently promote float32 arrays to float64 on some backends.

Schedules scale the base learning rate as a function of training progress measured in epochs
(a float: 2.5 is half-way through the third epoch), so they behave the same for any batch size.
"""

from __future__ import annotations

import math

from ..backend import array_namespace
from ..errors import ConfigError

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "Schedule",
    "Constant",
    "StepDecay",
    "Cosine",
    "InvScaling",
    "get_optimizer",
    "get_schedule",
    "optimizer_from_config",
]


# -- schedules -----------------------------------------------------------------------------------
class Schedule:
    """Multiplier of the base learning rate as a function of progress (in epochs)."""

    name = "constant"
    #: True when the factor does not change inside an epoch: the training loop then computes
    #: the learning rate once per epoch instead of once per step.
    constant_within_epochs = True

    def factor(self, epoch: float, total_epochs: float | None) -> float:
        return 1.0

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """The base learning rate throughout."""


class StepDecay(Schedule):
    """``lr · gamma^⌊epoch / every⌋``: multiply by ``gamma`` every ``every`` epochs."""

    name = "step"

    def __init__(self, every: float = 10, gamma: float = 0.1):
        if every <= 0 or not 0 < gamma <= 1:
            raise ConfigError(f"StepDecay needs every > 0 and 0 < gamma <= 1, got {every}, {gamma}")
        self.every = float(every)
        self.gamma = float(gamma)
        self.constant_within_epochs = self.every.is_integer()

    def factor(self, epoch, total_epochs):
        return self.gamma ** math.floor(epoch / self.every)

    def get_config(self):
        return {"name": self.name, "every": self.every, "gamma": self.gamma}


class Cosine(Schedule):
    """Cosine decay from the base rate to ``min_factor`` × base over ``epochs`` (default: the run)."""

    name = "cosine"
    constant_within_epochs = False

    def __init__(self, epochs: float | None = None, min_factor: float = 0.0):
        self.epochs = None if epochs is None else float(epochs)
        self.min_factor = float(min_factor)

    def factor(self, epoch, total_epochs):
        T = self.epochs or total_epochs
        if not T:
            return 1.0
        progress = min(epoch / T, 1.0)
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def get_config(self):
        return {"name": self.name, "epochs": self.epochs, "min_factor": self.min_factor}


class InvScaling(Schedule):
    """Inverse scaling, ``lr / (1 + t)^power_t`` with ``t = samples_per_epoch · ⌊epoch⌋``.

    The rate of scikit-learn's ``learning_rate="invscaling"``: ``t`` counts the training
    samples seen before the current epoch, so the rate is the base rate throughout the first
    epoch and changes only between epochs. With ``samples_per_epoch=1`` (default) ``t`` counts
    epochs.
    """

    name = "invscaling"

    def __init__(self, power_t: float = 0.5, samples_per_epoch: float = 1.0):
        if power_t < 0 or samples_per_epoch < 0:
            raise ConfigError(
                f"InvScaling needs power_t >= 0 and samples_per_epoch >= 0, got {power_t}, {samples_per_epoch}"
            )
        self.power_t = float(power_t)
        self.samples_per_epoch = float(samples_per_epoch)

    def factor(self, epoch, total_epochs):
        return 1.0 / (1.0 + self.samples_per_epoch * math.floor(epoch)) ** self.power_t

    def get_config(self):
        return {"name": self.name, "power_t": self.power_t, "samples_per_epoch": self.samples_per_epoch}


_SCHEDULES = {"constant": Constant, "step": StepDecay, "cosine": Cosine, "invscaling": InvScaling}


def get_schedule(spec) -> Schedule:
    """A schedule from an instance, a name (``constant``, ``step``, ``cosine``) or a config dict."""
    if spec is None:
        return Constant()
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    config = dict(spec)
    name = config.pop("name")
    if name not in _SCHEDULES:
        raise ConfigError(f"unknown schedule {name!r}; choose one of {', '.join(_SCHEDULES)}")
    return _SCHEDULES[name](**config)


# -- optimizers ----------------------------------------------------------------------------------
# Adam's moments of a weight whose gradient stays zero for long (the border pixels of MNIST-like
# images, after a rare non-zero pixel touched them) decay geometrically into subnormal floats and
# get stuck there (β1 times the smallest subnormals rounds back to them). On CPUs every
# arithmetic operation on a subnormal takes a slow microcode path: on Fashion-MNIST 16 % of the
# moments of W1 ended up subnormal and made Adam's update 3–4× slower (XLA and GPUs flush them
# to zero). Every _FLUSH_EVERY steps the moments below about 5e-32 are set to zero, with two
# in-place additions, before any of them can decay that far: (x + c) − c is exactly 0 for
# |x| < ulp(c)/2 = 2⁻¹⁰⁴ and exactly x for |x| ≥ 2⁻⁵⁵ (float32); values between keep an
# absolute error below ulp(c) ≈ 1e-31, far below anything that moves a weight.
_FLUSH_C = 2.0**-80
_FLUSH_EVERY = 64


def _flush_tiny(a, c):
    """``a`` with its entries smaller than about 5e-32 in magnitude set to zero, with ``c`` the
    coefficient ``_FLUSH_C`` (in place where the arrays allow). ``c = 0`` leaves ``a`` as it is:
    a traced step (see [`Optimizer.apply`][xpnet.nn.optim.Optimizer.apply]) always runs the two
    additions, with ``c`` a traced 0 or ``_FLUSH_C``."""
    a += c
    a -= c
    return a


def _times(a, c):
    """``c·a``, or ``a`` itself when ``c`` is the Python float 1.0 (one pass fewer on eager
    backends; a traced ``c`` always multiplies, which a compiler fuses into the update)."""
    return a if isinstance(c, float) and c == 1.0 else a * c


def _nonzero(c) -> bool:
    """False only for the Python float 0.0: a traced coefficient may be anything."""
    return not (isinstance(c, float) and c == 0.0)


class Optimizer:
    """Base class: learning rate, schedule, weight decay, step count and state bookkeeping.

    A step is split in two, so that the same update runs eagerly and compiled
    ([`Backend.compiles`][xpnet.backend.Backend.compiles]):

    * [`coefficients`][xpnet.nn.optim.Optimizer.coefficients] (host): every number the step
      needs — the learning rate, bias corrections, the gradients' scale — as Python floats,
      from the step count ``t``;
    * [`apply`][xpnet.nn.optim.Optimizer.apply] (device): the array update, a pure function of the
      parameters, gradients, state and those coefficients. Compiled, the coefficients are
      traced arguments, so one compiled step serves every learning rate and step count.

    [`step`][xpnet.nn.optim.Optimizer.step] does both, eagerly.
    """

    name = "optimizer"
    _slots: tuple[str, ...] = ()  # names of per-parameter state arrays, e.g. ("m", "v")

    def __init__(self, lr: float, weight_decay: float = 0.0, schedule=None):
        lr, weight_decay = float(lr), float(weight_decay)
        if not (lr > 0 and math.isfinite(lr)):
            raise ConfigError(f"learning rate must be a positive finite number, got {lr}")
        if weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = get_schedule(schedule)
        self.t = 0  # number of steps taken
        self.state: dict[str, dict] = {slot: {} for slot in self._slots}

    def lr_at(self, epoch: float, total_epochs: float | None = None) -> float:
        """The learning rate (a Python float) at ``epoch`` of a run of ``total_epochs``."""
        return self.lr * self.schedule.factor(epoch, total_epochs)

    def step(self, params: dict, grads: dict, lr: float | None = None, *, scaled_by: float = 1.0) -> None:
        """Update ``params`` (in place where the arrays allow) from ``grads``.

        ``lr`` overrides the base learning rate for this step (the training loop passes the
        scheduled rate). ``scaled_by`` says that ``grads`` hold that factor times the
        gradients (see [`gradient_scale`][xpnet.nn.optim.Optimizer.gradient_scale]).
        """
        lr = self.lr if lr is None else float(lr)
        self.t += 1
        self.ensure_state(params)
        self._update(params, grads, lr, float(scaled_by))

    def gradient_scale(self, lr: float) -> float:
        """The factor this optimizer would like the gradients to come multiplied by.

        The training loop folds it into ``dZ_L`` ([`xpnet.nn.network.backward`][xpnet.nn.network.backward]'s ``scale``),
        a small ``m × n_L`` array, and passes it to [`step`][xpnet.nn.optim.Optimizer.step] as ``scaled_by``; every
        gradient then arrives already multiplied, which saves the optimizer a pass over every
        weight matrix: α for plain SGD (the update is then just ``W −= grads``), 1 − β1 for
        Adam (``m ← β1·m + grads``). 1 by default.
        """
        return 1.0

    def ensure_state(self, params) -> None:
        """Create the zero state arrays (like ``params``) if there are none yet."""
        if self._slots and not self.state[self._slots[0]]:
            for slot in self._slots:
                self.state[slot] = {k: array_namespace(p).zeros_like(p) for k, p in params.items()}

    def coefficients(self, lr: float, scale: float, t: int) -> dict:
        """The numbers step ``t`` needs, as Python floats (``"lr"`` and ``"scale"`` at least).

        Parameters
        ----------
        lr : float
            The (scheduled) learning rate of the step.
        scale : float
            The factor the gradients come multiplied by (``scaled_by`` of
            [`step`][xpnet.nn.optim.Optimizer.step]).
        t : int
            The step's number, 1 for the first.
        """
        return {"lr": float(lr), "scale": float(scale)}

    def apply(self, params: dict, grads: dict, state: dict, c: dict) -> dict:
        """The array update of one step, written once for eager and compiled use.

        Parameters
        ----------
        params : dict
            Updated in place where the arrays allow (item assignment where they do not).
        grads : dict
            ``c["scale"]`` times the gradients, same names and shapes as ``params``.
        state : dict
            ``{slot: {name: array}}``, updated the same way.
        c : dict
            [`coefficients`][xpnet.nn.optim.Optimizer.coefficients] of the step: Python floats
            eagerly, traced 0-d arrays inside a compiled step.

        Returns
        -------
        dict
            The state (the same dict).
        """
        raise NotImplementedError  # pragma: no cover - abstract

    @property
    def compilable(self) -> bool:
        """True when [`step`][xpnet.nn.optim.Optimizer.step] is exactly coefficients + apply, so
        that a compiled training step may call those instead (a subclass that overrides
        ``step`` or ``_update`` is stepped eagerly)."""
        cls = type(self)
        return cls.step is Optimizer.step and cls._update is Optimizer._update

    def structure(self) -> tuple:
        """What a compiled step depends on besides its traced coefficients: the class and the
        switches that choose code paths (two optimizers with the same structure share one
        compiled step)."""
        return (type(self).__qualname__, bool(self.weight_decay))

    def _update(self, params, grads, lr, scale):
        """Apply one step eagerly; ``grads`` hold ``scale`` times the gradients."""
        self.state = self.apply(params, grads, self.state, self.coefficients(lr, scale, self.t))

    # -- (de)serialisation, used by checkpoints --------------------------------------------------
    def get_config(self) -> dict:
        """Hyper-parameters as a JSON-friendly dict; ``optimizer_from_config`` inverts it."""
        return {
            "name": self.name,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "schedule": self.schedule.get_config(),
        }

    def state_arrays(self) -> dict:
        """Per-parameter state as flat ``{"m.W1": array, ...}`` (empty before the first step)."""
        return {f"{slot}.{k}": a for slot, d in self.state.items() for k, a in d.items()}

    def load_state(self, t: int, arrays: dict) -> None:
        """Restore the step count and the arrays returned by [`state_arrays`][xpnet.nn.optim.Optimizer.state_arrays]."""
        self.t = int(t)
        self.state = {slot: {} for slot in self._slots}
        for key, a in arrays.items():
            slot, _, name = key.partition(".")
            if slot not in self.state:
                raise ConfigError(f"optimizer {self.name} has no state {slot!r} (from {key!r})")
            self.state[slot][name] = a

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

    With ``g = ∇L + λ·W`` (λ = ``weight_decay``, 0 by default):

    * plain (the tutorial's rule): ``W ← W − α·g``
    * momentum μ: ``v ← μ·v + g``; ``W ← W − α·v``
    * Nesterov: ``v ← μ·v + g``; ``W ← W − α·(g + μ·v)``

    With ``lr_in_velocity=True`` the velocity is kept in units of a step, as in Sutskever et
    al. (2013) and scikit-learn: ``v ← μ·v − α·g``; ``W ← W + v`` (Nesterov:
    ``W ← W + μ·v − α·g``). The two forms take the same steps while α is constant; when a
    schedule changes α, this one applies the new rate to new gradients only, while the
    default rescales the whole velocity.
    """

    name = "sgd"

    def __init__(
        self,
        lr: float = 0.1,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        schedule=None,
        lr_in_velocity: bool = False,
    ):
        super().__init__(lr, weight_decay, schedule)
        self.lr_in_velocity = bool(lr_in_velocity)
        if not 0.0 <= momentum < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0.0:
            raise ConfigError("Nesterov momentum needs momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self._slots = ("velocity",) if self.momentum else ()
        self.state = {slot: {} for slot in self._slots}

    def gradient_scale(self, lr):
        return lr if not (self.momentum or self.weight_decay) else 1.0

    def coefficients(self, lr, scale, t):
        return {
            "lr": float(lr),
            "scale": float(scale),
            "step": lr / scale,
            "unscale": 1.0 / scale,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
        }

    def structure(self):
        return (*super().structure(), bool(self.momentum), self.nesterov, self.lr_in_velocity)

    def apply(self, params, grads, state, c):
        if not (self.momentum or self.weight_decay):  # grads = scale·∇: W ← W − (α/scale)·grads
            for k in params:
                params[k] -= _times(grads[k], c["step"])
            return state
        velocity = state.get("velocity")
        mu, lr = c["momentum"], c["lr"]
        for k in params:
            g = _times(grads[k], c["unscale"])  # ∇
            if self.weight_decay:
                g = g + c["weight_decay"] * params[k]
            if self.momentum and self.lr_in_velocity:  # v ← μ·v − α·g; W ← W + v
                velocity[k] *= mu
                velocity[k] -= lr * g
                params[k] += mu * velocity[k] - lr * g if self.nesterov else velocity[k]
                continue
            if self.momentum:
                velocity[k] *= mu
                velocity[k] += g
                g = g + mu * velocity[k] if self.nesterov else velocity[k]
            params[k] -= lr * g
        return state

    def get_config(self):
        config = {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
        if self.lr_in_velocity:  # only when set: checkpoints of earlier versions lack the key
            config["lr_in_velocity"] = True
        return config


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015). ``weight_decay`` here is L2 added to the gradient.

    ``m ← β1·m + (1−β1)·g``; ``v ← β2·v + (1−β2)·g²``;
    ``W ← W − α·m̂ / (√v̂ + ε)`` with ``m̂ = m/(1−β1ᵗ)``, ``v̂ = v/(1−β2ᵗ)``.

    ``eps_on="v"`` adds ε to ``√v`` instead of ``√v̂``, the form at the end of the paper's
    section 2 that scikit-learn and Keras use:
    ``W ← W − α·√(1−β2ᵗ)/(1−β1ᵗ) · m/(√v + ε)``. It differs from the default only while
    ``√v̂`` is not much larger than ε (the first steps, tiny gradients).
    """

    name = "adam"
    _slots = ("m", "v")
    _decoupled = False

    def __init__(
        self,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        schedule=None,
        eps_on: str = "v_hat",
    ):
        super().__init__(lr, weight_decay, schedule)
        for label, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ConfigError(f"{label} must be in [0, 1), got {beta}")
        if eps <= 0:
            raise ConfigError(f"eps must be > 0, got {eps}")
        if eps_on not in ("v_hat", "v"):
            raise ConfigError(f"eps_on must be 'v_hat' (ε added to √v̂) or 'v' (to √v), got {eps_on!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.eps_on = eps_on

    def gradient_scale(self, lr):
        return 1.0 - self.beta1

    def coefficients(self, lr, scale, t):
        """Step ``t``'s numbers. ``α·m̂/(√v̂ + ε) = (α·√(1−β2ᵗ)/(1−β1ᵗ)) · m/(√v + ε·√(1−β2ᵗ))``:
        the bias corrections become two scalars (``step_size``, ``eps_hat``) instead of two
        passes over m̂ and v̂ (``eps_hat = ε`` itself with ``eps_on="v"``); ``c1``, ``c2``
        take the gradients' scale out of the moments."""
        b1, b2, wd = self.beta1, self.beta2, self.weight_decay
        root_bias2 = math.sqrt(1.0 - b2**t)
        eps_hat = self.eps * root_bias2 if self.eps_on == "v_hat" else self.eps
        return {
            "lr": float(lr),
            "scale": float(scale),
            "beta1": b1,
            "beta2": b2,
            "step_size": lr * root_bias2 / (1.0 - b1**t),
            "eps_hat": eps_hat,
            "c1": (1.0 - b1) / scale,
            "c2": (1.0 - b2) / (scale * scale),
            "l2": scale * wd,
            "decay": 1.0 - lr * wd,
            "flush": _FLUSH_C if t % _FLUSH_EVERY == 0 else 0.0,
        }

    def apply(self, params, grads, state, c):
        m, v = state["m"], state["v"]
        coupled = self.weight_decay and not self._decoupled
        decoupled = self.weight_decay and self._decoupled
        xp = None
        # Each array is taken out of its dict once and put back (the same array where the
        # updates are in place; the new one on JAX, whose arrays are immutable).
        for k in params:
            p, g, mk, vk = params[k], grads[k], m[k], v[k]  # g = scale·∇
            if xp is None:
                xp = array_namespace(p)
            if coupled:
                g = g + c["l2"] * p
            mk *= c["beta1"]  # m ← β1·m + (1−β1)·∇
            mk += _times(g, c["c1"])
            g2 = g * g  # v ← β2·v + (1−β2)·∇²
            g2 *= c["c2"]
            vk *= c["beta2"]
            vk += g2
            if _nonzero(c["flush"]):
                mk, vk = _flush_tiny(mk, c["flush"]), _flush_tiny(vk, c["flush"])
            m[k], v[k] = mk, vk
            if decoupled:
                p *= c["decay"]
            d = xp.sqrt(vk)
            d += c["eps_hat"]
            step = mk / d
            step *= c["step_size"]
            p -= step
            params[k] = p
        return state

    def get_config(self):
        config = {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}
        if self.eps_on != "v_hat":  # only when set: checkpoints of earlier versions lack the key
            config["eps_on"] = self.eps_on
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): ``W ← W·(1 − α·λ)`` each step."""

    name = "adamw"
    _decoupled = True

    def __init__(
        self,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        schedule=None,
        eps_on: str = "v_hat",
    ):
        super().__init__(lr, beta1, beta2, eps, weight_decay, schedule, eps_on)


_OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def get_optimizer(name: str, **kwargs) -> Optimizer:
    """An optimizer by name (``sgd``, ``adam``, ``adamw``) with keyword hyper-parameters."""
    try:
        cls = _OPTIMIZERS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown optimizer {name!r}; choose one of {', '.join(_OPTIMIZERS)}") from None
    return cls(**kwargs)


def optimizer_from_config(config: dict) -> Optimizer:
    """Rebuild an optimizer from [`Optimizer.get_config`][xpnet.nn.optim.Optimizer.get_config] output."""
    config = dict(config)
    return get_optimizer(config.pop("name"), **config)


from .._lib.annotations import resolve_annotations  # noqa: E402

resolve_annotations(globals(), __all__)  # help() shows types, not strings

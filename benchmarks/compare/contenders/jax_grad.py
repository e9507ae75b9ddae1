"""JAX with ``jax.grad``: one jitted step per batch (``jax-jit``), or the whole epoch in one jitted
``lax.scan`` (``jax-scan``, plus one jitted step for a last partial batch). Both on JAX's CPU
device, parameters and optimizer state donated to each call.
"""

from __future__ import annotations

from ..problem import ADAM, Problem
from .base import Contender, Runner, probe_module

__all__ = ["JaxRunner", "CONTENDERS"]


class JaxRunner(Runner):
    """JAX with jax.grad; ``mode="jit"``: one jitted step per batch; ``"scan"``: the epoch's
    full batches in one jitted ``lax.scan`` (then one jitted step for a last partial batch).

    Parameters
    ----------
    p : Problem
        The configuration; the parameters start from a copy of ``p.params0``.
    mode : str
        ``"jit"`` or ``"scan"``.
    """

    def __init__(self, p: Problem, mode: str):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp, self.p, self.mode = jax, jnp, p, mode
        dev = jax.devices("cpu")[0]  # the CPU contenders, even where JAX also sees a GPU
        self.platform = "cpu"
        put = lambda a: jax.device_put(a, dev)  # noqa: E731
        self.X, self.Y = put(p.data.X), put(p.Y)
        self.params = {k: put(v.copy()) for k, v in p.params0.items()}  # donated: a copy
        self.state = (
            {k: jnp.zeros_like(v) for k, v in self.params.items()},  # m
            {k: jnp.zeros_like(v) for k, v in self.params.items()},  # v
            jnp.zeros((), jnp.float32),
        )  # t
        L, lr, opt = p.n_layers, p.lr, p.optimizer
        b1, b2, eps = ADAM["beta1"], ADAM["beta2"], ADAM["eps"]

        def loss_fn(params, Xb, Yb):
            A = Xb
            for l in range(1, L + 1):
                A = A @ params[f"W{l}"].T + params[f"b{l}"]
                if l < L:
                    A = jax.nn.relu(A)
            return -jnp.sum(Yb * jax.nn.log_softmax(A, axis=1))  # summed over the batch

        def step(params, state, Xb, Yb):
            loss_sum, g = jax.value_and_grad(loss_fn)(params, Xb, Yb)
            scale = 1.0 / Xb.shape[0]
            if opt == "sgd":
                params = {k: w - (lr * scale) * g[k] for k, w in params.items()}
                return params, state, loss_sum
            m, v, t = state
            t = t + 1
            g = {k: gk * scale for k, gk in g.items()}
            m = {k: b1 * m[k] + (1 - b1) * g[k] for k in g}
            v = {k: b2 * v[k] + (1 - b2) * g[k] * g[k] for k in g}
            alpha = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
            params = {k: w - alpha * m[k] / (jnp.sqrt(v[k]) + eps * jnp.sqrt(1 - b2**t)) for k, w in params.items()}
            return params, (m, v, t), loss_sum

        def gather_step(params, state, X, Y, idx):
            return step(params, state, jnp.take(X, idx, axis=0), jnp.take(Y, idx, axis=0))

        def scan_epoch(params, state, X, Y, idx2d):
            def body(carry, idx):
                params, state, total = carry
                params, state, loss_sum = gather_step(params, state, X, Y, idx)
                return (params, state, total + loss_sum), None

            (params, state, total), _ = jax.lax.scan(body, (params, state, jnp.zeros((), jnp.float32)), idx2d)
            return params, state, total

        self._step = jax.jit(step, donate_argnums=(0, 1))
        self._gather_step = jax.jit(gather_step, donate_argnums=(0, 1))
        self._scan_epoch = jax.jit(scan_epoch, donate_argnums=(0, 1))
        self._put = put
        self.e = 0

    def epoch(self):
        p = self.p
        order = p.permutation(self.e)
        self.e += 1
        if order is None:
            self.params, self.state, total = self._step(self.params, self.state, self.X, self.Y)
            return float(total) / p.n
        bs = p.batch_size
        nb = p.n // bs
        if self.mode == "scan":
            idx2d = self._put(order[: nb * bs].reshape(nb, bs))
            self.params, self.state, total = self._scan_epoch(self.params, self.state, self.X, self.Y, idx2d)
            totals = [total]
        else:
            order_dev = self._put(order)
            totals = []
            for b in range(nb):
                self.params, self.state, t = self._gather_step(
                    self.params, self.state, self.X, self.Y, order_dev[b * bs : (b + 1) * bs]
                )
                totals.append(t)
        if nb * bs < p.n:
            self.params, self.state, t = self._gather_step(
                self.params, self.state, self.X, self.Y, self._put(order[nb * bs :])
            )
            totals.append(t)
        return float(sum(float(t) for t in totals)) / p.n

    def sync(self):
        self.jax.block_until_ready(self.params)


CONTENDERS = [
    Contender(
        "jax-jit",
        "cpu",
        "JAX, jax.grad, one jitted step per batch",
        probe_module("jax", "JAX"),
        lambda p, variant=None: JaxRunner(p, "jit"),
    ),
    Contender(
        "jax-scan",
        "cpu",
        "JAX, jax.grad, whole epoch jitted with lax.scan",
        probe_module("jax", "JAX"),
        lambda p, variant=None: JaxRunner(p, "scan"),
    ),
]

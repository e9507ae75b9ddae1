"""PyTorch eager, as usually written: ``F.linear``/``relu``/``F.cross_entropy``, autograd for the
gradients and ``torch.optim.SGD``/``Adam`` (their default implementation), on the CPU or CUDA
(plain float32 products there: TF32 off). One host read of the loss per epoch.
"""

from __future__ import annotations

from ..problem import ADAM, Problem
from .base import Contender, Runner, probe_module

__all__ = ["TorchRunner", "CONTENDERS"]


class TorchRunner(Runner):
    """PyTorch eager: F.linear/relu/cross_entropy, autograd, torch.optim (default implementation).

    Parameters
    ----------
    p : Problem
        The configuration; the parameters start from ``p.params0``.
    device : str
        ``"cpu"`` or ``"cuda"``.
    """

    uses_torch = True

    def __init__(self, p: Problem, device: str = "cpu"):
        import torch

        self.torch = torch
        self.p = p
        self.device = torch.device(device)
        self.platform = "cuda" if self.device.type == "cuda" else "cpu"
        if self.platform == "cuda":  # plain float32 matrix products, no TF32
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        self.X = torch.from_numpy(p.data.X).to(self.device)
        self.y = torch.from_numpy(p.data.y).to(self.device)
        self.params = [
            torch.tensor(p.params0[f"{k}{l}"], device=self.device, requires_grad=True)
            for l in range(1, p.n_layers + 1)
            for k in ("W", "b")
        ]
        if p.optimizer == "sgd":
            self.opt = torch.optim.SGD(self.params, lr=p.lr)
        else:
            self.opt = torch.optim.Adam(self.params, lr=p.lr, betas=(ADAM["beta1"], ADAM["beta2"]), eps=ADAM["eps"])
        self.e = 0

    def epoch(self):
        torch, F = self.torch, self.torch.nn.functional
        p = self.p
        order = p.permutation(self.e)
        self.e += 1
        if order is not None:
            order = torch.from_numpy(order).to(self.device)
        loss_sum = torch.zeros((), device=self.device)
        L = p.n_layers
        for lo, hi in p.batches():
            if order is None:
                Xb, yb = self.X, self.y
            else:
                idx = order[lo:hi]
                Xb, yb = self.X[idx], self.y[idx]
            A = Xb
            for l in range(L):
                A = F.linear(A, self.params[2 * l], self.params[2 * l + 1])
                if l < L - 1:
                    A = torch.relu(A)
            loss = F.cross_entropy(A, yb)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            loss_sum += loss.detach() * (hi - lo)
        return float(loss_sum) / p.n  # one read per epoch

    def sync(self):
        if self.platform == "cuda":
            self.torch.cuda.synchronize(self.device)


def _probe_torch_cuda():
    from .cupy_floor import cuda_unusable

    return cuda_unusable("torch")


CONTENDERS = [
    Contender(
        "torch",
        "cpu",
        "PyTorch eager CPU, autograd + torch.optim",
        probe_module("torch", "PyTorch"),
        lambda p, variant=None: TorchRunner(p, "cpu"),
    ),
    Contender(
        "torch-cuda",
        "cuda",
        "PyTorch eager CUDA, autograd + torch.optim",
        _probe_torch_cuda,
        lambda p, variant=None: TorchRunner(p, "cuda"),
    ),
]

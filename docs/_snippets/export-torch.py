import json

import torch
from safetensors import safe_open
from safetensors.torch import load_file

path = "model.safetensors"  # written by `xpnet export model.npz model.safetensors`
with safe_open(path, framework="pt") as f:
    meta = f.metadata()
sizes = json.loads(meta["sizes"])
activation = {
    "relu": torch.nn.ReLU,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "identity": torch.nn.Identity,
}[meta["activation"]]
layers = []
for n_in, n_out in zip(sizes[:-1], sizes[1:]):
    layers += [torch.nn.Linear(n_in, n_out), activation()]
dtype = getattr(torch, meta["dtype"])
net = torch.nn.Sequential(*layers[:-1]).to(dtype)  # Linear, g, Linear, g, ..., Linear
net.load_state_dict(load_file(path), strict=True)
net.eval()
pre = json.loads(meta["preprocessing"]) or {}  # the input transform the model was trained with


def predict_proba(pixels):
    """Raw pixels (m, n0), 0..255 → class probabilities (m, K), as xpnet's predict_proba."""
    x = torch.as_tensor(pixels).to(dtype)
    if pre.get("scale"):
        x = x / 255
    if pre.get("standardize"):
        x = (x - pre["standardize"]["mean"]) / pre["standardize"]["std"]
    with torch.no_grad():
        return torch.softmax(net(x), dim=1)

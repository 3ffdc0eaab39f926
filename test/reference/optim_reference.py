"""PyTorch side of test/torch-optim.test.ts: runs torch.optim.SGD / AdamW on the same problem.

Usage: /usr/bin/python3 optim_reference.py inputs.safetensors outputs.safetensors
The problem: loss = mean((x @ w.T + b - y)^2), parameters w, b, for `steps` steps, with the
learning rate changed every step (lr * (1 - step / (2 * steps))) as a schedule would.
"""
import sys

import torch

from safetensors_io import load_file, save_file


def run(kind, inputs, steps=7, lr=0.05):
    w = inputs["w"].clone().requires_grad_()
    b = inputs["b"].clone().requires_grad_()
    if kind == "sgd":
        opt = torch.optim.SGD([w, b], lr=lr, momentum=0.9, weight_decay=0.01, nesterov=True)
    elif kind == "sgd_plain":
        opt = torch.optim.SGD([w, b], lr=lr, momentum=0.8, dampening=0.1, weight_decay=0.0)
    else:
        opt = torch.optim.AdamW([w, b], lr=lr, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * (1 - step / (2 * steps))
        opt.zero_grad(set_to_none=True)
        loss = ((inputs["x"] @ w.T + b - inputs["y"]) ** 2).mean()
        loss.backward()
        opt.step()
    return {f"{kind}.w": w.detach(), f"{kind}.b": b.detach()}


def main():
    torch.set_num_threads(1)
    inputs = load_file(sys.argv[1])
    out = {}
    for kind in ("sgd", "sgd_plain", "adamw"):
        out.update(run(kind, inputs))
    save_file(out, sys.argv[2])


if __name__ == "__main__":
    main()

"""PyTorch side of test/torch-ops.test.ts: runs each named case on the inputs aplnet wrote and
writes outputs and input gradients, so the test can compare aplnet with PyTorch itself.

Usage: /usr/bin/python3 torch_ops_reference.py inputs.safetensors outputs.safetensors
Inputs are named "<case>.<arg>"; "<case>.upstream" weights the output in the scalar loss
(loss = (out * upstream).sum()) whose gradients are compared.
"""
import sys

import torch
import torch.nn.functional as F

from safetensors_io import load_file, save_file

CASES = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b.abs() + 1),
    "unary": lambda a: torch.exp(a) + torch.log(a.abs() + 1) + torch.sqrt(a.abs() + 1) + torch.sigmoid(a) + torch.tanh(a) + torch.relu(a),
    "softmax": lambda a: torch.softmax(a, 1) + torch.log_softmax(a, 0),
    "matmul": lambda a, b: a @ b,
    "linear": lambda x, w, b: F.linear(x, w, b),
    "conv2d": lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
    "conv2d_dilated_groups": lambda x, w: F.conv2d(x, w, None, stride=1, padding=2, dilation=2, groups=2),
    "max_pool2d": lambda x: F.max_pool2d(x, 3, 2, 1),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, 3),
    "interpolate": lambda x: F.interpolate(x, size=(11, 7), mode="bilinear", align_corners=False),
    "reductions": lambda a: a.sum(1, keepdim=True) + a.mean((0, 1), keepdim=True) + a.amax(1, keepdim=True),
    "shape_ops": lambda a: torch.cat([a.permute(1, 0, 2).reshape(4, -1), torch.flip(a, [2]).reshape(4, -1)], 1)[:, 1:9:2],
    "rot90_stack": lambda a: torch.stack([torch.rot90(a, 1, [1, 2]), a], 0),
    "clamp_where": lambda a, b: torch.where(a > 0, a.clamp(-0.5, 0.5), b),
}


def run_case(name, args):
    fn = CASES[name]
    arg_names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    tensors = [args[n].clone().requires_grad_(args[n].is_floating_point()) for n in arg_names]
    out = fn(*tensors)
    (out * args["upstream"]).sum().backward()
    result = {f"{name}.out": out.detach()}
    for n, t in zip(arg_names, tensors):
        if t.grad is not None:
            result[f"{name}.grad.{n}"] = t.grad
    return result


def batch_norm_cases(inputs):
    out = {}
    x, w, b = inputs["batch_norm.x"], inputs["batch_norm.w"], inputs["batch_norm.b"]
    for mode in ("train", "eval"):
        rm, rv = inputs["batch_norm.rm"].clone(), inputs["batch_norm.rv"].clone()
        xs, ws, bs = (t.clone().requires_grad_() for t in (x, w, b))
        y = F.batch_norm(xs, rm, rv, ws, bs, training=mode == "train", momentum=0.1, eps=1e-5)
        (y * inputs["batch_norm.upstream"]).sum().backward()
        out.update({f"batch_norm_{mode}.out": y.detach(), f"batch_norm_{mode}.rm": rm, f"batch_norm_{mode}.rv": rv,
                    f"batch_norm_{mode}.grad.x": xs.grad, f"batch_norm_{mode}.grad.w": ws.grad, f"batch_norm_{mode}.grad.b": bs.grad})
    return out


def cross_entropy_cases(inputs):
    logits = inputs["cross_entropy.logits"].clone().requires_grad_()
    loss = F.cross_entropy(logits, inputs["cross_entropy.target"], weight=inputs["cross_entropy.weight"], label_smoothing=0.1)
    loss.backward()
    return {"cross_entropy.out": loss.detach(), "cross_entropy.grad.logits": logits.grad}


def main():
    torch.set_num_threads(1)
    inputs = load_file(sys.argv[1])
    outputs = {}
    for name in CASES:
        args = {k.split(".", 1)[1]: v for k, v in inputs.items() if k.split(".", 1)[0] == name}
        outputs.update(run_case(name, args))
    outputs.update(batch_norm_cases(inputs))
    outputs.update(cross_entropy_cases(inputs))
    save_file(outputs, sys.argv[2])


if __name__ == "__main__":
    main()

"""The engine benchmark in Python PyTorch: the same net, data and schedule as bench/engine.ts.

Run as: /usr/bin/python3 bench/engine_pytorch.py --threads 2 --steps 50 --warmup 5 --batch 32 --size 128 [--device cpu]
       [--amp bf16] [--channels-last] [--no-op-overhead]
Prints one JSON line: {"img_s": ..., "op_overhead_us": ...}
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, in_c, out_c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_c)
        self.conv2 = nn.Conv2d(out_c, out_c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_c)
        self.downsample = None
        if stride != 1 or in_c != out_c:
            self.downsample = nn.Sequential(nn.Conv2d(in_c, out_c, 1, stride, bias=False), nn.BatchNorm2d(out_c))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class EngineBenchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32))
        self.block1 = BasicBlock(32, 32, 1)
        self.block2 = BasicBlock(32, 64, 2)
        self.fc = nn.Linear(64, 8)

    def forward(self, x):
        x = self.block2(self.block1(F.relu(self.stem(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def train_img_s(args):
    torch.manual_seed(0)
    device = args.device
    net = EngineBenchNet().to(device)
    if args.channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 3, args.size, args.size, device=device)
    if args.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 8, (args.batch,), device=device)
    device_type = "cuda" if device.startswith("cuda") else "cpu"

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=args.amp == "bf16"):
            loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    loss.item()
    sync(device)
    return args.batch * args.steps / (time.perf_counter() - start)


def op_overhead_us(blocks=9, per_block=20000):
    """Best of several blocks (as timeit does): the machine's noise only ever adds time."""
    a = torch.ones(1)
    b = torch.ones(1)
    for _ in range(2000):
        a + b
    best = float("inf")
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(per_block):
            a + b
        best = min(best, (time.perf_counter() - start) / per_block * 1e6)
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--device", default="cpu")
    p.add_argument("--amp", default="off", choices=["off", "bf16"])
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--no-op-overhead", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    img_s = train_img_s(args)
    print(json.dumps({"img_s": img_s, "op_overhead_us": None if args.no_op_overhead else op_overhead_us()}))


if __name__ == "__main__":
    main()

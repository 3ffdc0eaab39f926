"""PyTorch reference of aplnet's model (src/model), for the parity tests.

Builds the same network from the same config.json, loads aplnet's safetensors weights with
strict=True, runs one input, and writes logits, attention maps and (for an attention-pooling head)
its map and per-position evidence back as safetensors.
Needs only torch (Debian's python3-torch 1.13 works): safetensors_io.py beside it reads and writes the files.

usage: aplnet_reference.py CONFIG.json WEIGHTS.safetensors INPUT.safetensors OUTPUT.safetensors
                           --mode train|eval --threads N
"""
import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_io import load_file, save_file


def conv_no_bias(cin, cout, k, stride=1, dilation=1, padding_mode="zeros"):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=dilation * (k // 2), dilation=dilation, bias=False, padding_mode=padding_mode)


def block_layouts(depths, output_stride, padding_mode):
    """(stride, entry dilation, dilation, padding mode) of every block, as src/model/stage-plan.ts."""
    stride, dilation, layouts = 4, 1, []
    for s, depth in enumerate(depths):
        entry, first_stride = dilation, 1
        if s > 0 and stride < output_stride:
            stride, first_stride = stride * 2, 2
        elif s > 0:
            dilation *= 2
        layouts.append([(first_stride, entry, dilation, padding_mode)] + [(1, dilation, dilation, padding_mode)] * (depth - 1))
    return layouts


class ChannelAttention(nn.Module):
    def __init__(self, channels, reduction):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=False)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=False)

    def forward(self, x):
        mlp = lambda p: self.fc2(F.relu(self.fc1(p)))
        return x * torch.sigmoid(mlp(F.adaptive_avg_pool2d(x, 1)) + mlp(F.adaptive_max_pool2d(x, 1)))


class SpatialAttention(nn.Module):
    def __init__(self, channels, kernel_size, channel_reduction, padding_mode):
        super().__init__()
        if channel_reduction > 0:
            self.channel = ChannelAttention(channels, channel_reduction)
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False, padding_mode=padding_mode)
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x):
        if hasattr(self, "channel"):
            x = self.channel(x)
        pooled = torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1)
        attention_map = torch.sigmoid(self.bn(self.conv(pooled)))
        return x * attention_map, attention_map


def shortcut(cin, cout, stride):
    if stride == 1 and cin == cout:
        return None
    return nn.Sequential(conv_no_bias(cin, cout, 1, stride), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, layout, attention):
        super().__init__()
        stride, entry_dilation, dilation, padding_mode = layout
        self.out_channels = cout
        self.conv1, self.bn1 = conv_no_bias(cin, cout, 3, stride, entry_dilation, padding_mode), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = conv_no_bias(cout, cout, 3, 1, dilation, padding_mode), nn.BatchNorm2d(cout)
        if attention:
            self.attention = SpatialAttention(cout, *attention)
        self.downsample = shortcut(cin, cout, stride)

    def branch(self, x):
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def forward(self, x):
        out, attention_map = self.branch(x), None
        if hasattr(self, "attention"):
            out, attention_map = self.attention(out)
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity), attention_map


class BottleneckBlock(BasicBlock):
    def __init__(self, cin, width, layout, attention):
        nn.Module.__init__(self)
        stride, entry_dilation, _, padding_mode = layout
        self.out_channels = width * 4
        self.conv1, self.bn1 = conv_no_bias(cin, width, 1), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = conv_no_bias(width, width, 3, stride, entry_dilation, padding_mode), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = conv_no_bias(width, width * 4, 1), nn.BatchNorm2d(width * 4)
        if attention:
            self.attention = SpatialAttention(width * 4, *attention)
        self.downsample = shortcut(cin, width * 4, stride)

    def branch(self, x):
        out = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return self.bn3(self.conv3(out))


class AplNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        a = c["attention"]
        # Keys absent from config.json written before they existed mean the CBAM / average-pool design.
        padding_mode = c.get("paddingMode", "zeros")
        output_stride = c.get("outputStride", 4 * 2 ** (len(c["widths"]) - 1))
        options = (a["kernelSize"], a["channelReduction"], padding_mode)
        in_blocks = options if a["placement"] == "every-block" else None
        self.stem = nn.Sequential(conv_no_bias(c["inChannels"], c["stemWidth"], c["stemKernel"], 2, 1, padding_mode), nn.BatchNorm2d(c["stemWidth"]), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        block_type = BasicBlock if c["block"] == "basic" else BottleneckBlock
        channels, stages, stage_channels = c["stemWidth"], [], []
        layouts = block_layouts(c["depths"], output_stride, padding_mode)
        for s, (width, depth) in enumerate(zip(c["widths"], c["depths"])):
            blocks = []
            for b in range(depth):
                blocks.append(block_type(channels, width, layouts[s][b], in_blocks))
                channels = blocks[-1].out_channels
            stages.append(nn.ModuleList(blocks))
            stage_channels.append(channels)
        self.stages = nn.ModuleList(stages)
        self.attention_stages = sorted(a["stages"]) if a["placement"] == "after-stages" else []
        if self.attention_stages:
            self.attention = nn.ModuleList([SpatialAttention(stage_channels[s], *options) for s in self.attention_stages])
        self.dropout = nn.Dropout(c["dropout"])
        self.attention_pool = c.get("head", "average-pool") == "attention-pool"
        if self.attention_pool:
            self.pool = nn.Module()
            self.pool.score = nn.Conv2d(channels, 1, 1, bias=False)
            self.head = nn.Conv2d(channels, c["numClasses"], 1)
        else:
            self.head = nn.Linear(channels, c["numClasses"])

    def forward(self, x):
        maps = []
        x = self.stem(x)
        for s, stage in enumerate(self.stages):
            for block in stage:
                x, attention_map = block(x)
                if attention_map is not None:
                    maps.append(attention_map)
            if s in self.attention_stages:
                x, attention_map = self.attention[self.attention_stages.index(s)](x)
                maps.append(attention_map)
        if self.attention_pool:
            n, _, h, w = x.shape
            attention = torch.softmax(self.pool.score(x).reshape(n, h * w), 1).reshape(n, 1, h, w)
            evidence = self.head(self.dropout(x))
            return (evidence * attention).sum((2, 3)), maps, (attention, evidence)
        logits = self.head(self.dropout(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)))
        return logits, maps, None


def main():
    parser = argparse.ArgumentParser()
    for name in ("config", "weights", "input", "output"):
        parser.add_argument(name)
    parser.add_argument("--mode", choices=("train", "eval"), required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.config) as f:
        config = json.load(f)
    model = AplNet(config)
    model.load_state_dict(load_file(args.weights), strict=True)
    model.train(args.mode == "train")
    x = load_file(args.input)["input"]
    with torch.no_grad():
        logits, maps, pooling = model(x)
    out = {"logits": logits}
    out.update({f"attention.{i}": m for i, m in enumerate(maps)})
    if pooling is not None:
        out["pooling.attention"], out["pooling.evidence"] = pooling
    if args.mode == "train":
        # Batch statistics must also have updated the running buffers identically.
        out.update({f"state.{k}": v for k, v in model.state_dict().items() if k.endswith("running_mean") or k.endswith("running_var")})
    save_file(out, args.output)


if __name__ == "__main__":
    main()

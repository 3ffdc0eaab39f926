// The engine benchmark's small net, the same as bench/engine_pytorch.py's: conv3×3 stem (3→32,
// stride 2) + BN + ReLU, two ResNet basic blocks (32→32; 32→64, stride 2, 1×1 projection), global
// average pooling, linear to 8 classes.
import { BatchNorm2d, Conv2d, Linear, Module, Sequential } from '../src/nn/index.js';
import { F, type Tensor } from '../src/torch/index.js';

class BasicBlock extends Module {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly downsample: Sequential | null;
  constructor(inC: number, outC: number, stride: number) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(outC));
    this.conv2 = this.registerModule('conv2', new Conv2d(outC, outC, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outC));
    this.downsample = stride !== 1 || inC !== outC
      ? this.registerModule('downsample', new Sequential(new Conv2d(inC, outC, 1, { stride, bias: false }), new BatchNorm2d(outC)))
      : null;
  }
  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
    return out.add(this.downsample ? this.downsample.forward(x) : x).relu();
  }
}

export class EngineBenchNet extends Module {
  private readonly stem = this.registerModule('stem', new Sequential(new Conv2d(3, 32, 3, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(32)));
  private readonly block1 = this.registerModule('block1', new BasicBlock(32, 32, 1));
  private readonly block2 = this.registerModule('block2', new BasicBlock(32, 64, 2));
  private readonly fc = this.registerModule('fc', new Linear(64, 8));
  forward(x: Tensor): Tensor {
    const features = this.block2.forward(this.block1.forward(this.stem.forward(x).relu()));
    return this.fc.forward(F.adaptiveAvgPool2d(features, 1).flatten(1));
  }
}

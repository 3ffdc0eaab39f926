// nn.MaxPool2d as a module, so the stem can be a Sequential exactly as in torchvision.
import { Module } from '../nn/index.js';
import { F, type Tensor } from '../torch/index.js';

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number, readonly stride: number, readonly padding: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
}

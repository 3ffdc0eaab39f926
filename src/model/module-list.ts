// nn.ModuleList: holds submodules under the keys "0", "1", … so state dict names match PyTorch's.
import { Module } from '../nn/index.js';

export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.registerModule(String(i), m));
  }
  /** Like PyTorch's ModuleList, a container only: its owner decides how the items are called. */
  forward(): never {
    throw new Error('ModuleList has no forward of its own: iterate .items');
  }
}

// torch.nn.Module for TypeScript: named parameters, buffers and submodules, train/eval modes, and a
// state dict whose keys match PyTorch's, so weights move between aplnet and Python unchanged.
import { keep, loadSafetensors, noGrad, saveSafetensors, type MemoryFormat, type Tensor } from '../torch/index.js';

export type StateDict = Map<string, Tensor>;

/** What loadStateDict did not match, as torch.nn.Module.load_state_dict returns it. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export interface ModuleLoadOptions {
  /** Every key must match both ways (default true). */
  strict?: boolean;
  /** Refuse a weights file without aplnet's checksum (default false, so Python-written files load). */
  requireChecksum?: boolean;
}

const LISTED_KEYS = 30;
/** "a", "b", … and 12 more: the names, quoted, without a wall of text for a wholly wrong file. */
function namedList(keys: string[]): string {
  const shown = keys.slice(0, LISTED_KEYS).map((k) => `"${k}"`).join(', ');
  return keys.length > LISTED_KEYS ? `${shown} and ${keys.length - LISTED_KEYS} more` : shown;
}

export abstract class Module {
  training = true;
  private readonly parametersByName = new Map<string, Tensor>();
  private readonly buffersByName = new Map<string, Tensor>();
  private readonly childrenByName = new Map<string, Module>();

  /** Takes ownership of t as a trainable parameter (kept out of every tidy scope). */
  protected registerParameter(name: string, t: Tensor): Tensor {
    keep(t);
    if (!t.requiresGrad) t.requiresGrad = true;
    this.parametersByName.set(name, t);
    return t;
  }
  protected registerBuffer(name: string, t: Tensor): Tensor {
    keep(t);
    this.buffersByName.set(name, t);
    return t;
  }
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.childrenByName.set(name, m);
    return m;
  }
  protected param(name: string): Tensor {
    return this.parametersByName.get(name)!;
  }
  protected hasParam(name: string): boolean {
    return this.parametersByName.has(name);
  }
  protected buffer(name: string): Tensor {
    return this.buffersByName.get(name)!;
  }

  children(): [string, Module][] {
    return [...this.childrenByName.entries()];
  }
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.childrenByName) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.parametersByName) out.push([prefix ? `${prefix}.${name}` : name, t]);
    for (const [name, child] of this.childrenByName) out.push(...child.namedParameters(prefix ? `${prefix}.${name}` : name));
    return out;
  }
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.buffersByName) out.push([prefix ? `${prefix}.${name}` : name, t]);
    for (const [name, child] of this.childrenByName) out.push(...child.namedBuffers(prefix ? `${prefix}.${name}` : name));
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.numel, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by PyTorch state_dict key. The tensors are the module's own: don't dispose them. */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    const visit = (m: Module, prefix: string): void => {
      for (const [name, t] of m.parametersByName) out.set(prefix + name, t);
      for (const [name, t] of m.buffersByName) out.set(prefix + name, t);
      for (const [name, child] of m.childrenByName) visit(child, `${prefix}${name}.`);
    };
    visit(this, '');
    return out;
  }

  /**
   * Copies values in place, as torch.nn.Module.load_state_dict: strict means every key must match
   * both ways. Every mismatch (missing and unexpected keys, shapes) is named in one error, and
   * nothing is copied unless everything fits, so a failed load leaves the model as it was.
   */
  loadStateDict(state: StateDict, { strict = true } = {}): LoadStateDictResult {
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !state.has(k));
    const unexpectedKeys = [...state.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict && missingKeys.length) problems.push(`missing key(s) ${namedList(missingKeys)}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected key(s) ${namedList(unexpectedKeys)}`);
    for (const [key, target] of own) {
      const source = state.get(key);
      if (source && source.shape.join(',') !== target.shape.join(',')) {
        problems.push(`size mismatch for "${key}": the state dict has [${source.shape}] but the model expects [${target.shape}]`);
      }
    }
    if (problems.length) throw new Error(`state dict does not fit this ${this.constructor.name}: ${problems.join('; ')}`);
    noGrad(() => {
      for (const [key, target] of own) {
        const source = state.get(key);
        if (source) target.copy_(source);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Moves every parameter and buffer to a device (replacing them; optimizers must be made after). */
  to(device: string): this {
    for (const [, m] of this.namedModules()) {
      for (const [name, t] of m.parametersByName) {
        if (t.device === device) continue;
        const moved = keep(noGrad(() => t.to({ device })));
        moved.requiresGrad = true;
        t.dispose();
        m.parametersByName.set(name, moved);
      }
      for (const [name, t] of m.buffersByName) {
        if (t.device === device) continue;
        const moved = keep(t.to({ device }));
        t.dispose();
        m.buffersByName.set(name, moved);
      }
    }
    return this;
  }

  /**
   * Lays every 4-D parameter and buffer out in `format` in place (PyTorch's
   * module.to(memory_format=...)): with channels-last, cuDNN and oneDNN run convolutions without
   * transposing. Parameters keep their identity, so an optimizer made before still updates them.
   */
  toMemoryFormat(format: MemoryFormat): this {
    noGrad(() => {
      for (const t of [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)]) {
        if (t.shape.length !== 4 || t.isContiguous(format)) continue;
        const laidOut = t.contiguous(format);
        t.setData(laidOut);
        laidOut.dispose();
      }
    });
    return this;
  }

  /** Saves the state dict as safetensors (readable by Python's safetensors.torch.load_file). */
  save(path: string, metadata: Record<string, string> = {}): void {
    saveSafetensors(path, this.stateDict(), metadata);
  }
  /**
   * Loads weights saved by save() or by Python (safetensors.torch.save_file(model.state_dict())).
   * aplnet's checksum is verified whenever the file has one; requireChecksum refuses a file
   * without it (run folders, which aplnet always writes). Returns the file's metadata.
   */
  load(path: string, { strict = true, requireChecksum = false }: ModuleLoadOptions = {}): Record<string, string> {
    const { tensors, metadata } = loadSafetensors(path, 'cpu', { requireChecksum });
    try {
      this.loadStateDict(tensors, { strict });
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
    return metadata;
  }

  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }

  abstract forward(...inputs: unknown[]): unknown;
}

// Which explanation methods a model can produce. 'attention' needs CBAM modules, a pooling head's
// map needs that head, and new methods will have needs of their own; asking each method for one
// map on a blank input finds out without a list of rules that would go stale.
import type { AplNet } from '../../model/index.js';
import { dispose, zeros } from '../../torch/index.js';
import { EXPLAIN_METHODS, explain, type ExplainMethod } from '../explain.js';

export interface ApplicableMethods {
  methods: ExplainMethod[];
  /** Methods the model cannot produce, with the reason explain gave. */
  notApplicable: { method: ExplainMethod; reason: string }[];
}

export function applicableMethods(model: AplNet, candidates: readonly ExplainMethod[] = EXPLAIN_METHODS): ApplicableMethods {
  const device = model.parameters()[0]?.device ?? 'cpu';
  const side = model.config.inputSize;
  const probe = zeros([1, model.config.inChannels, side, side], { device });
  const result: ApplicableMethods = { methods: [], notApplicable: [] };
  try {
    for (const method of candidates) {
      try {
        dispose(explain(model, probe, { method, target: 0 }));
        result.methods.push(method);
      } catch (error) {
        result.notApplicable.push({ method, reason: error instanceof Error ? error.message : String(error) });
      }
    }
  } finally {
    probe.dispose();
  }
  return result;
}

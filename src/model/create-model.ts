// The one way to build a model: from a preset name (training from scratch) or from a config
// (rebuilding a saved run from its config.json).
import { AplNet } from './aplnet.js';
import { parseModelConfig, type ModelConfig } from './config.js';
import { presetConfig } from './presets.js';

/**
 * createModel('aplnet-s', 8) or createModel(savedConfig). With a config, numClasses (when given)
 * replaces the config's, so a preset-derived config can be pointed at a new dataset.
 */
export function createModel(spec: string | ModelConfig, numClasses?: number): AplNet {
  if (typeof spec === 'string') {
    if (numClasses === undefined) throw new Error(`createModel("${spec}"): the number of classes is required with a preset name`);
    return new AplNet(parseModelConfig(presetConfig(spec, numClasses), `preset ${spec}`));
  }
  return new AplNet(parseModelConfig(numClasses === undefined ? spec : { ...spec, numClasses }));
}

export interface ModelSummary {
  name: string;
  params: number;
  macs: number;
  inputSize: number;
  /** Side of each attention map at the input size. */
  attentionSides: number[];
  /** Side of the attention-pooling head's map at the input size; null for an 'average-pool' head. */
  poolingSide: number | null;
}

/** Parameter count and multiply-adds per image, measured on the built network. */
export function describeModel(model: AplNet): ModelSummary {
  return {
    name: model.config.name,
    params: model.parameterCount(),
    macs: model.macsPerImage(),
    inputSize: model.config.inputSize,
    attentionSides: model.attentionSides(),
    poolingSide: model.poolingSide(),
  };
}

/** describeModel for a preset, building it briefly (the weights are freed again). */
export function describePreset(name: string, numClasses = 8): ModelSummary {
  const model = createModel(name, numClasses);
  try {
    return describeModel(model);
  } finally {
    model.dispose();
  }
}

// aplnet's tensor engine: the public surface of src/torch.
export { Tensor, isTensor, type Device, type MemoryFormat } from './tensor.js';
export { autocast, isAutocastEnabled, autocastDeviceOf, type AutocastDevice, type AutocastDtype } from './autocast.js';
export { DTYPES, isDType, itemSize, type DType, type TypedArrayFor } from './dtype.js';
export { tidy, keep, dispose } from './scope.js';
export { zeros, ones, full, randn, rand, randint, randperm, arange, fromTypedArray, tensor, type CreateOptions } from './creation.js';
export * as F from './functional.js';
export { cat, stack, where } from './functional.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd.js';
export { setNumThreads, getNumThreads, manualSeed, getCpuRngState, setCpuRngState, cudaIsAvailable, cudaDeviceCount, libtorchVersion, memoryInfo, resolveDevice } from './runtime.js';
export { Optimizer, type ParamGroup, type OptimizerState } from './optim/optimizer.js';
export { SGD, type SgdOptions } from './optim/sgd.js';
export { AdamW, type AdamWOptions } from './optim/adamw.js';
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors, SafetensorsError, CHECKSUM_KEY, type SafetensorsContent, type LoadSafetensorsOptions } from './safetensors.js';
export { DIHEDRAL_VIEWS, applyView, undoView, dihedralBatch, meanOfViewMaps, meanOfViewRows, type DihedralView } from './dihedral.js';
export {
  availableBackends,
  distributedBuildNote,
  initProcessGroup,
  destroyProcessGroup,
  isDistributedInitialized,
  getRank,
  getWorldSize,
  allReduce,
  broadcast,
  allGather,
  allGatherObject,
  barrier,
  allReduceSumWithGrad,
  distributedStore,
  GradientReducer,
  DEFAULT_PROCESS_GROUP_TIMEOUT_MS,
  type Backend,
  type ReduceOp,
  type ProcessGroupOptions,
} from './distributed.js';
export { worldFromEnv, freePort, TORCHRUN_VARIABLES, type WorldEnv } from './distributed-env.js';

// torch.nn for aplnet: modules, layers and initializations.
export { Module, type StateDict, type LoadStateDictResult, type ModuleLoadOptions } from './module.js';
export { Conv2d, Linear, BatchNorm2d, ReLU, Dropout, Sequential, type Conv2dOptions, type PaddingMode } from './layers.js';
export * as init from './init.js';

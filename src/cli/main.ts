#!/usr/bin/env node
// aplnet's command line: train, evaluate, predict, explain, serve.
import { Command } from 'commander';
import { registerDistill } from './commands/distill.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerExplain } from './commands/explain.js';
import { registerPredict } from './commands/predict.js';
import { registerServe } from './commands/serve.js';
import { registerTrain } from './commands/train.js';
import { registerTrainCase } from './commands/train-case.js';
import { registerTrainRelabeled } from './commands/train-relabeled.js';

const program = new Command();
program
  .name('aplnet')
  .description('Train, validate and explain ResNet + spatial-attention classifiers of smear images (research and decision support; not a diagnosis).')
  .showHelpAfterError('(run with --help for usage)');

registerTrain(program);
registerTrainCase(program);
registerTrainRelabeled(program);
registerDistill(program);
registerEvaluate(program);
registerPredict(program);
registerExplain(program);
registerServe(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`aplnet: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

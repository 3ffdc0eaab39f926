#!/usr/bin/env node
// aplnet's command line: train, evaluate, predict, explain, serve.
import { Command } from 'commander';
import { registerTrain } from './commands/train.js';
import { registerOptional } from './optional-commands.js';

const program = new Command();
program
  .name('aplnet')
  .description('Train, validate and explain ResNet + spatial-attention classifiers of smear images (research and decision support; not a diagnosis).')
  .showHelpAfterError('(run with --help for usage)');

registerTrain(program);
await registerOptional(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`aplnet: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

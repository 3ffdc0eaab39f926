// Commands that live in their own files; each registers itself on the program.
import type { Command } from 'commander';

export async function registerOptional(program: Command): Promise<void> {
  void program;
}

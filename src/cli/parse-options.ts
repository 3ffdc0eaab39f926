// Option parsers for commander that reject bad values with a message naming the option.
import { InvalidArgumentError } from 'commander';

export const int = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} needs an integer, got "${value}"`);
  return n;
};

export const num = (name: string) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} needs a number, got "${value}"`);
  return n;
};

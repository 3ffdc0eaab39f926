// Option parsers for commander that reject bad values with a message naming the option.
import { availableParallelism } from 'node:os';
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

/** A number, or the word auto (the value is then chosen by measuring the data). */
export const numberOrAuto = (name: string) => (value: string): number | 'auto' => {
  if (value.trim().toLowerCase() === 'auto') return 'auto';
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} needs a number or auto, got "${value}"`);
  return n;
};

/** A number in [0, 1] (an opacity, a quantile, a probability), refused at parse time with the option's name. */
export const unitInterval = (name: string) => (value: string): number => {
  const n = num(name)(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be in [0, 1], got ${n}`);
  return n;
};

/** An integer option within [min, max]; the message says the range and why it is what it is. */
export const intIn = (name: string, min: number, max: number, why = '') => (value: string): number => {
  const n = int(name)(value);
  if (n < min || n > max) throw new InvalidArgumentError(`${name} must be from ${min} to ${max}${why}, got ${n}`);
  return n;
};

/** A thread count this machine can use: 1 … its number of cores (more only oversubscribes it). */
export const threadCount = (name: string) => intIn(name, 1, availableParallelism(), " (this machine's cores)");

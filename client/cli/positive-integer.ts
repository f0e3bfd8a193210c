import { InvalidArgumentError } from 'commander';

/** Commander argument parser for counts such as `--limit 20`; anything else is a usage error naming the flag. */
export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return value;
}

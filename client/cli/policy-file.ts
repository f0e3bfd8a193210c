import { readFile } from 'node:fs/promises';
import { type ParsedPolicy, parsePolicy } from '../../domain/policy-parser.js';
import { InvalidInputError } from '../errors.js';

/** A valid policy with the file it came from and its text (for positions). */
export interface LoadedPolicy extends ParsedPolicy {
  file: string;
  text: string;
}

/** Reads a policy file. Throws `InvalidInputError` when it cannot be read, `PolicyError` when it is invalid. */
export async function loadPolicyFile(file: string): Promise<LoadedPolicy> {
  const text = await readPolicyText(file);
  return { ...parsePolicy(text, file), file, text };
}

/** The policy file's text. Throws `InvalidInputError` naming the file when it cannot be read. */
export async function readPolicyText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError('cannot read the policy file', [{ path: file, message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message }]);
  }
}

import type { Command } from 'commander';
import { z } from 'zod';
import { fieldErrors } from '../../domain/field-errors.js';
import { InvalidInputError } from '../errors.js';

/** Why `--as` is trusted, printed under the help of every command that acts on an escalation. */
export const operatorIdentityHelp = `
The acting identity is whatever --as says: the CLI is an operator tool and does not authenticate
anyone. Being able to run it against a namespace is the same as having access to that Temporal
namespace (which can signal and update any workflow directly). Reviewers decide through the HTTP
shim, which takes their identity from their bearer token; use --as to act on someone's behalf,
e.g. when they decided by phone, and the channel is recorded as "cli".`;

/** Adds the required `--as <person>` and the identity note to the command's help. */
export function withOperatorIdentity(command: Command, description: string): Command {
  return command.requiredOption('--as <person>', description).addHelpText('after', operatorIdentityHelp);
}

/**
 * Validates flags with a request-body schema; each problem names the flag (`--comment`), not the
 * body field. Throws `InvalidInputError`.
 */
export function parseFlags<T extends z.ZodType>(schema: T, input: unknown, flagOf: Record<string, string>): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new InvalidInputError('invalid input', fieldErrors(result.error).map(({ path, message }) => ({ path: flagOf[path] ?? path, message })));
  }
  return result.data;
}

/** `--as`: the person (or service) acting; the escalation checks whether they may. */
export const personIdSchema = z.string().trim().min(1, 'name the person acting').max(200);

import type { z } from 'zod';

/** One problem with one field of an input, with the field's dotted path (`change.sha`, `gates.build.chain[0]`). */
export interface FieldError {
  path: string;
  message: string;
}

/** Turns a zod error into field errors whose paths a person can find in their JSON or YAML. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path) || '(root)', message: issue.message }));
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

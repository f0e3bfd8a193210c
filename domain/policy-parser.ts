import { createHash } from 'node:crypto';
import { LineCounter, parseDocument } from 'yaml';
import { formatPath } from './field-errors.js';
import type { z } from 'zod';
import { type Policy, policySchema } from './policy.js';
import { PolicyError, type PolicyProblem } from './policy-error.js';

export interface ParsedPolicy {
  policy: Policy;
  /** `sha256:<hex>` of the file's bytes. */
  version: string;
}

/**
 * Parses and validates a policy's YAML text. Throws `PolicyError` naming `file`, the path inside
 * the document, its line and column, and the problem.
 */
export function parsePolicy(text: string, file: string): ParsedPolicy {
  const policy = parseYamlFile(policySchema, text, file);
  return { policy, version: `sha256:${createHash('sha256').update(text).digest('hex')}` };
}

/** A problem found beyond the schema, located like a schema issue. */
export interface YamlIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

/**
 * Parses YAML text and validates it with `schema` (policies, policy scenario files, team files),
 * then with `check` when the schema passes. Throws `PolicyError` (or what `error` makes) naming
 * `file`, the path inside the document, its line and column, and the problem.
 */
export function parseYamlFile<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  options: { check?: (value: z.output<S>) => YamlIssue[]; error?: (file: string, problems: PolicyProblem[]) => Error } = {},
): z.output<S> {
  const fail = (problems: PolicyProblem[]) => (options.error ? options.error(file, problems) : new PolicyError(file, problems));
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw fail(
      document.errors.map((error) => {
        const at = error.linePos?.[0];
        return { path: '(syntax)', message: error.message.split('\n')[0]!, ...(at ? { line: at.line, column: at.col } : {}) };
      }),
    );
  }
  let value: unknown;
  try {
    value = document.toJS();
  } catch (error) {
    // Aliases are resolved here, not while parsing: an alias to no anchor, or one that expands past
    // the alias limit (a "billion laughs"), throws a ReferenceError that is a problem of this file.
    throw fail([{ path: '(aliases)', message: (error as Error).message }]);
  }
  const located = (issue: YamlIssue): PolicyProblem => {
    const node = nearestNode(document, issue.path);
    const position = node?.range ? lineCounter.linePos(node.range[0]) : undefined;
    return { path: formatPath(issue.path) || '(root)', message: issue.message, ...(position ? { line: position.line, column: position.col } : {}) };
  };
  const result = schema.safeParse(value);
  if (!result.success) throw fail(result.error.issues.map(located));
  const issues = options.check?.(result.data) ?? [];
  if (issues.length) throw fail(issues.map(located));
  return result.data;
}

/** The node at `path`, or its closest existing ancestor (a missing key is reported where its parent is). */
function nearestNode(document: ReturnType<typeof parseDocument>, path: ReadonlyArray<PropertyKey>): { range?: [number, number, number] | null } | undefined {
  for (let length = path.length; length >= 0; length--) {
    const node = document.getIn(path.slice(0, length) as unknown[], true) as { range?: [number, number, number] | null } | undefined;
    if (node && typeof node === 'object' && 'range' in node) return node;
  }
  return undefined;
}

/** One problem in a policy file, located by the path inside the document and, when known, line and column. */
export interface PolicyProblem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** A policy file that cannot be used. `message` names the file, each path and each problem. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';

  constructor(
    readonly file: string,
    readonly problems: PolicyProblem[],
  ) {
    super(`invalid policy ${file}:\n${problems.map((p) => `  ${file}${p.line ? `:${p.line}:${p.column}` : ''} at ${p.path}: ${p.message}`).join('\n')}`);
  }
}

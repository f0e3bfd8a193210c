import type { PolicyProblem } from '../policy-error.js';

/** One problem in a team file: the path inside the document, where it is, and what is wrong. */
export type TeamFileProblem = PolicyProblem;

/** A team file `escalator simulate` cannot use. `message` names the file, each path and each problem. */
export class TeamFileError extends Error {
  override readonly name = 'TeamFileError';

  constructor(
    readonly file: string,
    readonly problems: TeamFileProblem[],
  ) {
    super(`invalid team file ${file}:\n${problems.map((p) => `  ${file}${p.line ? `:${p.line}:${p.column}` : ''} at ${p.path}: ${p.message}`).join('\n')}`);
  }
}

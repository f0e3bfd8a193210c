/**
 * What the `escalator` CLI's exit status means. Scripts branch on these, so they never change
 * meaning; a new kind of failure gets a new number.
 */
export const exitCodes = {
  ok: 0,
  /** The policy file is invalid, or `policy validate` found errors. */
  invalidPolicy: 1,
  /** A usage error or invalid input; the message names the flag or field. Nothing was changed. */
  usage: 2,
  /** No escalation has that id. */
  notFound: 3,
  /** The escalation refused the decision, withdrawal or break-glass; the refusal code is printed. */
  refused: 4,
  /** Temporal could not be reached (address, network, connect timeout). */
  unreachable: 5,
  /** `policy test`: a scenario did not behave as it expects. */
  scenarioFailed: 6,
  /** `raise --wait`: the escalation ended blocked (rejected, or exhausted with the block action); the pipeline must stop. */
  blocked: 7,
  /** `raise --wait`: the escalation ended with the change rolled back. */
  rolledBack: 8,
  /** `raise --wait`: the escalation was withdrawn (the change was reverted or the run abandoned). */
  withdrawn: 9,
  /** `raise --wait`: the wait's `--timeout` passed first; the escalation goes on, and a re-run attaches to it. */
  waitTimedOut: 10,
  /** `raise --wait`: the run closed without an outcome (an operator terminated or cancelled it in Temporal). */
  closedWithoutOutcome: 11,
  /** Anything else: a bug or an unexpected server answer. */
  internal: 70,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** The exit statuses as `--help` prints them. */
export const exitCodesHelp = `Exit status:
  0   ok
  1   invalid policy (policy validate found errors, or the policy given to policy explain is invalid)
  2   usage error or invalid input, with the flag or field named; nothing was changed
  3   no escalation with that id
  4   refused by the escalation (the refusal code is printed, e.g. NotAwaitedReviewer)
  5   cannot reach Temporal
  6   policy test: a scenario did not behave as it expects
  7   raise --wait: blocked (rejected, or exhausted with the block action)
  8   raise --wait: rolled back
  9   raise --wait: withdrawn
  10  raise --wait: --timeout passed before the outcome (the escalation goes on)
  11  raise --wait: the run was terminated or cancelled in Temporal, without an outcome
  70  internal error`;

/**
 * How `raise --wait` exits for each outcome: the pipeline goes on (0) when the gate passed, was
 * overridden or re-ran green; it stops with a code of its own for each other end.
 */
export function exitCodeOfOutcome(outcome: 'passed' | 'overridden' | 'recovered' | 'blocked' | 'rolled-back' | 'withdrawn'): ExitCode {
  switch (outcome) {
    case 'passed':
    case 'overridden':
    case 'recovered':
      return exitCodes.ok;
    case 'blocked':
      return exitCodes.blocked;
    case 'rolled-back':
      return exitCodes.rolledBack;
    case 'withdrawn':
      return exitCodes.withdrawn;
  }
}

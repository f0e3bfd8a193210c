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
  70  internal error`;

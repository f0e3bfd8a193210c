import type { EscalationView } from './escalation.js';
import type { GateFailureInput } from './gate-failure.js';

/**
 * The pipeline an escalation answers to, when a GitHub or GitLab event raised it: where its status
 * shows while it waits, and where its verdict goes when it ends. Set only by Escalator's own
 * webhook receivers (never from a caller's request body), since it says where the worker sends
 * its GitHub or GitLab credentials.
 */
export type PipelineLink =
  | {
      system: 'github';
      installationId: number;
      /** owner/name */
      repository: string;
      headSha: string;
      /** The check run Escalator keeps on the commit, e.g. `Escalator: security-scan`. */
      checkName: string;
      /** A custom deployment protection rule waiting for the verdict. */
      deployment?: { callbackUrl: string; environment: string };
    }
  | {
      system: 'gitlab';
      /** The project's id; its path is kept for people reading the escalation. */
      projectId: number;
      projectPath: string;
      sha: string;
      ref?: string;
      /** The commit status Escalator keeps on the commit, e.g. `escalator: security-scan`. */
      statusName: string;
      /** A deploy job waiting on a protected environment's approval. */
      deployment?: { environment: string; jobId: number };
    };

/** Where the escalation stands, as the pipeline shows it: a check run on GitHub, a commit status on GitLab. */
export interface PipelineStatus {
  /** `waiting` while it runs; how it ended otherwise. */
  state: 'waiting' | 'success' | 'failure' | 'cancelled';
  /** One line (a commit status description holds 140 characters on GitHub and 255 on GitLab). */
  title: string;
  /** Markdown: who is asked, until when, the decisions so far. */
  summary: string;
}

/** What the pipeline's waiting deployment is told when the escalation ends. */
export interface PipelineVerdict {
  state: 'approved' | 'rejected';
  /** Names who decided and why; shown beside the deployment on GitHub or GitLab. */
  comment: string;
}

/** The status for the view: the pipeline shows what the escalation waits for, and then how it ended. */
export function pipelineStatus(view: Pick<EscalationView, 'status' | 'awaitedReviewers' | 'deadline' | 'decisions' | 'outcome' | 'step' | 'stepCount' | 'failure'>): PipelineStatus {
  const gate = view.failure.gate.name;
  const decisions = view.decisions.map((d) => `- ${d.reviewer}: ${d.decision}${d.comment ? ` ("${d.comment}")` : ''} at ${d.at}`);
  const decided = decisions.length ? ['', '**Decisions**', ...decisions] : [];
  if (view.status !== 'ended' || !view.outcome) {
    const asked = view.awaitedReviewers.length ? view.awaitedReviewers.join(', ') : 'nobody yet';
    const step = view.step !== null && view.stepCount ? ` (step ${view.step + 1} of ${view.stepCount})` : '';
    const until = view.deadline ? `, until ${view.deadline}` : '';
    return {
      state: 'waiting',
      title: `Waiting for ${asked}${step}`,
      summary: [`Escalator escalates the failed gate **${gate}**: waiting for ${asked}${step}${until}.`, ...decided].join('\n'),
    };
  }
  const { outcome } = view.outcome;
  const state = outcome === 'withdrawn' ? 'cancelled' : verdictOf(outcome) === 'approved' ? 'success' : 'failure';
  return { state, title: `${capitalized(outcome)}: ${view.outcome.reason}`, summary: [`The escalation of **${gate}** ended **${outcome}**: ${view.outcome.reason}.`, ...decided].join('\n') };
}

/** The verdict once the escalation ended (null before): the gate may be passed, or it may not. */
export function pipelineVerdict(view: Pick<EscalationView, 'status' | 'outcome' | 'decisions'>): PipelineVerdict | null {
  if (view.status !== 'ended' || !view.outcome) return null;
  const state = verdictOf(view.outcome.outcome);
  const deciders = [...new Set(view.decisions.filter((d) => (state === 'approved' ? d.decision !== 'reject' : d.decision === 'reject')).map((d) => d.reviewer))];
  const by = deciders.length ? ` by ${deciders.join(', ')}` : '';
  const comments = view.decisions.filter((d) => d.comment).map((d) => `${d.reviewer}: "${d.comment}"`);
  return { state, comment: [`Escalator: ${view.outcome.outcome}${by}. ${view.outcome.reason}.`, ...comments].join(' ') };
}

/** Passed, overridden (break-glass included) and recovered let the pipeline go on; the rest stop it. */
function verdictOf(outcome: NonNullable<EscalationView['outcome']>['outcome']): PipelineVerdict['state'] {
  return outcome === 'passed' || outcome === 'overridden' || outcome === 'recovered' ? 'approved' : 'rejected';
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What one CI event means for Escalator: raise a gate failure, recover one, or nothing (and why). */
export type PipelineEventAction =
  | { kind: 'raise'; failure: GateFailureInput; pipeline?: PipelineLink }
  | { kind: 'recover'; escalationId: string; pipelineRunId: string }
  | { kind: 'ignore'; reason: string };

/**
 * Text as an idempotency key may hold it (letters, digits and `. _ : / @ -`): an environment named
 * "EU production" keys as `EU-production`.
 */
export function keyPart(text: string): string {
  return text.replace(/[^A-Za-z0-9._:/@-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 80) || 'x';
}

import type { SearchAttributeUpdatePair } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { ReviewerEmail } from '../activities/types.js';
import type { Effect, EngineEvent, Notification } from '../domain/engine/events.js';
import { step } from '../domain/engine/engine.js';
import { modeOf } from '../domain/engine/gate-mode.js';
import { asksForDecision } from '../domain/engine/notifications.js';
import type { EscalationState } from '../domain/engine/state.js';
import { awaitedReviewers, currentDetails, escalationView } from '../domain/engine/view.js';
import { pipelineStatus, pipelineVerdict } from '../domain/pipeline-link.js';
import {
  emailBatchOptions,
  emailOptions,
  emailReviewer,
  emailReviewers,
  failureMessage,
  deliverPipelineVerdict,
  openTicket,
  page,
  pageOptions,
  postSlack,
  recordEvents,
  pipelineStatusOptions,
  pipelineVerdictOptions,
  reportPipelineStatus,
  requestRollback,
  rollbackOptions,
  routeReviewers,
  sendWebhook,
  slackOptions,
  ticketOptions,
  updateSlack,
} from './activity-options.js';
import type { EscalationInput } from './input.js';
import { AwaitedReviewers, EscalationDepth, EscalationModel, EscalationState as StateAttribute, Outcome } from './search-attributes.js';

type Index = Extract<Effect, { kind: 'index' }>;

/**
 * Holds the engine's state and carries out its effects: activities (in the background, feeding
 * their results back as events), the timer's deadline, search attributes and the outcome store.
 */
export class EffectCarrier {
  state: EscalationState;
  /** Bumped whenever an event leaves something for the main loop (a message, a deadline, the end). */
  generation = 0;
  deadline: { at: number; summary: string } | null = null;
  private emails: Array<{ email: ReviewerEmail; summary: string }> = [];
  private unrecorded: number | null = null;
  private index: Index | null = null;
  private indexed: Partial<Index> = {};
  /** Side effects that must not hold the escalation but should finish before it completes. */
  private background: Promise<unknown>[] = [];
  /** The pipeline's status as last sent, the chain that sends them in order, and its check run. */
  private pipelineShown: string | null = null;
  private pipelineReports: Promise<void> = Promise.resolve();
  private checkRunId: number | undefined;
  private verdictSent = false;
  /** Decision requests being retried after their first attempt: cancelled when the escalation ends. */
  private readonly decisionRequests = new wf.CancellationScope();

  constructor(
    readonly input: EscalationInput,
    initial: EscalationState,
  ) {
    this.state = initial;
    this.unrecorded = 0;
  }

  dispatch(event: EngineEvent): void {
    const { state, effects } = step(this.state, event);
    this.state = state;
    for (const effect of effects) this.carry(effect);
    if (effects.some((effect) => effect.kind !== 'record')) this.generation++;
  }

  private carry(effect: Effect): void {
    const id = this.state.escalationId;
    const failure = this.state.failure;
    switch (effect.kind) {
      case 'notify':
        for (const n of effect.notifications) {
          if (n.channel === 'slack') this.postSlack(n);
          else this.emails.push({ email: emailOf(n, id, failure), summary: `email ${n.reviewer.id} (${n.purpose === 'decide' ? `step ${n.step + 1}` : n.purpose})` });
        }
        return;
      case 'route':
        this.inBackground(
          routeReviewers({ escalationId: id, failure: this.input.failure, plan: effect.plan, at: new Date().toISOString() }),
          (decision) => ({ kind: 'routing-answered', at: Date.now(), decision }),
          (error) => ({ kind: 'routing-failed', at: Date.now(), error }),
        );
        return;
      case 'page':
        if (effect.action === 'trigger') {
          const { incident } = effect;
          const reviewer = incident.awaited.join(',');
          const links = [{ href: failure.pipelineRun.url, text: `pipeline run ${failure.pipelineRun.id}` }, { href: failure.change.url, text: failure.change.title }];
          this.inBackground(
            page.executeWithOptions({ ...pageOptions, summary: 'page on-call (PagerDuty trigger)' }, [
              { action: 'trigger', incident: { escalationId: id, summary: incident.summary, severity: failure.severity, source: failure.service, component: failure.gate.name, group: failure.repository, class: failure.gate.kind, links, customDetails: { escalationId: id, awaited: incident.awaited, depth: incident.depth, stage: incident.stage } } },
            ]),
            () => ({ kind: 'notification-sent', at: Date.now(), reviewer, channel: 'pagerduty', messageId: id, step: incident.step }),
            (error) => ({ kind: 'notification-failed', at: Date.now(), reviewer, channel: 'pagerduty', error, step: incident.step }),
          );
        } else {
          this.background.push(page.executeWithOptions({ ...pageOptions, summary: `PagerDuty ${effect.action}` }, [{ action: effect.action, escalationId: id }]).catch(() => undefined));
        }
        return;
      case 'update-slack':
        this.background.push(
          updateSlack
            .executeWithOptions({ ...slackOptions, summary: `update slack for ${effect.reviewer}` }, [{ channel: effect.channel, ts: effect.ts, escalationId: id, status: effect.status, ...(effect.outcome ? { outcome: effect.outcome } : {}), failure }])
            .catch(() => undefined),
        );
        return;
      case 'roll-back':
        this.inBackground(
          requestRollback.executeWithOptions({ ...rollbackOptions, summary: `roll back ${failure.service} at ${effect.endpoint}` }, [{ escalationId: id, endpoint: effect.endpoint, idempotencyKey: effect.idempotencyKey, reason: effect.reason, failure }]),
          ({ status }) => ({ kind: 'rollback-done', at: Date.now(), endpoint: effect.endpoint, status }),
          (error) => ({ kind: 'rollback-failed', at: Date.now(), endpoint: effect.endpoint, error }),
        );
        return;
      case 'open-ticket': {
        const { ticket } = effect;
        this.inBackground(
          openTicket.executeWithOptions({ ...ticketOptions, summary: ticket.system === 'jira' ? 'open a Jira issue' : 'open a ServiceNow incident' }, [ticket]),
          (opened) => ({ kind: 'ticket-opened', at: Date.now(), ...opened }),
          (error) => ({ kind: 'ticket-failed', at: Date.now(), system: ticket.system, error }),
        );
        return;
      }
      case 'set-deadline':
        this.deadline = effect.at === null ? null : { at: effect.at, summary: effect.summary };
        return;
      case 'record':
        this.unrecorded = Math.min(this.unrecorded ?? effect.fromSeq, effect.fromSeq);
        return;
      case 'memo':
        wf.upsertMemo({ policyVersion: effect.policyVersion, policySource: effect.policySource, selectedBy: effect.selectedBy });
        return;
      case 'index':
        this.index = effect;
        return;
      case 'cancel-decision-requests':
        this.decisionRequests.cancel();
        return;
      case 'store-outcome':
        return; // stored by the workflow's end, with the timeline its last messages add
    }
  }

  /**
   * What the main loop does before it waits: the first attempt of the emails asked for (the retries
   * it leaves are scheduled before this resolves, so replay issues the same commands in the same
   * order however long the attempt took), new timeline entries to the store and webhooks, the search
   * attributes and the UI's details.
   */
  async carryOut({ store }: { store: boolean } = { store: true }): Promise<void> {
    await Promise.all([this.sendEmails(), this.flush(store)]);
    this.upsertIndex();
    this.reportToPipeline();
    wf.setCurrentDetails(currentDetails(this.state));
  }

  /**
   * For an escalation a GitHub or GitLab event raised: its status on the commit whenever what it
   * shows changes (in order, one at a time, never holding the escalation), and once ended the
   * verdict its waiting deployment needs. Runs without a pipeline issue no commands here.
   */
  private reportToPipeline(): void {
    const link = this.input.pipeline;
    // A shadow gate's failure is decided elsewhere: its run neither shows a status nor sends a verdict.
    if (!link || modeOf(this.state.plan) === 'shadow') return;
    const escalationId = this.state.escalationId;
    const view = escalationView(this.state, this.input.failure);
    const status = pipelineStatus(view);
    const shown = JSON.stringify(status);
    if (shown !== this.pipelineShown) {
      this.pipelineShown = shown;
      this.pipelineReports = this.pipelineReports.then(() =>
        reportPipelineStatus
          .executeWithOptions({ ...pipelineStatusOptions, summary: `${link.system} status: ${status.state}` }, [{ escalationId, link, status, ...(this.checkRunId ? { checkRunId: this.checkRunId } : {}) }])
          .then(
            ({ checkRunId }) => void (this.checkRunId = checkRunId ?? this.checkRunId),
            () => undefined, // best effort: the next status, or the verdict, says the rest
          ),
      );
      this.background.push(this.pipelineReports);
    }
    const verdict = pipelineVerdict(view);
    if (verdict && link.deployment && !this.verdictSent) {
      this.verdictSent = true;
      this.background.push(
        deliverPipelineVerdict.executeWithOptions({ ...pipelineVerdictOptions, summary: `${link.system} deployment ${verdict.state}` }, [{ escalationId, link, verdict }]).catch(() => undefined),
      );
    }
  }

  /** Waits until nothing runs in the background any more (results may start more: Slack's final word). */
  async settle(): Promise<void> {
    while (this.background.length) await Promise.all(this.background.splice(0));
  }

  private async sendEmails(): Promise<void> {
    const emails = this.emails.splice(0);
    if (!emails.length) return;
    // Asking someone to decide is moot once the escalation ended: those retries can be cancelled then.
    const cancellable = emails.every(({ email }) => asksForDecision(email.purpose));
    const summary = emails.length === 1 ? emails[0]!.summary : `email ${emails.map(({ email }) => email.reviewer.id).join(', ')}`;
    let results: Awaited<ReturnType<typeof emailReviewers>> | undefined;
    try {
      results = await emailReviewers.executeWithOptions({ ...emailBatchOptions, summary }, [emails.map(({ email }) => email)]);
    } catch {
      results = undefined; // the batch as a whole failed (timed out on a hanging relay): every email is retried
    }
    emails.forEach(({ email, summary: one }, i) => {
      const result = results?.[i];
      if (result?.sent) this.dispatch(sent(email));
      else if (result?.final) this.dispatch(notSent(email, result.error ?? 'refused'));
      else {
        const retry = () => emailReviewer.executeWithOptions({ ...emailOptions, summary: one }, [email]);
        this.inBackground(cancellable ? this.decisionRequests.run(retry) : retry(), () => sent(email), (error) => notSent(email, error));
      }
    });
  }

  private async flush(store: boolean): Promise<void> {
    const s = this.state;
    const fromSeq = this.unrecorded;
    if (fromSeq === null || fromSeq >= s.timeline.length) return;
    const entries = s.timeline.slice(fromSeq);
    this.unrecorded = null;
    // Subscribers may act on an outcome: a shadow run, which decides nothing, tells them nothing.
    if (s.reachable.webhook && modeOf(s.plan) !== 'shadow') {
      const ended = entries.some((e) => e.event === 'ended');
      const data = { status: s.status, awaitedReviewers: awaitedReviewers(s), depth: s.depth, outcome: s.outcome, entries };
      this.background.push(sendWebhook({ id: `${s.escalationId}:${fromSeq}`, type: ended ? 'escalation.ended' : 'escalation.updated', escalationId: s.escalationId, occurredAt: entries.at(-1)!.at, data }).catch(() => undefined));
    }
    if (!store) return;
    const { failure } = s;
    // Not retried here: the outcome, recorded at the end, carries the whole timeline and the store adds what is missing then.
    await recordEvents({ escalationId: s.escalationId, gate: failure.gate.name, service: failure.service, repository: failure.repository, severity: failure.severity, model: s.plan?.model ?? 'unknown', startedAt: s.startedAt, policyVersion: s.policyVersion, fromSeq, entries, decisions: s.decisions }).catch(() => undefined);
  }

  /** Upserts the search attributes that changed since the last upsert: one command, not one per event. */
  private upsertIndex(): void {
    const next = this.index;
    if (!next) return;
    this.index = null;
    const last = this.indexed;
    const updates: SearchAttributeUpdatePair[] = [];
    if (next.status !== last.status) updates.push({ key: StateAttribute, value: next.status });
    if (next.depth !== last.depth) updates.push({ key: EscalationDepth, value: next.depth });
    if (next.awaited.join('\n') !== last.awaited?.join('\n')) updates.push({ key: AwaitedReviewers, value: next.awaited });
    if (next.model !== null && next.model !== last.model) updates.push({ key: EscalationModel, value: next.model });
    if (next.outcome !== null && next.outcome !== last.outcome) updates.push({ key: Outcome, value: next.outcome });
    this.indexed = next;
    if (updates.length) wf.upsertSearchAttributes(updates);
  }

  private postSlack(n: Notification): void {
    const id = this.state.escalationId;
    const args = { dedupeKey: n.messageId, channel: n.slackUser!, escalationId: id, purpose: n.purpose, model: n.model, reviewer: n.reviewer, failure: this.state.failure, deadline: n.deadline, alsoAsked: n.alsoAsked, primary: n.primary, stepLabel: n.stepLabel, decisionUrl: `escalation ${id}`, ...(n.pilot ? { pilot: n.pilot } : {}) };
    this.inBackground(
      postSlack.executeWithOptions({ ...slackOptions, summary: `slack ${n.reviewer.id} (${n.stepLabel})` }, [args]),
      ({ channel, ts }) => ({ kind: 'slack-posted', at: Date.now(), reviewer: n.reviewer.id, channel, ts, step: n.step }),
      (error) => ({ kind: 'notification-failed', at: Date.now(), reviewer: n.reviewer.id, channel: 'slack', error, step: n.step }),
    );
  }

  /** Runs an activity without holding the escalation; its result comes back as an event. */
  private inBackground<T>(running: Promise<T>, done: (result: T) => EngineEvent, failed: (error: string) => EngineEvent): void {
    this.background.push(
      running.then(
        (result) => this.dispatch(done(result)),
        (error: unknown) => this.dispatch(failed(wf.isCancellation(error) ? 'cancelled: the escalation ended before the email was confirmed sent' : failureMessage(error))),
      ),
    );
  }
}

function emailOf(n: Notification, escalationId: string, failure: EscalationState['failure']): ReviewerEmail {
  const { messageId, purpose, reviewer, model, step, stepCount, stage, deadline, alsoAsked, heldBack, primary, override, rollback, pilot } = n;
  return { escalationId, messageId, purpose, reviewer, model, step, stepCount, stage, deadline, alsoAsked, heldBack, primary, ...(override ? { override } : {}), ...(rollback ? { rollback } : {}), ...(pilot ? { pilot } : {}), failure };
}

function sent(email: ReviewerEmail): EngineEvent {
  return { kind: 'notification-sent', at: Date.now(), reviewer: email.reviewer.id, channel: 'email', messageId: email.messageId, step: email.step };
}

function notSent(email: ReviewerEmail, error: string): EngineEvent {
  return { kind: 'notification-failed', at: Date.now(), reviewer: email.reviewer.id, channel: 'email', error, step: email.step };
}

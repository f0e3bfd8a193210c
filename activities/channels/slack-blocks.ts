import type { OutcomeKind } from '../../domain/escalation.js';
import { pilotBanner } from '../../domain/engine/gate-mode.js';
import type { FailureSummary } from '../../domain/engine/state.js';
import { decisionActionIds, decisionButtonValue } from '../../adapters/slack-interaction.js';
import type { SlackDecisionRequest, SlackMessageUpdate } from './types.js';

// Block Kit shapes and limits follow docs.slack.dev/reference/block-kit: header text ≤ 150 chars,
// section text ≤ 3000, at most 10 section fields of ≤ 2000 each, button text ≤ 75, button `value`
// ≤ 2000, `action_id` ≤ 255; `style` is `primary` or `danger` (omitted for the default look).

/** The `metadata.event_type` of every decision request Escalator posts; retries look for it. */
export const decisionRequestEventType = 'escalator_decision_request';


export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

export interface Mrkdwn {
  type: 'mrkdwn';
  text: string;
}

export interface ButtonElement {
  type: 'button';
  text: PlainText;
  action_id: string;
  value: string;
  style?: 'primary' | 'danger';
}

export type Block =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text?: Mrkdwn; fields?: Mrkdwn[] }
  | { type: 'actions'; block_id: string; elements: ButtonElement[] }
  | { type: 'context'; elements: Mrkdwn[] };

/** A message's `text` (the notification and screen-reader fallback) and its `blocks`. */
export interface SlackMessageContent {
  text: string;
  blocks: Block[];
}



/**
 * The decision request: what failed, where the reviewer stands, the deadline, who else is asked,
 * and the Approve / Reject / Acknowledge buttons. A break-glass review carries only Acknowledge:
 * the gate was already overridden, there is nothing left to approve or reject.
 */
export function decisionRequestMessage(request: SlackDecisionRequest): SlackMessageContent {
  const { failure } = request;
  const fields = [
    ...failureFields(failure),
    field('Deadline', request.deadline ? slackDate(request.deadline) : 'none'),
    field('Also asked', request.alsoAsked.length ? request.alsoAsked.map(escapeText).join(', ') : 'nobody else'),
  ];
  if (request.model === 'parallel') {
    fields.push(field('Primary', request.primary === null ? 'none' : request.primary === request.reviewer.id ? 'you' : escapeText(request.primary)));
  }
  const buttons = request.purpose === 'review-override' ? [acknowledgeButton(request.escalationId)] : decisionButtons(request.escalationId);
  return {
    text: fallbackOf(request),
    blocks: [
      header(`${purposePrefix(request.purpose)}${failure.gate.name} failed on ${failure.service}`),
      ...(request.pilot ? [{ type: 'context', elements: [mrkdwn(`:test_tube: ${pilotBanner}`)] } satisfies Block] : []),
      { type: 'section', text: mrkdwn(askOf(request)), fields },
      { type: 'actions', block_id: 'escalator_decision', elements: buttons },
      { type: 'context', elements: [mrkdwn(`Escalation ${link(request.decisionUrl, request.escalationId)}`)] },
    ],
  };
}

/** The same message once the request is settled: the buttons give way to the state. */
export function statusMessage(update: SlackMessageUpdate): SlackMessageContent {
  const { failure } = update;
  const ended = update.outcome ? `ended: ${update.outcome}` : 'still open';
  return {
    text: escapeText(`[Escalator] ${failure.gate.name} on ${failure.service}: ${update.status}`),
    blocks: [
      header(`${failure.gate.name} failed on ${failure.service}`),
      { type: 'section', fields: failureFields(failure) },
      { type: 'section', text: mrkdwn(`${outcomeIcon(update.outcome)} *${escapeText(truncate(update.status, 2900))}*`) },
      { type: 'context', elements: [mrkdwn(`Escalation ${escapeText(update.escalationId)} · ${ended}`)] },
    ],
  };
}

function decisionButtons(escalationId: string): ButtonElement[] {
  const value = decisionButtonValue(escalationId);
  return [
    { type: 'button', text: plain('Approve'), style: 'primary', action_id: decisionActionIds.approve, value },
    { type: 'button', text: plain('Reject'), style: 'danger', action_id: decisionActionIds.reject, value },
    acknowledgeButton(escalationId),
  ];
}

function acknowledgeButton(escalationId: string): ButtonElement {
  return { type: 'button', text: plain('Acknowledge'), action_id: decisionActionIds.acknowledge, value: decisionButtonValue(escalationId) };
}

function failureFields(failure: FailureSummary): Mrkdwn[] {
  const flags = `${failure.hotfix ? ', hotfix' : ''}${failure.rollback ? ', rollback' : ''}`;
  return [
    field('Gate', escapeText(`${failure.gate.name} (${failure.gate.kind})`)),
    field('Service', escapeText(failure.service)),
    field('Severity', `${failure.severity}${flags}`),
    field('Repository', escapeText(failure.repository)),
    field('Change', `${link(failure.change.url, failure.change.title)} (\`${failure.change.sha.slice(0, 12)}\`) by ${escapeText(failure.change.author)}`),
    field('Pipeline', link(failure.pipelineRun.url, failure.pipelineRun.id)),
  ];
}

function askOf(request: SlackDecisionRequest): string {
  const name = `*${escapeText(request.reviewer.name)}*`;
  const where = escapeText(request.stepLabel);
  if (request.purpose === 'review-override') return `${name}, this gate was overridden with break-glass; please review the override (${where}).`;
  const reminder = request.purpose === 'reminder' ? 'Reminder: ' : '';
  if (request.model === 'parallel') return `${reminder}${name}, your vote is needed (${where}).`;
  return `${reminder}${name}, your decision is needed (${where}).`;
}

function fallbackOf(request: SlackDecisionRequest): string {
  const { failure } = request;
  const what = `${failure.severity}: ${failure.gate.name} failed on ${failure.service}`;
  const ask = request.purpose === 'review-override' ? 'override to review' : request.model === 'parallel' ? 'your vote' : 'your decision';
  const deadline = request.deadline && request.purpose !== 'review-override' ? `, before ${request.deadline}` : '';
  const pilot = request.pilot ? `${pilotBanner} ` : '';
  return escapeText(`[Escalator] ${pilot}${purposePrefix(request.purpose)}${what} — ${ask} (${request.stepLabel})${deadline}. ${request.decisionUrl}`);
}

function purposePrefix(purpose: SlackDecisionRequest['purpose']): string {
  if (purpose === 'reminder') return 'Reminder: ';
  if (purpose === 'review-override') return 'Override to review: ';
  return '';
}

function outcomeIcon(outcome: OutcomeKind | undefined): string {
  if (outcome === undefined) return ':information_source:';
  if (outcome === 'passed' || outcome === 'overridden' || outcome === 'recovered') return ':white_check_mark:';
  if (outcome === 'withdrawn') return ':leftwards_arrow_with_hook:';
  return ':no_entry:';
}

function header(text: string): Block {
  return { type: 'header', text: plain(truncate(text, 150)) };
}

function plain(text: string): PlainText {
  return { type: 'plain_text', text };
}

function mrkdwn(text: string): Mrkdwn {
  return { type: 'mrkdwn', text };
}

function field(label: string, value: string): Mrkdwn {
  return mrkdwn(truncate(`*${label}*\n${value}`, 2000));
}

/** Slack's date token: shown in each reader's own time zone, the ISO text where it cannot be. */
function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeText(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${escapeText(iso)}>`;
}

/** `<url|label>`; the characters that would end the link early are encoded. */
function link(url: string, label: string): string {
  const safeUrl = escapeText(url).replace(/\|/g, '%7C');
  return `<${safeUrl}|${escapeText(label).replace(/\|/g, '¦')}>`;
}

/** The three characters Slack's mrkdwn requires as entities (docs: "Escaping text"). */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

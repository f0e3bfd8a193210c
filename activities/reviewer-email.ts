import { ApplicationFailure } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import { actionUrl, createActionToken } from '../domain/action-tokens.js';
import { pilotBanner } from '../domain/engine/gate-mode.js';
import type { ReviewerEmail } from './types.js';

export interface EmailSettings {
  from: string;
  /** Base URL of the HTTP shim, for the links in each email. */
  publicUrl: string;
  /** Signs one-click approve/reject links; without it emails carry no action links. */
  actionSecret?: string;
  actionLinkTtlMs?: number;
}

/**
 * Sends the decision request to one reviewer. The Message-ID comes from the workflow, so a retried
 * attempt sends the same message again, recognisable as a duplicate by any mail client.
 */
export function createReviewerEmailer(transport: Transporter, settings: EmailSettings) {
  return async function emailReviewer(email: ReviewerEmail): Promise<{ messageId: string }> {
    const { failure } = email;
    const statusUrl = `${settings.publicUrl.replace(/\/$/, '')}/v1/escalations/${encodeURIComponent(email.escalationId)}`;
    const subject = subjectOf(email);
    const links = await actionLinksFor(email, settings);
    const text = [
      ...(email.pilot ? [pilotBanner, ''] : []),
      ...introOf(email),
      `${failure.gate.name} (${failure.gate.kind}) failed on ${failure.service} in ${failure.repository}.`,
      '',
      `Change: ${failure.change.title} (${failure.change.sha.slice(0, 12)}) by ${failure.change.author}`,
      `Change link: ${failure.change.url}`,
      `Pipeline run ${failure.pipelineRun.id}: ${failure.pipelineRun.url}`,
      `Severity: ${failure.severity}${failure.hotfix ? ', hotfix' : ''}${failure.rollback ? ', rollback' : ''}`,
      '',
      ...askOf(email),
      '',
      ...links.map(({ decision, url }) => `${decision === 'approve' ? 'Approve' : 'Reject'} (opens a confirmation page): ${url}`),
      ...(links.length ? [''] : []),
      `Escalation ${email.escalationId}: ${statusUrl}`,
      `Decide: POST ${statusUrl}/decisions with {"decision":"approve"} or {"decision":"reject","comment":"…"} and your token.`,
    ].join('\n');
    try {
      await transport.sendMail({
        from: settings.from,
        to: { name: email.reviewer.name, address: email.reviewer.email },
        subject,
        text,
        html: htmlOf(text, links),
        messageId: email.messageId,
        headers: { 'X-Escalation-Id': email.escalationId },
      });
    } catch (error) {
      const responseCode = (error as { responseCode?: number }).responseCode;
      // 550/553 and friends: the address itself is refused, a retry cannot help.
      if (responseCode !== undefined && responseCode >= 550 && responseCode <= 553) {
        throw ApplicationFailure.nonRetryable(`SMTP refused ${email.reviewer.email}: ${(error as Error).message}`, 'InvalidRecipient');
      }
      // Named, so an operator looking at the retrying activity sees whose email is stuck and why.
      throw ApplicationFailure.retryable(`email to ${email.reviewer.email} failed: ${(error as Error).message}`, 'EmailUnavailable');
    }
    return { messageId: email.messageId };
  };
}

/** The same message as HTML: escaped text, with links clickable and the decision links as buttons. */
function htmlOf(text: string, links: Array<{ decision: 'approve' | 'reject'; url: string }>): string {
  const escape = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const linkUrls = new Set(links.map((link) => link.url));
  const paragraphs = text
    .split('\n')
    .filter((line) => ![...linkUrls].some((url) => line.endsWith(url)))
    .map((line) => (line ? `<p>${escape(line).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`)}</p>` : ''));
  const buttons = links.map(
    ({ decision, url }) => `<a href="${escape(url)}" style="display:inline-block;padding:8px 16px;margin-right:8px;border-radius:4px;color:#fff;text-decoration:none;background:${decision === 'approve' ? '#1a7f37' : '#cf222e'}">${decision === 'approve' ? 'Approve' : 'Reject'}</a>`,
  );
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif">${paragraphs.join('')}${buttons.length ? `<p>${buttons.join('')}</p><p style="color:#57606a">Each button opens a confirmation page; nothing is decided until you confirm there.</p>` : ''}</body></html>`;
}

/** Signed, expiring, single-use links bound to this reviewer, escalation, step and decision. */
async function actionLinksFor(email: ReviewerEmail, settings: EmailSettings): Promise<Array<{ decision: 'approve' | 'reject'; url: string }>> {
  if (!settings.actionSecret || !asksForDecision(email)) return [];
  const ttlSeconds = Math.floor((settings.actionLinkTtlMs ?? 24 * 3_600_000) / 1000);
  return Promise.all(
    (['approve', 'reject'] as const).map(async (decision) => ({
      decision,
      url: actionUrl(settings.publicUrl, await createActionToken(settings.actionSecret!, { reviewer: email.reviewer.id, escalationId: email.escalationId, step: email.step, decision }, { ttlSeconds })),
    })),
  );
}

function subjectOf(email: ReviewerEmail): string {
  const { failure } = email;
  const what = `${failure.severity}: ${failure.gate.name} failed on ${failure.service}`;
  if (email.purpose === 'review-override') return `[Escalator] break-glass override to review — ${what}`;
  if (email.purpose === 'rollback-failed') return `[Escalator] ROLLBACK FAILED, roll back ${failure.service} by hand — ${what}`;
  const reminder = email.purpose === 'reminder' ? 'reminder: ' : '';
  if (email.model === 'parallel') return `[Escalator] ${reminder}${what} — your vote${email.primary === email.reviewer.id ? ' (you are primary)' : ''}`;
  return `[Escalator] ${reminder}${what} — your decision (step ${email.step + 1} of ${email.stepCount})`;
}

/** Decision requests and reminders carry approve/reject links; the other emails ask for something else. */
function asksForDecision(email: ReviewerEmail): boolean {
  return email.purpose === 'decide' || email.purpose === 'reminder';
}

function introOf(email: ReviewerEmail): string[] {
  if (email.purpose === 'rollback-failed' && email.rollback) {
    return [
      `The escalation ran out (${email.rollback.reason}) and the automatic rollback failed after its retries:`,
      `POST ${email.rollback.endpoint} — ${email.rollback.error}.`,
      'The gate stays blocked. Please roll the change back by hand; the escalation is flagged for postmortem.',
      '',
    ];
  }
  if (email.purpose !== 'review-override' || !email.override) return [];
  return [`${email.override.by} broke the glass and overrode this gate: "${email.override.justification}".`, 'Please review the override; it is flagged for postmortem.', ''];
}

function askOf(email: ReviewerEmail): string[] {
  if (!asksForDecision(email)) return [];
  const deadline = email.deadline ? ` Decide before ${email.deadline}.` : '';
  const held = email.heldBack?.length ? [`Held back by quiet hours (asked when they end, if still awaited): ${email.heldBack.map((h) => `${h.reviewer} at ${h.until}`).join(', ')}.`] : [];
  if (email.model === 'parallel') {
    const primary = email.primary === email.reviewer.id ? 'You are the primary reviewer: please act first.' : `The primary reviewer is ${email.primary}; do not wait for them.`;
    return [`You are asked to vote (approve or reject) together with: ${email.alsoAsked.join(', ') || 'nobody else'}.${deadline}`, ...held, primary];
  }
  return [
    `You are asked ${stageText(email.stage)} at step ${email.step + 1} of ${email.stepCount}.${deadline} After that the step is handed on.`,
    email.alsoAsked.length ? `Also asked: ${email.alsoAsked.join(', ')}.` : 'Nobody else is asked at this step.',
    ...held,
  ];
}

function stageText(stage: ReviewerEmail['stage']): string {
  if (stage.kind === 'backup') return 'as backup';
  if (stage.kind === 'tier') return `as escalation tier "${stage.tier}"`;
  return 'as reviewer';
}

import { z } from 'zod';
import type { DecisionKind, RefusalCode } from '../../domain/escalation.js';
import { refusalStatus } from './refusal-status.js';
import { escapeHtml, htmlPage, pageHeaders } from './html-text.js';

/** What the pages show about an escalation; an `EscalationView` fits as it is. */
export interface ActionSubject {
  escalationId: string;
  failure: {
    gate: { name: string; kind: string };
    service: string;
    severity: string;
    change: { title: string; url: string; author: string };
  };
}

/** An `ActionSubject` after the decision: an `EscalationView` fits as it is. */
export interface ActionResultSubject extends ActionSubject {
  status: string;
  awaitedReviewers: readonly string[];
  outcome: { outcome: string; reason: string } | null;
}

/** Why an action link did nothing; `refused` is the escalation's own refusal of the decision. */
export type ActionRefusal =
  | { reason: 'expired' }
  | { reason: 'replayed' }
  | { reason: 'tampered' }
  | { reason: 'malformed' }
  | { reason: 'foreign'; why: string }
  | { reason: 'not-found' }
  | { reason: 'refused'; code: RefusalCode; message: string };

/** A page and the HTTP status to answer it with. */
export interface ActionPage {
  status: number;
  html: string;
}

/**
 * Headers for every action page. The token is in the URL, so no Referer may carry it away and no
 * cache may keep it; the pages need no script, and their form posts back to their own origin.
 */
export const actionPageHeaders: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  ...pageHeaders,
};

/**
 * The form the confirmation page posts (application/x-www-form-urlencoded). A blank comment is no
 * comment; whether one is required is for the escalation to say (it refuses with `CommentRequired`).
 */
export const actionFormSchema = z.object({
  comment: z
    .string()
    .trim()
    .max(4000)
    .optional()
    .transform((comment) => (comment ? comment : undefined)),
});

const decisionVerb: Record<DecisionKind, string> = { approve: 'Approve', reject: 'Reject', override: 'Override' };
const decisionPast: Record<DecisionKind, string> = { approve: 'approved', reject: 'rejected', override: 'overrode' };


/**
 * The page a GET of an action link answers: what is being decided and a form that POSTs the
 * decision back to the same URL. Building it changes nothing, because mail scanners and link
 * previews follow links. `commentRequired` makes the comment field required; by default it is for a
 * rejection or an override, which a policy with `requireComment: on-reject` refuses without one.
 */
export function confirmationPage(input: { subject: ActionSubject; reviewer: string; decision: DecisionKind; commentRequired?: boolean }): ActionPage {
  const { subject, reviewer, decision } = input;
  const commentRequired = input.commentRequired ?? decision !== 'approve';
  const verb = decisionVerb[decision];
  const body = `
<h1>${escapeHtml(verb)} the failed gate?</h1>
${subjectTable(subject)}
<p>You are deciding as <strong>${escapeHtml(reviewer)}</strong>. Nothing has been recorded yet.</p>
<form method="post">
  <label for="comment">Comment${commentRequired ? ' (required)' : ' (optional)'}</label>
  <textarea id="comment" name="comment" rows="4" maxlength="4000"${commentRequired ? ' required' : ''}></textarea>
  <button type="submit" class="${escapeHtml(decision)}">${escapeHtml(verb)}</button>
</form>`;
  // No `action` attribute: the form posts to the URL the page came from, whatever host the reviewer used.
  return { status: 200, html: layout(`${verb}: ${subject.failure.gate.name} on ${subject.failure.service}`, body) };
}

/** The page answering a POST the escalation accepted, with where the escalation stands now. */
export function resultPage(input: { subject: ActionResultSubject; reviewer: string; decision: DecisionKind }): ActionPage {
  const { subject, reviewer, decision } = input;
  const body = `
<h1>Decision recorded</h1>
<p><strong>${escapeHtml(reviewer)}</strong> ${escapeHtml(decisionPast[decision])} the failed gate.</p>
${subjectTable(subject)}
<p>${escapeHtml(standing(subject))}</p>
<p>This link has now been used and will not work again.</p>`;
  return { status: 200, html: layout('Decision recorded', body) };
}

/** The page for an action link that did nothing, with the status to answer it with. */
export function refusalPage(refusal: ActionRefusal): ActionPage {
  const { status, title, explanation } = refusalText(refusal);
  const code = refusal.reason === 'refused' ? `<p class="code">${escapeHtml(refusal.code)}</p>` : '';
  const body = `
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(explanation)}</p>
${code}
<p>Nothing was recorded. You can still decide from a newer email or with the Escalator CLI or API.</p>`;
  return { status, html: layout(title, body) };
}

function refusalText(refusal: ActionRefusal): { status: number; title: string; explanation: string } {
  switch (refusal.reason) {
    case 'expired':
      return { status: 410, title: 'This link has expired', explanation: 'Action links work for a limited time only.' };
    case 'replayed':
      return { status: 409, title: 'This link has already been used', explanation: 'Each action link works once. If you did not use it, tell the owners of the escalation.' };
    case 'tampered':
    case 'malformed':
      return { status: 400, title: 'This link is not valid', explanation: 'It may have been cut off or changed. Copy the whole link from the email.' };
    case 'foreign':
      return { status: 403, title: 'This link no longer applies', explanation: `${capitalised(refusal.why)}.` };
    case 'not-found':
      return { status: 404, title: 'Escalation not found', explanation: 'The escalation this link belongs to is no longer known.' };
    case 'refused':
      return { status: refusalStatus[refusal.code], title: 'The escalation refused this decision', explanation: refusal.message };
  }
}

function standing(subject: ActionResultSubject): string {
  if (subject.outcome) return `The escalation has ended: ${subject.outcome.outcome} (${subject.outcome.reason}).`;
  if (subject.awaitedReviewers.length) return `The escalation is now waiting on ${subject.awaitedReviewers.join(', ')}.`;
  return `The escalation is ${subject.status}.`;
}

function subjectTable(subject: ActionSubject): string {
  const { gate, service, severity, change } = subject.failure;
  const title = isWebUrl(change.url) ? `<a href="${escapeHtml(change.url)}" rel="noreferrer noopener">${escapeHtml(change.title)}</a>` : escapeHtml(change.title);
  return `
<table>
  <tr><th>Gate</th><td>${escapeHtml(gate.name)} (${escapeHtml(gate.kind)})</td></tr>
  <tr><th>Service</th><td>${escapeHtml(service)}</td></tr>
  <tr><th>Severity</th><td>${escapeHtml(severity)}</td></tr>
  <tr><th>Change</th><td>${title}</td></tr>
  <tr><th>Author</th><td>${escapeHtml(change.author)}</td></tr>
  <tr><th>Escalation</th><td><code>${escapeHtml(subject.escalationId)}</code></td></tr>
</table>`;
}

// A change URL is only checked to parse; `javascript:` and the like must not become a link.
function isWebUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/** A whole page around `body`, in the look of every email link's page; `title` is plain text. */
export function layout(title: string, body: string): string {
  return htmlPage(title, actionPageStyle, body);
}

const actionPageStyle = `  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; padding: 2rem 1rem; color: #1f2328; }
  main { max-width: 40rem; margin: 0 auto; }
  th { text-align: left; padding-right: 1rem; vertical-align: top; }
  label, textarea, button { display: block; margin-top: .75rem; }
  textarea { width: 100%; box-sizing: border-box; }
  button { font-size: 1rem; padding: .5rem 1.25rem; }
  .reject { background: #cf222e; color: #fff; }
  .approve { background: #1f883d; color: #fff; }
  .code { font-family: monospace; color: #57606a; }`;


function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

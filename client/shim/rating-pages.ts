import { type ActionPage, layout } from './action-pages.js';
import { escapeHtml } from './html-text.js';

/** What the rating pages show about the ended escalation; undefined when the store no longer knows it. */
export interface RatingSubject {
  escalationId: string;
  gate: string;
  service: string;
  outcome: string | null;
  reason: string | null;
}

/** Why a rating link recorded nothing. */
export type RatingRefusal = 'expired' | 'already-rated' | 'tampered' | 'malformed' | 'not-asked' | 'form';

/**
 * The page a GET of a rating link answers: the rating the link stands for and a form that POSTs it,
 * with an optional comment, back to the same URL. Building it records nothing (mail scanners follow links).
 */
export function ratingConfirmationPage(input: { subject: RatingSubject | undefined; escalationId: string; rater: string; rating: number }): ActionPage {
  const { rater, rating } = input;
  const body = `
<h1>Rate this escalation: ${rating}/5</h1>
${subjectTable(input.subject, input.escalationId)}
<p>You are rating as <strong>${escapeHtml(rater)}</strong>. Nothing has been recorded yet; to give another rating, use its link in the email instead.</p>
<form method="post">
  <label for="comment">Comment (optional): what worked, what did not</label>
  <textarea id="comment" name="comment" rows="4" maxlength="4000"></textarea>
  <button type="submit">Submit ${rating}/5</button>
</form>`;
  return { status: 200, html: layout(`Rate this escalation: ${rating}/5`, body) };
}

/** The page answering a POST that recorded the rating. */
export function ratingRecordedPage(input: { subject: RatingSubject | undefined; escalationId: string; rater: string; rating: number; comment: string | undefined }): ActionPage {
  const body = `
<h1>Thank you: ${input.rating}/5 recorded</h1>
${subjectTable(input.subject, input.escalationId)}
<p><strong>${escapeHtml(input.rater)}</strong> rated this escalation ${input.rating}/5${input.comment ? ', with a comment' : ''}.</p>
<p>You have now rated this escalation: none of the links in the email will work again.</p>`;
  return { status: 200, html: layout('Rating recorded', body) };
}

/** The page for a rating link that recorded nothing, with the same statuses as the action links' refusals. */
export function ratingRefusalPage(refusal: RatingRefusal): ActionPage {
  const { status, title, explanation } = refusalText(refusal);
  const body = `
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(explanation)}</p>
<p>Nothing was recorded.</p>`;
  return { status, html: layout(title, body) };
}

function refusalText(refusal: RatingRefusal): { status: number; title: string; explanation: string } {
  switch (refusal) {
    case 'expired':
      return { status: 410, title: 'This link has expired', explanation: 'Rating links work for 7 days after the escalation ended.' };
    case 'already-rated':
      return { status: 409, title: 'You have already rated this escalation', explanation: 'Each person rates an escalation once, with any one of the links in the email.' };
    case 'tampered':
    case 'malformed':
      return { status: 400, title: 'This link is not valid', explanation: 'It may have been cut off or changed. Copy the whole link from the email.' };
    case 'form':
      return { status: 400, title: 'The form was not understood', explanation: 'Open the link from the email again.' };
    case 'not-asked':
      return { status: 404, title: 'No rating was asked for', explanation: 'This link belongs to a rating request the outcome store does not know.' };
  }
}

function subjectTable(subject: RatingSubject | undefined, escalationId: string): string {
  const rows = subject
    ? `
  <tr><th>Gate</th><td>${escapeHtml(subject.gate)}</td></tr>
  <tr><th>Service</th><td>${escapeHtml(subject.service)}</td></tr>
  <tr><th>Ended</th><td>${escapeHtml(subject.outcome ? `${subject.outcome}${subject.reason ? ` (${subject.reason})` : ''}` : 'not yet')}</td></tr>`
    : '';
  return `
<table>${rows}
  <tr><th>Escalation</th><td><code>${escapeHtml(escalationId)}</code></td></tr>
</table>`;
}

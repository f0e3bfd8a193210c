import { log } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { OutcomeStore } from '../adapters/outcome-store/store.js';
import type { EscalationOutcome } from '../domain/escalation.js';
import type { Policy } from '../domain/policy.js';
import { createRatingToken, ratingScale, ratingUrl } from '../domain/rating-tokens.js';
import { personOfAuthor } from '../domain/rule-conditions.js';
import type { EmailSettings } from './reviewer-email.js';

export interface RatingRequestDependencies {
  mail: Transporter;
  email: EmailSettings;
  store: Pick<OutcomeStore, 'changeAuthor' | 'askForRatings'>;
  /** The policy as it stands now: who the author is, and everyone's address. */
  policy: () => Policy;
}

// The outcome is recorded by a local activity with a 30 s budget: the emails get a part of it, and
// what is still being sent after that goes on without being waited for.
const sendingBudgetMs = 10_000;

const ratingWords: Record<number, string> = { 1: 'poorly', 2: 'not well', 3: 'acceptably', 4: 'well', 5: 'very well' };

/**
 * Asks the change's author and everyone who decided to rate an ended escalation, once each: the
 * store marks who was asked, so a repeated call (the outcome recorded again) asks nobody twice.
 * Never throws: a store or mail failure is logged, and a person whose email failed has lost their
 * chance to rate (they stay counted as asked). Without the action secret, or for a shadow run that
 * involved nobody, nobody is asked.
 */
export function createRatingRequester(deps: RatingRequestDependencies) {
  return async function requestRatings(outcome: EscalationOutcome): Promise<void> {
    const secret = deps.email.actionSecret;
    if (!secret || outcome.mode === 'shadow') return;
    let asked: string[];
    let policy: Policy;
    try {
      policy = deps.policy();
      const raters = await ratersOf(outcome, policy, deps.store);
      asked = raters.length ? await deps.store.askForRatings(outcome.escalationId, raters, new Date().toISOString()) : [];
    } catch (error) {
      log.warn('rating requests not sent: the outcome store failed', { escalationId: outcome.escalationId, error: String(error) });
      return;
    }
    const sending = Promise.all(
      asked.map(async (rater) => {
        try {
          await sendRatingRequest(deps, secret, outcome, rater, policy.people[rater]!);
          log.info('rating requested', { escalationId: outcome.escalationId, rater });
        } catch (error) {
          log.warn('rating request email failed; this rating is lost', { escalationId: outcome.escalationId, rater, error: String(error) });
        }
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, sendingBudgetMs, 'late')));
    const finished = await Promise.race([sending.then(() => 'sent' as const), late]);
    clearTimeout(timer);
    if (finished === 'late') log.warn('rating request emails still sending; not waiting for them', { escalationId: outcome.escalationId, raters: asked });
  };
}

/** The author (when the policy knows them) and every decider, each once, who have an address in the policy. */
async function ratersOf(outcome: EscalationOutcome, policy: Policy, store: RatingRequestDependencies['store']): Promise<string[]> {
  const author = await store.changeAuthor(outcome.escalationId);
  const authorId = author === undefined ? undefined : personOfAuthor(policy, author);
  const candidates = [...(authorId ? [authorId] : []), ...outcome.decisions.map((decision) => decision.reviewer)];
  return [...new Set(candidates)].filter((id) => policy.people[id] !== undefined);
}

async function sendRatingRequest(deps: RatingRequestDependencies, secret: string, outcome: EscalationOutcome, rater: string, person: Policy['people'][string]): Promise<void> {
  const { publicUrl, from } = deps.email;
  const links = await Promise.all(
    ratingScale.map(async (rating) => ({ rating, url: ratingUrl(publicUrl, await createRatingToken(secret, { escalationId: outcome.escalationId, rater, rating })) })),
  );
  const statusUrl = `${publicUrl.replace(/\/$/, '')}/v1/escalations/${encodeURIComponent(outcome.escalationId)}`;
  const intro = [`The escalation of ${outcome.gate} on ${outcome.service} has ended: ${outcome.outcome} (${outcome.reason}).`, 'How well did it work for you? Pick a rating from 1 (poorly) to 5 (very well):'];
  const outro = [
    'Each link opens a page where you confirm your rating and can add a comment; nothing is recorded before that.',
    'You can rate once, within 7 days.',
    '',
    `Escalation ${outcome.escalationId}: ${statusUrl}`,
  ];
  const text = [...intro, '', ...links.map(({ rating, url }) => `${rating} (${ratingWords[rating]}): ${url}`), '', ...outro].join('\n');
  await deps.mail.sendMail({
    from,
    to: { name: person.name ?? rater, address: person.email },
    subject: `[Escalator] How did it go? Rate the escalation of ${outcome.gate} on ${outcome.service}`,
    text,
    html: htmlOf(intro, links, outro),
    // Stable per person and escalation: were it ever sent twice, mail clients would show it once.
    messageId: `<${outcome.escalationId}.rating.${rater}@escalator>`,
    headers: { 'X-Escalation-Id': outcome.escalationId },
  });
}

/** The same message as HTML: escaped text, with the five rating links as buttons between its two parts. */
function htmlOf(intro: readonly string[], links: ReadonlyArray<{ rating: number; url: string }>, outro: readonly string[]): string {
  const escape = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const paragraphs = (lines: readonly string[]) => lines.map((line) => (line ? `<p>${escape(line).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`)}</p>` : '')).join('');
  const buttons = links.map(
    ({ rating, url }) => `<a href="${escape(url)}" title="${escape(ratingWords[rating]!)}" style="display:inline-block;padding:8px 16px;margin-right:8px;border-radius:4px;color:#fff;text-decoration:none;background:#0969da">${rating}</a>`,
  );
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif">${paragraphs(intro)}<p>${buttons.join('')}</p>${paragraphs(outro)}</body></html>`;
}

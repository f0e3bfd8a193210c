import type { OutcomeStore } from '../../adapters/outcome-store/store.js';
import { type RatingClaims, verifyRatingToken } from '../../domain/rating-tokens.js';
import { type ActionPage, actionFormSchema } from './action-pages.js';
import { sendActionPage } from './action-routes.js';
import { actionTokenSchema } from './action-token-format.js';
import { ratingConfirmationPage, ratingRecordedPage, ratingRefusalPage, type RatingSubject } from './rating-pages.js';
import { defineRoute, type AnswerSpec, type ShimRoute } from './routes.js';

export interface RatingLinkOptions {
  /** The secret the worker signs rating links with: the email action links' own. */
  secret: string;
  /** Who was asked and who rated (the single-use ledger), and what the pages say about the escalation. */
  store: Pick<OutcomeStore, 'ratingRequest' | 'recordRating' | 'escalation'>;
}

/**
 * Rating links, sent once an escalation ended to its change author and its deciders: `GET
 * /v1/ratings/:token` shows the rating the link stands for and changes nothing (mail scanners follow
 * links); `POST` from that page records it, with an optional comment, once per person. The token is
 * the credential, as for the action links, and both answer a page whatever happens.
 */
export const ratingRoutes: readonly ShimRoute[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/ratings/:token',
    operationId: 'ratingConfirmation',
    tag: 'Service',
    summary: 'Rating link: confirmation page',
    description:
      'The link in the email asking the change author and the deciders of an ended escalation for a 1–5 rating. Shows the rating and a form with an optional comment; changes nothing (mail scanners follow links). The signed, expiring token is the credential: no bearer token. Expired (410), already rated (409), tampered or malformed (400) and unknown (404) requests get a page saying which.',
    access: 'public',
    answers: {
      200: page('Confirmation page.'),
      400: page('The link is tampered with or malformed, or rating links are not configured on this shim (page).'),
      404: page('Nobody asked this person to rate this escalation (page).'),
      409: page('This person has rated this escalation already (page).'),
      410: page('The link has expired (page).'),
    },
    refusals: { 500: ['Internal'] },
    handler: async ({ request, reply }, { options }) => sendActionPage(reply, await ratingConfirmation(options.ratings, tokenOf(request.params))),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/ratings/:token',
    operationId: 'ratingRecord',
    tag: 'Service',
    summary: 'Rating link: record the rating',
    description:
      "Posted by the confirmation page (form field `comment`, optional). Records the token's rating as its rater's, once: after that every rating link of theirs for the escalation answers 409 with a page.",
    access: 'public',
    // A form it does not understand is answered with a page, not the JSON 400.
    body: { schema: actionFormSchema, required: false, form: true, parse: false },
    answers: {
      200: page('Recorded; thank-you page.'),
      400: page('Tampered or malformed link, or a form that is not understood (page).'),
      404: page('Nobody asked this person to rate this escalation (page).'),
      409: page('This person has rated this escalation already (page).'),
      410: page('The link has expired (page).'),
    },
    refusals: { 500: ['Internal'] },
    handler: async ({ request, reply, body }, { options }) => sendActionPage(reply, await ratingRecord(options.ratings, tokenOf(request.params), body)),
  }),
];

async function ratingConfirmation(options: RatingLinkOptions | undefined, token: string): Promise<ActionPage> {
  const checked = await checkedToken(options, token);
  if ('page' in checked) return checked.page;
  const { claims, store } = checked;
  const request = await store.ratingRequest(claims.escalationId, claims.rater);
  if (!request) return ratingRefusalPage('not-asked');
  if (request.rating !== null) return ratingRefusalPage('already-rated');
  return ratingConfirmationPage({ subject: await subjectOf(store, claims.escalationId), escalationId: claims.escalationId, rater: claims.rater, rating: claims.rating });
}

async function ratingRecord(options: RatingLinkOptions | undefined, token: string, body: unknown): Promise<ActionPage> {
  const checked = await checkedToken(options, token);
  if ('page' in checked) return checked.page;
  const { claims, store } = checked;
  // No body is an empty form; a JSON `null` is not a form at all.
  const form = actionFormSchema.safeParse(body === undefined ? {} : body);
  if (!form.success) return ratingRefusalPage('form');
  const { comment } = form.data;
  const result = await store.recordRating({ escalationId: claims.escalationId, rater: claims.rater, rating: claims.rating, comment: comment ?? null, at: new Date().toISOString() });
  if (result !== 'recorded') return ratingRefusalPage(result);
  return ratingRecordedPage({ subject: await subjectOf(store, claims.escalationId), escalationId: claims.escalationId, rater: claims.rater, rating: claims.rating, comment });
}

async function checkedToken(options: RatingLinkOptions | undefined, token: string): Promise<{ claims: RatingClaims; store: RatingLinkOptions['store'] } | { page: ActionPage }> {
  // Without a secret no email carries rating links, and no link can be checked: every one is refused.
  if (!options) return { page: ratingRefusalPage('malformed') };
  // Rating and action tokens are JWS of the same shape (their headers differ only in a six-letter word).
  if (!actionTokenSchema.safeParse(token).success) return { page: ratingRefusalPage('malformed') };
  const verified = await verifyRatingToken(options.secret, token);
  if (!verified.ok) return { page: ratingRefusalPage(verified.reason) };
  return { claims: verified.claims, store: options.store };
}

async function subjectOf(store: RatingLinkOptions['store'], escalationId: string): Promise<RatingSubject | undefined> {
  const record = await store.escalation(escalationId);
  return record && { escalationId, gate: record.gate, service: record.service, outcome: record.outcome, reason: record.reason };
}

/** An answer that is an HTML page, also when it refuses. */
function page(description: string): AnswerSpec {
  return { description, schema: { mediaType: 'text/html', schema: { type: 'string' } } };
}

function tokenOf(params: unknown): string {
  return (params as { token: string }).token;
}

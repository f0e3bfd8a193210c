import { escapeHtml } from '../html-text.js';
import { layout } from './layout.js';

/** A page answered instead of the dashboard, and its status. */
export interface DashboardPage {
  status: number;
  html: string;
}

/** Why the dashboard or a dashboard link did not open. */
export type DashboardRefusalReason =
  | { reason: 'no-credential' }
  | { reason: 'session-ended' }
  | { reason: 'unknown-token'; message: string }
  | { reason: 'missing-scope'; identity: string }
  | { reason: 'identity-provider-unavailable' }
  | { reason: 'link-expired' }
  | { reason: 'link-invalid' }
  | { reason: 'link-foreign' }
  | { reason: 'links-disabled' }
  | { reason: 'not-configured' }
  | { reason: 'invalid-query'; problems: string[] };

const howToSignIn = `<h2>How to get access</h2>
<p>Ask someone who runs Escalator for a link: <code>escalator dashboard --as &lt;you&gt; --url &lt;this shim's address&gt;</code>, run where <code>ESCALATOR_ACTION_SECRET</code> is set, prints one. Open it in this browser: it signs you in here for 12 hours.</p>
<p>Scripts send <code>Authorization: Bearer &lt;token&gt;</code> with a token that has the <code>read</code> (or <code>admin</code>) scope.</p>`;

/** The page for each refusal, saying what happened and how to get in. */
export function dashboardRefusal(refusal: DashboardRefusalReason): DashboardPage {
  const [status, title, explanation, signIn] = refusalText(refusal);
  const problems = refusal.reason === 'invalid-query' ? `<ul>${refusal.problems.map((problem) => `<li>${escapeHtml(problem)}</li>`).join('')}</ul>` : '';
  const body = `
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(explanation)}</p>
${problems}
${signIn ? howToSignIn : ''}
${refusal.reason === 'invalid-query' ? '<p><a href="/dashboard">Open the dashboard with the default selection</a></p>' : ''}`;
  return { status, html: layout(title, body) };
}

function refusalText(refusal: DashboardRefusalReason): [status: number, title: string, explanation: string, signIn: boolean] {
  switch (refusal.reason) {
    case 'no-credential':
      return [401, 'Sign in to read the dashboard', 'The dashboard shows who was asked and how escalations ended, so it needs a credential: a signed link, or a bearer token.', true];
    case 'session-ended':
      return [401, 'Your dashboard session has ended', 'Sessions last 12 hours from the link that started them.', true];
    case 'unknown-token':
      return [401, 'The bearer token was refused', refusal.message, true];
    case 'missing-scope':
      return [403, 'This token cannot read the dashboard', `The token of ${refusal.identity} has neither the read nor the admin scope.`, true];
    case 'identity-provider-unavailable':
      return [503, 'The identity provider does not answer', "The SSO provider's keys could not be fetched to check the token. Try again shortly.", false];
    case 'link-expired':
      return [410, 'This dashboard link has expired', 'Dashboard links work for a limited time only.', true];
    case 'link-invalid':
      return [400, 'This dashboard link is not valid', 'It was cut off, changed, or signed with another secret.', true];
    case 'link-foreign':
      return [403, 'This is not a dashboard link', 'The token was made for something else, such as an email action link; it cannot open the dashboard.', true];
    case 'links-disabled':
      return [404, 'Dashboard links are not enabled', 'This shim has no ESCALATOR_ACTION_SECRET, so it cannot check a link. A bearer token with the read scope still opens the dashboard.', false];
    case 'not-configured':
      return [404, 'No metrics on this shim', 'This shim was started without the metrics report, so it has no dashboard to show.', false];
    case 'invalid-query':
      return [400, 'The dashboard cannot show this selection', 'Change the window, the grouping or the gate:', false];
  }
}

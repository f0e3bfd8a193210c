import { createHash } from 'node:crypto';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { TicketOpened, TicketRequest } from '../../domain/engine/tickets.js';
import { ticketHttp } from './ticket-http.js';

export interface JiraSettings {
  /** The site, e.g. https://acme.atlassian.net. */
  baseUrl: string;
  /** The Atlassian account's email and an API token: basic auth, as Atlassian Cloud documents it. */
  email: string;
  apiToken: string;
  timeoutMs?: number;
}

/** An Atlassian Document Format node, as far as a ticket uses it. */
export interface AdfNode {
  type: string;
  text?: string;
  attrs?: Record<string, unknown>;
  marks?: Array<{ type: string; attrs?: Record<string, unknown> }>;
  content?: AdfNode[];
}

/**
 * The label that marks an escalation's issue: Jira labels take no spaces and escalation ids may be
 * 211 characters, so a hash of the id. The issue is found by it before one is created.
 */
export function escalationLabel(escalationId: string): string {
  return `escalator-${createHash('sha256').update(escalationId).digest('hex').slice(0, 24)}`;
}

/**
 * Opens the Jira issue of an escalation (REST API v3). Once per escalation across activity retries:
 * an issue carrying the escalation's label is looked for first (`GET /rest/api/3/search/jql`), and
 * only created (`POST /rest/api/3/issue`) when there is none. Jira's search is eventually consistent:
 * a retry seconds after a create whose answer was lost may not see it yet, which is why the
 * activity's first retry waits a few seconds. When the outcome left nothing to do and the policy
 * names a `doneTransition`, that transition is applied; one Jira does not offer from the issue's
 * status, or refuses, is logged and leaves the issue open rather than failing the ticket.
 */
export function createJiraTickets(settings: JiraSettings) {
  const call = ticketHttp({ system: 'Jira', baseUrl: settings.baseUrl, user: settings.email, secret: settings.apiToken, ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}) });
  const site = settings.baseUrl.replace(/\/$/, '');

  async function findIssue(project: string, label: string): Promise<{ key: string; done: boolean } | undefined> {
    const query = new URLSearchParams({ jql: `project = "${project}" AND labels = "${label}"`, fields: 'status', maxResults: '1' });
    const found = await call<{ issues?: Array<{ key: string; fields?: { status?: { statusCategory?: { key?: string } } } }> }>('GET', `/rest/api/3/search/jql?${query}`);
    const issue = found?.issues?.[0];
    return issue && { key: issue.key, done: issue.fields?.status?.statusCategory?.key === 'done' };
  }

  async function transition(key: string, name: string): Promise<string | null> {
    const path = `/rest/api/3/issue/${encodeURIComponent(key)}/transitions`;
    const offered = await call<{ transitions?: Array<{ id: string; name: string; to?: { name?: string } }> }>('GET', path);
    const wanted = name.toLowerCase();
    const match = offered?.transitions?.find((t) => t.name.toLowerCase() === wanted || t.to?.name?.toLowerCase() === wanted);
    if (!match) {
      log.warn('Jira offers no such transition; the issue stays open', { key, transition: name, offered: offered?.transitions?.map((t) => t.name) ?? [] });
      return null;
    }
    try {
      await call('POST', path, { transition: { id: match.id } });
    } catch (error) {
      if (!(error instanceof ApplicationFailure) || error.type !== 'TicketRefused') throw error;
      log.warn('Jira refused the transition; the issue stays open', { key, transition: match.name, error: error.message });
      return null;
    }
    return match.name;
  }

  return {
    async openIssue(request: TicketRequest, escalationUrl: string): Promise<TicketOpened> {
      const jira = request.jira;
      if (!jira) throw ApplicationFailure.nonRetryable(`the ticket for ${request.escalationId} has no Jira settings`, 'TicketRefused');
      const label = escalationLabel(request.escalationId);
      const existing = await findIssue(jira.project, label);
      let key = existing?.key;
      if (!key) {
        const fields = {
          project: { key: jira.project },
          issuetype: { name: jira.issueType },
          summary: request.title.slice(0, 255),
          labels: [...new Set([...jira.labels, label])],
          description: issueDocument(request, escalationUrl),
        };
        key = (await call<{ key: string }>('POST', '/rest/api/3/issue', { fields })).key;
      }
      const closing = request.resolved && jira.doneTransition;
      const applied = !closing ? null : existing?.done ? jira.doneTransition : await transition(key, jira.doneTransition!);
      return { system: 'jira', key, url: `${site}/browse/${encodeURIComponent(key)}`, transition: applied };
    },
  };
}

/** The issue's description in Atlassian Document Format: the text, the links, then the timeline. */
export function issueDocument(request: TicketRequest, escalationUrl: string): AdfNode & { version: 1 } {
  const text = (value: string): AdfNode => ({ type: 'text', text: value });
  const paragraph = (...content: AdfNode[]): AdfNode => ({ type: 'paragraph', content });
  const heading = (value: string): AdfNode => ({ type: 'heading', attrs: { level: 3 }, content: [text(value)] });
  const bullets = (items: AdfNode[]): AdfNode => ({ type: 'bulletList', content: items.map((item) => ({ type: 'listItem', content: [paragraph(item)] })) });
  const link = (label: string, href: string): AdfNode => ({ type: 'text', text: label, marks: [{ type: 'link', attrs: { href } }] });
  // ADF refuses empty text nodes and empty lists.
  const lines = (values: string[]) => values.filter((value) => value.trim() !== '');
  const timeline = lines(request.timeline);
  return {
    version: 1,
    type: 'doc',
    content: [
      ...lines(request.description).map((line) => paragraph(text(line))),
      heading('Links'),
      bullets([...request.links.map((l) => link(l.text, l.href)), link(`escalation ${request.escalationId}`, escalationUrl)]),
      ...(timeline.length ? [heading('Timeline'), bullets(timeline.map(text))] : []),
    ],
  };
}

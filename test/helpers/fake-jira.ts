import { type Answer, startTicketFakeServer, type TicketSystemRequest } from './ticket-fake-server.js';

/** An issue as the fake keeps it. */
export interface FakeJiraIssue {
  id: string;
  key: string;
  project: string;
  issueType: string;
  summary: string;
  labels: string[];
  description: AdfLike;
  status: string;
  /** Names of the transitions applied, in order. */
  transitions: string[];
}

type AdfLike = { type?: unknown; version?: unknown; content?: unknown; text?: unknown; attrs?: unknown; marks?: unknown };

/**
 * Jira Cloud's REST API v3 on loopback, as far as Escalator uses it: issue create, the JQL search
 * (`/rest/api/3/search/jql`; the removed `/rest/api/3/search` answers 410), and an issue's
 * transitions. Basic auth with the account's email and API token. Bodies are checked as Jira checks
 * them (project, issue type, summary, labels, an Atlassian Document Format description) and refused
 * with Jira's 400 shape `{ errorMessages, errors }`.
 */
export interface FakeJira {
  url: string;
  email: string;
  apiToken: string;
  requests: TicketSystemRequest[];
  issues: FakeJiraIssue[];
  issuesLabelled(label: string): FakeJiraIssue[];
  failNext: Awaited<ReturnType<typeof startTicketFakeServer>>['failNext'];
  close(): Promise<void>;
}

const statuses: Record<string, string> = { 'To Do': 'new', 'In Progress': 'indeterminate', Done: 'done' };
const workflow = [
  { id: '11', name: 'Start Progress', to: 'In Progress' },
  { id: '21', name: 'Done', to: 'Done' },
  { id: '31', name: 'Reopen', to: 'To Do' },
];
const settableFields = ['project', 'issuetype', 'summary', 'labels', 'description', 'priority'];

export async function startFakeJira(options: { projects?: Record<string, string[]> } = {}): Promise<FakeJira> {
  const projects = options.projects ?? { OPS: ['Task', 'Incident', 'Bug'] };
  const email = 'escalator@example.com';
  const apiToken = 'jira-api-token-0123456789';
  const issues: FakeJiraIssue[] = [];
  const refused = (errors: Record<string, string>, errorMessages: string[] = []): Answer => ({ status: 400, body: { errorMessages, errors } });
  const notFound: Answer = { status: 404, body: { errorMessages: ['The issue does not exist, or you may not see it.'], errors: {} } };
  let base = '';

  const view = (issue: FakeJiraIssue, fields: string[]) => ({
    id: issue.id,
    key: issue.key,
    self: `${base}/rest/api/3/issue/${issue.id}`,
    fields: Object.fromEntries(
      fields.flatMap((field): Array<[string, unknown]> => {
        if (field === 'status') return [['status', { name: issue.status, statusCategory: { key: statuses[issue.status] } }]];
        if (field === 'summary') return [['summary', issue.summary]];
        if (field === 'labels') return [['labels', issue.labels]];
        return [];
      }),
    ),
  });

  function search(query: URLSearchParams): Answer {
    const jql = query.get('jql')?.trim();
    if (!jql) return refused({}, ['The JQL query is unbounded: give it at least one search restriction.']);
    const clauses = jql.split(/\s+AND\s+/i).map((clause) => /^(project|labels|key)\s*=\s*(?:"([^"]*)"|(\S+))$/i.exec(clause.trim()));
    if (clauses.some((clause) => clause === null)) return refused({}, [`Error in the JQL query: this fake understands "field = value" clauses on project, labels and key joined by AND, not: ${jql}`]);
    const matches = issues.filter((issue) =>
      clauses.every((clause) => {
        const value = clause![2] ?? clause![3]!;
        const field = clause![1]!.toLowerCase();
        return field === 'project' ? issue.project === value : field === 'key' ? issue.key === value : issue.labels.includes(value);
      }),
    );
    const maxResults = Number(query.get('maxResults') ?? 50);
    const fields = (query.get('fields') ?? '').split(',').filter(Boolean);
    return { status: 200, body: { issues: matches.slice(0, maxResults).map((issue) => view(issue, fields)), isLast: matches.length <= maxResults } };
  }

  function create(body: unknown): Answer {
    const fields = (body as { fields?: Record<string, unknown> } | undefined)?.fields;
    if (!fields || typeof fields !== 'object') return refused({}, ['The request must carry "fields".']);
    const errors: Record<string, string> = {};
    for (const name of Object.keys(fields)) if (!settableFields.includes(name)) errors[name] = `Field '${name}' cannot be set: it is unknown or not on the create screen.`;
    const projectKey = (fields.project as { key?: unknown } | undefined)?.key;
    const types = typeof projectKey === 'string' ? projects[projectKey] : undefined;
    if (!types) errors.project = 'A valid project is required.';
    const issueType = (fields.issuetype as { name?: unknown } | undefined)?.name;
    if (types && (typeof issueType !== 'string' || !types.includes(issueType))) errors.issuetype = 'Specify a valid issue type.';
    const { summary, labels, description } = fields;
    if (typeof summary !== 'string' || summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
    else if (summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    else if (/[\r\n]/.test(summary)) errors.summary = 'Field summary can not contain new line characters.';
    if (labels !== undefined && !(Array.isArray(labels) && labels.every((label) => typeof label === 'string' && /^\S{1,255}$/.test(label)))) errors.labels = 'A label cannot contain spaces and must be at most 255 characters.';
    const adfProblem = description === undefined ? undefined : problemOfDocument(description);
    if (adfProblem) errors.description = `The value must be an Atlassian Document Format document: ${adfProblem}.`;
    if (Object.keys(errors).length) return refused(errors);
    const number = issues.filter((issue) => issue.project === projectKey).length + 1;
    const issue: FakeJiraIssue = {
      id: String(10_000 + issues.length),
      key: `${projectKey as string}-${number}`,
      project: projectKey as string,
      issueType: issueType as string,
      summary: summary as string,
      labels: (labels as string[] | undefined) ?? [],
      description: description as AdfLike,
      status: 'To Do',
      transitions: [],
    };
    issues.push(issue);
    return { status: 201, body: { id: issue.id, key: issue.key, self: `${base}/rest/api/3/issue/${issue.id}` } };
  }

  function transitions(method: string, issue: FakeJiraIssue, body: unknown): Answer {
    const offered = workflow.filter((t) => t.to !== issue.status);
    if (method === 'GET') {
      return { status: 200, body: { transitions: offered.map((t) => ({ id: t.id, name: t.name, to: { name: t.to, statusCategory: { key: statuses[t.to] } }, isAvailable: true })) } };
    }
    const id = (body as { transition?: { id?: unknown } } | undefined)?.transition?.id;
    const chosen = offered.find((t) => t.id === id);
    if (!chosen) return refused({}, [`Transition id '${String(id)}' is not valid for this issue.`]);
    issue.status = chosen.to;
    issue.transitions.push(chosen.name);
    return { status: 204 };
  }

  const server = await startTicketFakeServer({
    user: email,
    secret: apiToken,
    unauthenticated: { status: 401, body: { errorMessages: ['You are not authenticated: basic auth with an email and API token is required.'], errors: {} } },
    badJson: { status: 400, body: { errorMessages: ['The request body is not valid JSON.'], errors: {} } },
    route(method, path, query, body) {
      if (path === '/rest/api/3/search') return { status: 410, body: { errorMessages: ['This API has been removed: use /rest/api/3/search/jql.'], errors: {} } };
      if (path === '/rest/api/3/search/jql' && method === 'GET') return search(query);
      if (path === '/rest/api/3/issue' && method === 'POST') return create(body);
      const transition = /^\/rest\/api\/3\/issue\/([^/]+)\/transitions$/.exec(path);
      if (transition && (method === 'GET' || method === 'POST')) {
        const issue = issues.find((i) => i.key === decodeURIComponent(transition[1]!) || i.id === transition[1]);
        return issue ? transitions(method, issue, body) : notFound;
      }
      return { status: 404, body: { errorMessages: [`No resource at ${method} ${path}.`], errors: {} } };
    },
  });
  base = server.url;
  return {
    url: server.url,
    email,
    apiToken,
    requests: server.requests,
    issues,
    issuesLabelled: (label) => issues.filter((issue) => issue.labels.includes(label)),
    failNext: server.failNext,
    close: server.close,
  };
}

const inlineTypes = ['text', 'hardBreak'];
const blockTypes = ['paragraph', 'heading', 'bulletList', 'orderedList', 'codeBlock', 'rule'];
const markTypes = ['strong', 'em', 'code', 'strike', 'underline', 'link'];

/** Why a value is not an ADF document Jira takes, or undefined. Covers the nodes a ticket uses. */
function problemOfDocument(doc: unknown): string | undefined {
  const root = doc as AdfLike;
  if (typeof doc !== 'object' || doc === null || root.type !== 'doc' || root.version !== 1) return 'the root must be { type: "doc", version: 1, content: [...] }';
  if (!Array.isArray(root.content)) return 'the document has no content array';
  for (const node of root.content) {
    const problem = problemOfNode(node as AdfLike, blockTypes);
    if (problem) return problem;
  }
  return undefined;
}

function problemOfNode(node: AdfLike, allowed: string[]): string | undefined {
  if (typeof node !== 'object' || node === null || typeof node.type !== 'string') return 'a node without a type';
  if (!allowed.includes(node.type)) return `a ${String(node.type)} node cannot stand here`;
  const extra = Object.keys(node).filter((key) => !['type', 'content', 'attrs', 'marks', 'text'].includes(key));
  if (extra.length) return `a ${node.type} node has unknown keys ${extra.join(', ')}`;
  const content = (node.content ?? []) as AdfLike[];
  if (!Array.isArray(content)) return `a ${node.type} node's content is not an array`;
  switch (node.type) {
    case 'text': {
      if (typeof node.text !== 'string' || node.text === '') return 'a text node must have non-empty text';
      const marks = (node.marks ?? []) as Array<{ type?: unknown; attrs?: { href?: unknown } }>;
      if (!Array.isArray(marks) || marks.some((mark) => !markTypes.includes(mark.type as string))) return 'a text node has an unknown mark';
      if (marks.some((mark) => mark.type === 'link' && typeof mark.attrs?.href !== 'string')) return 'a link mark needs attrs.href';
      return undefined;
    }
    case 'heading': {
      const level = (node.attrs as { level?: unknown } | undefined)?.level;
      if (typeof level !== 'number' || level < 1 || level > 6) return 'a heading needs attrs.level from 1 to 6';
      return first(content, inlineTypes);
    }
    case 'paragraph':
    case 'codeBlock':
      return first(content, inlineTypes);
    case 'bulletList':
    case 'orderedList':
      if (content.length === 0) return `a ${node.type} needs at least one listItem`;
      for (const item of content) {
        if (item?.type !== 'listItem') return `a ${node.type} holds listItem nodes only`;
        const items = (item.content ?? []) as AdfLike[];
        if (!Array.isArray(items) || items.length === 0) return 'a listItem needs content';
        const problem = first(items, ['paragraph', 'bulletList', 'orderedList']);
        if (problem) return problem;
      }
      return undefined;
    default:
      return undefined;
  }
}

function first(content: AdfLike[], allowed: string[]): string | undefined {
  for (const child of content) {
    const problem = problemOfNode(child, allowed);
    if (problem) return problem;
  }
  return undefined;
}

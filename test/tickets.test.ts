import { MockActivityEnvironment } from '@temporalio/testing';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { createJiraTickets, escalationLabel } from '../activities/tickets/jira.js';
import { correlationIdOf, createServiceNowTickets } from '../activities/tickets/servicenow.js';
import type { TicketRequest } from '../domain/engine/tickets.js';
import type { EscalationOutcome } from '../domain/escalation.js';
import { workerConfigFrom } from '../worker/config.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { type FakeJira, startFakeJira } from './helpers/fake-jira.js';
import { type FakeServiceNow, startFakeServiceNow } from './helpers/fake-servicenow.js';
import { gateFailure } from './helpers/gate-failure.js';
import { type RollbackEndpoint, startRollbackEndpoint } from './helpers/rollback-endpoint.js';
import { failureOf } from './helpers/activity-failure.js';

const escalationUrl = 'https://escalator.example.com/v1/escalations/escalation-gate-4711';

function request(overrides: Partial<TicketRequest> = {}): TicketRequest {
  return {
    escalationId: 'escalation-gate-4711',
    system: 'jira',
    title: '[high] checkout: release gate blocked, escalation exhausted',
    description: ['The release gate (tests) failed for checkout.', 'Outcome: blocked, blocked after the escalation was exhausted.'],
    timeline: ['2026-11-27T09:00:00.000Z raised: high: release on checkout', '2026-11-27T09:05:00.000Z ended: blocked: exhausted'],
    links: [{ text: 'pipeline run run-7781', href: 'https://ci.example.com/acme/checkout/runs/7781' }],
    severity: 'high',
    resolved: false,
    jira: { project: 'OPS', issueType: 'Incident', labels: ['gate-failure'], doneTransition: 'Done' },
    servicenow: { assignmentGroup: 'Platform SRE', category: 'software', urgency: 2 },
    ...overrides,
  };
}


describe('Jira issues', () => {
  let jira: FakeJira;
  let tickets: ReturnType<typeof createJiraTickets>;

  beforeEach(async () => {
    jira = await startFakeJira();
    tickets = createJiraTickets({ baseUrl: jira.url, email: jira.email, apiToken: jira.apiToken });
  });
  afterEach(() => jira.close());

  it('creates the issue with the documented fields, an ADF description and the escalation label, and finds it on a second call', async () => {
    const opened = await tickets.openIssue(request(), escalationUrl);
    const label = escalationLabel('escalation-gate-4711');
    expect(label).toMatch(/^escalator-[0-9a-f]{24}$/);
    expect(opened).toEqual({ system: 'jira', key: 'OPS-1', url: `${jira.url}/browse/OPS-1`, transition: null });
    expect(jira.issues).toMatchObject([{ key: 'OPS-1', issueType: 'Incident', summary: '[high] checkout: release gate blocked, escalation exhausted', labels: ['gate-failure', label], status: 'To Do' }]);
    expect(JSON.stringify(jira.issues[0]!.description)).toContain(`"href":"${escalationUrl}"`);
    expect(jira.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /rest/api/3/search/jql 200', 'POST /rest/api/3/issue 201']);
    expect(jira.requests[0]!.query.get('jql')).toBe(`project = "OPS" AND labels = "${label}"`);
    expect(jira.requests[1]!.headers.authorization).toBe(`Basic ${Buffer.from(`${jira.email}:${jira.apiToken}`).toString('base64')}`);

    expect(await tickets.openIssue(request(), escalationUrl)).toEqual(opened);
    expect(jira.issues).toHaveLength(1);
  });

  it('applies the done transition when the outcome left nothing to do, once', async () => {
    const opened = await tickets.openIssue(request({ resolved: true }), escalationUrl);
    expect(opened.transition).toBe('Done');
    expect(jira.issues[0]).toMatchObject({ status: 'Done', transitions: ['Done'] });
    expect(await tickets.openIssue(request({ resolved: true }), escalationUrl)).toEqual(opened);
    expect(jira.issues[0]!.transitions).toEqual(['Done']);
  });

  it('leaves the issue open, and says so, when Jira offers no such transition', async () => {
    const opened = await new MockActivityEnvironment().run(() => tickets.openIssue(request({ resolved: true, jira: { ...request().jira!, doneTransition: 'Resolve' } }), escalationUrl));
    expect(opened).toMatchObject({ key: 'OPS-1', transition: null });
    expect(jira.issues[0]!.status).toBe('To Do');
  });

  it('retries what Jira could not answer, and takes its refusals as final, with its reasons', async () => {
    jira.failNext(1);
    expect(await failureOf(tickets.openIssue(request(), escalationUrl))).toMatchObject({ type: 'TicketSystemUnavailable', nonRetryable: false, nextRetryDelay: 1000 });
    const refused = await failureOf(tickets.openIssue(request({ jira: { ...request().jira!, issueType: 'Epic' } }), escalationUrl));
    expect(refused).toMatchObject({ type: 'TicketRefused', nonRetryable: true });
    expect(refused.message).toContain('issuetype: Specify a valid issue type.');
    const unauthenticated = createJiraTickets({ baseUrl: jira.url, email: jira.email, apiToken: 'wrong' });
    expect(await failureOf(unauthenticated.openIssue(request(), escalationUrl))).toMatchObject({ type: 'TicketRefused', message: expect.stringContaining('answered 401') });
    expect(jira.issues).toEqual([]);
  });
});

describe('ServiceNow incidents', () => {
  let serviceNow: FakeServiceNow;
  let tickets: ReturnType<typeof createServiceNowTickets>;
  const servicenowRequest = (overrides: Partial<TicketRequest> = {}) => request({ system: 'servicenow', ...overrides });

  beforeEach(async () => {
    serviceNow = await startFakeServiceNow();
    tickets = createServiceNowTickets({ baseUrl: serviceNow.url, user: serviceNow.user, password: serviceNow.password });
  });
  afterEach(() => serviceNow.close());

  it('creates the incident through the Table API with the correlation id, group, category and urgency, and finds it on a second call', async () => {
    const opened = await tickets.openIncident(servicenowRequest(), escalationUrl);
    const sre = serviceNow.groups.find((group) => group.name === 'Platform SRE')!;
    expect(opened).toEqual({ system: 'servicenow', key: 'INC0010001', url: expect.stringContaining(`${serviceNow.url}/nav_to.do?uri=`), transition: null });
    expect(decodeURIComponent(opened.url)).toContain(`incident.do?sys_id=${serviceNow.incidents[0]!.sys_id}`);
    expect(serviceNow.incidents).toMatchObject([
      { short_description: '[high] checkout: release gate blocked, escalation exhausted', correlation_id: 'escalation-gate-4711', correlation_display: 'Escalator', urgency: '2', category: 'software', assignment_group: sre.sys_id },
    ]);
    expect(serviceNow.incidents[0]!.description).toContain(`- escalation escalation-gate-4711: ${escalationUrl}`);
    expect(serviceNow.incidents[0]!.description).toContain('Timeline:\n2026-11-27T09:00:00.000Z raised');
    expect(serviceNow.requests[0]!.query.get('sysparm_query')).toBe('correlation_id=escalation-gate-4711');

    expect(await tickets.openIncident(servicenowRequest(), escalationUrl)).toEqual(opened);
    expect(serviceNow.incidents).toHaveLength(1);
  });

  it('keeps a long escalation id within correlation_id by hashing it', async () => {
    const escalationId = `escalation-${'k'.repeat(200)}`;
    await tickets.openIncident(servicenowRequest({ escalationId, servicenow: { assignmentGroup: null, category: null, urgency: 3 } }), escalationUrl);
    expect(serviceNow.incidents[0]!.correlation_id).toBe(correlationIdOf(escalationId));
    expect(correlationIdOf(escalationId)).toMatch(/^escalator-[0-9a-f]{64}$/);
  });

  it('refuses an assignment group the instance does not have, and retries a 503', async () => {
    const unknown = await failureOf(tickets.openIncident(servicenowRequest({ servicenow: { assignmentGroup: 'Nobody', category: null, urgency: 3 } }), escalationUrl));
    expect(unknown).toMatchObject({ type: 'TicketRefused', nonRetryable: true, message: expect.stringContaining('no assignment group named "Nobody"') });
    serviceNow.failNext(1, { method: 'POST' });
    expect(await failureOf(tickets.openIncident(servicenowRequest(), escalationUrl))).toMatchObject({ type: 'TicketSystemUnavailable', nonRetryable: false });
    expect(serviceNow.incidents).toEqual([]);
  });
});

describe('ticket settings of the worker', () => {
  it('names the variable a ticket system is missing', () => {
    expect(() => workerConfigFrom({ ESCALATOR_JIRA_URL: 'https://acme.atlassian.net', ESCALATOR_JIRA_EMAIL: 'ops@acme.example' })).toThrow(
      /ESCALATOR_JIRA_API_TOKEN: required with ESCALATOR_JIRA_URL and ESCALATOR_JIRA_EMAIL/,
    );
    expect(() => workerConfigFrom({ ESCALATOR_SERVICENOW_URL: 'acme.service-now.com' })).toThrow(/ESCALATOR_SERVICENOW_URL/);
    expect(() => workerConfigFrom({ ESCALATOR_JIRA_URL: 'https://acme.atlassian.net', ESCALATOR_JIRA_EMAIL: 'not an email', ESCALATOR_JIRA_API_TOKEN: 't' })).toThrow(/ESCALATOR_JIRA_EMAIL/);
  });
});

/** One step that times out at once and nowhere to hand it: exhausted at the first deadline. */
function ticketPolicy(tickets: string, rollbackUrl: string): string {
  return `
version: 1
defaults: { maxDepth: 1, requireComment: never }
people:
  alice: { email: alice@example.com }
gates:
  release:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 1s }
  deploy:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 1s }
    onExhausted: { action: rollback, endpoint: "${rollbackUrl}/rollback" }
  review:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 10m }
tickets:
${tickets.replace(/^/gm, '  ')}
`;
}

/** The run's history replays on the current workflow code. */
async function expectReplays(env: EscalatorEnv, escalationId: string): Promise<void> {
  const history = await env.client.workflow.getHandle(escalationId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, escalationId);
}

describe('tickets of real escalations', () => {
  let jira: FakeJira;
  let serviceNow: FakeServiceNow;
  let rollback: RollbackEndpoint;
  let jiraEnv: EscalatorEnv;
  let serviceNowEnv: EscalatorEnv;

  beforeAll(async () => {
    [jira, serviceNow, rollback] = await Promise.all([startFakeJira(), startFakeServiceNow(), startRollbackEndpoint()]);
    jiraEnv = await startEscalator(ticketPolicy('system: jira\njira: { project: OPS, issueType: Incident, labels: [gate-failure], doneTransition: Done }', rollback.url), {
      environment: { ESCALATOR_JIRA_URL: jira.url, ESCALATOR_JIRA_EMAIL: jira.email, ESCALATOR_JIRA_API_TOKEN: jira.apiToken },
    });
    serviceNowEnv = await startEscalator(ticketPolicy('system: servicenow\nservicenow: { assignmentGroup: Service Desk }', rollback.url), {
      environment: { ESCALATOR_SERVICENOW_URL: serviceNow.url, ESCALATOR_SERVICENOW_USER: serviceNow.user, ESCALATOR_SERVICENOW_PASSWORD: serviceNow.password },
    });
  });
  afterAll(async () => {
    await Promise.all([jiraEnv?.close(), serviceNowEnv?.close()]);
    await Promise.all([jira?.close(), serviceNow?.close(), rollback?.close()]);
  });

  async function ended(env: EscalatorEnv, gate: string): Promise<{ escalationId: string; outcome: EscalationOutcome }> {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: gate, kind: 'tests' }, severity: 'critical' }));
    return { escalationId, outcome: await env.escalator.outcome(escalationId) };
  }

  it('opens one Jira issue for an exhausted escalation though the first create answered 503 after creating it, and shows its key', async () => {
    jira.failNext(1, { method: 'POST', path: '/rest/api/3/issue', afterProcessing: true });
    const { escalationId, outcome } = await ended(jiraEnv, 'release');
    expect(outcome).toMatchObject({ outcome: 'blocked', postmortem: true });

    const issues = jira.issuesLabelled(escalationLabel(escalationId));
    expect(issues).toMatchObject([{ project: 'OPS', issueType: 'Incident', summary: '[critical] checkout: release gate blocked, escalation exhausted', status: 'To Do' }]);
    const key = issues[0]!.key;
    expect(jira.requests.filter((r) => r.method === 'POST' && r.path === '/rest/api/3/issue' && r.status === 503)).toHaveLength(1);

    const view = await jiraEnv.escalator.status(escalationId);
    expect(view.ticket).toEqual({ system: 'jira', key, url: `${jira.url}/browse/${key}` });
    expect(view.timeline.filter((entry) => entry.event === 'ticket-opened')).toEqual([expect.objectContaining({ key, transition: null })]);
    const metadata = await jiraEnv.client.workflow.getHandle(escalationId).query(workflowMetadataQuery);
    expect(metadata.currentDetails).toContain(`Ticket [${key}](${jira.url}/browse/${key})`);
    // The outcome was stored first; the ticket's entry reached the store once it was open.
    expect((await jiraEnv.store.timeline(escalationId)).map((entry) => entry.kind)).toEqual(expect.arrayContaining(['ended', 'ticket-opened']));
    await expectReplays(jiraEnv, escalationId);
  }, 60_000);

  it('opens a Jira issue for a rolled-back escalation and moves it to Done', async () => {
    const { escalationId, outcome } = await ended(jiraEnv, 'deploy');
    expect(outcome.outcome).toBe('rolled-back');
    expect(jira.issuesLabelled(escalationLabel(escalationId))).toMatchObject([{ summary: '[critical] checkout: deploy gate rolled back, escalation exhausted', status: 'Done', transitions: ['Done'] }]);
    expect((await jiraEnv.escalator.status(escalationId)).timeline).toContainEqual(expect.objectContaining({ event: 'ticket-opened', transition: 'Done' }));
  }, 60_000);

  it('opens none for an approved escalation', async () => {
    const { escalationId } = await jiraEnv.escalator.raise(gateFailure({ gate: { name: 'review', kind: 'review' } }));
    await vi.waitFor(async () => expect((await jiraEnv.escalator.status(escalationId)).awaitedReviewers).toEqual(['alice']));
    await jiraEnv.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    expect((await jiraEnv.escalator.outcome(escalationId)).outcome).toBe('passed');
    expect(jira.issuesLabelled(escalationLabel(escalationId))).toEqual([]);
    const view = await jiraEnv.escalator.status(escalationId);
    expect(view.ticket).toBeNull();
    expect(view.timeline.map((entry) => entry.event)).not.toContain('ticket-opened');
  }, 60_000);

  it('opens one ServiceNow incident for an exhausted escalation though the first insert answered 503 after inserting it', async () => {
    serviceNow.failNext(1, { method: 'POST', path: '/api/now/table/incident', afterProcessing: true });
    const { escalationId, outcome } = await ended(serviceNowEnv, 'release');
    expect(outcome.outcome).toBe('blocked');
    const incidents = serviceNow.incidents.filter((incident) => incident.correlation_id === escalationId);
    const desk = serviceNow.groups.find((group) => group.name === 'Service Desk')!;
    expect(incidents).toMatchObject([{ urgency: '1', assignment_group: desk.sys_id, correlation_display: 'Escalator' }]);
    const view = await serviceNowEnv.escalator.status(escalationId);
    expect(view.ticket).toMatchObject({ system: 'servicenow', key: incidents[0]!.number });
    await expectReplays(serviceNowEnv, escalationId);
  }, 60_000);
});

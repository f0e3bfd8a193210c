import { describe, expect, it } from 'vitest';
import type { Effect } from '../../domain/engine/events.js';
import type { EscalationState } from '../../domain/engine/state.js';
import { maxTimelineLines, ticketRequest, ticketTriggersMet } from '../../domain/engine/tickets.js';
import { currentDetails, escalationView } from '../../domain/engine/view.js';
import type { TimelineEntry } from '../../domain/escalation.js';
import { PolicyError } from '../../domain/policy-error.js';
import { parsePolicy } from '../../domain/policy-parser.js';
import { type EngineDriver, effectsOf, MINUTE, type Reachable, startEscalation } from '../helpers/engine-driver.js';

const release = { name: 'release', kind: 'tests' } as const;
const deploy = { name: 'deploy', kind: 'tests' } as const;
const reachable: Partial<Reachable> = { tickets: true };

/** One step of 5 minutes and no hand-off left: the first deadline exhausts the escalation. */
function ticketPolicy(tickets: string): string {
  return `
version: 1
defaults: { maxDepth: 1, requireComment: never }
people:
  alice: { email: alice@example.com }
  bob:   { email: bob@example.com }
  sam:   { email: sam@example.com, roles: [incident-commander] }
breakGlass: { roles: [incident-commander] }
gates:
  release:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 5m }
  deploy:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 5m }
    onExhausted: { action: rollback, endpoint: "https://deploy.example.com/rollback" }
tickets:
${tickets.replace(/^/gm, '  ')}
`;
}

const jira = ticketPolicy('system: jira\njira: { project: OPS, issueType: Incident, labels: [gate-failure], doneTransition: Done }');

function entries<E extends TimelineEntry['event']>(state: EscalationState, event: E): Array<Extract<TimelineEntry, { event: E }>> {
  return state.timeline.filter((entry): entry is Extract<TimelineEntry, { event: E }> => entry.event === event);
}

function ticketsOf(effects: readonly Effect[]) {
  return effectsOf(effects, 'open-ticket').map((effect) => effect.ticket);
}

function exhausted(driver: EngineDriver): Effect[] {
  return driver.elapse(5 * MINUTE).deadlineDue();
}

describe('the policy\'s tickets', () => {
  it('defaults to every trigger, issue type Task and no labels of its own', () => {
    const { policy } = parsePolicy(ticketPolicy('system: jira\njira: { project: OPS }'), 'tickets.yaml');
    expect(policy.tickets).toEqual({ when: ['exhausted', 'rolled-back', 'postmortem'], system: 'jira', jira: { project: 'OPS', issueType: 'Task', labels: [] } });
  });

  it.each([
    ['system: jira', 'tickets.jira', 'system jira needs jira: { project: <KEY> }'],
    ['system: servicenow', 'tickets.servicenow', 'system servicenow needs servicenow'],
    ['system: jira\njira: { project: ops }', 'tickets.jira.project', 'a Jira project key such as OPS'],
    ['system: jira\njira: { project: OPS, labels: ["gate failure"] }', 'tickets.jira.labels[0]', 'no spaces'],
    ['system: servicenow\nservicenow: { urgency: 4 }', 'tickets.servicenow.urgency', 'urgency is 1 (high), 2 (medium) or 3 (low)'],
    ['system: servicenow\nservicenow: { group: sre }', 'tickets.servicenow', 'group'],
    ['system: github\njira: { project: OPS }', 'tickets.system', 'system is one of jira, servicenow'],
    ['system: jira\njira: { project: OPS }\nwhen: [blocked]', 'tickets.when[0]', 'a trigger is one of exhausted, rolled-back, postmortem'],
  ])('refuses %j at %s', (tickets, path, message) => {
    let error: unknown;
    try {
      parsePolicy(ticketPolicy(tickets), 'tickets.yaml');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).message).toContain(path);
    expect((error as PolicyError).message).toContain(message);
  });
});

describe('when an escalation opens a ticket', () => {
  it('asks for one Jira issue when the escalation is exhausted, after the outcome, saying what failed, what happened and where to look', () => {
    const { driver } = startEscalation(jira, release, { reachable, failure: { severity: 'critical' } });
    const effects = exhausted(driver);
    expect(driver.state.outcome?.outcome).toBe('blocked');
    const kinds = effects.map((effect) => effect.kind);
    expect(kinds.indexOf('open-ticket')).toBeGreaterThan(kinds.indexOf('store-outcome'));
    const [ticket, ...more] = ticketsOf(effects);
    expect(more).toEqual([]);
    expect(ticket).toMatchObject({
      escalationId: 'escalation-engine-test',
      system: 'jira',
      title: '[critical] checkout: release gate blocked, escalation exhausted',
      severity: 'critical',
      resolved: false,
      jira: { project: 'OPS', issueType: 'Incident', labels: ['gate-failure'], doneTransition: 'Done' },
      links: [
        { text: 'pipeline run run-7781', href: 'https://ci.example.com/acme/checkout/runs/7781' },
        { text: 'change a1b2c3d4e5f6', href: 'https://git.example.com/acme/checkout/pull/42' },
      ],
    });
    expect(ticket!.servicenow).toBeUndefined();
    expect(ticket!.description.join('\n')).toContain('Outcome: blocked, blocked after the escalation was exhausted: no backup or tier is left to hand the step to. Flagged for postmortem.');
    expect(ticket!.description.join('\n')).toContain('Change a1b2c3d4e5f6 "Speed up basket totals" by mallory');
    expect(ticket!.timeline[0]).toMatch(/^2026-11-27T09:00:00.000Z raised: critical: release on checkout$/);
    expect(ticket!.timeline.at(-1)).toMatch(/ ended: blocked: blocked after the escalation was exhausted/);
    expect(ticket!.timeline).toHaveLength(driver.state.timeline.length);
    // Later events never ask again.
    expect(ticketsOf(driver.sendNow({ kind: 'ticket-failed', system: 'jira', error: 'Jira answered 400' }))).toEqual([]);
  });

  it('marks a completed rollback as resolved, so the done transition applies; a failed one stays open', () => {
    const done = startEscalation(jira, deploy, { reachable }).driver;
    expect(ticketsOf(exhausted(done))).toEqual([]); // rolling back: not ended yet
    const rolledBack = ticketsOf(done.elapse(MINUTE).sendNow({ kind: 'rollback-done', endpoint: 'https://deploy.example.com/rollback', status: 200 }));
    expect(rolledBack).toMatchObject([{ title: '[high] checkout: deploy gate rolled back, escalation exhausted', resolved: true }]);
    expect(ticketTriggersMet(done.state)).toEqual(['exhausted', 'rolled-back', 'postmortem']);

    const failed = startEscalation(jira, deploy, { reachable }).driver;
    exhausted(failed);
    const blocked = ticketsOf(failed.elapse(MINUTE).sendNow({ kind: 'rollback-failed', endpoint: 'https://deploy.example.com/rollback', error: 'HTTP 503' }));
    expect(blocked).toMatchObject([{ resolved: false }]);
    expect(ticketTriggersMet(failed.state)).toEqual(['exhausted', 'postmortem']);
  });

  it.each([
    { when: '[rolled-back]', gate: release, end: 'exhausted', opens: false },
    { when: '[exhausted]', gate: release, end: 'exhausted', opens: true },
    { when: '[postmortem]', gate: release, end: 'break-glass', opens: true },
    { when: '[exhausted, rolled-back]', gate: release, end: 'break-glass', opens: false },
    { when: '[exhausted, rolled-back, postmortem]', gate: release, end: 'approved', opens: false },
    { when: '[exhausted, rolled-back, postmortem]', gate: release, end: 'withdrawn', opens: false },
  ])('with when: $when, an escalation that ends $end opens a ticket: $opens', ({ when, gate, end, opens }) => {
    const { driver } = startEscalation(ticketPolicy(`when: ${when}\nsystem: jira\njira: { project: OPS }`), gate, { reachable });
    if (end === 'exhausted') exhausted(driver);
    else if (end === 'break-glass') driver.breakGlass('sam');
    else if (end === 'approved') driver.decide('alice', 'approve');
    else driver.withdraw('ci');
    expect(driver.state.status).toBe('ended');
    expect(ticketsOf(driver.effects)).toHaveLength(opens ? 1 : 0);
  });

  it('opens none where the worker reaches no ticket system, or the policy asks for none', () => {
    const unreachable = startEscalation(jira, release).driver;
    exhausted(unreachable);
    expect(unreachable.state.outcome?.postmortem).toBe(true);
    expect(ticketsOf(unreachable.effects)).toEqual([]);

    const without = startEscalation(ticketPolicy('system: jira\njira: { project: OPS }').replace(/\ntickets:[\s\S]*$/, '\n'), release, { reachable }).driver;
    exhausted(without);
    expect(without.state.plan?.tickets).toBeUndefined();
    expect(ticketsOf(without.effects)).toEqual([]);
  });

  it('sends ServiceNow the urgency the policy sets, or the one the severity implies', () => {
    const explicit = startEscalation(ticketPolicy('system: servicenow\nservicenow: { assignmentGroup: Platform SRE, category: software, urgency: 2 }'), release, { reachable, failure: { severity: 'low' } }).driver;
    expect(ticketsOf(exhausted(explicit))).toMatchObject([{ system: 'servicenow', servicenow: { assignmentGroup: 'Platform SRE', category: 'software', urgency: 2 } }]);
    const bySeverity = startEscalation(ticketPolicy('system: servicenow\nservicenow: {}'), release, { reachable, failure: { severity: 'critical' } }).driver;
    const [ticket] = ticketsOf(exhausted(bySeverity));
    expect(ticket).toMatchObject({ servicenow: { assignmentGroup: null, category: null, urgency: 1 } });
    expect(ticket!.jira).toBeUndefined();
  });

  it('keeps the start and the end of a long timeline', () => {
    const { driver } = startEscalation(jira, release, { reachable });
    for (let i = 0; i < 120; i++) driver.sendNow({ kind: 'notification-failed', reviewer: 'alice', channel: 'email', error: `451 try again (${i})`, step: 0 });
    const [ticket] = ticketsOf(exhausted(driver));
    expect(ticket!.timeline).toHaveLength(maxTimelineLines);
    expect(ticket!.timeline[0]).toContain('raised');
    expect(ticket!.timeline).toContainEqual(expect.stringMatching(/^… \d+ entries left out/));
    expect(ticket!.timeline.at(-1)).toContain('ended');
    expect(ticketRequest(driver.state).timeline).toEqual(ticket!.timeline);
  });
});

describe('when the ticket system answers', () => {
  function endedWithTicketAsked(): EngineDriver {
    const { driver } = startEscalation(jira, release, { reachable });
    exhausted(driver);
    return driver;
  }

  it('keeps the ticket in the state, the timeline, the view and the UI details, and records the new entry', () => {
    const driver = endedWithTicketAsked();
    const before = driver.state.timeline.length;
    const effects = driver.elapse(MINUTE).sendNow({ kind: 'ticket-opened', system: 'jira', key: 'OPS-7', url: 'https://acme.atlassian.net/browse/OPS-7', transition: null });
    expect(driver.state.ticket).toEqual({ system: 'jira', key: 'OPS-7', url: 'https://acme.atlassian.net/browse/OPS-7' });
    expect(entries(driver.state, 'ticket-opened')).toEqual([{ at: expect.any(String), event: 'ticket-opened', system: 'jira', key: 'OPS-7', url: 'https://acme.atlassian.net/browse/OPS-7', transition: null }]);
    expect(effects).toEqual([{ kind: 'record', fromSeq: before }]);
    expect(escalationView(driver.state, driver.failure).ticket).toEqual(driver.state.ticket);
    expect(currentDetails(driver.state)).toContain('Ticket [OPS-7](https://acme.atlassian.net/browse/OPS-7) (Jira).');
    // The status and version stay: a ticket does not move the escalation.
    expect(driver.state.status).toBe('ended');

    driver.sendNow({ kind: 'ticket-opened', system: 'jira', key: 'OPS-8', url: 'https://acme.atlassian.net/browse/OPS-8', transition: null });
    expect(driver.state.ticket?.key).toBe('OPS-7');
    expect(entries(driver.state, 'ticket-opened')).toHaveLength(1);
  });

  it('records a failure in the timeline and keeps no ticket', () => {
    const driver = endedWithTicketAsked();
    driver.sendNow({ kind: 'ticket-failed', system: 'jira', error: 'Jira POST /rest/api/3/issue answered 400: issuetype: Specify a valid issue type.' });
    expect(driver.state.ticket).toBeNull();
    expect(entries(driver.state, 'ticket-failed')).toMatchObject([{ system: 'jira', error: expect.stringContaining('valid issue type') }]);
    expect(escalationView(driver.state, driver.failure).ticket).toBeNull();
    expect(currentDetails(driver.state)).not.toContain('Ticket');
  });
});

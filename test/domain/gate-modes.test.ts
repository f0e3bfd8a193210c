import { describe, expect, it } from 'vitest';
import { decisionRequestMessage } from '../../activities/channels/slack-blocks.js';
import { pilotBanner } from '../../domain/engine/gate-mode.js';
import type { Effect } from '../../domain/engine/events.js';
import type { EscalationState } from '../../domain/engine/state.js';
import { currentDetails, escalationView } from '../../domain/engine/view.js';
import type { TimelineEntry } from '../../domain/escalation.js';
import { PolicyError } from '../../domain/policy-error.js';
import { parsePolicy } from '../../domain/policy-parser.js';
import { timelineEntrySchema } from '../../domain/timeline-schema.js';
import { EngineDriver, effectsOf, MINUTE, notificationsOf, type Reachable, startEscalation } from '../helpers/engine-driver.js';

/** Slack, PagerDuty and the ticket system all reachable: whatever a mode withholds would otherwise go out. */
const reachable: Partial<Reachable> = { slack: true, pagerduty: true, tickets: true };

/**
 * Two gates that differ in their mode only (`shadowed`, `twin`), and a piloted parallel gate. The
 * chain hands alice's silence to her backup bob, then to the leads tier, which pages; the depth of
 * 2 is then used up and the exhausted action rolls back.
 */
function modesPolicy(options: { shadowed?: string; piloted?: string; rules?: string } = {}): string {
  const chainGate = `
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 10m }
    escalateTo: leads
    onExhausted: { action: rollback, endpoint: "https://deploy.example.com/rollback" }`;
  return `
version: 1
defaults: { maxDepth: 2, requireComment: never }
people:
  alice: { email: alice@example.com, slack: U0ALICE, backup: bob }
  bob:   { email: bob@example.com }
  carol: { email: carol@example.com }
  lead:  { email: lead@example.com }
  sam:   { email: sam@example.com, roles: [incident-commander] }
tiers:
  leads: { reviewers: [lead], timeout: 5m }
breakGlass: { roles: [incident-commander], notify: leads }
channels: { pageTiers: [leads] }
tickets: { system: jira, jira: { project: OPS } }
gates:
  shadowed:${chainGate}
${options.shadowed ?? '    mode: shadow'}
  twin:${chainGate}
  piloted:
    model: parallel
    reviewers: [alice, bob, carol]
    decideWithin: 10m
    escalateTo: leads
${options.piloted ?? '    mode: pilot\n    pilot: [alice, lead]'}
${options.rules ?? ''}`;
}

const shadowed = { name: 'shadowed', kind: 'tests' } as const;
const twin = { name: 'twin', kind: 'tests' } as const;
const piloted = { name: 'piloted', kind: 'performance' } as const;

function entries<E extends TimelineEntry['event']>(state: EscalationState, event: E): Array<Extract<TimelineEntry, { event: E }>> {
  return state.timeline.filter((entry): entry is Extract<TimelineEntry, { event: E }> => entry.event === event);
}

/** Lets every deadline pass until the escalation ends. */
function runToTheEnd(driver: EngineDriver): void {
  for (let guard = 0; driver.state.status === 'waiting' && guard < 10; guard++) driver.deadlineDue();
}

/** Where an escalation went, without when: the parts shadow must share with live. */
function course(state: EscalationState): unknown[] {
  const moves = ['assigned', 'timed-out', 'handed-off', 'exhausted'];
  return state.timeline.filter((e) => moves.includes(e.event)).map(({ at: _at, ...rest }) => rest);
}

/** Effects that reach people, the pipeline or a ticket system. */
function outward(effects: readonly Effect[]): Effect[] {
  return effects.filter((e) => ['notify', 'page', 'roll-back', 'open-ticket', 'update-slack'].includes(e.kind));
}

describe('a shadow gate', () => {
  it('runs on its timers through backup, tier and exhaustion exactly as live, but notifies, pages, rolls back and tickets nothing', () => {
    const shadow = startEscalation(modesPolicy(), shadowed, { reachable });
    const live = startEscalation(modesPolicy(), twin, { reachable });
    runToTheEnd(shadow.driver);
    runToTheEnd(live.driver);

    expect(course(shadow.driver.state)).toEqual(course(live.driver.state));
    expect(outward(shadow.driver.effects)).toEqual([]);
    expect(effectsOf(live.driver.effects, 'roll-back')).toHaveLength(1);
    expect(effectsOf(live.driver.effects, 'page').length).toBeGreaterThan(0);

    expect(entries(shadow.driver.state, 'would-notify').map(({ reviewer, channel, purpose, step }) => [reviewer, channel, purpose, step])).toEqual([
      ['alice', 'slack', 'decide', 0],
      ['alice', 'email', 'decide', 0],
      ['bob', 'email', 'decide', 0],
      ['lead', 'email', 'decide', 0],
      ['lead', 'pagerduty', 'decide', 0],
    ]);
    expect(entries(shadow.driver.state, 'would-roll-back')).toEqual([expect.objectContaining({ endpoint: 'https://deploy.example.com/rollback' })]);
    expect(entries(shadow.driver.state, 'notified')).toEqual([]);
  });

  it('still computes and stores its outcome, marked as a shadow run, and says so in its snapshot entry, view and details', () => {
    const { driver } = startEscalation(modesPolicy(), shadowed, { reachable });
    runToTheEnd(driver);

    const stored = effectsOf(driver.effects, 'store-outcome');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.outcome).toMatchObject({ outcome: 'rolled-back', postmortem: true, mode: 'shadow', depth: 2 });
    expect(stored[0]!.outcome.reason).toMatch(/^shadow run: would have rolled back/);
    expect(entries(driver.state, 'policy-snapshot')[0]).toMatchObject({ mode: 'shadow' });
    expect(escalationView(driver.state, driver.failure).mode).toBe('shadow');
    expect(currentDetails(driver.state)).toContain('Shadow run');
    for (const entry of driver.state.timeline) expect(timelineEntrySchema.safeParse(entry).success, entry.event).toBe(true);
  });

  it('takes decisions through the API, and ends on a recovery or withdrawal as live does', () => {
    const decided = startEscalation(modesPolicy(), shadowed, { reachable }).driver;
    decided.elapse(MINUTE).decide('alice', 'approve');
    expect(decided.state.outcome).toMatchObject({ outcome: 'passed', mode: 'shadow' });
    expect(outward(decided.effects)).toEqual([]);

    const recovered = startEscalation(modesPolicy(), shadowed, { reachable }).driver;
    recovered.elapse(MINUTE).recover('run-2');
    expect(recovered.state.outcome).toMatchObject({ outcome: 'recovered', mode: 'shadow' });

    const withdrawn = startEscalation(modesPolicy(), shadowed, { reachable }).driver;
    withdrawn.elapse(MINUTE).withdraw('ci');
    expect(withdrawn.state.outcome).toMatchObject({ outcome: 'withdrawn', mode: 'shadow' });
  });

  it('tells nobody of a break-glass override: the security review is recorded as would-notify', () => {
    const { driver } = startEscalation(modesPolicy(), shadowed, { reachable });
    driver.elapse(MINUTE).breakGlass('sam');
    expect(driver.state.outcome).toMatchObject({ outcome: 'overridden', mode: 'shadow' });
    expect(notificationsOf(driver.effects)).toEqual([]);
    expect(entries(driver.state, 'would-notify').filter((e) => e.purpose === 'review-override').map((e) => e.reviewer)).toEqual(['lead']);
  });
});

describe('a pilot gate', () => {
  it('assigns and awaits everyone, but notifies only the pilot group, every message marked for the banner', () => {
    const { driver, effects } = startEscalation(modesPolicy(), piloted, { reachable });
    expect(escalationView(driver.state, driver.failure).awaitedReviewers).toEqual(['alice', 'bob', 'carol']);
    expect(notificationsOf(effects).map((n) => [n.reviewer.id, n.channel, n.pilot])).toEqual([
      ['alice', 'slack', true],
      ['alice', 'email', true],
    ]);
    expect(entries(driver.state, 'would-notify').map((e) => [e.reviewer, e.channel])).toEqual([
      ['bob', 'email'],
      ['carol', 'email'],
    ]);

    // The leads tier joins: lead is in the pilot group; PagerDuty reaches whoever is on call, so it stays quiet.
    const tier = driver.elapse(10 * MINUTE).deadlineDue();
    expect(notificationsOf(tier).map((n) => [n.reviewer.id, n.pilot])).toEqual([['lead', true]]);
    expect(effectsOf(tier, 'page')).toEqual([]);
    expect(entries(driver.state, 'would-notify').filter((e) => e.channel === 'pagerduty').map((e) => e.reviewer)).toEqual(['alice', 'bob', 'carol', 'lead']);
  });

  it('counts the votes of people outside the pilot group, and ends and acts as live', () => {
    const { driver } = startEscalation(modesPolicy(), piloted, { reachable });
    driver.elapse(MINUTE).decide('carol', 'approve');
    expect(driver.state.outcome).toMatchObject({ outcome: 'passed', mode: 'pilot' });
    expect(entries(driver.state, 'policy-snapshot')[0]).toMatchObject({ mode: 'pilot' });
    expect(escalationView(driver.state, driver.failure).mode).toBe('pilot');
    expect(currentDetails(driver.state)).toContain('only alice, lead are notified');
  });

  it('puts the banner in a Slack decision request under its header, and in its notification text', () => {
    const { driver, effects } = startEscalation(modesPolicy(), piloted, { reachable });
    const n = notificationsOf(effects).find((message) => message.channel === 'slack')!;
    const request = { dedupeKey: n.messageId, channel: n.slackUser!, escalationId: driver.state.escalationId, purpose: n.purpose, model: n.model, reviewer: n.reviewer, failure: driver.state.failure, deadline: n.deadline, alsoAsked: n.alsoAsked, primary: n.primary, stepLabel: n.stepLabel, decisionUrl: 'escalation e', pilot: n.pilot };
    const message = decisionRequestMessage(request);
    expect(message.blocks[1]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `:test_tube: ${pilotBanner}` }] });
    expect(message.text).toContain(pilotBanner);
    expect(JSON.stringify(decisionRequestMessage({ ...request, pilot: undefined }))).not.toContain('Pilot');
    expect(pilotBanner).toBe('Pilot: this gate is being piloted; only the pilot group is notified.');
  });
});

describe('a live gate', () => {
  it('is what a gate without a mode is: no mode in its snapshot entry or outcome, no pilot mark, nothing withheld', () => {
    const { driver, effects } = startEscalation(modesPolicy(), twin, { reachable });
    expect(entries(driver.state, 'policy-snapshot')[0]).not.toHaveProperty('mode');
    expect(notificationsOf(effects).map((n) => n.reviewer.id)).toEqual(['alice', 'alice']);
    expect(notificationsOf(effects).every((n) => !('pilot' in n))).toBe(true);
    runToTheEnd(driver);
    driver.send({ kind: 'rollback-done', at: driver.now, endpoint: 'https://deploy.example.com/rollback', status: 200 });
    expect(driver.state.outcome).toMatchObject({ outcome: 'rolled-back' });
    expect(driver.state.outcome).not.toHaveProperty('mode');
    expect(entries(driver.state, 'would-notify')).toEqual([]);
    expect(escalationView(driver.state, driver.failure).mode).toBe('live');
  });

  it('runs a snapshot taken before modes existed (no mode in its plan) as live', () => {
    const { driver: current, snapshot } = startEscalation(modesPolicy(), twin, { reachable });
    const plan = { ...snapshot.plan };
    delete plan.mode;
    const old = new EngineDriver(current.failure);
    const effects = old.start({ ...snapshot, plan });
    expect(notificationsOf(effects).map((n) => n.reviewer.id)).toEqual(['alice', 'alice']);
    expect(entries(old.state, 'policy-snapshot')[0]).not.toHaveProperty('mode');
    expect(escalationView(old.state, old.failure).mode).toBe('live');
  });
});

describe('the policy', () => {
  function problemsOf(yaml: string): Array<{ path: string; message: string }> {
    try {
      parsePolicy(yaml, 'modes.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      return (error as PolicyError).problems.map(({ path, message }) => ({ path, message }));
    }
    throw new Error('expected the policy to be refused');
  }

  it('defaults every gate to live and resolves the pilot group into the plan', () => {
    const { policy } = parsePolicy(modesPolicy(), 'modes.yaml');
    expect([policy.gates.shadowed!.mode, policy.gates.twin!.mode, policy.gates.piloted!.mode]).toEqual(['shadow', 'live', 'pilot']);
    const { snapshot } = startEscalation(modesPolicy(), piloted);
    expect(snapshot.plan).toMatchObject({ mode: 'pilot', pilotGroup: ['alice', 'lead'] });
    expect(startEscalation(modesPolicy(), twin).snapshot.plan).not.toHaveProperty('pilotGroup');
  });

  it('refuses a pilot gate without its pilot group', () => {
    expect(problemsOf(modesPolicy({ piloted: '    mode: pilot' }))).toEqual([{ path: 'gates.piloted.pilot', message: 'a pilot gate names the people it notifies: pilot: [person, …]' }]);
  });

  it('refuses a pilot group naming someone not under people, by the path of the name', () => {
    expect(problemsOf(modesPolicy({ piloted: '    mode: pilot\n    pilot: [alice, zoe]' }))).toEqual([{ path: 'gates.piloted.pilot[1]', message: 'refers to "zoe", who is not under people' }]);
  });

  it('refuses a pilot group on a gate that is not in pilot mode', () => {
    expect(problemsOf(modesPolicy({ shadowed: '    mode: shadow\n    pilot: [alice]' }))).toEqual([
      { path: 'gates.shadowed.pilot', message: 'only a gate in mode pilot has a pilot group (this one is shadow): set mode: pilot, or remove pilot' },
    ]);
  });

  it('refuses an unknown mode and a rule that would change the mode', () => {
    expect(problemsOf(modesPolicy({ shadowed: '    mode: dry-run' }))).toEqual([expect.objectContaining({ path: 'gates.shadowed.mode' })]);
    const rule = 'rules:\n  - when: { hotfix: true }\n    use: { mode: live }\n';
    expect(problemsOf(modesPolicy({ rules: rule }))).toEqual([{ path: 'rules[0].use.mode', message: "a rule cannot change a gate's mode: set mode (and pilot) on the gate itself" }]);
  });
});

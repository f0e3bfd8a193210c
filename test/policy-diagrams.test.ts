import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMermaid } from '@mermaid-js/mermaid-cli';
import { type Browser, launch } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadPolicyFile } from '../client/cli/policy-file.js';
import { policyFlowchart } from '../client/cli/render-mermaid.js';
import { documentedGates, policyPage } from '../client/cli/render-policy-page.js';
import type { Policy } from '../domain/policy.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { dynamicPolicy } from './helpers/dynamic-policy.js';
import { parallelPolicy } from './helpers/parallel-policy.js';
import { escalator } from './helpers/cli-run.js';

// Names from user files with everything that means something to Mermaid, Markdown or HTML.
const eve = 'Eve "Mallet" <b>Boss</b> [ops] #1 {x} | y; 100% `t` & co';
const hostileGate = 'deploy "prod" [eu] #quot; <i>';
const hostilePolicy = `
version: 1
people:
  eve: { name: '${eve}', email: eve@example.com }
  bob: { name: 'Bob ]"]) --> end', email: bob@example.com }
tiers:
  leads: { reviewers: [bob], timeout: 30m }
gates:
  '${hostileGate}':
    model: sequential
    chain:
      - { reviewers: [eve], timeout: 1h }
    escalateTo: leads
rules:
  - name: 'night "ops" | rule'
    when: { gate: ['${hostileGate}'], hotfix: true }
    use: { model: parallel, reviewers: [eve, bob], quorum: { approve: 1 } }
`;

const policyOf = (text: string): Policy => parsePolicy(text, 'test.yaml').policy;
const flowchartOf = (policy: Policy) => policyFlowchart(policy, documentedGates(policy));

/** The text a reader sees in the SVG: tags dropped, entities decoded. */
function textOf(svg: string): string {
  const entities: Record<string, string> = { lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' };
  return svg
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(lt|gt|quot|#39|amp);/g, (_, entity: string) => entities[entity]!);
}

function mermaidFences(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((match) => match[1]!);
}

describe('policy explain --format mermaid | markdown', () => {
  let browser: Browser;
  let dir: string;
  let example: Policy;

  beforeAll(async () => {
    // As root (CI) Chromium only starts without its sandbox; it only ever loads our own diagrams.
    browser = await launch({ executablePath: inject('chromiumPath'), headless: true, args: ['--no-sandbox'] });
    dir = await mkdtemp(join(tmpdir(), 'escalator-diagrams-'));
    example = (await loadPolicyFile('policies/example.yaml')).policy;
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Mermaid's own renderer in a real browser: it throws on a diagram Mermaid cannot parse. */
  async function svgOf(diagram: string): Promise<string> {
    const { data } = await renderMermaid(browser, diagram, 'svg');
    return new TextDecoder().decode(data);
  }

  it('the renderer rejects a diagram Mermaid cannot parse, such as a label with an unescaped quote', async () => {
    await expect(svgOf('flowchart TD\n  a["unclosed --> b')).rejects.toThrow(/Parse error/);
    await expect(svgOf(`flowchart TD\n  a["${eve}"] --> b`)).rejects.toThrow(/Parse error/);
  });

  it('draws every path of every gate of the example policy: steps, backups, tiers, rules, maximum depth and the rollback', async () => {
    const diagram = flowchartOf(example);
    expect(diagram.match(/^ {2}subgraph gate\d+\[/gm)).toHaveLength(Object.keys(example.gates).length);
    const text = textOf(await svgOf(diagram));
    for (const label of [
      'gate integration-tests fails',
      'step 1: Alice Adler',
      'step 1 backup: Bob Brandt',
      'step 1, tier release-managers: Erin Eze',
      'sequential: 3 step(s) in order',
      'at most 2 hand-offs',
      'rollback: POST http://127.0.0.1:9099/rollback, flagged for postmortem',
      'block: the gate stays blocked, flagged for postmortem',
      'rule rollbacks-fast (rollback: true)',
      'rule severe-tests-in-parallel (kind: tests, severity: critical|high)',
      'all at once: pool perf-approvers',
      '1 rejection(s) block, 3 override vote(s) override',
      'not acknowledged in 15m: reminded, up to 2 time(s), each a hand-off',
      'tier team-leads joins: Carol Chen',
      'routing picks 1 of Alice Adler, Bob Brandt, Carol Chen, Dave Dietz',
      '5+ ended escalations of the gate and service?',
      'step 1: on-call of primary-oncall',
      'any other gate fails',
    ]) {
      expect(text).toContain(label);
    }
  });

  it('draws dynamic gates (cold start, fallback chain, depth cut) and parallel gates (quorum, tiers joining, rule-selected model)', async () => {
    const dynamic = textOf(await svgOf(flowchartOf(policyOf(dynamicPolicy({ fastTimeout: '1s' })))));
    expect(dynamic).toContain('routing picks 1 of Alice Adler, Bob Brandt, Carol Chen');
    expect(dynamic).toContain('no: cold start');
    expect(dynamic).toContain('step 1: the best-ranked candidate');
    expect(dynamic).toContain('no decision in 1s: sequential fallback, a hand-off');
    expect(dynamic).toContain('step 1: Erin Eze');
    expect(dynamic).toContain('step 1, tier team-leads: Lee Lead');
    // `routed` allows 2 hand-offs: the fallback and its backup; the tier would be a third.
    expect(dynamic).toContain('no decision in 10m: maximum depth 2');

    const parallel = textOf(await svgOf(flowchartOf(policyOf(parallelPolicy({ fast: '2s' })))));
    expect(parallel).toContain('parallel: 11 approval(s) pass');
    expect(parallel).toContain('tier seniors joins: lead');
    expect(parallel).toContain('no quorum in 4s');
    expect(parallel).toContain('rule urgent-in-parallel (gate: release, severity: critical|high)');
    expect(parallel).toContain('rule rollbacks-fast (rollback: true)');
    expect(parallel).toContain('1 rejection(s) block, 3 override vote(s) override');
  });

  it('escapes names and gate names from the policy file, so they render as written and never as markup', async () => {
    const policy = policyOf(hostilePolicy);
    const svg = await svgOf(flowchartOf(policy));
    const text = textOf(svg);
    expect(text).toContain(`step 1: ${eve}`);
    expect(text).toContain(`gate ${hostileGate} fails`);
    expect(text).toContain('Bob ]"]) --> end');
    expect(text).toContain('rule night "ops" | rule');
    expect(svg).not.toMatch(/<b>|<i>/);

    const page = policyPage(policy, documentedGates(policy), 'hostile <script>.yaml');
    expect(page).not.toMatch(/(?<!\\)<(b|i|script)>/);
    const row = page.split('\n').find((line) => line.startsWith('| step 1 |'))!;
    expect(row.split(/(?<!\\)\|/).slice(1, -1)).toHaveLength(4);
    for (const fence of mermaidFences(page)) await svgOf(fence);
  });

  it('writes a Markdown page: overview, rules, quiet hours and on-call, break-glass, then per gate its paths as tables and its diagram', async () => {
    const page = policyPage(example, documentedGates(example), 'example.yaml');
    const lines = page.split('\n');
    expect(lines[0]).toBe('# Escalation policy example.yaml');
    expect(lines.filter((line) => line.startsWith('## '))).toEqual([
      '## Rules',
      '## Quiet hours and on-call',
      '## Break-glass',
      '## Gate security-scan',
      '## Gate performance',
      '## Gate unit-tests',
      '## Gate integration-tests',
      '## Any other gate (\\*)',
    ]);
    const integration = page.slice(page.indexOf('## Gate integration-tests'), page.indexOf('## Any other gate'));
    expect(integration.split('\n').filter((line) => line.startsWith('### '))).toEqual([
      '### Rule rollbacks-fast (rollback: true): parallel',
      '### Rule night-hotfix (hotfix: true, outsideBusinessHours: true): parallel',
      '### Rule severe-tests-in-parallel (kind: tests, severity: critical\\|high): parallel',
      '### No rule matches: sequential',
    ]);
    expect(integration).toContain('| step 1 | Alice Adler | 15m | backup: Bob Brandt |');
    expect(integration).toContain('| step 3 | Erin Eze | 30m |  |');
    expect(integration).toContain('| tier release-managers | Erin Eze | 1h |  |');
    expect(integration).toContain('At most 2 hand-offs; then, or when nobody is left to ask: rollback: POST http://127.0.0.1:9099/rollback, flagged for postmortem.');
    expect(page).toContain('| group, all at once | pool perf-approvers | 1h |');
    expect(page).toContain('| routing | Alice Adler, Bob Brandt, Carol Chen, Dave Dietz | 30m | picks 1 by codeowners, oncall, workingHours, responseHistory, load; any one decides |');
    expect(page).toContain('| cold start (fewer than 5 ended escalations) | Alice Adler, Bob Brandt, Carol Chen, Dave Dietz | 30m | all at once, 1 approval passes |');
    expect(page).toContain('| 2 | night-hotfix | hotfix: true, outsideBusinessHours: true | model parallel; reviewers on-call of primary-oncall; quorum approve 1, reject 1; decideWithin 10m |');
    expect(page).toContain('Quiet hours 22:00–07:00 (Europe/Berlin): only the on-call of primary-oncall is notified');
    expect(page).toContain('| primary-oncall | Alice Adler, Carol Chen, Dave Dietz | weekly on Mon at 09:00 | Europe/Berlin |');
    expect(page).toContain('| Erin Eze | erin | incident-commander |');
    const fences = mermaidFences(page);
    expect(fences).toHaveLength(5);
    for (const fence of fences) expect(textOf(await svgOf(fence))).toContain('gate passes');
  });

  it('runs from the CLI on the policy file alone, --gate picks the entry, and --json or an unknown format is a usage error', async () => {
    const noStar = join(dir, 'parallel.yaml');
    await writeFile(noStar, parallelPolicy());
    const [mermaid, markdown, text, withJson, badFormat, noEntry] = await Promise.all([
      escalator(['policy', 'explain', 'policies/example.yaml', '--format', 'mermaid']),
      escalator(['policy', 'explain', 'policies/example.yaml', '--format', 'markdown', '--gate', 'lint']),
      escalator(['policy', 'explain', 'policies/example.yaml', '--gate', 'lint', '--kind', 'custom', '--service', 'checkout', '--severity', 'low']),
      escalator(['policy', 'explain', 'policies/example.yaml', '--format', 'mermaid', '--json']),
      escalator(['policy', 'explain', 'policies/example.yaml', '--format', 'svg']),
      escalator(['policy', 'explain', noStar, '--format', 'mermaid', '--gate', 'lint']),
    ]);
    expect(mermaid.code, mermaid.stderr).toBe(0);
    expect(mermaid.stdout).toMatch(/^flowchart TD\n/);
    expect(textOf(await svgOf(mermaid.stdout))).toContain('step 1: Alice Adler');

    expect(markdown.code, markdown.stderr).toBe(0);
    expect(markdown.stdout.split('\n').filter((line) => line.startsWith('## Gate') || line.startsWith('## Any'))).toEqual(['## Any other gate (\\*)']);
    expect(textOf(await svgOf(mermaidFences(markdown.stdout)[0]!))).toContain('step 1: on-call of primary-oncall');

    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Dry run for lint (custom) on checkout');

    expect(withJson.code).toBe(2);
    expect(withJson.stderr).toContain('cannot be used with');
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('Allowed choices are text, mermaid, markdown');
    expect(noEntry.code).toBe(2);
    expect(noEntry.stderr).toContain('the policy has no entry for lint and no "*"');
  });
});

import type { ChainStep, EscalationPlan } from '../../domain/escalation-plan.js';
import type { ExhaustedAction, Policy } from '../../domain/policy.js';
import { durationText } from './duration-text.js';

/** One way a gate's failures are escalated: the gate entry as written, or as a rule changes it. */
export interface EscalationPath {
  /** The rule that selects this path and its conditions as written; null: no rule matched. */
  rule: { name: string; when: string } | null;
  /** Resolved from the standing policy: pools and rotations appear as `pool:…` and `oncall:…`. */
  plan: EscalationPlan;
}

/** A gate entry (`*` for any gate without its own) and every path its failures can take, in rule order. */
export interface DocumentedGate {
  key: string;
  paths: EscalationPath[];
}

/** How documentation names a reviewer: the person's name, or the pool or rotation a placeholder stands for. */
export function reviewerName(policy: Policy, id: string): string {
  if (id.startsWith('pool:')) return `pool ${id.slice('pool:'.length)}`;
  if (id.startsWith('oncall:')) return `on-call of ${id.slice('oncall:'.length)}`;
  return policy.people[id]?.name ?? id;
}

/** What happens when nobody decides in time, or the maximum depth is reached. */
export function exhaustedText(action: ExhaustedAction): string {
  return action.action === 'rollback' ? `rollback: POST ${action.endpoint}, flagged for postmortem` : 'block: the gate stays blocked, flagged for postmortem';
}

/** Text for a double-quoted Mermaid label: every character that Mermaid or HTML would read as syntax becomes a `#code;` entity. */
export function mermaidText(text: string): string {
  return text.replace(/\p{Cc}+/gu, ' ').replace(/["#&<>`[\]{}|;%\\]/g, (c) => `#${c.codePointAt(0)};`);
}

/**
 * The escalation paths of the given gate entries as one Mermaid `flowchart TD`.
 *
 * One chart with a subgraph per gate, not a chart per gate: what `--format mermaid` prints must paste
 * as one diagram into one file or fence, and gates share no nodes, so each subgraph lays out on its
 * own. The markdown page asks for one gate at a time and puts each chart under its gate's heading.
 */
export function policyFlowchart(policy: Policy, gates: DocumentedGate[]): string {
  const lines = ['flowchart TD'];
  const nested = gates.length > 1;
  gates.forEach(({ key, paths }, i) => {
    const chart = new Flowchart(`g${i}`, nested ? '    ' : '  ');
    drawGate(chart, policy, key, paths);
    if (nested) lines.push(`  subgraph gate${i}["${mermaidText(key === '*' ? 'any other gate (*)' : `gate ${key}`)}"]`, '    direction TB', ...chart.lines, '  end');
    else lines.push(...chart.lines);
  });
  // Invisible links stack the gates top to bottom; unlinked subgraphs would stand side by side, far too wide to read.
  if (nested) lines.push(`  ${gates.map((_, i) => `gate${i}`).join(' ~~~ ')}`);
  return lines.join('\n');
}

const shapes = { box: ['["', '"]'], stadium: ['(["', '"])'], decision: ['{"', '"}'] } as const;

/** Node and edge lines with ids of our own: user text only ever appears inside escaped labels. */
class Flowchart {
  readonly lines: string[] = [];
  private nodes = 0;
  private readonly named = new Map<string, string>();

  constructor(
    private readonly prefix: string,
    private readonly indent: string,
  ) {}

  node(shape: keyof typeof shapes, ...label: string[]): string {
    const id = `${this.prefix}n${this.nodes++}`;
    const [open, close] = shapes[shape];
    this.lines.push(`${this.indent}${id}${open}${label.map(mermaidText).join('<br/>')}${close}`);
    return id;
  }

  /** One node per distinct label: the outcomes every path of a gate leads to. */
  outcome(label: string): string {
    let id = this.named.get(label);
    if (id === undefined) this.named.set(label, (id = this.node('stadium', label)));
    return id;
  }

  edge(from: string, to: string, label?: string, timeout = false): void {
    this.lines.push(`${this.indent}${from} ${timeout ? '-.->' : '-->'}${label ? `|"${mermaidText(label)}"|` : ''} ${to}`);
  }
}

function drawGate(chart: Flowchart, policy: Policy, gateKey: string, paths: EscalationPath[]): void {
  const start = chart.node('stadium', gateKey === '*' ? 'any other gate fails' : `gate ${gateKey} fails`);
  const fork = paths.length > 1 ? chart.node('decision', 'first matching rule') : start;
  if (fork !== start) chart.edge(start, fork);
  for (const { rule, plan } of paths) {
    const head = new PlanDrawing(chart, policy, plan).draw();
    chart.edge(fork, head, rule ? `rule ${rule.name} (${rule.when})` : paths.length > 1 ? 'no rule matches' : undefined);
  }
}

/** One resolved plan as nodes: who is asked, each timeout to the next holder, and where it ends. */
class PlanDrawing {
  constructor(
    private readonly chart: Flowchart,
    private readonly policy: Policy,
    private readonly plan: EscalationPlan,
  ) {}

  draw(): string {
    const { plan, chart } = this;
    const depth = `at most ${plan.maxDepth} hand-offs`;
    if (plan.model === 'sequential') {
      const head = chart.node('box', `sequential: ${plan.steps.length} step(s) in order${plan.randomizeOrder ? ', shuffled' : ''}`, "an approval by a step's holder, backup or tier: the next step", 'a rejection blocks the gate', depth);
      chart.edge(head, this.chain(plan.steps, 0));
      return head;
    }
    if (plan.model === 'parallel') {
      const { approve, reject, override } = plan.quorum;
      const head = chart.node('box', `parallel: ${approve} approval(s) pass`, `${reject} rejection(s) block${override === null ? '' : `, ${override} override vote(s) override`}`, depth);
      const reminders = plan.acknowledgeWithinMs !== null && plan.renotify > 0 ? `not acknowledged in ${durationText(plan.acknowledgeWithinMs)}: reminded, up to ${plan.renotify} time(s), each a hand-off` : undefined;
      chart.edge(head, this.group(plan.group, plan.decideWithinMs, `${approve} approval(s)`, reminders));
      return head;
    }
    const head = chart.node('box', `dynamic: routing by ${plan.routeBy.join(', ')}`, 'a rejection blocks the gate', depth);
    const routed = chart.node('box', `routing picks ${plan.pick} of ${this.names(plan.candidates)}`, `any one decides within ${durationText(plan.decideWithinMs)}`);
    chart.edge(routed, this.passed, 'approves');
    // Each candidate in routing order, the next as backup, when the gate has no chain of its own; a pool counts as several.
    const several = plan.candidates.length > 1 || plan.candidates.some((id) => id.startsWith('pool:'));
    const ranked = (first: string): ChainStep[] => [{ reviewers: [first], backup: several ? ['the next-ranked candidate'] : [], timeoutMs: plan.decideWithinMs }];
    chart.edge(routed, this.chain(plan.fallbackSteps ?? ranked('the best-ranked candidate not yet asked'), 1), `no decision in ${durationText(plan.decideWithinMs)}: sequential fallback, a hand-off`, true);
    if (plan.coldStart.minHistory === 0) {
      chart.edge(head, routed);
      return head;
    }
    const history = chart.node('decision', `${plan.coldStart.minHistory}+ ended escalations of the gate and service?`);
    chart.edge(head, history);
    chart.edge(history, routed, 'yes');
    const cold = plan.coldStart.model === 'parallel' ? this.group(plan.candidates, plan.decideWithinMs, 'an approval') : this.chain(plan.fallbackSteps ?? ranked('the best-ranked candidate'), 0);
    chart.edge(history, cold, 'no: cold start');
    return head;
  }

  private get passed(): string {
    return this.chart.outcome('gate passes');
  }

  private get exhausted(): string {
    return this.chart.outcome(exhaustedText(this.plan.onExhausted));
  }

  private names(ids: string[]): string {
    return ids.map((id) => reviewerName(this.policy, id)).join(', ');
  }

  /** Steps in order, each held by its reviewers, then its backup, then the tiers; returns the first step. */
  private chain(steps: ChainStep[], startDepth: number): string {
    const firsts = steps.map((step, i) => this.chart.node('box', `step ${i + 1}: ${this.names(step.reviewers)}`, `decides within ${durationText(step.timeoutMs)}`));
    steps.forEach((step, i) => {
      const next = firsts[i + 1] ?? this.passed;
      const holders = [
        ...(step.backup.length ? [{ label: [`step ${i + 1} backup: ${this.names(step.backup)}`, `within ${durationText(step.timeoutMs)}`], timeoutMs: step.timeoutMs }] : []),
        ...this.plan.tiers.map((tier) => ({ label: [`step ${i + 1}, tier ${tier.name}: ${this.names(tier.reviewers)}`, `within ${durationText(tier.timeoutMs)}`], timeoutMs: tier.timeoutMs })),
      ];
      this.chart.edge(firsts[i]!, next, 'approves');
      this.handOffs(firsts[i]!, step.timeoutMs, holders, startDepth, 'no decision');
    });
    return firsts[0]!;
  }

  /** Everyone at once, then each tier joins the group; returns the group. */
  private group(reviewers: string[], decideWithinMs: number, quorum: string, reminders?: string): string {
    const group = this.chart.node('box', `all at once: ${this.names(reviewers)}`, `decide within ${durationText(decideWithinMs)}`);
    if (reminders) this.chart.edge(group, group, reminders, true);
    const joins = this.plan.tiers.map((tier) => ({ label: [`tier ${tier.name} joins: ${this.names(tier.reviewers)}`, `decide within ${durationText(tier.timeoutMs)}`], timeoutMs: tier.timeoutMs }));
    this.chart.edge(group, this.passed, quorum);
    this.handOffs(group, decideWithinMs, joins, 0, 'no quorum');
    return group;
  }

  /**
   * Timeout edges from `first` through `holders` to the exhausted action. Depth counts from the
   * quickest way here (nothing handed off before), so a holder beyond the maximum depth is never drawn.
   */
  private handOffs(first: string, timeoutMs: number, holders: Array<{ label: string[]; timeoutMs: number }>, startDepth: number, missed: string): void {
    let from = first;
    let waited = timeoutMs;
    for (const [i, holder] of holders.entries()) {
      if (startDepth + i + 1 > this.plan.maxDepth) {
        this.chart.edge(from, this.exhausted, `${missed} in ${durationText(waited)}: maximum depth ${this.plan.maxDepth}`, true);
        return;
      }
      const node = this.chart.node('box', ...holder.label);
      this.chart.edge(from, node, `${missed} in ${durationText(waited)}`, true);
      [from, waited] = [node, holder.timeoutMs];
    }
    this.chart.edge(from, this.exhausted, `${missed} in ${durationText(waited)}: nobody left`, true);
  }
}

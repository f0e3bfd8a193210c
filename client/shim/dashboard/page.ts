import { overrideAlertShare } from '../../../domain/metrics/compute.js';
import type { MetricsQuery } from '../../../domain/metrics/query.js';
import type { GateFigures, GateReport, MetricsReport } from '../../../domain/metrics/report.js';
import { loadSvg, outcomesByWeekSvg, resolutionHistogramSvg } from './charts.js';
import { changeText, durationText, type FigureKind, figureText, instantText } from './figure-text.js';
import { escapeHtml } from '../html-text.js';
import { layout } from './layout.js';

/** Where the Temporal UI shows a workflow: `<url>/namespaces/<namespace>/workflows/<id>`. */
export interface TemporalUi {
  url: string;
  namespace: string;
}

/** What the dashboard page shows: the report, the query it answers, and who is reading. */
export interface DashboardView {
  report: MetricsReport;
  query: MetricsQuery;
  identity: string;
  temporalUi: TemporalUi;
}

/**
 * Series the charts draw that the report does not define yet: read when a row's current figures
 * carry them, and the chart says it is unavailable otherwise.
 */

interface FigureSpec {
  /** The figure's path in `GateFigures`, as `data-figure` names it. */
  name: string;
  label: string;
  kind: FigureKind;
  /** Which way is an improvement; null when neither is. */
  better: 'lower' | 'higher' | null;
  read: (figures: GateFigures) => number | null;
}

const headlineFigures: FigureSpec[] = [
  { name: 'raised', label: 'Raised', kind: 'count', better: null, read: (f) => f.raised },
  { name: 'ended', label: 'Ended', kind: 'count', better: null, read: (f) => f.ended },
  { name: 'open', label: 'Open', kind: 'count', better: null, read: (f) => f.open },
  { name: 'timeToResolution.p50', label: 'Time to resolution (median)', kind: 'duration', better: 'lower', read: (f) => f.timeToResolution.p50 },
  { name: 'timeToResolution.p90', label: 'Time to resolution (p90)', kind: 'duration', better: 'lower', read: (f) => f.timeToResolution.p90 },
  { name: 'timeToFirstResponse.p50', label: 'First response (median)', kind: 'duration', better: 'lower', read: (f) => f.timeToFirstResponse.p50 },
  { name: 'overrideShare', label: 'Overridden', kind: 'share', better: 'lower', read: (f) => f.overrideShare },
  { name: 'falsePositiveShare', label: 'False positives', kind: 'share', better: 'lower', read: (f) => f.falsePositiveShare },
  { name: 'timeoutShare', label: 'A step timed out', kind: 'share', better: 'lower', read: (f) => f.timeoutShare },
  { name: 'exhaustedShare', label: 'Exhausted', kind: 'share', better: 'lower', read: (f) => f.exhaustedShare },
  { name: 'rollbackShare', label: 'Rolled back', kind: 'share', better: 'lower', read: (f) => f.rollbackShare },
  { name: 'costOfDelay', label: 'Cost of delay', kind: 'cost', better: 'lower', read: (f) => f.costOfDelay },
  { name: 'routingAccuracy', label: 'Routing accuracy', kind: 'share', better: 'higher', read: (f) => f.routingAccuracy },
  { name: 'satisfaction.average', label: 'Satisfaction', kind: 'rating', better: 'higher', read: (f) => f.satisfaction.average },
];

/** A shadow gate beside the team's own way of deciding (shadow rows only). */
const shadowFigures: FigureSpec[] = [
  { name: 'shadow.decidedElsewhere', label: "Decided the team's own way", kind: 'count', better: null, read: (f) => f.shadow?.decidedElsewhere ?? null },
  { name: 'shadow.teamResolution.p50', label: "The team's own way took (median)", kind: 'duration', better: 'lower', read: (f) => f.shadow?.teamResolution.p50 ?? null },
  { name: 'shadow.escalatorExhausted', label: 'Shadow runs that ran out of people first', kind: 'count', better: 'lower', read: (f) => f.shadow?.escalatorExhausted ?? null },
  { name: 'shadow.wouldHaveAsked', label: 'People Escalator would have asked (per run)', kind: 'index', better: null, read: (f) => f.shadow?.wouldHaveAsked ?? null },
];

const loadFigures: FigureSpec[] = [
  { name: 'topResponderShare', label: "Busiest decider's share", kind: 'share', better: 'lower', read: (f) => f.topResponderShare },
  { name: 'concentration', label: 'Concentration (HHI, 1 = one person)', kind: 'index', better: 'lower', read: (f) => f.concentration },
];

/**
 * The dashboard: a card per row of the report with its figures and their change from the window
 * before, the override alert, the charts, the load per person and the slowest escalations linked to
 * the Temporal UI. Every string of the report is escaped. Each figure's element carries
 * `data-figure="<row>:<name>"` (the previous window's: `<row>:previous.<name>`) and `data-value`,
 * the exact number of the report (empty for null); `<row>` is the row's key, followed by
 * `[shadow]` or `[pilot]` for the figures of a piloted gate.
 */
export function dashboardPage(view: DashboardView): string {
  const { report } = view;
  const rows = report.rows.map((row, index) => gateCard(row, index, view.temporalUi)).join('\n');
  const body = `
<header>
  <h1>Escalations per ${escapeHtml(report.groupBy)}</h1>
  <p class="meta">Raised <time datetime="${escapeHtml(report.window.from)}">${escapeHtml(instantText(report.window.from))}</time> to <time datetime="${escapeHtml(report.window.to)}">${escapeHtml(instantText(report.window.to))}</time>; changes are against ${escapeHtml(instantText(report.previousWindow.from))} to ${escapeHtml(instantText(report.previousWindow.to))}. Signed in as <strong>${escapeHtml(view.identity)}</strong>.</p>
</header>
${filterForm(view.query)}
${report.rows.length ? `<nav aria-label="Rows"><ul>${report.rows.map((row, index) => `<li><a href="#row-${index}">${escapeHtml(rowLabel(row))}</a></li>`).join('')}</ul></nav>` : ''}
${report.rows.length ? `<div class="cards">\n${rows}\n</div>` : '<p class="missing">No escalation was raised in this window.</p>'}`;
  return layout(`Escalations per ${report.groupBy}`, body);
}

function gateCard(row: GateReport, index: number, temporalUi: TemporalUi): string {
  const key = figureKey(row);
  const { current } = row;
  return `<article class="card" id="row-${index}" data-row="${escapeHtml(key)}">
<header><h2>${escapeHtml(row.key)}</h2>${row.mode === 'live' ? '' : `<span class="mode">${escapeHtml(row.mode)}: kept apart from live figures</span>`}</header>
${current.overrideAlert ? overrideAlert(key, current) : ''}
<dl class="figures">${headlineFigures.map((spec) => figure(key, spec, row)).join('')}</dl>
${current.shadow ? `<h3>Beside the team's own way</h3>\n<dl class="figures">${shadowFigures.map((spec) => figure(key, spec, row)).join('')}</dl>` : ''}
<h3>Outcomes</h3>
${outcomeList(key, current.outcomes)}
<h3>Time to resolution</h3>
${chartOrNote(current.resolutionHistogram.some((bucket) => bucket.count > 0) ? current.resolutionHistogram : [], resolutionHistogramSvg, 'Ended escalations by time to resolution')}
<h3>Outcomes per week</h3>
${chartOrNote(current.outcomesByWeek, outcomesByWeekSvg, 'Ended escalations per week by outcome')}
<h3>Load per person</h3>
<dl class="figures">${loadFigures.map((spec) => figure(key, spec, row)).join('')}</dl>
${loadSection(key, current.load)}
<h3>Slowest escalations</h3>
${slowestTable(key, row.slowest, temporalUi)}
</article>`;
}

function overrideAlert(key: string, figures: GateFigures): string {
  return `<p class="alert" role="alert" data-figure="${escapeHtml(`${key}:overrideAlert`)}" data-value="true"><strong>Override alert:</strong> ${escapeHtml(figureText('share', figures.overrideShare))} of the ended escalations were overridden, above ${figureText('share', overrideAlertShare)}: the gate's thresholds are likely too strict.</p>`;
}

function figure(key: string, spec: FigureSpec, row: GateReport): string {
  const current = spec.read(row.current);
  const previous = spec.read(row.previous);
  return `<div><dt>${escapeHtml(spec.label)}</dt><dd>${figureValue(`${key}:${spec.name}`, current, figureText(spec.kind, current))}${trend(key, spec, current, previous)}</dd></div>`;
}

function trend(key: string, spec: FigureSpec, current: number | null, previous: number | null): string {
  let text: string;
  let tone: string;
  if (previous === null) [text, tone] = ['none before', 'neutral'];
  else if (current === null) [text, tone] = [`was ${figureText(spec.kind, previous)}`, 'neutral'];
  else if (current === previous) [text, tone] = [`same as before`, 'same'];
  else {
    const up = current > previous;
    const improved = spec.better === null ? null : (spec.better === 'higher') === up;
    text = `${up ? '↑' : '↓'} ${changeText(spec.kind, current, previous)}, was ${figureText(spec.kind, previous)}`;
    tone = improved === null ? 'neutral' : improved ? 'better' : 'worse';
  }
  return `<span class="trend ${tone}" data-figure="${escapeHtml(`${key}:previous.${spec.name}`)}" data-value="${previous ?? ''}">${escapeHtml(text)}</span>`;
}

function figureValue(name: string, value: number | null, text: string): string {
  return `<span data-figure="${escapeHtml(name)}" data-value="${value ?? ''}">${escapeHtml(text)}</span>`;
}

function outcomeList(key: string, outcomes: Record<string, number>): string {
  const entries = Object.entries(outcomes).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return '<p class="missing">None ended in this window.</p>';
  return `<ul class="outcomes">${entries.map(([outcome, count]) => `<li>${escapeHtml(outcome)}: <strong>${figureValue(`${key}:outcomes.${outcome}`, count, String(count))}</strong></li>`).join('')}</ul>`;
}

function chartOrNote<T>(series: readonly T[], draw: (series: readonly T[]) => string, caption: string): string {
  if (!series.length) return '<p class="missing">Nothing to draw in this window.</p>';
  return `<figure role="img" aria-label="${escapeHtml(caption)}">${draw(series)}</figure>`;
}

function loadSection(key: string, load: GateFigures['load']): string {
  if (!load.length) return '<p class="missing">Nobody was asked in this window.</p>';
  const people = [...load].sort((a, b) => b.asked - a.asked || a.person.localeCompare(b.person));
  const rows = people
    .map((person) => {
      const name = `${key}:load.${person.person}`;
      return `<tr><th scope="row">${escapeHtml(person.person)}</th><td class="number">${figureValue(`${name}.asked`, person.asked, String(person.asked))}</td><td class="number">${figureValue(`${name}.decided`, person.decided, String(person.decided))}</td><td class="number">${figureValue(`${name}.outsideWorkingHours`, person.outsideWorkingHours, String(person.outsideWorkingHours))}</td></tr>`;
    })
    .join('');
  return `<figure role="img" aria-label="Load per person">${loadSvg(load)}</figure>
<table><thead><tr><th scope="col">Person</th><th scope="col" class="number">Asked</th><th scope="col" class="number">Decided</th><th scope="col" class="number">Outside hours</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function slowestTable(key: string, slowest: GateReport['slowest'], temporalUi: TemporalUi): string {
  if (!slowest.length) return '<p class="missing">No escalation in this window.</p>';
  const rows = slowest
    .map((escalation, index) => {
      const link = `<a href="${escapeHtml(workflowUrl(temporalUi, escalation.escalationId))}" rel="noreferrer">${escapeHtml(escalation.escalationId)}</a>`;
      const ended = escalation.endedAt ? escapeHtml(instantText(escalation.endedAt)) : '<em>open</em>';
      const waited = figureValue(`${key}:slowest.${index}.waitedMs`, escalation.waitedMs, durationText(escalation.waitedMs));
      return `<tr><td class="id" data-label="Escalation">${link}</td><td data-label="Raised">${escapeHtml(instantText(escalation.startedAt))}</td><td data-label="Ended">${ended}</td><td class="number" data-label="Waited">${waited}</td><td data-label="Outcome">${escapeHtml(escalation.outcome ?? '—')}</td></tr>`;
    })
    .join('');
  return `<table class="stack"><thead><tr><th scope="col">Escalation</th><th scope="col">Raised</th><th scope="col">Ended</th><th scope="col" class="number">Waited</th><th scope="col">Outcome</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The Temporal UI's page of the escalation's workflow (its id is the escalation id). */
export function workflowUrl(temporalUi: TemporalUi, escalationId: string): string {
  return `${temporalUi.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(temporalUi.namespace)}/workflows/${encodeURIComponent(escalationId)}`;
}

/** The query as a form: GET back to /dashboard, so changing the window needs no script. */
function filterForm(query: MetricsQuery): string {
  const selected = (value: string, chosen: string | undefined) => (value === chosen ? ' selected' : '');
  const window = query.from ? undefined : (query.window ?? '30d');
  return `<form class="filter" method="get" action="/dashboard">
  <label>Window<select name="window">${['7d', '30d', '90d'].map((option) => `<option${selected(option, window)}>${option}</option>`).join('')}</select></label>
  <label>Group by<select name="groupBy">${['gate', 'service', 'team', 'model'].map((option) => `<option${selected(option, query.groupBy)}>${option}</option>`).join('')}</select></label>
  <label>Gate<input name="gate" value="${escapeHtml(query.gate ?? '')}" placeholder="all" maxlength="200" size="16"></label>
  <button type="submit">Show</button>
</form>`;
}

function figureKey(row: GateReport): string {
  return row.mode === 'live' ? row.key : `${row.key}[${row.mode}]`;
}

function rowLabel(row: GateReport): string {
  return row.mode === 'live' ? row.key : `${row.key} (${row.mode})`;
}

// The series are not in the report's schema yet: take them only when they have the shape the charts read.


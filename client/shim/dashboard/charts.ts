import { BarChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent } from 'echarts/components';
import { type EChartsCoreOption, init, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { GateFigures } from '../../../domain/metrics/report.js';
import { durationText } from './figure-text.js';

// ECharts renders on the server to an SVG string (no DOM, no script in the page); only the pieces
// the dashboard draws are loaded. Every label ECharts writes into the SVG is escaped by it.
use([BarChart, GridComponent, LegendComponent, AriaComponent, SVGRenderer]);

/** One bar of the time-to-resolution histogram, as the metrics report carries it. */
type ResolutionBucket = GateFigures['resolutionHistogram'][number];

/** The ended escalations of one week, by outcome, as the metrics report carries them. */
type WeekOutcomes = GateFigures['outcomesByWeek'][number];

/** The same colour for an outcome in every chart; outcomes not listed take ECharts' palette. */
const outcomeColours: Record<string, string> = {
  passed: '#2e7d32',
  recovered: '#00897b',
  overridden: '#ef6c00',
  blocked: '#c62828',
  'rolled-back': '#6a1b9a',
  withdrawn: '#757575',
};

// Drawn small and scaled by CSS: at 400 px wide the labels stay legible on a 375 px phone.
const width = 400;
const textStyle = { fontFamily: 'system-ui, sans-serif', fontSize: 12 };

/** Bars of ended escalations by time to resolution, labelled `≤ 15m` … `> 1d`. */
export function resolutionHistogramSvg(buckets: readonly ResolutionBucket[]): string {
  const labels = buckets.map((bucket, index) => (bucket.upToMs !== null ? `≤ ${durationText(bucket.upToMs)}` : `> ${durationText(buckets[index - 1]?.upToMs ?? 0)}`));
  return svgOf(260, 'Ended escalations by time to resolution', {
    grid: gridBelow(24),
    xAxis: { type: 'category', data: labels, axisLabel: { interval: 0, hideOverlap: true } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', name: 'Ended escalations', data: buckets.map((bucket) => bucket.count), itemStyle: { color: '#1565c0' }, label: { show: true, position: 'top' } }],
  });
}

/** Stacked bars of ended escalations per week, one colour per outcome. */
export function outcomesByWeekSvg(weeks: readonly WeekOutcomes[]): string {
  const outcomes = [...new Set(weeks.flatMap((week) => Object.keys(week.outcomes)))].sort();
  return svgOf(280, 'Ended escalations per week by outcome', {
    legend: { top: 0, itemGap: 24, textStyle },
    grid: gridBelow(40),
    xAxis: { type: 'category', data: weeks.map((week) => week.weekStart), axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', minInterval: 1 },
    series: outcomes.map((outcome) => ({
      type: 'bar',
      name: outcome,
      stack: 'outcomes',
      data: weeks.map((week) => week.outcomes[outcome] ?? 0),
      ...(outcomeColours[outcome] ? { itemStyle: { color: outcomeColours[outcome] } } : {}),
    })),
  });
}

/** Horizontal bars per person: times asked, decisions, and asks outside their working hours. The busiest first, at most `limit`. */
export function loadSvg(load: GateFigures['load'], limit = 12): string {
  const shown = [...load].sort((a, b) => b.asked - a.asked || a.person.localeCompare(b.person)).slice(0, limit).reverse();
  return svgOf(64 + shown.length * 32, 'Load per person', {
    legend: { top: 0, itemGap: 24, textStyle },
    // Names get a fixed margin: ECharts cannot measure text without a canvas, so it would not reserve enough.
    grid: { left: 96, right: 24, top: 36, bottom: 24 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: shown.map((person) => person.person), axisLabel: { width: 88, overflow: 'truncate' } },
    series: [
      { type: 'bar', name: 'asked', data: shown.map((person) => person.asked), itemStyle: { color: '#90caf9' } },
      { type: 'bar', name: 'decided', data: shown.map((person) => person.decided), itemStyle: { color: '#1565c0' } },
      { type: 'bar', name: 'outside working hours', data: shown.map((person) => person.outsideWorkingHours), itemStyle: { color: '#ef6c00' } },
    ],
  });
}

/** The plot area `top` pixels down (below a legend), its axis labels kept inside the chart. */
function gridBelow(top: number): EChartsCoreOption {
  return { left: 8, right: 24, top, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' };
}

function svgOf(height: number, description: string, option: EChartsCoreOption): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle, aria: { enabled: true, label: { description } }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

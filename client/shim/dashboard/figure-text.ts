/** How a figure is read, which decides how it is written and how its change is put. */
export type FigureKind = 'count' | 'share' | 'duration' | 'index' | 'cost' | 'rating';

/**
 * A figure as the dashboard writes it; null is "—". Shares are percentages (one decimal at most),
 * durations their two largest units (`1h 5m`), ratings out of 5. Rounded for reading: the exact
 * value is the element's `data-value`.
 */
export function figureText(kind: FigureKind, value: number | null): string {
  if (value === null) return '—';
  switch (kind) {
    case 'count':
      return String(value);
    case 'share':
      return `${trimmed(value * 100, 1)}%`;
    case 'duration':
      return durationText(value);
    case 'index':
      return value.toFixed(2);
    case 'cost':
      return trimmed(value, 2);
    case 'rating':
      return `${value.toFixed(1)} / 5`;
  }
}

/** The change from `previous` to `current` in the figure's own unit: percentage points for shares. */
export function changeText(kind: FigureKind, current: number, previous: number): string {
  const delta = Math.abs(current - previous);
  if (kind === 'share') return `${trimmed(delta * 100, 1)} pp`;
  return figureText(kind, delta).replace(' / 5', '');
}

const units: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** Milliseconds as their two largest whole units: `45s`, `3m 20s`, `1h 5m`, `2d 3h`; under a second, `<1s`. */
export function durationText(millis: number): string {
  if (millis < 1000) return millis === 0 ? '0s' : '<1s';
  let rest = Math.floor(millis / 1000) * 1000;
  const parts: string[] = [];
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    } else if (parts.length) break;
  }
  return parts.join(' ');
}

/** An ISO 8601 instant as `2025-03-01 14:05 UTC`: the same text whatever the shim's time zone. */
export function instantText(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function trimmed(value: number, decimals: number): string {
  return String(Number(value.toFixed(decimals)));
}

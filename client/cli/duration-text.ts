const units: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** Milliseconds as a policy would write them, exactly: `15m`, `1h15m`, `90000` → `1m30s`. */
export function durationText(millis: number): string {
  if (millis < 1000) return `${Math.round(millis)}ms`;
  let rest = Math.round(millis / 1000) * 1000;
  let text = '';
  for (const [unit, size] of units) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}

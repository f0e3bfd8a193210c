import Table from 'cli-table3';

/** Writes one JSON document to stdout: what `--json` promises scripts. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a line of human-readable output to stdout. */
export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** A bordered table with a header row; cells are plain text (no colours, so output pipes cleanly). */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const rendered = new Table({ head, style: { head: [], border: [] } });
  rendered.push(...rows);
  return rendered.toString();
}

/** A two-column table of labels and values; rows whose value is undefined are left out. */
export function detailsTable(rows: Array<[string, string | number | undefined]>): string {
  const rendered = new Table({ style: { head: [], border: [] } });
  for (const [label, value] of rows) {
    if (value !== undefined) rendered.push({ [label]: String(value) });
  }
  return rendered.toString();
}

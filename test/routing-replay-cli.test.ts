import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayReport } from '../domain/routing-replay/replay.js';
import { escalator, json } from './helpers/cli-run.js';

/** A tiny review history: 1 reviews the UI, 2 the network code, 3 approves the most but only docs; each day's four changes wait for the day before. */
function history(): string {
  const changes: string[] = [];
  const add = (day: number, files: string[], approver: number) =>
    changes.push(
      JSON.stringify({
        status: 'M',
        changeId: changes.length + 1,
        project: 'platform/demo',
        files,
        submit_date: `2011-01-${String(day).padStart(2, '0')} 10:00:00.000000000`,
        close_date: `2011-01-${String(day).padStart(2, '0')} 12:00:00.000000000`,
        approve_history: [{ userId: approver, approve_value: 2, grant_date: `2011-01-${String(day).padStart(2, '0')} 11:00:00.000000000` }],
      }),
    );
  for (let day = 1; day <= 20; day++) {
    add(day, [`ui/widget/W${day}.java`], 1);
    add(day, [`net/http/H${day}.java`], 2);
    add(day, [`docs/D${day}.md`], 3);
    add(day, [`docs/E${day}.md`], 3);
  }
  return `${changes.join('\n')}\n`;
}

interface ReplayJson extends ReplayReport {
  elapsedMs: number;
  from: string | null;
  models: Array<{ ranker: string; retrainings: number; kept: number; finalModel: { version: string; weights: Record<string, number> } | null }>;
}

describe('escalator routing replay', () => {
  let dir: string;
  let dataset: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-routing-replay-'));
    dataset = join(dir, 'history.json');
    await writeFile(dataset, history());
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the baselines and Escalator’s routing through the outcome store on the same changes, Escalator ahead of the frequency baseline', async () => {
    const run = await escalator(['routing', 'replay', '--dataset', dataset, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = json<ReplayJson>(run);
    expect(report.changes).toEqual({ total: 80, scored: 76, withoutHistory: 4, approverUnseen: 0 });
    expect(report.results.map((result) => result.ranker)).toEqual(['frequency', 'revfinder', 'path expertise', 'escalator (store, fitted)', 'escalator (spread within 20%)']);
    const [frequency, revfinder, expertise, throughStore] = report.results.map((result) => result.accuracy);
    expect(expertise!.top[1]).toBeGreaterThan(0.9);
    // The store replay scores the same 76 changes through the routing activity and ranks them as well.
    expect(throughStore!.changes).toBe(76);
    expect(throughStore!.top[1]).toBeGreaterThan(0.9);
    expect(revfinder!.top[1]).toBeGreaterThan(frequency!.top[1]);
    expect(frequency!.firstChoiceGini).toBeGreaterThan(throughStore!.firstChoiceGini);
  });

  it('retrains weekly in history time, as the Schedule would, and reports the weights the fits chose', async () => {
    const report = json<ReplayJson>(await escalator(['routing', 'replay', '--dataset', dataset, '--no-spread', '--json']));
    expect(report.results.map((result) => result.ranker)).toEqual(['frequency', 'revfinder', 'path expertise', 'escalator (store, fitted)']);
    // 20 days of history: retrainings on days 8 and 15.
    expect(report.models).toHaveLength(1);
    expect(report.models[0]).toMatchObject({ ranker: 'escalator (store, fitted)', retrainings: 2 });
    if (report.models[0]!.finalModel) expect(report.models[0]!.finalModel.weights.expertise).toBeGreaterThan(0);
  });

  it('scores only the changes from --from', async () => {
    const report = json<ReplayJson>(await escalator(['routing', 'replay', '--dataset', dataset, '--from', '2011-01-11', '--json']));
    expect(report.from).toBe('2011-01-11T00:00:00.000Z');
    expect(report.changes.scored).toBe(40);
    expect(report.results[2]!.accuracy.top[1]).toBe(1);
    expect(report.results[3]!.accuracy.changes).toBe(40);
  });

  it('prints a table for people', async () => {
    const run = await escalator(['routing', 'replay', '--dataset', dataset]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/76 of 80 changes scored, 3 reviewers; 4 left out/);
    expect(run.stdout).toMatch(/│ path expertise\s+│ 100\.0%/);
    expect(run.stdout).toMatch(/│ escalator \(store, fitted\)\s+│ \d+\.\d%/);
    expect(run.stdout).toMatch(/escalator \(store, fitted\): 2 retraining\(s\)/);
  });

  it('names the file, the line and the problem of a bad dataset (exit 2)', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, `${history().split('\n').slice(0, 2).join('\n')}\n{"changeId": 3, "project": "p", "files": []}\n`);
    const run = await escalator(['routing', 'replay', '--dataset', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}:3`);
    expect(run.stderr).toContain('files: a change needs at least one file');
  });

  it('refuses a missing dataset and an unreadable --from as usage errors', async () => {
    const missing = await escalator(['routing', 'replay', '--dataset', join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    const badDate = await escalator(['routing', 'replay', '--dataset', dataset, '--from', 'soon']);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('a date such as 2010-10-01');
  });
});

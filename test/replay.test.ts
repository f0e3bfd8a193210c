import { readdir, readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { enginePatch } from '../workflows/escalation.js';
import { quietRuntime } from './helpers/quiet-runtime.js';

const historiesDir = new URL('./fixtures/histories/', import.meta.url);
// The patch id as it appears in a history's marker details (base64 of the JSON string).
const enginePatchMarker = Buffer.from(JSON.stringify(enginePatch)).toString('base64');

describe('recorded histories', () => {
  it('replay without a nondeterminism error on the current workflow code', async () => {
    quietRuntime();
    const files = (await readdir(historiesDir)).filter((name) => name.endsWith('.json')).sort();
    // The same scenarios twice: as run before the engine (still in flight when it shipped, replayed
    // on workflows/legacy/) and as run by the engine's interpreter.
    const scenarios = [
      'dynamic-cold-start-reassigned',
      'dynamic-fallback',
      'no-policy-blocked',
      'parallel-break-glass',
      'parallel-quiet-hours-stand-in',
      'parallel-quorum',
      'parallel-renotify-exhausted',
      'sequential-exhausted-rollback',
      'sequential-passed',
      'sequential-recovered',
      'sequential-rejected',
      'sequential-rollback-failed',
      'sequential-withdrawn-email-cancelled',
      'sequential-withdrawn',
    ];
    // Runs of what only the engine does: a pipeline reported to (check run, deployment verdict), a ticket, a shadow run.
    const engineOnly = ['github-deployment-approved', 'jira-ticket-exhausted', 'shadow-exhausted'];
    expect(files).toEqual([...[...scenarios, ...engineOnly].map((name) => `engine-${name}.json`), ...scenarios.map((name) => `${name}.json`)].sort());
    for (const file of files) {
      const recordedOnEngine = (await readFile(new URL(file, historiesDir), 'utf8')).includes(enginePatchMarker);
      expect(recordedOnEngine, file).toBe(file.startsWith('engine-'));
    }
    async function* histories() {
      for (const file of files) {
        yield { workflowId: file, history: historyFromJSON(JSON.parse(await readFile(new URL(file, historiesDir), 'utf8'))) };
      }
    }
    const results: Array<{ workflowId: string; error: unknown }> = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories())) {
      results.push({ workflowId: result.workflowId, error: result.error });
    }
    expect(results).toEqual(files.map((workflowId) => ({ workflowId, error: undefined })));
  });
});

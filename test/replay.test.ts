import { readdir, readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { quietRuntime } from './helpers/quiet-runtime.js';

const historiesDir = new URL('./fixtures/histories/', import.meta.url);

describe('recorded histories', () => {
  it('replay without a nondeterminism error on the current workflow code', async () => {
    quietRuntime();
    const files = (await readdir(historiesDir)).filter((name) => name.endsWith('.json')).sort();
    expect(files).toEqual([
      'dynamic-cold-start-reassigned.json',
      'dynamic-fallback.json',
      'no-policy-blocked.json',
      'parallel-break-glass.json',
      'parallel-quiet-hours-stand-in.json',
      'parallel-quorum.json',
      'parallel-renotify-exhausted.json',
      'sequential-exhausted-rollback.json',
      'sequential-passed.json',
      'sequential-recovered.json',
      'sequential-rejected.json',
      'sequential-rollback-failed.json',
      'sequential-withdrawn-email-cancelled.json',
      'sequential-withdrawn.json',
    ]);
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

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorkerProcess } from './helpers/worker-process.js';

describe('worker start-up', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-startup-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('stops with the policy file, the path inside it and the problem when the policy is invalid', async () => {
    const policyFile = join(dir, 'broken-policy.yaml');
    await writeFile(policyFile, 'version: 1\npeople:\n  alice: { email: alice@example.com }\ngates:\n  build:\n    model: sequential\n    chain:\n      - { reviewers: [alice, zed], timeout: 1h }\n');
    const failure = await startWorkerProcess({ TEMPORAL_ADDRESS: inject('temporalAddress'), ESCALATOR_POLICY_FILE: policyFile }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toContain('worker exited with 1 before starting');
    expect(failure).toContain(`invalid policy ${policyFile}:`);
    expect(failure).toContain(`${policyFile}:8:30 at gates.build.chain[0].reviewers[1]: refers to "zed", who is not under people`);
  });

  it('stops naming each invalid environment variable', async () => {
    const failure = await startWorkerProcess({ ESCALATOR_SMTP_URL: 'http://mail.example.com', ESCALATOR_PUBLIC_URL: 'not a url' }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toContain('invalid worker configuration:');
    expect(failure).toMatch(/ESCALATOR_SMTP_URL: /);
    expect(failure).toMatch(/ESCALATOR_PUBLIC_URL: /);
  });
});

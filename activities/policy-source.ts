import { readFileSync, statSync } from 'node:fs';
import { log } from '@temporalio/activity';
import { type ParsedPolicy, parsePolicy } from '../domain/policy-parser.js';

/**
 * The worker's policy file. Re-read when it changes on disk, so new escalations see edits; a broken
 * edit is logged and the last good version stays in force, so a typo never stops escalations.
 */
export class PolicySource {
  private loaded: ParsedPolicy;
  private loadedMtimeMs: number;

  /** Reads and validates the file now; throws `PolicyError` so a bad policy stops start-up. */
  constructor(readonly file: string) {
    this.loadedMtimeMs = statSync(file).mtimeMs;
    this.loaded = parsePolicy(readFileSync(file, 'utf8'), file);
  }

  current(): ParsedPolicy {
    const mtimeMs = statSync(this.file).mtimeMs;
    if (mtimeMs !== this.loadedMtimeMs) {
      this.loadedMtimeMs = mtimeMs;
      try {
        this.loaded = parsePolicy(readFileSync(this.file, 'utf8'), this.file);
      } catch (error) {
        log.error('policy file changed but is invalid; keeping the last valid version', { error: String(error), version: this.loaded.version });
      }
    }
    return this.loaded;
  }
}

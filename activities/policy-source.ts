import { readFileSync } from 'node:fs';
import { log } from '@temporalio/activity';
import { type ParsedPolicy, parsePolicy } from '../domain/policy-parser.js';

/**
 * The worker's policy file. Re-read on every snapshot, so new escalations see edits; a broken edit
 * is logged and the last valid version stays in force, so a typo never stops escalations.
 */
export class PolicySource {
  private loaded: ParsedPolicy;
  private loadedText: string;

  /** Reads and validates the file now; throws `PolicyError` so a bad policy stops start-up. */
  constructor(readonly file: string) {
    this.loadedText = readFileSync(file, 'utf8');
    this.loaded = parsePolicy(this.loadedText, file);
  }

  current(): ParsedPolicy {
    const text = readFileSync(this.file, 'utf8');
    if (text !== this.loadedText) {
      this.loadedText = text;
      try {
        this.loaded = parsePolicy(text, this.file);
      } catch (error) {
        log.error('policy file changed but is invalid; keeping the last valid version', { error: String(error), version: this.loaded.version });
      }
    }
    return this.loaded;
  }
}

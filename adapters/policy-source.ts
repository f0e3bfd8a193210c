import { readFileSync } from 'node:fs';
import { Context, log } from '@temporalio/activity';
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

  /** The person whose `slack` id this is, in the current policy. */
  personWithSlackId(slackUserId: string): string | undefined {
    return Object.entries(this.current().policy.people).find(([, person]) => person.slack === slackUserId)?.[0];
  }

  current(): ParsedPolicy {
    const text = readFileSync(this.file, 'utf8');
    if (text !== this.loadedText) {
      this.loadedText = text;
      try {
        this.loaded = parsePolicy(text, this.file);
      } catch (error) {
        const fields = { error: String(error), version: this.loaded.version };
        // The shim reads the policy too, outside any activity, where the activity logger is unavailable.
        if (inActivity()) log.error('policy file changed but is invalid; keeping the last valid version', fields);
        else console.error(JSON.stringify({ level: 'ERROR', msg: 'policy file changed but is invalid; keeping the last valid version', ...fields }));
      }
    }
    return this.loaded;
  }
}

function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}

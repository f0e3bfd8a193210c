import { z } from 'zod';
import { ReviewHistoryError } from './review-history-error.js';

/** Gerrit's timestamp as the RevFinder data writes it: `2012-01-27 19:16:13.571000000`, in UTC. */
const gerritTime = z.string().regex(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?$/, 'a date such as 2012-01-27 19:16:13.571')
  .refine((date) => !Number.isNaN(epochMs(date)), 'not a calendar date');

const approvalLine = z.object({
  userId: z.union([z.number().int(), z.string().min(1)]),
  approve_value: z.number(),
  grant_date: gerritTime,
});

const changeLine = z.object({
  changeId: z.union([z.number().int(), z.string().min(1)]),
  project: z.string(),
  files: z.array(z.string().min(1)).min(1, 'a change needs at least one file'),
  submit_date: gerritTime,
  close_date: gerritTime,
  approve_history: z.array(approvalLine),
});

/** One approval of a reviewed change. */
export interface Approval {
  reviewer: string;
  /** Epoch milliseconds. The dataset's placeholder date (year 1900) is replaced by the change's close date. */
  at: number;
}

/** A change as the replay sees it: what was changed, when it was submitted and who approved it when. */
export interface ReviewedChange {
  id: string;
  project: string;
  files: string[];
  /** Epoch milliseconds. */
  submittedAt: number;
  closedAt: number;
  /** Approvals with a positive value (Gerrit's +1/+2 code review); rejections are not the truth. */
  approvals: Approval[];
}

/**
 * Reads the JSON Lines review history of RevFinder's Gerrit datasets (one change per line; blank lines
 * skipped). Throws `ReviewHistoryError` naming the first line that is not valid JSON or not a change.
 */
export function parseReviewHistory(text: string): ReviewedChange[] {
  const changes: ReviewedChange[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new ReviewHistoryError(line, `not JSON (${(error as Error).message})`);
    }
    const parsed = changeLine.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ReviewHistoryError(line, `${issue.path.join('.') || 'the line'}: ${issue.message}`);
    }
    const change = parsed.data;
    const closedAt = epochMs(change.close_date);
    changes.push({
      id: String(change.changeId),
      project: change.project,
      files: change.files,
      submittedAt: epochMs(change.submit_date),
      closedAt,
      approvals: change.approve_history
        .filter((approval) => approval.approve_value > 0)
        .map((approval) => ({ reviewer: String(approval.userId), at: isPlaceholder(approval.grant_date) ? closedAt : epochMs(approval.grant_date) })),
    });
  });
  return changes;
}

// Two approvals in the Android data carry 1900-01-01, Gerrit's "unknown"; the change's close date bounds the real one.
function isPlaceholder(date: string): boolean {
  return date.startsWith('1900-');
}

function epochMs(date: string): number {
  const [day, time = '00:00:00'] = date.replace('Z', '').split(/[ T]/);
  const [clock, fraction = ''] = time.split('.');
  return Date.parse(`${day}T${clock}.${fraction.padEnd(3, '0').slice(0, 3)}Z`);
}

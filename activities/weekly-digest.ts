import { log } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import { createGateMetrics } from '../adapters/gate-metrics.js';
import type { OutcomeStore } from '../adapters/outcome-store/store.js';
import { digestText, digestWeek, teamDigests } from '../domain/metrics/digest.js';
import { windowsOf } from '../domain/metrics/query.js';
import type { Policy } from '../domain/policy.js';

export interface DigestDependencies {
  store: Pick<OutcomeStore, 'metricFacts' | 'deliveryTaken' | 'takeDelivery'>;
  policy: () => Policy;
  mail: Transporter;
  from: string;
  publicUrl: string;
}

export interface DigestResult {
  week: string;
  /** Leads emailed by this run. */
  sent: string[];
  /** Leads whose digest for this week went out before (a re-run, or a retried attempt that got that far). */
  alreadySent: string[];
}

/** The ledger source a sent digest is kept under, with `<week>:<lead>` as its id. */
const ledger = 'weekly-digest';

/**
 * Emails each team lead the week's figures of their gates (the 7 days up to `at`, beside the 7
 * before), with alerts and the slowest escalations. Each (week, lead) is sent once: checked before
 * sending and recorded after, so a retry after a crash between the two sends that one email again,
 * with the same Message-ID, which mail clients drop as a duplicate.
 */
export function createDigestSender(deps: DigestDependencies) {
  return async function sendWeeklyDigest({ at }: { at: string }): Promise<DigestResult> {
    const policy = deps.policy();
    const settings = policy.digest;
    if (!settings) return { week: '', sent: [], alreadySent: [] };
    const now = new Date(at);
    const week = digestWeek(now, settings.timezone ?? policy.timezone);
    const query = { window: '7d' as const, groupBy: 'gate' as const };
    const report = await createGateMetrics({ store: deps.store, policy: () => policy, now: () => now })(query);
    const { current } = windowsOf(query, now);
    const facts = await deps.store.metricFacts({ from: current.from.toISOString(), to: current.to.toISOString() });
    const escalationUrl = (id: string) => `${deps.publicUrl.replace(/\/$/, '')}/v1/escalations/${encodeURIComponent(id)}`;
    const result: DigestResult = { week, sent: [], alreadySent: [] };
    for (const digest of teamDigests(report, facts, policy, settings, week)) {
      const id = `${week}:${digest.lead}`;
      if (await deps.store.deliveryTaken(ledger, id)) {
        result.alreadySent.push(digest.lead);
        continue;
      }
      await deps.mail.sendMail({
        from: deps.from,
        to: digest.email,
        subject: `Escalator weekly digest: ${digest.team}, ${week}${digest.alerts.length ? ` (${digest.alerts.length} need${digest.alerts.length === 1 ? 's' : ''} attention)` : ''}`,
        text: digestText(digest, escalationUrl),
        messageId: `<digest-${week}-${digest.lead}@escalator>`,
        headers: { 'X-Escalator-Digest': `${week} ${digest.team}` },
      });
      await deps.store.takeDelivery(ledger, id, now);
      result.sent.push(digest.lead);
    }
    log.info('weekly digest', { ...result });
    return result;
  };
}

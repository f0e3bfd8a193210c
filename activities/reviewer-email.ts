import { ApplicationFailure } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { ReviewerEmail } from './types.js';

export interface EmailSettings {
  from: string;
  /** Base URL of the HTTP shim, for the links in each email. */
  publicUrl: string;
}

/**
 * Sends the decision request to one reviewer. The Message-ID comes from the workflow, so a retried
 * attempt sends the same message again, recognisable as a duplicate by any mail client.
 */
export function createReviewerEmailer(transport: Transporter, settings: EmailSettings) {
  return async function emailReviewer(email: ReviewerEmail): Promise<{ messageId: string }> {
    const { failure } = email;
    const statusUrl = `${settings.publicUrl.replace(/\/$/, '')}/v1/escalations/${encodeURIComponent(email.escalationId)}`;
    const subject = `[Escalator] ${failure.severity}: ${failure.gate.name} failed on ${failure.service} — your decision (step ${email.step + 1} of ${email.stepCount})`;
    const text = [
      `${failure.gate.name} (${failure.gate.kind}) failed on ${failure.service} in ${failure.repository}.`,
      '',
      `Change: ${failure.change.title} (${failure.change.sha.slice(0, 12)}) by ${failure.change.author}`,
      `Change link: ${failure.change.url}`,
      `Pipeline run ${failure.pipelineRun.id}: ${failure.pipelineRun.url}`,
      `Severity: ${failure.severity}${failure.hotfix ? ', hotfix' : ''}${failure.rollback ? ', rollback' : ''}`,
      '',
      `You are asked ${stageText(email.stage)} at step ${email.step + 1} of ${email.stepCount}. Decide before ${email.deadline};`,
      'after that the step is handed on.',
      email.alsoAsked.length ? `Also asked: ${email.alsoAsked.join(', ')}.` : 'Nobody else is asked at this step.',
      '',
      `Escalation ${email.escalationId}: ${statusUrl}`,
      `Decide: POST ${statusUrl}/decisions with {"decision":"approve"} or {"decision":"reject","comment":"…"} and your token.`,
    ].join('\n');
    try {
      await transport.sendMail({
        from: settings.from,
        to: { name: email.reviewer.name, address: email.reviewer.email },
        subject,
        text,
        messageId: email.messageId,
        headers: { 'X-Escalation-Id': email.escalationId },
      });
    } catch (error) {
      const responseCode = (error as { responseCode?: number }).responseCode;
      // 550/553 and friends: the address itself is refused, a retry cannot help.
      if (responseCode !== undefined && responseCode >= 550 && responseCode <= 553) {
        throw ApplicationFailure.nonRetryable(`SMTP refused ${email.reviewer.email}: ${(error as Error).message}`, 'InvalidRecipient');
      }
      throw error;
    }
    return { messageId: email.messageId };
  };
}

function stageText(stage: ReviewerEmail['stage']): string {
  if (stage.kind === 'backup') return 'as backup';
  if (stage.kind === 'tier') return `as escalation tier "${stage.tier}"`;
  return 'as reviewer';
}

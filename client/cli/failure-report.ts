import { ServiceError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { PolicyError } from '../../domain/policy-error.js';
import { DecisionRefusedError, EscalationNotFoundError, InvalidInputError } from '../errors.js';
import { type ExitCode, exitCodes } from './exit-codes.js';
import { formatPolicyProblem } from './policy-problems.js';
import { TemporalUnreachableError } from './temporal-unreachable-error.js';

/** What a failed command reports: the shim's error shape, so scripts read one format everywhere. */
export interface FailureReport {
  exitCode: ExitCode;
  code: string;
  message: string;
  details: Array<{ path: string; message: string }> | null;
  /** The human form, one or more lines. */
  text: string;
}

const GRPC_UNAVAILABLE = 14;

/** Classifies an error a command threw into an exit code and a message that names what to fix. */
export function failureReportOf(error: unknown): FailureReport {
  if (error instanceof InvalidInputError) {
    const listed = `: ${error.fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`;
    const summary = error.message.endsWith(listed) ? error.message.slice(0, -listed.length) : error.message;
    return {
      exitCode: exitCodes.usage,
      code: 'InvalidInput',
      message: error.message,
      details: error.fields,
      text: [`error: ${summary}`, ...error.fields.map((field) => `  ${field.path}: ${field.message}`)].join('\n'),
    };
  }
  if (error instanceof EscalationNotFoundError) {
    return { exitCode: exitCodes.notFound, code: 'EscalationNotFound', message: error.message, details: null, text: `error: ${error.message}` };
  }
  if (error instanceof DecisionRefusedError) {
    return { exitCode: exitCodes.refused, code: error.code, message: error.message, details: null, text: `refused (${error.code}): ${error.message}` };
  }
  if (error instanceof PolicyError) {
    return {
      exitCode: exitCodes.invalidPolicy,
      code: 'InvalidPolicy',
      message: `invalid policy ${error.file}`,
      details: error.problems.map((problem) => ({ path: problem.path, message: problem.message })),
      text: [`error: invalid policy ${error.file}`, ...error.problems.map((problem) => `  ${formatPolicyProblem(error.file, { ...problem, severity: 'error' })}`)].join('\n'),
    };
  }
  if (error instanceof TemporalUnreachableError || isUnavailable(error)) {
    const message = error instanceof TemporalUnreachableError ? error.message : `cannot reach Temporal: ${(error as Error).message}`;
    return { exitCode: exitCodes.unreachable, code: 'TemporalUnreachable', message, details: null, text: `error: ${message}` };
  }
  if (error instanceof NamespaceNotFoundError) {
    const message = `namespace "${error.namespace}" does not exist on this Temporal server`;
    return { exitCode: exitCodes.usage, code: 'InvalidInput', message, details: [{ path: '--namespace', message }], text: `error: ${message} (--namespace)` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: exitCodes.internal, code: 'Internal', message, details: null, text: `internal error: ${error instanceof Error && process.env.ESCALATOR_DEBUG ? error.stack : message}` };
}

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof ServiceError)) return false;
  return (error.cause as { code?: number } | undefined)?.code === GRPC_UNAVAILABLE;
}

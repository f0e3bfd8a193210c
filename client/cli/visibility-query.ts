import { escalationWorkflowType } from '../../workflows/input.js';
import { AwaitedReviewers, EscalationState, Gate, Service, Severity } from '../../workflows/search-attributes.js';

export interface EscalationFilters {
  taskQueue: string;
  state?: string;
  gate?: string;
  severity?: string;
  reviewer?: string;
  service?: string;
}

/**
 * The visibility query for escalations on one task queue matching every given filter. Values are
 * quoted and escaped, so a filter can never change the query's structure.
 */
export function escalationListQuery(filters: EscalationFilters): string {
  const clauses = [`WorkflowType = ${quoteQueryValue(escalationWorkflowType)}`, `TaskQueue = ${quoteQueryValue(filters.taskQueue)}`];
  const equal = (attribute: string, value: string | undefined) => {
    if (value !== undefined) clauses.push(`${attribute} = ${quoteQueryValue(value)}`);
  };
  equal(EscalationState.name, filters.state);
  equal(Gate.name, filters.gate);
  equal(Severity.name, filters.severity);
  // On a KeywordList attribute `=` means "contains".
  equal(AwaitedReviewers.name, filters.reviewer);
  equal(Service.name, filters.service);
  return clauses.join(' AND ');
}

/** A string literal of Temporal's visibility query language: double-quoted, backslashes and quotes escaped. */
export function quoteQueryValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

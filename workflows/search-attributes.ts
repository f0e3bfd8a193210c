import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes every escalation carries, so operators can find runs in the Temporal UI
 * with queries such as `EscalationState = "waiting" AND Severity = "critical"`.
 * The dev server registers exactly these at start (see scripts/dev-server.ts).
 */
export const Gate = defineSearchAttributeKey('Gate', SearchAttributeType.KEYWORD);
export const Service = defineSearchAttributeKey('Service', SearchAttributeType.KEYWORD);
export const Repository = defineSearchAttributeKey('Repository', SearchAttributeType.KEYWORD);
export const Severity = defineSearchAttributeKey('Severity', SearchAttributeType.KEYWORD);
export const EscalationModel = defineSearchAttributeKey('EscalationModel', SearchAttributeType.KEYWORD);
export const EscalationState = defineSearchAttributeKey('EscalationState', SearchAttributeType.KEYWORD);
export const EscalationDepth = defineSearchAttributeKey('EscalationDepth', SearchAttributeType.INT);
export const AwaitedReviewers = defineSearchAttributeKey('AwaitedReviewers', SearchAttributeType.KEYWORD_LIST);
export const ChangeAuthor = defineSearchAttributeKey('ChangeAuthor', SearchAttributeType.KEYWORD);
export const Outcome = defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD);

/** Name and CLI type (`temporal server start-dev --search-attribute Name=Type`) of each key above. */
export const searchAttributeRegistrations: ReadonlyArray<{ name: string; cliType: 'Keyword' | 'Int' | 'KeywordList' }> = [
  { name: Gate.name, cliType: 'Keyword' },
  { name: Service.name, cliType: 'Keyword' },
  { name: Repository.name, cliType: 'Keyword' },
  { name: Severity.name, cliType: 'Keyword' },
  { name: EscalationModel.name, cliType: 'Keyword' },
  { name: EscalationState.name, cliType: 'Keyword' },
  { name: EscalationDepth.name, cliType: 'Int' },
  { name: AwaitedReviewers.name, cliType: 'KeywordList' },
  { name: ChangeAuthor.name, cliType: 'Keyword' },
  { name: Outcome.name, cliType: 'Keyword' },
];

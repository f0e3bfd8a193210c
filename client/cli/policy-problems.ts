/** One finding in a policy file: a schema problem (always an error) or a lint finding. */
export interface PolicyFinding {
  severity: 'error' | 'warning';
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** `file:line:column: error at path: problem`, the form editors and CI annotations jump to. */
export function formatPolicyProblem(file: string, finding: PolicyFinding): string {
  const where = finding.line ? `${file}:${finding.line}:${finding.column}` : file;
  if (finding.path === '(syntax)') return `${where}: ${finding.severity}: ${finding.message}`;
  return `${where}: ${finding.severity} at ${finding.path}: ${finding.message}`;
}

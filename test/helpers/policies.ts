/**
 * Test policies. `chainTimeout` is the step timeout in the tests that wait for decisions: long
 * enough never to fire while a test acts; `fastTimeout` is for the tests about timeouts.
 */
export function sequentialPolicy(options: { rollbackUrl?: string; chainTimeout?: string; fastTimeout?: string; maxDepth?: number; requireComment?: string } = {}): string {
  const chainTimeout = options.chainTimeout ?? '10m';
  const fast = options.fastTimeout ?? '1s';
  const onExhausted = options.rollbackUrl ? `{ action: rollback, endpoint: "${options.rollbackUrl}/rollback" }` : 'block';
  return `
version: 1
defaults: { maxDepth: ${options.maxDepth ?? 3}, requireComment: ${options.requireComment ?? 'on-reject'} }
people:
  alice:   { name: Alice Adler, email: alice@example.com, handles: [alice-gh], backup: bob }
  bob:     { name: Bob Brandt, email: bob@example.com }
  carol:   { name: Carol Chen, email: carol@example.com }
  erin:    { name: Erin Eze, email: erin@example.com }
  lead:    { name: Lee Lead, email: lead@example.com }
  senior:  { name: Sam Senior, email: senior@example.com }
  mallory: { name: Mallory Maker, email: mallory@example.com, handles: [mallory-gh] }
tiers:
  team-leads: { reviewers: [lead], timeout: ${fast} }
  seniors:    { reviewers: [senior], timeout: ${fast} }
gates:
  integration-tests:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: ${chainTimeout} }
      - { reviewers: [carol], timeout: ${chainTimeout} }
      - { reviewers: [erin], timeout: ${chainTimeout} }
    escalateTo: [team-leads, seniors]
  flaky-tests:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: ${fast} }
    escalateTo: [team-leads, seniors]
    onExhausted: ${onExhausted}
  shuffled:
    model: sequential
    randomizeOrder: true
    chain:
      - { reviewers: [alice], timeout: ${chainTimeout} }
      - { reviewers: [carol], timeout: ${chainTimeout} }
      - { reviewers: [erin], timeout: ${chainTimeout} }
  self-review:
    model: sequential
    chain:
      - { reviewers: [mallory, alice], timeout: ${chainTimeout} }
  "*":
    model: sequential
    chain:
      - { reviewers: [alice], timeout: ${chainTimeout} }
`;
}

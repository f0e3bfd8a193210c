/** People `voter01`…`voterNN`, for quorum tests with many reviewers. */
export function voters(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `voter${String(i + 1).padStart(2, '0')}`);
}

/**
 * A policy with parallel gates, break-glass, quiet hours and hybrid rules. `fast` is the window of
 * the tests about timeouts; the others wait 10 minutes, which no test reaches.
 */
export function parallelPolicy(options: { fast?: string; quietAllDay?: boolean; quiet?: { from: string; to: string } } = {}): string {
  const fast = options.fast ?? '1s';
  const crowd = voters(20);
  return `
version: 1
timezone: Europe/Berlin
defaults: { maxDepth: 3, requireComment: never }
people:
  alice:   { email: alice@example.com }
  bob:     { email: bob@example.com }
  carol:   { email: carol@example.com }
  lead:    { email: lead@example.com }
  sam:     { email: sam@example.com, roles: [incident-commander] }
  sec:     { email: sec@example.com, roles: [security-officer] }
  mallory: { email: mallory@example.com, handles: [mallory-gh], roles: [incident-commander] }
  oncall-ann: { email: ann@example.com }
${crowd.map((id) => `  ${id}: { email: ${id}@example.com }`).join('\n')}
rotations:
  primary: { members: [oncall-ann], handoff: weekly, start: 2026-01-05 }
tiers:
  seniors:  { reviewers: [lead], timeout: ${fast} }
  security: { reviewers: [sec], timeout: 1h }
breakGlass: { roles: [incident-commander], notify: security }
${options.quietAllDay ? 'quietHours: { from: "00:00", to: "00:00", notify: primary-oncall-only, oncall: primary }' : ''}
${options.quiet ? `quietHours: { from: "${options.quiet.from}", to: "${options.quiet.to}", notify: primary-oncall-only, oncall: primary }` : ''}
gates:
  performance:
    model: parallel
    reviewers: [alice, bob, carol]
    quorum: { approve: 2, override: 3 }
    decideWithin: 10m
  perf-renotify:
    model: parallel
    reviewers: [alice, bob, carol]
    quorum: { approve: 2 }
    acknowledgeWithin: ${fast}
    renotify: 2
    decideWithin: 4s
    escalateTo: seniors
    maxDepth: 3
  crowd:
    model: parallel
    reviewers: [${crowd.join(', ')}]
    quorum: { approve: 11 }
    decideWithin: 10m
  release:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 10m }
rules:
  - name: rollbacks-fast
    when: { rollback: true }
    use: { model: parallel, reviewers: [alice, bob], quorum: { approve: 1 }, decideWithin: 5m }
  - name: urgent-in-parallel
    when: { gate: [release], severity: [critical, high] }
    use: { model: parallel, reviewers: [alice, bob, carol], quorum: { approve: 2 } }
`;
}

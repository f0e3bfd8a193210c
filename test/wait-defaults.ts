import { vi } from 'vitest';

// `vi.waitFor` gives up after 1 s by default. The tests wait with it for what follows an action
// "soon" (a workflow task, an activity, a webhook), which on a 2-core machine running two test
// files beside a Temporal server can take longer than a second; a test that never gets there
// still fails, at 20 s or its own timeout. An explicit timeout in a call wins.
const waitFor = vi.waitFor.bind(vi);
vi.waitFor = ((callback: Parameters<typeof waitFor>[0], options?: Parameters<typeof waitFor>[1]) =>
  waitFor(callback, typeof options === 'number' ? options : { timeout: 20_000, ...options })) as typeof vi.waitFor;

import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/** Worker state changes at INFO drown test output; keep warnings and errors. Once per test process. */
export function quietRuntime(): void {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

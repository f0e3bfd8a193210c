// Runs before `npm start` and `npm test` with plain Node (no dependencies yet): installs them with
// `npm ci` when node_modules is missing or older than package-lock.json, so both README commands
// work on a fresh clone.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

const installed = mtime('node_modules/.package-lock.json');
const locked = mtime('package-lock.json');
if (installed === undefined || (locked !== undefined && installed < locked)) {
  console.error('[escalator] installing dependencies (npm ci)…');
  const result = spawnSync('npm', ['ci', '--ignore-scripts=false', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/**
 * Static check of the deployment files (`npm run compose:check`); there is no Docker engine in CI.
 * - docker-compose.yml parses and validates (`docker-compose config -q`, Debian's docker-compose 1.29),
 *   has the expected services, and registers exactly the search attributes of workflows/search-attributes.ts;
 * - the Dockerfile is multi-stage and its final stage runs as a non-root USER.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { searchAttributeRegistrations } from '../workflows/search-attributes.js';
import { DEFAULT_HISTORY_SHARDS, TEMPORAL_DATABASES, TEMPORAL_SERVER_VERSION } from './temporal-server.js';
import { TEMPORAL_UI_VERSION } from './temporal-ui.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const composeText = readFileSync(resolve(root, 'docker-compose.yml'), 'utf8');
const expectedServices = ['temporal-postgres', 'temporal-schema', 'temporal', 'temporal-setup', 'temporal-ui', 'worker-1', 'worker-2', 'shim', 'escalator-postgres', 'mailpit'];
const problems: string[] = [];

// Required secrets (`${VAR:?message}`) get a placeholder when unset, so validation needs no real ones.
const env = { ...process.env };
for (const [, name] of composeText.matchAll(/\$\{(\w+):\?/g)) env[name!] ??= 'compose-check-placeholder';

// A fresh machine has no docker-compose: install Debian's package (the same script .ci/run relies on).
const installed = spawnSync('bash', [resolve(root, 'scripts/apt-install.sh'), 'docker-compose', 'docker-compose'], { stdio: 'inherit' });
if (installed.status !== 0) fail("could not install Debian's docker-compose package (scripts/apt-install.sh)");

function compose(...args: string[]): string {
  const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', ...args], { cwd: root, env, encoding: 'utf8' });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    fail(missing ? "docker-compose not found: install Debian's docker-compose package" : `docker-compose: ${result.error.message}`);
  }
  if (result.status !== 0) fail(`docker-compose.yml is invalid (docker-compose ${args.join(' ')}):\n${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

function fail(message: string): never {
  console.error(`compose:check: ${message}`);
  process.exit(1);
}

compose('config', '-q');
const services = new Set(compose('config', '--services').split('\n').filter(Boolean));
const missingServices = expectedServices.filter((s) => !services.has(s));
if (missingServices.length) problems.push(`docker-compose.yml lacks services: ${missingServices.join(', ')}`);

for (const { name, cliType } of searchAttributeRegistrations) {
  if (!composeText.includes(`--name ${name} --type ${cliType}`)) problems.push(`temporal-setup does not register search attribute ${name} (${cliType})`);
}
const registered = [...composeText.matchAll(/--name (\w+) --type/g)].map(([, name]) => name);
const unknown = registered.filter((n) => !searchAttributeRegistrations.some((r) => r.name === n));
if (unknown.length) problems.push(`temporal-setup registers search attributes not in workflows/search-attributes.ts: ${unknown.join(', ')}`);

// The compose cluster and the one scripts/temporal-server.ts runs (npm start -- --production, the
// cluster tests) are the same server: version, databases and default shard count agree.
if (!composeText.includes(`image: temporalio/server:${TEMPORAL_SERVER_VERSION}`)) problems.push(`the temporal service's image is not temporalio/server:${TEMPORAL_SERVER_VERSION}, the version scripts/temporal-server.ts builds`);
if (!composeText.includes(`image: temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}-`)) problems.push(`temporal-schema's admin-tools image is not of server ${TEMPORAL_SERVER_VERSION}`);
if (!composeText.includes(`image: temporalio/ui:${TEMPORAL_UI_VERSION}`)) problems.push(`the temporal-ui service's image is not temporalio/ui:${TEMPORAL_UI_VERSION}, the version scripts/temporal-ui.ts builds`);
for (const database of Object.values(TEMPORAL_DATABASES)) {
  if (!composeText.includes(`temporal-sql-tool --db ${database} update-schema`)) problems.push(`temporal-schema does not migrate the ${database} database`);
}
const composeShards = /NUM_HISTORY_SHARDS: \$\{TEMPORAL_NUM_HISTORY_SHARDS:-(\d+)\}/.exec(composeText)?.[1];
if (Number(composeShards) !== DEFAULT_HISTORY_SHARDS) problems.push(`docker-compose.yml's default history shards (${composeShards ?? 'none'}) differ from scripts/temporal-server.ts's (${DEFAULT_HISTORY_SHARDS})`);

// Dockerfile: comments and continuation lines aside, instructions start a line.
const instructions = readFileSync(resolve(root, 'Dockerfile'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => /^[A-Z]+\s/.test(l));
const froms = instructions.flatMap((l, i) => (l.startsWith('FROM ') ? [i] : []));
if (froms.length < 2) problems.push('Dockerfile is not multi-stage (fewer than two FROM lines)');
const finalUser = instructions.slice(froms.at(-1) ?? 0).filter((l) => l.startsWith('USER ')).at(-1)?.slice(5).trim();
if (!finalUser || /^(root|0)(:|$)/.test(finalUser)) problems.push(`Dockerfile's final stage must switch to a non-root USER (found ${finalUser ?? 'none'})`);

if (problems.length) fail(problems.join('\n'));
console.log(`compose:check: docker-compose.yml valid (${services.size} services), Dockerfile multi-stage with USER ${finalUser}`);

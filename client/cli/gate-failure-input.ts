import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { fieldErrors } from '../../domain/field-errors.js';
import { type GateFailure, gateFailureSchema, gateKinds, severities } from '../../domain/gate-failure.js';
import { InvalidInputError } from '../errors.js';

/** The flags that describe a gate failure, for `raise` and `policy explain`; each overrides the file's field. */
export interface GateFailureFlags {
  gate?: string;
  kind?: string;
  service?: string;
  repository?: string;
  severity?: string;
  sha?: string;
  author?: string;
  title?: string;
  changeUrl?: string;
  runId?: string;
  runUrl?: string;
  fileChanged?: string[];
  hotfix?: boolean;
  rollback?: boolean;
  key?: string;
  occurredAt?: string;
}

type FlagName = keyof GateFailureFlags;

/** Where each flag lands in the gate failure JSON, and how `--help` names it. */
const fields: Array<{ flag: FlagName; path: string[]; option: string }> = [
  { flag: 'gate', path: ['gate', 'name'], option: '--gate' },
  { flag: 'kind', path: ['gate', 'kind'], option: '--kind' },
  { flag: 'service', path: ['service'], option: '--service' },
  { flag: 'repository', path: ['repository'], option: '--repository' },
  { flag: 'severity', path: ['severity'], option: '--severity' },
  { flag: 'sha', path: ['change', 'sha'], option: '--sha' },
  { flag: 'author', path: ['change', 'author'], option: '--author' },
  { flag: 'title', path: ['change', 'title'], option: '--title' },
  { flag: 'changeUrl', path: ['change', 'url'], option: '--change-url' },
  { flag: 'fileChanged', path: ['change', 'changedFiles'], option: '--file-changed' },
  { flag: 'runId', path: ['pipelineRun', 'id'], option: '--run-id' },
  { flag: 'runUrl', path: ['pipelineRun', 'url'], option: '--run-url' },
  { flag: 'hotfix', path: ['hotfix'], option: '--hotfix' },
  { flag: 'rollback', path: ['rollback'], option: '--rollback' },
  { flag: 'key', path: ['idempotencyKey'], option: '--key' },
  { flag: 'occurredAt', path: ['occurredAt'], option: '--occurred-at' },
];

/** Adds the gate failure flags and `fileOption` (a JSON file in the `POST /v1/gate-failures` format). */
export function withGateFailureOptions(command: Command, fileOption: string): Command {
  const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
  return command
    .option(fileOption, 'the gate failure as JSON (the body of POST /v1/gate-failures); flags override its fields')
    .option('--gate <name>', 'the failed gate')
    .addOption(new Option('--kind <kind>', 'the kind of gate').choices(gateKinds))
    .option('--service <name>', 'the service the pipeline builds')
    .option('--repository <owner/name>', 'the repository')
    .addOption(new Option('--severity <level>', 'how bad the failure is').choices(severities))
    .option('--sha <sha>', 'the commit sha of the change')
    .option('--author <person>', "the change's author (id, email or handle; never allowed to approve)")
    .option('--title <text>', "the change's title")
    .option('--change-url <url>', 'link to the change')
    .option('--file-changed <path>', 'a file the change touches (repeat for each; used by CODEOWNERS routing)', collect)
    .option('--run-id <id>', 'the pipeline run')
    .option('--run-url <url>', 'link to the pipeline run')
    .option('--hotfix', 'the change is a hotfix')
    .option('--rollback', 'the change is a rollback')
    .option('--key <key>', 'idempotency key: the same key attaches to the same escalation (default <service>-<run-id>-<gate>)')
    .option('--occurred-at <iso>', 'when the gate failed (default now)');
}

/**
 * The gate failure from an optional JSON file overlaid with the flags, validated. With
 * `placeholders`, fields that never change the plan (change title, links, sha, run) may be missing:
 * a dry run only needs the gate, kind, service and severity. Throws `InvalidInputError` naming each
 * bad field with the flag (or file) it came from.
 */
export async function gateFailureFrom(flags: GateFailureFlags, options: { file?: string; placeholders?: boolean; now: Date }): Promise<GateFailure> {
  const input = options.file ? await readFailureFile(options.file) : {};
  // Missing objects would be reported whole ("change: expected object"); empty ones get one problem per field, each with its flag.
  for (const key of ['gate', 'change', 'pipelineRun']) input[key] ??= {};
  for (const { flag, path } of fields) {
    const value = flags[flag];
    if (value !== undefined) setIn(input, path, value);
  }
  const raw = input as { gate?: { name?: unknown }; service?: unknown; pipelineRun?: { id?: unknown }; idempotencyKey?: unknown; occurredAt?: unknown };
  if (options.placeholders) fillPlaceholders(input);
  if (raw.occurredAt === undefined) raw.occurredAt = options.now.toISOString();
  if (raw.idempotencyKey === undefined && raw.service !== undefined && raw.pipelineRun?.id !== undefined && raw.gate?.name !== undefined) {
    raw.idempotencyKey = `${String(raw.service)}-${String(raw.pipelineRun.id)}-${String(raw.gate.name)}`;
  }
  const parsed = gateFailureSchema.safeParse(input);
  if (!parsed.success) {
    const problems = fieldErrors(parsed.error).map(({ path, message }) => {
      const field = fields.find((f) => f.path.join('.') === path);
      if (!field) return { path: options.file ? `${path} (in ${options.file})` : path, message };
      const origin = flags[field.flag] === undefined && options.file ? `in ${options.file}, or ${field.option}` : field.option;
      return { path: `${path} (${origin})`, message };
    });
    throw new InvalidInputError('invalid gate failure', problems);
  }
  return parsed.data;
}

async function readFailureFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError('cannot read the gate failure file', [{ path: file, message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError('the gate failure file is not JSON', [{ path: file, message: (error as Error).message }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError('the gate failure file is not a JSON object', [{ path: file, message: 'expected an object like the body of POST /v1/gate-failures' }]);
  }
  return value as Record<string, unknown>;
}

function fillPlaceholders(input: Record<string, unknown>): void {
  const defaults: Array<[string[], unknown]> = [
    [['repository'], 'dry-run/repository'],
    [['change', 'sha'], '0000000'],
    [['change', 'author'], '(no author given)'],
    [['change', 'title'], 'dry run'],
    [['change', 'url'], 'https://dry-run.invalid/change'],
    [['pipelineRun', 'id'], 'dry-run'],
    [['pipelineRun', 'url'], 'https://dry-run.invalid/run'],
    [['idempotencyKey'], 'dry-run'],
  ];
  for (const [path, value] of defaults) {
    if (getIn(input, path) === undefined) setIn(input, path, value);
  }
}

function getIn(target: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = target;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function setIn(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

import { Client, Connection } from '@temporalio/client';
import { type Command, Option } from 'commander';
import ms from 'ms';
import { z } from 'zod';
import { fieldErrors } from '../../domain/field-errors.js';
import { InvalidInputError } from '../errors.js';
import { EscalatorClient } from '../escalator-client.js';
import { TemporalUnreachableError } from './temporal-unreachable-error.js';

/** The flags every command that talks to Temporal takes; each overrides its environment variable. */
export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  connectTimeout?: string;
}

/** Validated connection settings: where Temporal is, and the task queue Escalator's workers poll. */
export interface ConnectionSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  connectTimeoutMs: number;
}

const settingsSchema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):\d{1,5}$/, 'host:port such as 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  ESCALATOR_TASK_QUEUE: z.string().min(1).default('escalator'),
  ESCALATOR_CONNECT_TIMEOUT: z
    .string()
    .default('5s')
    .transform((text, ctx) => {
      const millis = ms(text as ms.StringValue);
      if (typeof millis !== 'number' || !Number.isFinite(millis) || millis <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a positive duration such as 5s` });
        return z.NEVER;
      }
      return millis;
    }),
});

const flagOf: Record<string, keyof ConnectionFlags> = {
  TEMPORAL_ADDRESS: 'address',
  TEMPORAL_NAMESPACE: 'namespace',
  ESCALATOR_TASK_QUEUE: 'taskQueue',
  ESCALATOR_CONNECT_TIMEOUT: 'connectTimeout',
};

const flagNames: Record<keyof ConnectionFlags, string> = { address: '--address', namespace: '--namespace', taskQueue: '--task-queue', connectTimeout: '--connect-timeout' };

/** Adds `--address`, `--namespace`, `--task-queue` and `--connect-timeout`; each overrides its environment variable. */
export function withConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS, default 127.0.0.1:7233)'))
    .addOption(new Option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default "default")'))
    .addOption(new Option('--task-queue <name>', "the Escalator workers' task queue (env ESCALATOR_TASK_QUEUE, default escalator)"))
    .addOption(new Option('--connect-timeout <duration>', 'give up reaching Temporal after this long (env ESCALATOR_CONNECT_TIMEOUT, default 5s)'));
}

/**
 * The connection settings from the environment, each overridden by its flag when given. Throws
 * `InvalidInputError` naming the flag (or the variable) that is wrong.
 */
export function connectionSettingsFrom(environment: NodeJS.ProcessEnv, flags: ConnectionFlags): ConnectionSettings {
  const merged = {
    TEMPORAL_ADDRESS: flags.address ?? environment.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: flags.namespace ?? environment.TEMPORAL_NAMESPACE,
    ESCALATOR_TASK_QUEUE: flags.taskQueue ?? environment.ESCALATOR_TASK_QUEUE,
    ESCALATOR_CONNECT_TIMEOUT: flags.connectTimeout ?? environment.ESCALATOR_CONNECT_TIMEOUT,
  };
  const result = settingsSchema.safeParse(merged);
  if (!result.success) {
    const fields = fieldErrors(result.error).map(({ path, message }) => {
      const flag = flagOf[path];
      return { path: flag ? `${flagNames[flag]} (${path})` : path, message };
    });
    throw new InvalidInputError('invalid connection settings', fields);
  }
  const settings = result.data;
  return { address: settings.TEMPORAL_ADDRESS, namespace: settings.TEMPORAL_NAMESPACE, taskQueue: settings.ESCALATOR_TASK_QUEUE, connectTimeoutMs: settings.ESCALATOR_CONNECT_TIMEOUT };
}

/** What a command gets while connected. */
export interface EscalatorConnection {
  escalator: EscalatorClient;
  client: Client;
  settings: ConnectionSettings;
}

/**
 * Connects, runs `use`, and closes the connection whatever happens. A frontend that does not answer
 * within the connect timeout is a `TemporalUnreachableError`.
 */
export async function withEscalator<T>(settings: ConnectionSettings, use: (connected: EscalatorConnection) => Promise<T>): Promise<T> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.address, connectTimeout: settings.connectTimeoutMs });
  } catch (error) {
    throw new TemporalUnreachableError(settings.address, error instanceof Error ? error.message : String(error));
  }
  try {
    const client = new Client({ connection, namespace: settings.namespace });
    return await use({ escalator: new EscalatorClient(client, settings.taskQueue), client, settings });
  } finally {
    await connection.close();
  }
}

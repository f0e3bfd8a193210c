import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

/** One call as the fake received it; `args` are parsed from JSON or form encoding alike. */
export interface FakeSlackRequest {
  apiMethod: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  args: Record<string, unknown>;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  edited: boolean;
}

/**
 * How the next call of a method fails: an HTTP 429 with `Retry-After`, an HTTP 500, an `ok: false`
 * answer with `error`, or (`dropResponse`) the call succeeds and its answer is lost on the way back.
 */
export type FakeSlackFailure = { status: 429; retryAfter: number } | { status: 500 } | { error: string } | { dropResponse: true };

/** A Slack Web API on loopback: chat.postMessage, chat.update, conversations.history and conversations.open. */
export interface FakeSlack {
  /** The API root, as `baseUrl` of the Slack notifier. */
  url: string;
  token: string;
  requests: FakeSlackRequest[];
  messages: FakeSlackMessage[];
  callsTo(apiMethod: string): FakeSlackRequest[];
  messagesIn(channel: string): FakeSlackMessage[];
  /** The DM conversation id conversations.open gives for a user. */
  dmOf(user: string): string;
  /** The next call of `apiMethod` fails this way, once. */
  failNext(apiMethod: string, failure: FakeSlackFailure): void;
  close(): Promise<void>;
}

export interface FakeSlackOptions {
  token?: string;
  /** Channel ids the bot is in. */
  channels?: string[];
  /** Channel ids that exist but the bot is not in: `not_in_channel`. */
  notMemberOf?: string[];
  /** User ids the bot can open a DM with. */
  users?: string[];
}

type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };
type Args = Record<string, unknown>;

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const token = options.token ?? 'xoxb-fake-0123456789';
  const channels = new Set(options.channels ?? ['C0ESCALATE']);
  const notMemberOf = new Set(options.notMemberOf ?? []);
  const users = new Set(options.users ?? ['U0ALICE', 'U0BOB']);
  const dms = new Set<string>();
  const requests: FakeSlackRequest[] = [];
  const messages: FakeSlackMessage[] = [];
  const failures = new Map<string, FakeSlackFailure>();
  let sequence = 0;
  const dmOf = (user: string) => `D${user.slice(1)}`;

  function conversation(id: unknown, { userIdsAllowed }: { userIdsAllowed: boolean }): { channel: string } | { error: string } {
    if (typeof id !== 'string' || id === '') return { error: 'channel_not_found' };
    if (notMemberOf.has(id)) return { error: 'not_in_channel' };
    if (channels.has(id) || dms.has(id)) return { channel: id };
    // chat.postMessage takes a user id and posts to the app's DM with them; other methods want the D… id.
    if (userIdsAllowed && users.has(id)) {
      dms.add(dmOf(id));
      return { channel: dmOf(id) };
    }
    return { error: 'channel_not_found' };
  }

  const methods: Record<string, (args: Args) => Answer> = {
    'conversations.open'(args) {
      const user = typeof args.users === 'string' ? args.users : '';
      if (!user) return fail('users_list_not_supplied');
      if (!users.has(user)) return fail('user_not_found');
      dms.add(dmOf(user));
      return ok({ channel: { id: dmOf(user) } });
    },
    'conversations.history'(args) {
      const found = conversation(args.channel, { userIdsAllowed: false });
      if ('error' in found) return fail(found.error);
      const limit = Math.min(Math.max(Number(args.limit ?? 100) || 100, 1), 999);
      const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true' || args.include_all_metadata === '1';
      const newestFirst = messages.filter((message) => message.channel === found.channel).reverse();
      return ok({
        messages: newestFirst.slice(0, limit).map((message) => ({
          type: 'message',
          subtype: 'bot_message',
          bot_id: 'B0ESCALATOR',
          text: message.text,
          ts: message.ts,
          blocks: message.blocks,
          ...(message.edited ? { edited: { user: 'B0ESCALATOR', ts: message.ts } } : {}),
          ...(withMetadata && message.metadata ? { metadata: message.metadata } : {}),
        })),
        has_more: newestFirst.length > limit,
        pin_count: 0,
        response_metadata: { next_cursor: '' },
      });
    },
    'chat.postMessage'(args) {
      const found = conversation(args.channel, { userIdsAllowed: true });
      if ('error' in found) return fail(found.error);
      if (args.text === undefined && args.blocks === undefined) return fail('no_text');
      if (args.blocks !== undefined && !validBlocks(args.blocks)) return fail('invalid_blocks');
      if (args.metadata !== undefined && !validMetadata(args.metadata)) return fail('invalid_metadata_format');
      sequence += 1;
      const message: FakeSlackMessage = {
        channel: found.channel,
        ts: `${Math.floor(Date.now() / 1000)}.${String(sequence).padStart(6, '0')}`,
        text: typeof args.text === 'string' ? args.text : '',
        blocks: (args.blocks as unknown[] | undefined) ?? [],
        ...(args.metadata === undefined ? {} : { metadata: args.metadata as FakeSlackMessage['metadata'] }),
        edited: false,
      };
      messages.push(message);
      return ok({ channel: message.channel, ts: message.ts, message: { type: 'message', bot_id: 'B0ESCALATOR', text: message.text, ts: message.ts, blocks: message.blocks } });
    },
    'chat.update'(args) {
      const found = conversation(args.channel, { userIdsAllowed: false });
      if ('error' in found) return fail(found.error);
      const message = messages.find((candidate) => candidate.channel === found.channel && candidate.ts === args.ts);
      if (!message) return fail('message_not_found');
      if (args.blocks !== undefined && !validBlocks(args.blocks)) return fail('invalid_blocks');
      // Fields left out keep their previous value (blocks, metadata); text is replaced when given.
      if (typeof args.text === 'string') message.text = args.text;
      if (args.blocks !== undefined) message.blocks = args.blocks as unknown[];
      if (args.metadata !== undefined) {
        if (!validMetadata(args.metadata)) return fail('invalid_metadata_format');
        message.metadata = args.metadata as FakeSlackMessage['metadata'];
      }
      message.edited = true;
      return ok({ channel: message.channel, ts: message.ts, text: message.text, message: { text: message.text, blocks: message.blocks } });
    },
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const apiMethod = (request.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const args = parseArgs(request.headers['content-type'] ?? '', rawBody);
      requests.push({ apiMethod, headers: request.headers, rawBody, args: args ?? {} });
      const failure = failures.get(apiMethod);
      failures.delete(apiMethod);
      if (failure && 'status' in failure) {
        if (failure.status === 429) return send(response, { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(failure.retryAfter) } });
        return send(response, { status: 500, body: { ok: false, error: 'internal_error' } });
      }
      if (failure && 'error' in failure) return send(response, fail(failure.error));
      const handler = methods[apiMethod];
      if (!handler) return send(response, { status: 404, body: { ok: false, error: 'unknown_method' } });
      if (args === null) return send(response, fail('invalid_json'));
      const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? (typeof args.token === 'string' ? args.token : undefined);
      if (presented === undefined) return send(response, fail('not_authed'));
      if (presented !== token) return send(response, fail('invalid_auth'));
      const answer = handler(args);
      if (failure && 'dropResponse' in failure) {
        request.socket.destroy();
        return;
      }
      send(response, answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/api`,
    token,
    requests,
    messages,
    callsTo: (apiMethod) => requests.filter((request) => request.apiMethod === apiMethod),
    messagesIn: (channel) => messages.filter((message) => message.channel === channel),
    dmOf,
    failNext: (apiMethod, failure) => void failures.set(apiMethod, failure),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function ok(body: Record<string, unknown>): Answer {
  return { status: 200, body: { ok: true, ...body } };
}

/** Slack's failures are HTTP 200 with `ok: false` and an `error` code. */
function fail(error: string): Answer {
  return { status: 200, body: { ok: false, error } };
}

function send(response: ServerResponse, answer: Answer): void {
  response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers }).end(JSON.stringify(answer.body));
}

/** JSON bodies as they are; form bodies field by field, with `blocks` and `metadata` JSON-decoded. */
function parseArgs(contentType: string, rawBody: string): Args | null {
  try {
    if (contentType.startsWith('application/json')) {
      const parsed: unknown = JSON.parse(rawBody);
      return typeof parsed === 'object' && parsed !== null ? (parsed as Args) : null;
    }
    const args: Args = Object.fromEntries(new URLSearchParams(rawBody));
    for (const key of ['blocks', 'metadata']) if (typeof args[key] === 'string') args[key] = JSON.parse(args[key] as string);
    return args;
  } catch {
    return null;
  }
}

function validBlocks(blocks: unknown): boolean {
  return Array.isArray(blocks) && blocks.length <= 50 && blocks.every((block) => typeof block === 'object' && block !== null && typeof (block as { type?: unknown }).type === 'string');
}

function validMetadata(metadata: unknown): boolean {
  const { event_type: type, event_payload: payload } = (metadata ?? {}) as { event_type?: unknown; event_payload?: unknown };
  return typeof type === 'string' && type !== '' && typeof payload === 'object' && payload !== null;
}

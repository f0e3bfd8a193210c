import { createHash } from 'node:crypto';
import { type Answer, startTicketFakeServer, type TicketSystemRequest } from './ticket-fake-server.js';

/** A row of the fake's incident table. */
export type FakeIncident = Record<string, string> & { sys_id: string; number: string };

/**
 * ServiceNow's Table API on loopback for `incident` and `sys_user_group`: GET with an encoded
 * `sysparm_query` (`field=value` terms joined by `^`), `sysparm_limit` and `sysparm_fields`, and POST
 * of a JSON record, answered 201 with `{ result: { … } }`. Basic auth. Refusals have ServiceNow's
 * shape `{ error: { message, detail }, status: 'failure' }`; a field the table does not have, or a
 * choice or reference value it does not know, is refused with 400 (the real instance would store
 * or drop it quietly, which a test would not notice).
 */
export interface FakeServiceNow {
  url: string;
  user: string;
  password: string;
  requests: TicketSystemRequest[];
  incidents: FakeIncident[];
  groups: Array<{ sys_id: string; name: string }>;
  failNext: Awaited<ReturnType<typeof startTicketFakeServer>>['failNext'];
  close(): Promise<void>;
}

const incidentColumns = ['short_description', 'description', 'correlation_id', 'correlation_display', 'urgency', 'impact', 'assignment_group', 'category', 'caller_id'];
const choices: Record<string, string[]> = { urgency: ['1', '2', '3'], impact: ['1', '2', '3'], category: ['inquiry', 'software', 'hardware', 'network', 'database'] };

export async function startFakeServiceNow(options: { groups?: string[] } = {}): Promise<FakeServiceNow> {
  const user = 'escalator.integration';
  const password = 'servicenow-password-0123';
  const incidents: FakeIncident[] = [];
  const groups = (options.groups ?? ['Service Desk', 'Platform SRE']).map((name) => ({ sys_id: sysIdOf(`group:${name}`), name }));
  const failure = (status: number, message: string, detail: string): Answer => ({ status, body: { error: { message, detail }, status: 'failure' } });

  function read(rows: Array<Record<string, string>>, query: URLSearchParams): Answer {
    const terms = (query.get('sysparm_query') ?? '').split('^').filter(Boolean);
    const parsed = terms.map((term) => /^([a-z_]+)=(.*)$/.exec(term));
    if (parsed.some((term) => term === null)) return failure(400, 'Invalid query', `this fake understands field=value terms joined by ^, not ${query.get('sysparm_query')}`);
    const limit = Number(query.get('sysparm_limit') ?? 10_000);
    const fields = (query.get('sysparm_fields') ?? '').split(',').filter(Boolean);
    const matching = rows.filter((row) => parsed.every((term) => row[term![1]!] === term![2]));
    return { status: 200, body: { result: matching.slice(0, limit).map((row) => pick(row, fields)) } };
  }

  function insert(body: unknown, query: URLSearchParams): Answer {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return failure(400, 'Exception while reading request', 'The payload is not a JSON object');
    const record = body as Record<string, unknown>;
    for (const [field, value] of Object.entries(record)) {
      if (!incidentColumns.includes(field)) return failure(400, 'Invalid field', `incident has no field ${field}`);
      if (typeof value !== 'string') return failure(400, 'Invalid value', `${field} must be a string`);
      if (choices[field] && !choices[field].includes(value)) return failure(400, 'Invalid value', `${value} is not a choice of ${field}`);
    }
    if (typeof record.short_description !== 'string' || record.short_description.trim() === '') return failure(400, 'Mandatory field missing', 'short_description is mandatory');
    if (record.short_description.length > 160) return failure(400, 'Invalid value', 'short_description holds at most 160 characters');
    if (typeof record.correlation_id === 'string' && record.correlation_id.length > 100) return failure(400, 'Invalid value', 'correlation_id holds at most 100 characters');
    if (record.assignment_group !== undefined && !groups.some((group) => group.sys_id === record.assignment_group)) return failure(400, 'Invalid reference', `no sys_user_group ${String(record.assignment_group)}`);
    const incident = { ...(record as Record<string, string>), sys_id: sysIdOf(`incident:${incidents.length}`), number: `INC${String(10_001 + incidents.length).padStart(7, '0')}`, state: '1' } as FakeIncident;
    incidents.push(incident);
    const fields = (query.get('sysparm_fields') ?? '').split(',').filter(Boolean);
    return { status: 201, body: { result: pick(incident, fields) } };
  }

  const server = await startTicketFakeServer({
    user,
    secret: password,
    unauthenticated: failure(401, 'User is not authenticated', 'Basic auth credentials are required'),
    badJson: failure(400, 'Exception while reading request', 'The payload is not valid JSON'),
    route(method, path, query, body) {
      if (path === '/api/now/table/incident' && method === 'GET') return read(incidents, query);
      if (path === '/api/now/table/incident' && method === 'POST') return insert(body, query);
      if (path === '/api/now/table/sys_user_group' && method === 'GET') return read(groups, query);
      return failure(400, 'Invalid table or method', `${method} ${path}`);
    },
  });
  return { url: server.url, user, password, requests: server.requests, incidents, groups, failNext: server.failNext, close: server.close };
}

function pick(row: Record<string, string>, fields: string[]): Record<string, string> {
  return fields.length ? Object.fromEntries(fields.filter((field) => field in row).map((field) => [field, row[field]!])) : { ...row };
}

function sysIdOf(seed: string): string {
  return createHash('md5').update(seed).digest('hex');
}

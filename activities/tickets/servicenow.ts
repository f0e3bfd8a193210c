import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { TicketOpened, TicketRequest } from '../../domain/engine/tickets.js';
import { ticketHttp } from './ticket-http.js';

export interface ServiceNowSettings {
  /** The instance, e.g. https://acme.service-now.com. */
  baseUrl: string;
  user: string;
  password: string;
  timeoutMs?: number;
}

/** The incident's `correlation_id` column holds 100 characters; escalation ids may be 211. */
const correlationIdLength = 100;

/** The escalation id, or for an id too long for `correlation_id`, a stable hash of it. */
export function correlationIdOf(escalationId: string): string {
  if (escalationId.length <= correlationIdLength) return escalationId;
  return `escalator-${createHash('sha256').update(escalationId).digest('hex')}`;
}

interface IncidentRecord {
  sys_id: string;
  number: string;
}

/**
 * Opens the ServiceNow incident of an escalation through the Table API. Once per escalation across
 * activity retries: `correlation_id` carries the escalation id, and an incident with it is looked
 * for (`GET /api/now/table/incident?sysparm_query=correlation_id=…`) before one is created
 * (`POST /api/now/table/incident`); table reads see the row as soon as the insert commits. An
 * assignment group given by name is looked up in `sys_user_group` first.
 */
export function createServiceNowTickets(settings: ServiceNowSettings) {
  const call = ticketHttp({ system: 'ServiceNow', baseUrl: settings.baseUrl, user: settings.user, secret: settings.password, ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}) });
  const instance = settings.baseUrl.replace(/\/$/, '');

  async function first<T>(table: string, query: string, fields: string): Promise<T | undefined> {
    const params = new URLSearchParams({ sysparm_query: query, sysparm_limit: '1', sysparm_fields: fields });
    return (await call<{ result?: T[] }>('GET', `/api/now/table/${table}?${params}`))?.result?.[0];
  }

  async function groupId(group: string): Promise<string> {
    if (/^[0-9a-f]{32}$/.test(group)) return group;
    const found = await first<{ sys_id: string }>('sys_user_group', `name=${group}`, 'sys_id');
    if (!found) throw ApplicationFailure.nonRetryable(`ServiceNow has no assignment group named "${group}" (sys_user_group)`, 'TicketRefused');
    return found.sys_id;
  }

  return {
    async openIncident(request: TicketRequest, escalationUrl: string): Promise<TicketOpened> {
      const servicenow = request.servicenow;
      if (!servicenow) throw ApplicationFailure.nonRetryable(`the ticket for ${request.escalationId} has no ServiceNow settings`, 'TicketRefused');
      const correlationId = correlationIdOf(request.escalationId);
      let incident = await first<IncidentRecord>('incident', `correlation_id=${correlationId}`, 'sys_id,number');
      if (!incident) {
        const record = {
          short_description: request.title.slice(0, 160),
          description: incidentText(request, escalationUrl),
          correlation_id: correlationId,
          correlation_display: 'Escalator',
          urgency: String(servicenow.urgency),
          ...(servicenow.assignmentGroup ? { assignment_group: await groupId(servicenow.assignmentGroup) } : {}),
          ...(servicenow.category ? { category: servicenow.category } : {}),
        };
        incident = (await call<{ result: IncidentRecord }>('POST', '/api/now/table/incident?sysparm_fields=sys_id,number', record)).result;
      }
      const url = `${instance}/nav_to.do?uri=${encodeURIComponent(`incident.do?sys_id=${incident.sys_id}`)}`;
      return { system: 'servicenow', key: incident.number, url, transition: null };
    },
  };
}

/** The incident's description: plain text, as the field holds it. */
export function incidentText(request: TicketRequest, escalationUrl: string): string {
  const links = [...request.links, { text: `escalation ${request.escalationId}`, href: escalationUrl }].map((l) => `- ${l.text}: ${l.href}`);
  return [request.description.join('\n\n'), `Links:\n${links.join('\n')}`, `Timeline:\n${request.timeline.join('\n')}`].join('\n\n');
}

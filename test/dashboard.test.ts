import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, launch } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createGateMetrics } from '../adapters/gate-metrics.js';
import { buildShim } from '../client/shim/app.js';
import { dashboardPage, workflowUrl } from '../client/shim/dashboard/page.js';
import { sessionCookie, sessionCookieOf } from '../client/shim/dashboard/session-cookie.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { createActionToken } from '../domain/action-tokens.js';
import { createDashboardToken, dashboardLinkUrl, verifyDashboardToken } from '../domain/dashboard-links.js';
import type { MetricsQuery } from '../domain/metrics/query.js';
import type { GateFigures, GateReport, MetricsReport } from '../domain/metrics/report.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { escalator, json } from './helpers/cli-run.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';

const secret = 'dashboard-test-secret-0123456789abcdef';
const temporalUi = { url: 'http://temporal-ui.test:8233', namespace: 'default' };
const screenshots = join(process.cwd(), 'test-results');

const tokens = {
  reader: 'reader-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef0',
  ci: 'ci-token-0123456789abcdef0123',
};

const policyYaml = `
version: 1
people:
  alice:   { email: alice@example.com }
  erin:    { email: erin@example.com, roles: [incident-commander] }
  mallory: { email: mallory@example.com }
breakGlass: { roles: [incident-commander] }
gates:
  "*":
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 10m }
`;

// The figures the page shows for a row, by the name its `data-figure` gives them.
const figurePaths: Array<[string, (figures: GateFigures) => number | null]> = [
  ['raised', (f) => f.raised],
  ['ended', (f) => f.ended],
  ['open', (f) => f.open],
  ['timeToResolution.p50', (f) => f.timeToResolution.p50],
  ['timeToResolution.p90', (f) => f.timeToResolution.p90],
  ['timeToFirstResponse.p50', (f) => f.timeToFirstResponse.p50],
  ['overrideShare', (f) => f.overrideShare],
  ['falsePositiveShare', (f) => f.falsePositiveShare],
  ['timeoutShare', (f) => f.timeoutShare],
  ['exhaustedShare', (f) => f.exhaustedShare],
  ['rollbackShare', (f) => f.rollbackShare],
  ['costOfDelay', (f) => f.costOfDelay],
  ['routingAccuracy', (f) => f.routingAccuracy],
  ['satisfaction.average', (f) => f.satisfaction.average],
  ['topResponderShare', (f) => f.topResponderShare],
  ['concentration', (f) => f.concentration],
];

/** Every `data-figure` the page must carry for a report, with its `data-value`: the report's own numbers. */
function expectedFigures(report: MetricsReport): Record<string, string> {
  const expected: Record<string, string> = {};
  const put = (name: string, value: number | boolean | null) => (expected[name] = value === null ? '' : String(value));
  for (const row of report.rows) {
    const key = row.mode === 'live' ? row.key : `${row.key}[${row.mode}]`;
    for (const [name, read] of figurePaths) {
      put(`${key}:${name}`, read(row.current));
      put(`${key}:previous.${name}`, read(row.previous));
    }
    if (row.current.overrideAlert) put(`${key}:overrideAlert`, true);
    for (const [outcome, count] of Object.entries(row.current.outcomes)) put(`${key}:outcomes.${outcome}`, count);
    for (const person of row.current.load) {
      put(`${key}:load.${person.person}.asked`, person.asked);
      put(`${key}:load.${person.person}.decided`, person.decided);
      put(`${key}:load.${person.person}.outsideWorkingHours`, person.outsideWorkingHours);
    }
    row.slowest.forEach((escalation, index) => put(`${key}:slowest.${index}.waitedMs`, escalation.waitedMs));
  }
  return expected;
}

/** The `data-figure` → `data-value` pairs of a page's HTML, entities decoded. */
function figuresInHtml(html: string): Record<string, string> {
  const decode = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
  return Object.fromEntries([...html.matchAll(/data-figure="([^"]*)" data-value="([^"]*)"/g)].map(([, name, value]) => [decode(name!), decode(value!)]));
}

function figures(overrides: Partial<GateFigures> = {}): GateFigures {
  return {
    raised: 10,
    ended: 8,
    open: 2,
    timeToResolution: { count: 8, p50: 3_600_000, p90: 9_000_000, mean: 4_000_000 },
    timeToFirstResponse: { count: 9, p50: 600_000, p90: 1_200_000, mean: 700_000 },
    timeoutShare: 0.1,
    exhaustedShare: 0,
    rollbackShare: 0.125,
    overrideShare: 0.25,
    overrideAlert: true,
    falsePositiveShare: 0.375,
    outcomes: { passed: 5, overridden: 2, 'rolled-back': 1 },
    resolutionHistogram: [5, 15, 30, 60, 120, 240, 480, 1440, 2880, null].map((minutes) => ({ upToMs: minutes === null ? null : minutes * 60_000, count: 0 })),
    outcomesByWeek: [],
    topResponderShare: 0.6,
    concentration: 0.44,
    load: [
      { person: 'alice', asked: 7, decided: 5, outsideWorkingHours: 2 },
      { person: 'bob & <b>sons</b>', asked: 4, decided: 2, outsideWorkingHours: 0 },
    ],
    costOfDelay: 123.456,
    routingAccuracy: null,
    satisfaction: { average: 4.2, responses: 5, asked: 8, responseRate: 0.625 },
    shadow: null,
    ...overrides,
  };
}

const hostileKey = '<img src=x onerror=alert(1)>"gate"';

const handMadeReport: MetricsReport = {
  groupBy: 'gate',
  window: { from: '2026-02-10T00:00:00.000Z', to: '2026-03-12T00:00:00.000Z' },
  previousWindow: { from: '2026-01-11T00:00:00.000Z', to: '2026-02-10T00:00:00.000Z' },
  rows: [
    {
      key: 'integration-tests',
      mode: 'live',
      current: figures(),
      previous: figures({ overrideShare: 0.1, overrideAlert: false, raised: 7 }),
      slowest: [{ escalationId: 'escalation-gate-"><script>x</script>', startedAt: '2026-03-01T10:00:00Z', endedAt: null, waitedMs: 90_000_000, outcome: null }],
    },
    { key: hostileKey, mode: 'shadow', current: figures({ overrideAlert: false, overrideShare: 0.1 }), previous: figures({ timeToResolution: { count: 0, p50: null, p90: null, mean: null } }), slowest: [] },
  ],
};

describe('the dashboard page, rendered from a hand-made report', () => {
  const render = (report: MetricsReport) => dashboardPage({ report, query: { groupBy: 'gate' }, identity: 'dana <ops>', temporalUi });

  it('escapes every string of the report and runs no script', () => {
    const html = render(handMadeReport);
    expect(html).not.toMatch(/<script|<img|<b>sons/i);
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;&#34;gate&#34;');
    expect(html).toContain('bob &#38; &#60;b&#62;sons&#60;/b&#62;');
    expect(html).toContain('dana &#60;ops&#62;');
    // The escalation id is percent-encoded in the Temporal UI link, and escaped as text.
    expect(html).toContain(`href="${workflowUrl(temporalUi, 'escalation-gate-"><script>x</script>').replace(/&/g, '&#38;')}"`);
    expect(workflowUrl(temporalUi, 'escalation-a/b c')).toBe('http://temporal-ui.test:8233/namespaces/default/workflows/escalation-a%2Fb%20c');
  });

  it('carries every figure of the report in data-figure and data-value, the previous window beside it', () => {
    expect(figuresInHtml(render(handMadeReport))).toEqual(expectedFigures(handMadeReport));
    const html = render(handMadeReport);
    expect(html).toContain('data-figure="integration-tests:overrideShare" data-value="0.25">25%</span>');
    expect(html).toContain('data-figure="integration-tests:previous.overrideShare" data-value="0.1">↑ 15 pp, was 10%</span>');
    expect(html).toContain('data-figure="integration-tests:timeToResolution.p90" data-value="9000000">2h 30m</span>');
    expect(html).toContain('data-figure="integration-tests:routingAccuracy" data-value="">—</span>');
    expect(html).toMatch(/class="trend worse" data-figure="integration-tests:previous\.overrideShare"/);
  });

  it('raises the override alert only on the rows whose report says so', () => {
    const html = render(handMadeReport);
    expect(html.match(/class="alert"/g)).toHaveLength(1);
    expect(html).toContain('data-figure="integration-tests:overrideAlert" data-value="true"><strong>Override alert:</strong> 25% of the ended escalations were overridden, above 20%');
  });

  it('draws the histogram and the weekly outcomes as SVG, and says when there is nothing to draw', () => {
    const without = render(handMadeReport);
    expect(without.match(/Nothing to draw in this window\./g)?.length).toBeGreaterThanOrEqual(2);
    const charted = structuredClone(handMadeReport);
    Object.assign(charted.rows[0]!.current, {
      resolutionHistogram: [
        { upToMs: 900_000, count: 2 },
        { upToMs: 3_600_000, count: 3 },
        { upToMs: null, count: 1 },
      ],
      outcomesByWeek: [{ weekStart: '2026-03-02', outcomes: { passed: 2, overridden: 1 } }],
    });
    const html = render(charted);
    const card = html.slice(html.indexOf('id="row-0"'), html.indexOf('id="row-1"'));
    expect(card).not.toContain('Nothing to draw');
    for (const label of ['≤ 15m', '≤ 1h', '&gt; 1h', '2026-03-02', 'overridden']) expect(card).toContain(label);
    // Histogram, weekly outcomes and load: three charts, each an inline SVG.
    expect(card.match(/<svg /g)).toHaveLength(3);
  });
});

describe('dashboard links', () => {
  it('verify for their own purpose only: a link is no session, and neither is an email action token', async () => {
    const link = await createDashboardToken(secret, 'link', { identity: 'dana', ttlSeconds: 600 });
    expect(await verifyDashboardToken(secret, 'link', link)).toMatchObject({ ok: true, grant: { identity: 'dana' } });
    expect(await verifyDashboardToken(secret, 'session', link)).toEqual({ ok: false, reason: 'foreign' });
    const action = await createActionToken(secret, { reviewer: 'alice', escalationId: 'escalation-x', step: 0, decision: 'approve' }, { ttlSeconds: 600 });
    expect(await verifyDashboardToken(secret, 'link', action)).toEqual({ ok: false, reason: 'foreign' });
    expect(await verifyDashboardToken(`${secret}-other`, 'link', link)).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyDashboardToken(secret, 'link', 'not.a.token')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('expire from their expiry second on', async () => {
    const issued = new Date('2026-03-01T10:00:00Z');
    const link = await createDashboardToken(secret, 'link', { identity: 'dana', ttlSeconds: 60, now: issued });
    expect((await verifyDashboardToken(secret, 'link', link, { now: new Date('2026-03-01T10:00:59Z') })).ok).toBe(true);
    expect(await verifyDashboardToken(secret, 'link', link, { now: new Date('2026-03-01T10:01:00Z') })).toEqual({ ok: false, reason: 'expired' });
  });

  it('are printed by escalator dashboard, which needs the secret', async () => {
    const run = await escalator(['dashboard', '--as', 'dana', '--ttl', '10m', '--url', 'http://shim.test:8080/', '--json'], { ESCALATOR_ACTION_SECRET: secret });
    expect(run.code, run.stderr).toBe(0);
    const printed = json<{ url: string; identity: string; expiresAt: string }>(run);
    expect(printed.url).toMatch(/^http:\/\/shim\.test:8080\/dashboard\/session\?token=[\w.-]+$/);
    const token = new URL(printed.url).searchParams.get('token')!;
    expect(await verifyDashboardToken(secret, 'link', token)).toEqual({ ok: true, grant: { identity: 'dana', expiresAt: new Date(printed.expiresAt) } });
    const withoutSecret = await escalator(['dashboard', '--as', 'dana']);
    expect(withoutSecret.code).toBe(2);
    expect(withoutSecret.stderr).toContain('ESCALATOR_ACTION_SECRET');
    const tooLong = await escalator(['dashboard', '--as', 'dana', '--ttl', '3d'], { ESCALATOR_ACTION_SECRET: secret });
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('--ttl: at most 24h');
  });

  it('set a session cookie that is HttpOnly and SameSite=Lax, and Secure only when asked', () => {
    expect(sessionCookie('t', { secure: false })).toBe('escalator_dashboard=t; Path=/dashboard; Max-Age=43200; HttpOnly; SameSite=Lax');
    expect(sessionCookie('t', { secure: true })).toMatch(/; Secure$/);
    expect(sessionCookieOf('a=1; escalator_dashboard=abc.def ; b=2')).toBe('abc.def');
    expect(sessionCookieOf('escalator_dashboardx=1')).toBeUndefined();
  });
});

describe('the dashboard in a real browser, over the real stack', () => {
  let env: EscalatorEnv;
  let shim: FastifyInstance;
  let baseUrl: string;
  let browser: Browser;
  /** The instant the provider measures open escalations up to: fixed once the scripted escalations are done, so the page and the API answer the same report. */
  let reportNow: Date | undefined;
  let gateMetrics: (query: MetricsQuery) => Promise<MetricsReport>;

  beforeAll(async () => {
    env = await startEscalator(policyYaml);
    const { policy } = parsePolicy(policyYaml, 'policy.yaml');
    gateMetrics = createGateMetrics({ store: env.store, policy: () => policy, now: () => reportNow ?? new Date() });
    shim = buildShim({
      escalator: env.escalator,
      tokens: new TokenRegistry([
        { identity: 'reader', scopes: ['read'], token: tokens.reader },
        { identity: 'root', scopes: ['admin'], token: tokens.admin },
        { identity: 'ci', scopes: ['raise'], token: tokens.ci },
      ]),
      checkTemporal: async () => undefined,
      rateLimitPerMinute: 100_000,
      gateMetrics,
      dashboard: { linkSecret: secret, temporalUi },
      actions: { secret, consume: async () => 'fresh', used: async () => false },
    });
    await shim.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;

    // Scripted escalations of integration-tests: passed, overridden (break-glass), withdrawn, and one left open; one of lint, open.
    const raise = async (overrides: Parameters<typeof gateFailure>[0] = {}) => {
      const { escalationId } = await env.escalator.raise(gateFailure({ occurredAt: new Date().toISOString(), ...overrides }));
      await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'), { timeout: 15_000, interval: 100 });
      return escalationId;
    };
    const [passed, overridden, withdrawn] = [await raise(), await raise(), await raise()];
    await raise();
    await raise({ gate: { name: 'lint', kind: 'custom' } });
    await env.escalator.decide(passed, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await env.escalator.breakGlass(overridden, { by: 'erin', justification: 'prod is down', channel: 'client' });
    await env.escalator.withdraw(withdrawn, { by: 'ci', reason: 'reverted' });
    await vi.waitFor(
      async () => {
        const report = await gateMetrics({ groupBy: 'gate' });
        expect(report.rows.map((row) => [row.key, row.current.raised, row.current.ended])).toEqual([
          ['integration-tests', 4, 3],
          ['lint', 1, 0],
        ]);
      },
      { timeout: 20_000, interval: 200 },
    );
    reportNow = new Date();

    browser = await launch({ executablePath: inject('chromiumPath'), headless: true, args: ['--no-sandbox'] });
    await mkdir(screenshots, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await shim?.close();
    await env?.close();
  });

  async function signedLink(): Promise<string> {
    const run = await escalator(['dashboard', '--as', 'dana', '--ttl', '10m', '--url', baseUrl], { ESCALATOR_ACTION_SECRET: secret });
    expect(run.code, run.stderr).toBe(0);
    return run.stdout.trim();
  }

  async function apiReport(): Promise<MetricsReport> {
    const response = await fetch(`${baseUrl}/v1/metrics/gates`, { headers: { authorization: `Bearer ${tokens.reader}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as MetricsReport;
  }

  it('opens the printed link into a session and shows the figures the API answers, links to the Temporal UI, on a phone too', async () => {
    const context = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      const response = await page.goto(await signedLink());
      expect(page.url()).toBe(`${baseUrl}/dashboard`);
      expect(response!.status()).toBe(200);
      const headers = response!.headers();
      expect(headers['content-security-policy']).toContain("default-src 'none'");
      expect(headers['content-security-policy']).not.toMatch(/script-src/);
      expect(headers).toMatchObject({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });

      const [cookie, ...others] = await context.cookies();
      expect(others).toEqual([]);
      expect(cookie).toMatchObject({ name: 'escalator_dashboard', path: '/dashboard', httpOnly: true, sameSite: 'Lax', secure: false });
      expect(await page.evaluate(() => document.cookie)).toBe('');

      const api = await apiReport();
      expect(api).toEqual(await gateMetrics({ groupBy: 'gate' }));
      const integration = api.rows.find((row) => row.key === 'integration-tests')!;
      // 1 of the 3 ended overridden: above the 20 % the alert is for.
      expect(integration.current).toMatchObject({ raised: 4, ended: 3, open: 1, outcomes: { passed: 1, overridden: 1, withdrawn: 1 }, overrideAlert: true });

      const shown = await page.$$eval('[data-figure]', (elements) => elements.map((element) => [element.getAttribute('data-figure')!, element.getAttribute('data-value')!, element.textContent!.trim()]));
      expect(Object.fromEntries(shown.map(([name, value]) => [name, value]))).toEqual(expectedFigures(api));
      expect(shown.filter(([, , text]) => text === '')).toEqual([]);
      const text = (name: string) => shown.find(([shownName]) => shownName === name)?.[2];
      expect(text('integration-tests:raised')).toBe('4');
      expect(text('integration-tests:overrideShare')).toBe(`${Number((integration.current.overrideShare! * 100).toFixed(1))}%`);
      expect(text('integration-tests:overrideAlert')).toContain('Override alert');
      expect(text('lint:open')).toBe('1');

      const links = await page.$$eval('a[href^="http://temporal-ui.test"]', (anchors) => anchors.map((anchor) => [anchor.textContent, anchor.getAttribute('href')]));
      const slowestIds = api.rows.flatMap((row: GateReport) => row.slowest.map((escalation) => escalation.escalationId));
      expect(links).toEqual(slowestIds.map((id) => [id, workflowUrl(temporalUi, id)]));
      expect(await page.$$eval('script', (scripts) => scripts.length)).toBe(0);
      expect(await page.$$eval('figure svg', (charts) => charts.length)).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: join(screenshots, 'dashboard.png'), fullPage: true });

      // A phone, with script off: the same figures, and nothing wider than the screen.
      await page.setJavaScriptEnabled(false);
      await page.setViewport({ width: 375, height: 812, isMobile: true, hasTouch: true });
      expect((await page.reload())!.status()).toBe(200);
      expect(await page.$$eval('[data-figure]', (elements) => elements.length)).toBe(shown.length);
      await page.setJavaScriptEnabled(true);
      const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
      expect(widths.page).toBeLessThanOrEqual(widths.screen);
      await page.screenshot({ path: join(screenshots, 'dashboard-phone.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('without a credential answers a 401 page saying how to get a link, not JSON', async () => {
    const context = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(`${baseUrl}/dashboard?window=7d`);
      expect(response!.status()).toBe(401);
      expect(response!.headers()['content-type']).toMatch(/^text\/html/);
      const body = await page.$eval('body', (element) => element.textContent ?? '');
      expect(body).toContain('escalator dashboard');
      expect(body).toContain('Authorization: Bearer');
      expect(await page.$$('[data-figure]')).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('takes a bearer token with the read or admin scope, and refuses one without it or one it does not know', async () => {
    const dashboard = (token: string, query = '') => fetch(`${baseUrl}/dashboard${query}`, { headers: { authorization: `Bearer ${token}` } });
    const read = await dashboard(tokens.reader, '?window=90d&gate=integration-tests&groupBy=');
    expect(read.status).toBe(200);
    expect(Object.keys(figuresInHtml(await read.text())).every((name) => name.startsWith('integration-tests:'))).toBe(true);
    expect((await dashboard(tokens.admin)).status).toBe(200);
    const raiseOnly = await dashboard(tokens.ci);
    expect(raiseOnly.status).toBe(403);
    expect(await raiseOnly.text()).toContain('neither the read nor the admin scope');
    const unknown = await dashboard('nobody-token-0123456789abc');
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('content-type')).toMatch(/^text\/html/);
    const badQuery = await dashboard(tokens.reader, '?window=1y');
    expect(badQuery.status).toBe(400);
    expect(await badQuery.text()).toContain('window:');
  });

  it('refuses expired, tampered and foreign links without setting a cookie, and a link is no session cookie', async () => {
    const open = (token: string | undefined) => fetch(token === undefined ? `${baseUrl}/dashboard/session` : dashboardLinkUrl(baseUrl, token), { redirect: 'manual' });
    const link = new URL(await signedLink()).searchParams.get('token')!;
    const expired = await createDashboardToken(secret, 'link', { identity: 'dana', ttlSeconds: 60, now: new Date(Date.now() - 7_200_000) });
    const [header, payload, signature] = link.split('.') as [string, string, string];
    const tampered = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    const otherSecret = await createDashboardToken(`${secret}-other`, 'link', { identity: 'dana', ttlSeconds: 600 });
    const actionToken = await createActionToken(secret, { reviewer: 'alice', escalationId: 'escalation-x', step: 0, decision: 'approve' }, { ttlSeconds: 600 });
    const session = await createDashboardToken(secret, 'session', { identity: 'dana', ttlSeconds: 600 });
    const answers: Array<[string, number, string]> = [];
    for (const [why, token] of [
      ['expired', expired],
      ['tampered', tampered],
      ['another secret', otherSecret],
      ['an email action token', actionToken],
      ['a session token', session],
      ['no token', undefined],
    ] as const) {
      const response = await open(token);
      expect(response.headers.get('set-cookie'), why).toBeNull();
      answers.push([why, response.status, (await response.text()).match(/<h1>(.*)<\/h1>/)![1]!]);
    }
    expect(answers).toEqual([
      ['expired', 410, 'This dashboard link has expired'],
      ['tampered', 400, 'This dashboard link is not valid'],
      ['another secret', 400, 'This dashboard link is not valid'],
      ['an email action token', 403, 'This is not a dashboard link'],
      ['a session token', 403, 'This is not a dashboard link'],
      ['no token', 400, 'This dashboard link is not valid'],
    ]);

    const good = await open(link);
    expect(good.status).toBe(303);
    expect(good.headers.get('location')).toBe('/dashboard');
    // Plain HTTP: no Secure, whatever a client claims in X-Forwarded-Proto (the shim trusts no proxy).
    const forwarded = await fetch(dashboardLinkUrl(baseUrl, link), { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    expect(forwarded.headers.get('set-cookie')).not.toMatch(/Secure/);

    // A link put in the cookie is not a session; the page ends it.
    const linkAsCookie = await fetch(`${baseUrl}/dashboard`, { headers: { cookie: `escalator_dashboard=${link}` } });
    expect(linkAsCookie.status).toBe(401);
    expect(linkAsCookie.headers.get('set-cookie')).toMatch(/^escalator_dashboard=; Path=\/dashboard; Max-Age=0/);
    const sessionCookieHeader = good.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${baseUrl}/dashboard`, { headers: { cookie: sessionCookieHeader } })).status).toBe(200);
    // And a dashboard link is no email action link.
    expect((await fetch(`${baseUrl}/v1/actions/${link}`)).status).toBe(400);
  });

  it('refuses a tampered link in the browser too, which is then still signed out', async () => {
    const context = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      const link = await signedLink();
      const response = await page.goto(`${link.slice(0, -2)}${link.endsWith('AA') ? 'BB' : 'AA'}`);
      expect(response!.status()).toBe(400);
      expect(await context.cookies()).toEqual([]);
      expect((await page.goto(`${baseUrl}/dashboard`))!.status()).toBe(401);
    } finally {
      await context.close();
    }
  });
});

import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import { createDashboardToken, dashboardLinkUrl } from '../../../domain/dashboard-links.js';
import { durationSchema } from '../../../domain/duration.js';
import { parseFlags, personIdSchema } from '../operator-identity.js';
import { printJson, printLine } from '../output.js';

type DashboardFlags = { as?: string; ttl: string; url: string; json?: boolean };

// A link is a credential for as long as it lives: a day at most, and a session lasts 12 hours anyway.
const longestTtlMs = 24 * 3_600_000;

const linkRequestSchema = z.object({
  identity: personIdSchema,
  ttlMs: durationSchema.pipe(z.number().min(60_000, 'at least 1m').max(longestTtlMs, 'at most 24h')),
  shimUrl: z.url({ protocol: /^https?$/, error: 'an http(s) URL, such as http://127.0.0.1:8080' }),
  secret: z.string({ error: 'set it to the shim\'s secret (the one email action links are signed with)' }).min(32, 'at least 32 characters, as the shim requires'),
});

/** `escalator dashboard`: prints a signed, expiring link that opens the shim's metrics dashboard. */
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description("print a signed link to the shim's metrics dashboard; opening it signs the browser in for 12 hours")
    .option('--as <identity>', 'who the link signs in (shown on the dashboard); default: your user name')
    .option('--ttl <duration>', 'how long the link can be opened, 1m to 24h', '1h')
    .option('--url <shim-url>', "the shim's address as the browser reaches it", 'http://127.0.0.1:8080')
    .option('--json', 'print { url, identity, expiresAt } as JSON')
    .addHelpText(
      'after',
      `
Signs with ESCALATOR_ACTION_SECRET, which must be the shim's. The link is a credential until it
expires: anyone holding it can read the dashboard, so send it only to the person named by --as.
It works on the dashboard only; email action links and dashboard links cannot stand in for each other.`,
    )
    .action(async (flags: DashboardFlags) => {
      const request = parseFlags(
        linkRequestSchema,
        { identity: flags.as ?? userInfo().username, ttlMs: flags.ttl, shimUrl: flags.url, secret: process.env.ESCALATOR_ACTION_SECRET },
        { identity: '--as', ttlMs: '--ttl', shimUrl: '--url', secret: 'ESCALATOR_ACTION_SECRET' },
      );
      const now = new Date();
      const ttlSeconds = Math.max(1, Math.round(request.ttlMs / 1000));
      const token = await createDashboardToken(request.secret, 'link', { identity: request.identity, ttlSeconds, now });
      const url = dashboardLinkUrl(request.shimUrl, token);
      const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + ttlSeconds * 1000).toISOString();
      if (flags.json) return printJson({ url, identity: request.identity, expiresAt });
      printLine(url);
      process.stderr.write(`signs in ${request.identity}; the link can be opened until ${expiresAt}\n`);
    });
}

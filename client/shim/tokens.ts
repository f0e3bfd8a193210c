import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { fieldErrors } from '../../domain/field-errors.js';

export const scopes = ['raise', 'decide', 'read', 'admin'] as const;
export type Scope = (typeof scopes)[number];

/** Who a request acts as, taken from its credential and never from its body. */
export interface Identity {
  /** A person id from the policy (for reviewers) or a service name. */
  id: string;
  scopes: ReadonlySet<Scope>;
}

const tokenEntry = z
  .object({
    identity: z.string().min(1),
    scopes: z.array(z.enum(scopes)).min(1),
    token: z.string().min(16, 'tokens must be at least 16 characters').optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits').optional(),
  })
  .strict()
  .refine((entry) => (entry.token === undefined) !== (entry.sha256 === undefined), 'give exactly one of token or sha256');

const tokensFileSchema = z.object({ tokens: z.array(tokenEntry).min(1) }).strict();

/**
 * Bearer tokens mapped to identities. Tokens are looked up by their SHA-256, so the lookup takes
 * the same time whatever the token, and the file may hold hashes instead of secrets.
 */
export class TokenRegistry {
  private readonly byHash = new Map<string, Identity>();

  constructor(entries: z.output<typeof tokensFileSchema>['tokens']) {
    for (const entry of entries) {
      this.byHash.set(entry.sha256 ?? sha256(entry.token!), { id: entry.identity, scopes: new Set(entry.scopes) });
    }
  }

  static fromFile(file: string): TokenRegistry {
    const result = tokensFileSchema.safeParse(parse(readFileSync(file, 'utf8')));
    if (!result.success) {
      throw new Error(`invalid tokens file ${file}:\n${fieldErrors(result.error).map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
    }
    return new TokenRegistry(result.data.tokens);
  }

  identify(bearer: string): Identity | undefined {
    return this.byHash.get(sha256(bearer));
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

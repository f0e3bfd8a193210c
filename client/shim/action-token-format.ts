import { z } from 'zod';

/**
 * The longest path parameter the router takes (Fastify's `maxParamLength`); a longer one is refused
 * with 414 before any route. Action tokens are the longest parameters; escalation ids are far shorter.
 */
export const actionTokenMaxLength = 2048;

// An action token is a compact JWS (domain/action-tokens.ts): base64url header, payload and signature
// joined by dots. Its header is always {"alg":"HS256","typ":"escalator-action+jwt"} (59 characters) and
// an HS256 signature is 32 bytes (43 characters), so no token is shorter than 105 characters.
const jwsSignatureLength = 43;
const actionTokenMinLength = 59 + 1 + 1 + 1 + jwsSignatureLength;

/**
 * What an email action link's token looks like. Only its shape: a string that fits may still be
 * tampered with, expired or foreign, which only `verifyActionToken` and the escalation can tell.
 */
export const actionTokenSchema = z
  .string()
  .min(actionTokenMinLength)
  .max(actionTokenMaxLength)
  .regex(new RegExp(`^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{${jwsSignatureLength}}$`));

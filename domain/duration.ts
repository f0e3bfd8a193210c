import ms from 'ms';
import { z } from 'zod';

/**
 * A duration as a person writes it in a policy or config (`'90s'`, `'15m'`, `'2h'`, `'1d'`),
 * converted once to milliseconds at the edge.
 */
export const durationSchema = z.string().transform((text, ctx) => {
  // ms throws for an empty string instead of returning undefined.
  const millis = text ? ms(text as ms.StringValue) : undefined;
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a positive duration such as 30s, 15m, 2h or 1d` });
    return z.NEVER;
  }
  return millis;
});

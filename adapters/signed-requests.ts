/** What checking a signed HTTP request (Slack's interactions, Escalator's own webhooks) needs on both ends. */

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

/** The result of checking a signed request; `reason` says which check failed. */
export type SignatureCheck = { valid: true } | { valid: false; reason: 'missing-headers' | 'stale-timestamp' | 'bad-signature' };

/** A header's first value, by lower-case name, from fetch's Headers or Node's header object. */
export function headerOf(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/** The dashboard's session cookie: a signed dashboard token (purpose `session`), scoped to /dashboard. */
export const sessionCookieName = 'escalator_dashboard';

/** How long a session lasts once a link has been opened. */
export const sessionTtlSeconds = 12 * 3600;

/**
 * The Set-Cookie value that starts a session. HttpOnly: no script reads it (the page has none
 * anyway); SameSite=Lax: another site's page cannot send it on its own requests, but following a
 * link to the dashboard works; Secure only over HTTPS, so it also works on a plain-HTTP localhost.
 */
export function sessionCookie(token: string, options: { secure: boolean }): string {
  return [`${sessionCookieName}=${token}`, 'Path=/dashboard', `Max-Age=${sessionTtlSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(options.secure ? ['Secure'] : [])].join('; ');
}

/** The Set-Cookie value that ends a session the browser still holds, e.g. an expired one. */
export function clearedSessionCookie(options: { secure: boolean }): string {
  return [`${sessionCookieName}=`, 'Path=/dashboard', 'Max-Age=0', 'HttpOnly', 'SameSite=Lax', ...(options.secure ? ['Secure'] : [])].join('; ');
}

/**
 * The session cookie's value from a Cookie header, or undefined. Only this one cookie is read, so
 * the header is split by hand rather than with a cookie library; a JWT needs no decoding.
 */
export function sessionCookieOf(header: string | undefined): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === sessionCookieName) return pair.slice(separator + 1).trim() || undefined;
  }
  return undefined;
}

/** Text made safe for HTML content and quoted attribute values: the pages the shim serves to browsers. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * Headers for every page the shim serves to a browser (action links, ratings, the dashboard): no
 * cache keeps a page or the token in its URL, no Referer carries the URL away, no script runs, and a
 * form posts back to its own origin only.
 */
export const pageHeaders: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** A whole HTML page: `style` is the page set's own CSS, `body` HTML already escaped; `title` is escaped here. */
export function htmlPage(title: string, style: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Escalator</title>
<style>
${style}
</style>
</head>
<body><main>
${body}
</main></body>
</html>
`;
}

import type { JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiParameter, OpenApiResponse } from './openapi-types.js';

/**
 * The OpenAPI document as one self-contained HTML page: every operation with its access, parameters,
 * body and responses, then every schema. No scripts and nothing fetched from elsewhere, so it works
 * where the shim has no internet and under a `default-src 'none'` content security policy.
 */
export function docsPage(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation: operation! })),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text(document.info.title)}</title>
<style>${style}</style>
</head>
<body>
<header>
<h1>${text(document.info.title)} <small>${text(document.info.version)} · OpenAPI ${text(document.openapi)}</small></h1>
${prose(document.info.description)}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
</header>
<nav>
<h2>Operations</h2>
<ul>
${operations.map(({ path, method, operation }) => `<li><a href="#${operationAnchor(operation)}"><span class="method ${method}">${method.toUpperCase()}</span> <code>${text(path)}</code></a> ${text(operation.summary)}</li>`).join('\n')}
</ul>
<h2>Authentication</h2>
${Object.entries(document.components.securitySchemes)
  .map(([name, scheme]) => `<h3>${text(name)} (${text(scheme.type)} ${text(scheme.scheme)})</h3>\n${prose(scheme.description)}`)
  .join('\n')}
</nav>
<main>
${operations.map(({ path, method, operation }) => operationSection(document, path, method, operation)).join('\n')}
<h2>Schemas</h2>
${Object.entries(document.components.schemas).map(([name, schema]) => schemaSection(name, schema)).join('\n')}
</main>
</body>
</html>
`;
}

function operationSection(document: OpenApiDocument, path: string, method: string, operation: OpenApiOperation): string {
  const parameters = (operation.parameters ?? []).map((parameter) => ('$ref' in parameter ? document.components.parameters[parameter.$ref.split('/').at(-1)!]! : parameter));
  const body = operation.requestBody;
  return `<section id="${operationAnchor(operation)}" class="operation">
<h2><span class="method ${method}">${method.toUpperCase()}</span> <code>${text(path)}</code></h2>
<p class="summary">${text(operation.summary)} <span class="operation-id">operationId <code>${text(operation.operationId)}</code></span></p>
${prose(operation.description)}
<p><strong>Security:</strong> ${securityText(operation.security)}</p>
${parameters.length ? parameterTable(parameters) : ''}
${
  body
    ? `<h3>Request body${body.required ? ' (required)' : ' (optional)'}</h3>\n${prose(body.description)}\n${Object.entries(body.content)
        .map(([mediaType, { schema }]) => `<p><code>${text(mediaType)}</code> ${schemaLink(schema)}</p>`)
        .join('\n')}`
    : ''
}
<h3>Responses</h3>
<table>
<thead><tr><th>Status</th><th>Description</th><th>Body</th></tr></thead>
<tbody>
${Object.entries(operation.responses)
  .map(([status, response]) => [status, resolved(document, response)] as const)
  .map(
    ([status, response]) =>
      `<tr><td class="status s${status[0]}">${text(status)}</td><td>${prose(response.description)}${responseHeaders(response)}</td><td>${Object.entries(response.content ?? {})
        .map(([mediaType, { schema }]) => `<code>${text(mediaType)}</code> ${schemaLink(schema)}`)
        .join('<br>')}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>
</section>`;
}

function resolved(document: OpenApiDocument, response: OpenApiResponse | { $ref: string }): OpenApiResponse {
  return '$ref' in response ? document.components.responses[response.$ref.split('/').at(-1)!]! : response;
}

function responseHeaders(response: OpenApiResponse): string {
  const headers = Object.entries(response.headers ?? {});
  if (!headers.length) return '';
  return `<p>Headers:</p><ul>${headers.map(([name, header]) => `<li><code>${text(name)}</code> ${schemaLink(header.schema)}: ${inline(header.description)}</li>`).join('')}</ul>`;
}

function parameterTable(parameters: OpenApiParameter[]): string {
  return `<h3>Parameters</h3>
<table>
<thead><tr><th>Name</th><th>In</th><th>Required</th><th>Schema</th><th>Description</th></tr></thead>
<tbody>
${parameters.map((p) => `<tr><td><code>${text(p.name)}</code></td><td>${text(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td>${schemaLink(p.schema)}</td><td>${prose(p.description)}</td></tr>`).join('\n')}
</tbody>
</table>`;
}

function schemaSection(name: string, schema: JsonSchema): string {
  const json = text(JSON.stringify(schema, null, 2)).replace(/"#\/components\/schemas\/([A-Za-z0-9_]+)"/g, (_match, ref: string) => `"<a href="#schema-${ref}">#/components/schemas/${ref}</a>"`);
  return `<section id="schema-${text(name)}" class="schema">
<h3>${text(name)}</h3>
${typeof schema.description === 'string' ? prose(schema.description) : ''}
<pre>${json}</pre>
</section>`;
}

function schemaLink(schema: JsonSchema): string {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').at(-1)!;
    return `<a href="#schema-${text(name)}">${text(name)}</a>`;
  }
  return `<code>${text(JSON.stringify(schema))}</code>`;
}

function securityText(security: Array<Record<string, string[]>>): string {
  if (!security.length) return 'none; no token needed';
  return security
    .map((requirement) =>
      Object.entries(requirement)
        .map(([scheme, scopes]) => `${text(scheme)}${scopes.length ? ` with scope ${scopes.map((scope) => `<code>${text(scope)}</code>`).join(', ')}` : ' (any scope)'}`)
        .join(' and '),
    )
    .join(', or ');
}

function operationAnchor(operation: OpenApiOperation): string {
  return `operation-${text(operation.operationId)}`;
}

/** The little Markdown the document uses: paragraphs, `- ` lists and `code`. */
function prose(markdown: string): string {
  return markdown
    .split(/\n{2,}/)
    .map((block) => {
      const lines = block.split('\n');
      const items = lines.filter((line) => line.startsWith('- '));
      const lead = lines.filter((line) => !line.startsWith('- '));
      return [lead.length ? `<p>${lead.map(inline).join(' ')}</p>` : '', items.length ? `<ul>${items.map((item) => `<li>${inline(item.slice(2))}</li>`).join('')}</ul>` : ''].join('');
    })
    .join('\n');
}

function inline(markdown: string): string {
  return text(markdown).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function text(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const style = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 2rem; color: #1d2330; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f5f6f8; padding: .75rem; overflow-x: auto; border-radius: 4px; }
small { color: #5b6475; font-weight: normal; font-size: 60%; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d8dce3; padding: .35rem .5rem; text-align: left; vertical-align: top; }
td p, td ul { margin: 0; }
.operation { border-top: 2px solid #d8dce3; margin-top: 2rem; }
.method { display: inline-block; min-width: 3.5rem; text-align: center; border-radius: 3px; color: #fff; font-size: 80%; padding: 0 .3rem; }
.method.get { background: #2f6fb0; } .method.post { background: #2f8a4c; }
.operation-id { color: #5b6475; font-size: 90%; margin-left: 1rem; }
.status.s2 { color: #2f8a4c; } .status.s4 { color: #a35a00; } .status.s5 { color: #b02f2f; }
nav ul { list-style: none; padding-left: 0; }
`;

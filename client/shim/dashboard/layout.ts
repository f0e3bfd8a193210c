import { htmlPage, pageHeaders } from '../html-text.js';
/**
 * Headers for every dashboard answer. No cache keeps a page of someone's metrics or the link's
 * token; no Referer carries the URL to the Temporal UI; the pages run no script (charts are SVG
 * drawn on the server) and send their one form nowhere but back to the dashboard.
 */
export const dashboardHeaders: Readonly<Record<string, string>> = {
  ...pageHeaders,
};


/** A whole dashboard page: `body` is HTML already escaped; `title` is escaped here. */
export function layout(title: string, body: string): string {
  return htmlPage(title, dashboardStyle, body);
}

const dashboardStyle = `  * { box-sizing: border-box; }
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; padding: 1rem; color: #1f2328; background: #f4f5f7; }
  main { max-width: 80rem; margin: 0 auto; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.2rem; margin: 0; overflow-wrap: anywhere; }
  h3 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
  a { color: #0b57d0; }
  .meta { color: #57606a; margin: 0 0 .75rem; }
  nav ul { list-style: none; padding: 0; margin: .5rem 0 1rem; display: flex; flex-wrap: wrap; gap: .25rem .75rem; }
  form.filter { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: end; margin: 0 0 1rem; }
  form.filter label { display: flex; flex-direction: column; font-size: .85rem; color: #57606a; }
  input, select, button { font: inherit; padding: .3rem .5rem; max-width: 100%; }
  .cards { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 36rem), 1fr)); }
  .card { background: #fff; border-radius: 8px; padding: 1rem; box-shadow: 0 1px 2px rgb(0 0 0 / .08); min-width: 0; }
  .card header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem; margin-bottom: .75rem; }
  .mode { font-size: .8rem; padding: .05rem .4rem; border-radius: 4px; background: #ede7f6; color: #4527a0; }
  .alert { background: #fff3e0; border-left: 4px solid #ef6c00; padding: .5rem .75rem; margin: 0 0 .75rem; }
  dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: .75rem; margin: 0; }
  dl.figures dt { font-size: .8rem; color: #57606a; }
  dl.figures dd { margin: 0; font-size: 1.3rem; font-weight: 600; }
  .trend { display: block; font-size: .78rem; font-weight: 400; }
  .better { color: #1a7f37; }
  .worse { color: #cf222e; }
  .same, .neutral { color: #57606a; }
  .outcomes { display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding: 0; margin: 0; list-style: none; }
  figure { margin: 0; }
  figure svg { display: block; width: 100%; max-width: 34rem; height: auto; }
  .missing { color: #57606a; font-style: italic; }
  table { width: 100%; border-collapse: collapse; font-size: .88rem; }
  th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid #d8dee4; vertical-align: top; }
  td.number, th.number { text-align: right; }
  th[scope=row], td.id { overflow-wrap: anywhere; }
  /* On a phone each escalation of the table is a block of labelled lines. */
  @media (max-width: 40rem) {
    table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
    table.stack tr { display: block; padding: .4rem 0; border-bottom: 1px solid #d8dee4; }
    table.stack td { display: flex; gap: .5rem; border: 0; padding: .1rem 0; text-align: left; }
    table.stack td::before { content: attr(data-label); flex: 0 0 5.5rem; color: #57606a; }
  }
  code { font-size: .9em; overflow-wrap: anywhere; }`;

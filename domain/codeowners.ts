import type { Reviewer } from './escalation-plan.js';
/**
 * GitHub CODEOWNERS: which owners a changed file has. Patterns follow GitHub's dialect of gitignore
 * globbing, which differs from gitignore itself (and from `ignore`, `minimatch`, `picomatch`):
 * `/*` and `docs/*` match files directly in the folder only, `[ ]` are plain characters, a leading
 * `!` (negation) is refused, and the last matching line wins.
 */

/** One line of a CODEOWNERS file. */
export interface CodeownersRule {
  /** The pattern as written, escapes included (`docs/\#drafts/`). */
  readonly pattern: string;
  /** `@user`, `@org/team` or an e-mail address, as written. Empty: the line un-owns what it matches. */
  readonly owners: readonly string[];
  /** 1-based line number in the file. */
  readonly line: number;
}

/** A line that GitHub would skip, with the reason. */
export interface CodeownersProblem {
  readonly line: number;
  readonly message: string;
}

/**
 * Parses a CODEOWNERS file. Blank lines and lines starting with `#` are skipped; a word starting with
 * `#` ends the line (inline comment); `\` escapes the next character, so `\#`, `\ ` and `\*` are
 * literal. Lines with invalid syntax (a `!` negation, `***`, an owner that is not `@user`,
 * `@org/team` or an e-mail address) are skipped, as GitHub skips them; `parseCodeownersFile` says why.
 */
export function parseCodeowners(text: string): CodeownersRule[] {
  return parseCodeownersFile(text).rules;
}

/** Like `parseCodeowners`, and also reports each skipped line. */
export function parseCodeownersFile(text: string): { rules: CodeownersRule[]; problems: CodeownersProblem[] } {
  const rules: CodeownersRule[] = [];
  const problems: CodeownersProblem[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = index + 1;
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      try {
        const [pattern, ...owners] = splitWords(trimmed);
        if (pattern === undefined) return;
        checkPattern(pattern);
        for (const owner of owners) {
          if (!isOwner(owner)) throw new Error(`"${owner}" is not an owner: use @user, @org/team or an e-mail address`);
        }
        rules.push({ pattern, owners, line });
      } catch (error) {
        problems.push({ line, message: (error as Error).message });
      }
    });
  return { rules, problems };
}

/**
 * The owners of `path` (repository-relative, `/`-separated, as in a diff): those of the last rule
 * whose pattern matches. Empty when no rule matches, or when the last match lists no owners.
 *
 * @throws Error for a rule whose pattern `compileCodeownersPattern` refuses (never one from `parseCodeowners`).
 */
export function ownersOf(rules: readonly CodeownersRule[], path: string): string[] {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (matcherOf(rule)(path)) return [...rule.owners];
  }
  return [];
}

/** The teams that own a change's files, and the owners no team could be found for. */
export interface OwningTeams {
  /** Team slugs, sorted. */
  readonly teams: string[];
  /** Owners, as written, that are neither `@org/team` nor known to `teamOf`; sorted. */
  readonly unteamed: string[];
}

/**
 * The teams owning `files` under `rules`. An `@org/team` owner is the team `team` (its slug, lower-cased:
 * GitHub only accepts teams of the repository's organisation, so the slug names the team); any other owner
 * is in the team `teamOf` returns for it, or in none. Files without owners add nothing.
 */
export function owningTeams(rules: readonly CodeownersRule[], files: readonly string[], teamOf: (owner: string) => string | undefined): OwningTeams {
  const teams = new Set<string>();
  const unteamed = new Set<string>();
  for (const file of files) {
    for (const owner of ownersOf(rules, file)) {
      const team = teamOwner.test(owner) ? owner.slice(owner.indexOf('/') + 1).toLowerCase() : teamOf(owner);
      if (team === undefined) unteamed.add(owner);
      else teams.add(team);
    }
  }
  return { teams: [...teams].sort(), unteamed: [...unteamed].sort() };
}

/**
 * A predicate for one CODEOWNERS pattern, applied to repository-relative paths (a leading `/` on the
 * path is ignored). Throws on a pattern GitHub refuses (`!` negation, `***`, a dangling `\`).
 *
 * - A pattern without a `/` except a trailing one (`foo`, `*.js`, `build/`) matches at any depth;
 *   any other `/` anchors it at the repository root (`/foo`, `docs/api`).
 * - A match also owns everything below it (`foo` owns `foo/bar/baz`), except that a lone `*` as the
 *   last segment matches only direct children (`docs/*` does not own `docs/a/b.md`).
 * - A trailing `/` matches only directories, i.e. paths with something below.
 * - `*` is any run within a segment, `?` one character of a segment, `**` any number of segments.
 */
export function compileCodeownersPattern(pattern: string): (path: string) => boolean {
  checkPattern(pattern);
  const regex = new RegExp(`^${patternSource(pattern)}$`, 's');
  return (path) => regex.test(path.startsWith('/') ? path.slice(1) : path);
}

const compiled = new WeakMap<CodeownersRule, (path: string) => boolean>();

function matcherOf(rule: CodeownersRule): (path: string) => boolean {
  let matcher = compiled.get(rule);
  if (matcher === undefined) {
    matcher = compileCodeownersPattern(rule.pattern);
    compiled.set(rule, matcher);
  }
  return matcher;
}

/** Splits a trimmed line into words at unescaped whitespace, stopping at a word that starts with `#`. */
function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (!inWord && ch === '#') break;
    inWord = true;
    word += ch;
    if (ch === '\\') {
      const next = line[i + 1];
      if (next === undefined) throw new Error('the line ends with a lone "\\"');
      word += next;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function checkPattern(pattern: string): void {
  if (pattern === '') throw new Error('empty pattern');
  if (pattern.startsWith('!')) throw new Error(`"${pattern}": negation with "!" is not supported in CODEOWNERS`);
  if (pattern.includes('***')) throw new Error(`"${pattern}": three consecutive "*" are not a valid pattern`);
  if (/(^|[^\\])(\\\\)*\\$/.test(pattern)) throw new Error(`"${pattern}": ends with a lone "\\"`);
}

const userOwner = /^@[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;
const teamOwner = /^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9_.-]+$/;
const emailOwner = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;

function isOwner(word: string): boolean {
  return userOwner.test(word) || teamOwner.test(word) || emailOwner.test(word);
}

type Segment = { kind: 'globstar' } | { kind: 'star' } | { kind: 'glob'; source: string };

/** The regular expression body for a checked pattern; see `compileCodeownersPattern` for the rules. */
function patternSource(pattern: string): string {
  if (pattern === '/') return '(?!)';
  const anchored = pattern.startsWith('/');
  const body = anchored ? pattern.slice(1) : pattern;
  const directoryOnly = body.endsWith('/') && !body.endsWith('\\/');
  const segments = splitSegments(directoryOnly ? body.slice(0, -1) : body);
  // A single segment floats to any depth, unless it is already `**`.
  if (!anchored && segments.length === 1 && segments[0]!.kind !== 'globstar') segments.unshift({ kind: 'globstar' });
  if (directoryOnly) segments.push({ kind: 'globstar' });

  const last = segments.length - 1;
  let source = '';
  let slashBefore = false;
  segments.forEach((segment, i) => {
    const sep = slashBefore ? '/' : '';
    if (segment.kind === 'globstar') {
      if (i === 0 && i === last) source += '.+';
      else if (i === 0) source += '(?:.+/)?';
      else if (i === 1 && segments[0]!.kind === 'globstar') source += '.+/.*'; // `**/`: any directory
      else if (i === last) source += '/.*';
      else source += '(?:/.+)?';
      slashBefore = i !== 0;
    } else if (segment.kind === 'star') {
      source += `${sep}[^/]+`;
      slashBefore = true;
    } else {
      source += sep + segment.source;
      if (i === last) source += '(?:/.*)?';
      slashBefore = true;
    }
  });
  return source;
}

function splitSegments(body: string): Segment[] {
  const segments: Segment[] = [];
  let raw = '';
  let source = '';
  const finish = () => {
    if (raw === '**') {
      // `**/**` is `**`.
      if (segments.at(-1)?.kind !== 'globstar') segments.push({ kind: 'globstar' });
    } else if (raw === '*') segments.push({ kind: 'star' });
    else segments.push({ kind: 'glob', source });
    raw = '';
    source = '';
  };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\') {
      const next = body[++i]!;
      raw += `\\${next}`;
      source += escapeRegex(next);
    } else if (ch === '/') {
      finish();
    } else {
      raw += ch;
      source += ch === '*' ? '[^/]*' : ch === '?' ? '[^/]' : escapeRegex(ch);
    }
  }
  finish();
  return segments;
}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/** The share of `files` each person owns under CODEOWNERS (owners as @handle, @org/team handle or email). */
export function ownership(codeowners: string, files: string[], people: Record<string, Reviewer>): Record<string, number> {
  if (files.length === 0) return {};
  const rules = parseCodeowners(codeowners);
  const byAlias = new Map<string, string>();
  for (const person of Object.values(people)) {
    for (const alias of person.aliases) byAlias.set(alias.replace(/^@/, ''), person.id);
  }
  const owned: Record<string, number> = {};
  for (const file of files) {
    const owners = new Set(ownersOf(rules, file).map((owner) => byAlias.get(owner.replace(/^@/, '').toLowerCase())).filter((id): id is string => id !== undefined));
    for (const id of owners) owned[id] = (owned[id] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(owned).map(([id, count]) => [id, count / files.length]));
}

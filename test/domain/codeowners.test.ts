import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCodeownersPattern, ownersOf, owningTeams, parseCodeowners, parseCodeownersFile } from '../../domain/codeowners.js';

interface PatternCase {
  name: string;
  pattern: string;
  paths: Record<string, boolean>;
}

// Vectors from hmarr/codeowners (MIT), kept in the shared conformance folder beside the checkout and
// read in place. A clone elsewhere has no such folder: the project's own cases below still run, and
// the output says the shared vectors were not found.
const sharedVectors = [new URL('../../../shared/conformance/codeowners-patterns.json', import.meta.url)].find((url) => existsSync(url));
const vectors = sharedVectors && (JSON.parse(readFileSync(sharedVectors, 'utf8')) as PatternCase[]);
if (!vectors) console.warn("shared CODEOWNERS conformance vectors not found (no shared/conformance/codeowners-patterns.json in the folder beside this checkout): only the project's own pattern cases ran");

// The project's own cases: each rule of GitHub's CODEOWNERS syntax once, so matching is covered
// without the shared folder.
const ownCases: PatternCase[] = [
  { name: 'anywhere by extension', pattern: '*.js', paths: { 'app.js': true, 'src/app.js': true, 'app.jsx': false, 'src/app.ts': false } },
  { name: 'anchored directory', pattern: '/build/logs/', paths: { 'build/logs/a.log': true, 'build/logs/deep/b.log': true, 'x/build/logs/a.log': false, 'build/logs': false } },
  { name: 'unanchored directory', pattern: 'docs/', paths: { 'docs/a.md': true, 'src/docs/a.md': true, 'docs': false } },
  { name: 'single level star', pattern: 'docs/*', paths: { 'docs/a.md': true, 'docs/deep/a.md': false } },
  { name: 'double star in the middle', pattern: 'src/**/test.ts', paths: { 'src/test.ts': true, 'src/a/b/test.ts': true, 'lib/a/test.ts': false } },
  { name: 'question mark', pattern: 'file?.txt', paths: { 'file1.txt': true, 'file12.txt': false } },
  { name: 'anchored file', pattern: '/README.md', paths: { 'README.md': true, 'docs/README.md': false } },
];

describe('CODEOWNERS patterns match as GitHub matches them', () => {
  for (const [source, cases] of [['project', ownCases], ['shared conformance', vectors ?? []]] as const) {
    for (const vector of cases) {
      describe(`${source} ${vector.name}: ${vector.pattern}`, () => {
        const matches = compileCodeownersPattern(vector.pattern);
        for (const [path, expected] of Object.entries(vector.paths)) {
          it(`${expected ? 'matches' : 'does not match'} ${path}`, () => {
            expect(matches(path)).toBe(expected);
          });
        }
      });
    }
  }

  it('refuses what GitHub refuses: negation and three asterisks', () => {
    expect(() => compileCodeownersPattern('!docs/')).toThrow(/negation/);
    expect(() => compileCodeownersPattern('docs/***')).toThrow(/three consecutive/);
  });

  it('treats "**/" as any directory and "/" as nothing', () => {
    const anyDirectory = compileCodeownersPattern('**/');
    expect(anyDirectory('README.md')).toBe(false);
    expect(anyDirectory('docs/README.md')).toBe(true);
    expect(compileCodeownersPattern('/')('README.md')).toBe(false);
  });

  it('ignores a leading slash on the path', () => {
    expect(compileCodeownersPattern('/docs/')('/docs/a.md')).toBe(true);
  });
});

describe('parseCodeowners', () => {
  const file = [
    '# Default owners',
    '*       @octo-org/everyone',
    '',
    '   # an indented comment',
    '*.js    @js-owner alice@example.com # inline comment',
    '/build/logs/',
    'docs/\\#drafts/  @writer',
    'my\\ notes.txt  @mona',
    'apps/[id]/page.ts @app_owner',
    '!secret.txt @nobody',
    'src/ @not-an-owner!',
  ].join('\n');

  it('reads patterns and owners, skipping blank lines and comments', () => {
    expect(parseCodeowners(file)).toEqual([
      { pattern: '*', owners: ['@octo-org/everyone'], line: 2 },
      { pattern: '*.js', owners: ['@js-owner', 'alice@example.com'], line: 5 },
      { pattern: '/build/logs/', owners: [], line: 6 },
      { pattern: 'docs/\\#drafts/', owners: ['@writer'], line: 7 },
      { pattern: 'my\\ notes.txt', owners: ['@mona'], line: 8 },
      { pattern: 'apps/[id]/page.ts', owners: ['@app_owner'], line: 9 },
    ]);
  });

  it('skips lines GitHub would skip and says why', () => {
    const { problems } = parseCodeownersFile(file);
    expect(problems).toEqual([
      { line: 10, message: expect.stringMatching(/negation/) },
      { line: 11, message: expect.stringMatching(/"@not-an-owner!" is not an owner/) },
    ]);
  });

  it('reads an escaped "#" and an escaped space as part of the pattern', () => {
    const rules = parseCodeowners(file);
    expect(ownersOf(rules, 'docs/#drafts/plan.md')).toEqual(['@writer']);
    expect(ownersOf(rules, 'my notes.txt')).toEqual(['@mona']);
    expect(ownersOf(rules, 'apps/[id]/page.ts')).toEqual(['@app_owner']);
  });

  it('accepts Windows line endings and a byte-order mark', () => {
    expect(parseCodeowners('\uFEFF* @a\r\nsrc/ @b\r\n')).toEqual([
      { pattern: '*', owners: ['@a'], line: 1 },
      { pattern: 'src/', owners: ['@b'], line: 2 },
    ]);
  });
});

describe('ownersOf', () => {
  const rules = parseCodeowners(
    [
      '*                @everyone',
      '*.js             @js-owner',
      '/docs/           @docs-team @octo-org/writers',
      '/docs/generated/',
      'apps/            @apps-team',
      '/apps/github     @octocat',
    ].join('\n'),
  );

  it('lets the last matching rule win, not the most specific', () => {
    expect(ownersOf(rules, 'docs/intro.js')).toEqual(['@docs-team', '@octo-org/writers']);
    expect(ownersOf(rules, 'lib/index.js')).toEqual(['@js-owner']);
    expect(ownersOf(rules, 'apps/github/main.go')).toEqual(['@octocat']);
    expect(ownersOf(rules, 'apps/api/main.go')).toEqual(['@apps-team']);
    expect(ownersOf(rules, 'README.md')).toEqual(['@everyone']);
  });

  it('un-owns paths whose last matching rule lists no owners', () => {
    expect(ownersOf(rules, 'docs/generated/api.md')).toEqual([]);
  });

  it('returns no owners when nothing matches', () => {
    expect(ownersOf(parseCodeowners('/src/ @dev'), 'docs/a.md')).toEqual([]);
  });

  it('returns a copy the caller may change', () => {
    const owners = ownersOf(rules, 'README.md');
    owners.push('@intruder');
    expect(ownersOf(rules, 'README.md')).toEqual(['@everyone']);
  });
});

describe('owningTeams', () => {
  const rules = parseCodeowners(
    [
      '*               @acme/platform',
      'src/basket/     @acme/checkout @alice-gh',
      'src/payments/   @Acme/Payments',
      'docs/           @carol-gh bob@example.com',
      'vendor/         @stranger',
      'generated/',
    ].join('\n'),
  );
  const people: Record<string, string> = { '@alice-gh': 'checkout', '@carol-gh': 'docs' };
  const teamOf = (owner: string) => people[owner];

  it.each([
    { files: ['src/basket/a.ts'], teams: ['checkout'], unteamed: [] },
    { files: ['src/basket/a.ts', 'src/payments/b.ts'], teams: ['checkout', 'payments'], unteamed: [] },
    { files: ['README.md'], teams: ['platform'], unteamed: [] },
    { files: ['docs/a.md'], teams: ['docs'], unteamed: ['bob@example.com'] },
    { files: ['vendor/x.js', 'generated/y.ts'], teams: [], unteamed: ['@stranger'] },
    { files: [], teams: [], unteamed: [] },
  ])('$files → teams $teams', ({ files, teams, unteamed }) => {
    expect(owningTeams(rules, files, teamOf)).toEqual({ teams, unteamed });
  });

  it('is not changed by files nobody owns', () => {
    const owned = fc.constantFrom('src/basket/a.ts', 'src/payments/b.ts', 'README.md', 'docs/a.md', 'vendor/x.js');
    const unowned = fc.stringMatching(/^[a-z]{1,8}\.ts$/).map((name) => `generated/${name}`);
    fc.assert(
      fc.property(fc.array(owned), fc.array(unowned), (files, extra) => {
        expect(owningTeams(rules, [...extra, ...files, ...extra], teamOf)).toEqual(owningTeams(rules, files, teamOf));
      }),
    );
  });
});

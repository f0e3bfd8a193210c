import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node APIs, no activity implementations.
const workflowSandbox = [
  { group: ['node:*', 'fs', 'path', 'http', 'https', 'crypto', 'child_process', 'os', 'net'], message: 'workflow code must stay deterministic: no Node APIs' },
  { group: ['**/activities/**'], allowTypeImports: true, message: 'workflows import activities as types only' },
  { group: ['zod', 'nodemailer', 'yaml'], allowTypeImports: true, message: 'keep I/O and validation libraries out of the workflow bundle' },
];
// domain/ is the pure core (the engine, plans, policies): it depends on nothing with side effects.
const domainPurity = [
  { group: ['**/activities/**', '**/workflows/**', '**/worker/**', '**/client/**', '**/adapters/**', '**/scripts/**'], message: 'domain/ is pure: it depends on nothing outside domain/' },
  { group: ['@temporalio/*', 'nodemailer', 'pg', 'better-sqlite3', 'fastify'], message: 'domain/ is pure: no Temporal, no I/O' },
];
// The parts of domain/ the workflow bundles.
const sandboxedDomain = ['domain/engine/**/*.ts', 'domain/sequential-chain.ts', 'domain/parallel-quorum.ts', 'domain/escalation.ts', 'domain/escalation-plan.ts'];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'test/fixtures/histories/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: workflowSandbox }] },
  },
  {
    files: ['domain/**/*.ts'],
    ignores: sandboxedDomain,
    rules: { 'no-restricted-imports': ['error', { patterns: domainPurity }] },
  },
  {
    files: sandboxedDomain,
    rules: { 'no-restricted-imports': ['error', { patterns: [...workflowSandbox, ...domainPurity] }] },
  },
  {
    // client/ (CLI, HTTP shim, library) acts on escalations through domain/, adapters/ and the
    // message definitions; it never runs activities or workflow internals itself.
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/activities/**', '**/worker/**'], message: 'client/ imports domain/, adapters/ and the message definitions only: move what both sides need to adapters/' },
            { group: ['**/workflows/**', '!**/workflows/messages.js', '!**/workflows/input.js', '!**/workflows/search-attributes.js'], allowTypeImports: true, message: 'client/ imports the message definitions (workflows/messages.ts), not workflow code' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);

import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// Used only by `npm run record-histories`; the test run never records.
export default defineConfig({ test: { ...base.test, include: ['test/fixtures/record-histories.ts'] } });

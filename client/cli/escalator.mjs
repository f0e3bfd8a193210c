#!/usr/bin/env node
// The `escalator` bin: registers tsx from this package (not the caller's directory), then runs the
// TypeScript entry point, so the command works from any working directory.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');

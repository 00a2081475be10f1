#!/usr/bin/env node
import module from 'node:module';

// Node 22.1+ can cache compiled modules between runs, which shortens every start-up.
module.enableCompileCache?.();
// Stack traces name our sources, not the bundle, when a user reports a bug.
if (process.argv.includes('--verbose') || process.argv.includes('-v'))
  process.setSourceMapsEnabled(true);
await import('../dist/main.js');

#!/usr/bin/env node
import module from 'node:module';

// Node 22.1+ can cache compiled modules between runs, which shortens every start-up.
module.enableCompileCache?.();
await import('../dist/cli/main.js');

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package's root folder; the same from src/ (tests) and dist/ (the built
 * CLI). `__filename` is this file's path in the CommonJS bundles, and
 * `import.meta.filename` in the ES modules (esbuild.config.js).
 */
export const PACKAGE_ROOT = join(dirname(__filename), '..');

export const SCHEMAS_DIR = join(PACKAGE_ROOT, 'schemas');

export const VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

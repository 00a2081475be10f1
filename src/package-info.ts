import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root folder; the same from src/ (tests) and dist/ (the built CLI). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const SCHEMAS_DIR = join(PACKAGE_ROOT, 'schemas');

export const VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

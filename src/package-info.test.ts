import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, VERSION } from './package-info.js';

describe('package info', () => {
  it('finds the package root from the sources, as the bundles do from dist/', () => {
    expect(existsSync(join(PACKAGE_ROOT, 'package.json'))).toBe(true);
    expect(existsSync(join(PACKAGE_ROOT, 'src', 'package-info.ts'))).toBe(true);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});

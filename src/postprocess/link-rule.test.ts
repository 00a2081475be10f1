import { describe, expect, it } from 'vitest';
import { linkLeadsOut } from './link-rule.js';

describe('linkLeadsOut', () => {
  it.each([
    ['out/same', 'a.nc', false],
    ['out/up', '../logs/stdout.log', false],
    ['out/folder', '../out', false],
    ['out/dot', '.', false],
    ['top', 'nowhere', false],
    ['out/abs', '/etc/hostname', true],
    ['out/climb', '../../x', true],
    ['top', '..', true],
    ['out/sneaky', 'sub/../../../x', true],
  ])('%s → %s leads out: %s', (path, target, expected) => {
    expect(linkLeadsOut(path, target)).toBe(expected);
  });
});

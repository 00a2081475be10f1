import { describe, expect, it } from 'vitest';
import { closestMatch } from './did-you-mean.js';
import {
  formatDuration,
  MIN_MEMORY_LIMIT_BYTES,
  memoryBytes,
  memorySize,
  parseDuration,
} from './fields.js';

describe('durations', () => {
  it.each([
    ['90m', 5400],
    ['2h', 7200],
    ['1h30m', 5400],
    ['45s', 45],
    ['1d', 86_400],
    ['1h0m30s', 3630],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'h', '1.5h', '30m1h', '1 h', '-5m', '10'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([
    [3600, '1h'],
    [5400, '1h30m'],
    [59, '59s'],
    [86_400, '1d'],
    [90_000, '1d1h'],
    [365 * 86_400, '365d'],
  ])('%i seconds reads %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('memory sizes', () => {
  it.each([
    ['1024', 1024],
    ['4k', 4096],
    ['512m', 512 * 1024 ** 2],
    ['2G', 2 * 1024 ** 3],
  ])('%s is %i bytes', (size, bytes) => {
    expect(memoryBytes(size)).toBe(bytes);
  });
});

describe('memory size fields', () => {
  const docs = { description: 'a size', examples: ['512m'] };
  const limit = memorySize(docs, { minBytes: MIN_MEMORY_LIMIT_BYTES });
  const shm = memorySize(docs);
  const messages = (schema: typeof shm, input: unknown) => {
    const result = schema.safeParse(input);
    return result.success ? [] : result.error.issues.map((issue) => issue.message);
  };

  it.each(['1gb', '2GB', '512MiB', '1x'])('says the unit of %j is not understood, once', (size) => {
    const found = messages(limit, size);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^the unit "\w+" in ".*" is not understood; .*k, m or g/);
  });

  it.each([
    [shm, '0'],
    [shm, '0g'],
    [limit, '0'],
  ])('refuses a size of 0, which Docker reads as its default', (schema, size) => {
    expect(messages(schema, size)).toEqual([
      'a size of 0 is not allowed; leave the field out for the default, or give a size such as "256m"',
    ]);
  });

  it('still names the minimum for a small size', () => {
    expect(messages(limit, '1m')).toEqual(['"1m" is less than the 6m minimum']);
  });
});

describe('did you mean', () => {
  const keys = ['type', 'timeout', 'env_vars', 'working_dir', 'cpu', 'memory', 'volumes'];
  it.each([
    ['timout', 'timeout'],
    ['Timeout', 'timeout'],
    ['envvars', 'env_vars'],
    ['working-dir', 'working_dir'],
    ['cpus', 'cpu'],
    ['memroy', 'memory'],
    ['volume', 'volumes'],
  ])('%s → %s', (typo, key) => {
    expect(closestMatch(typo, keys)).toBe(key);
  });

  it.each(['colour', 'gpu_count', 'x'])('%s suggests nothing', (word) => {
    expect(closestMatch(word, keys)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { expressionAt, undefinedPath } from './undefined-name.js';

const context = {
  config: { name: 'bay', grid: { nx: 4 }, list: [1] },
  runtime: { run_id: 'r' },
};

describe('expressionAt', () => {
  it.each([
    ['{{ a }}', 1, 1, 'a'],
    ['x\n  {{ config.b | upper }} y', 2, 16, 'config.b | upper'],
    ['{% set y = config.z %}', 1, 5, 'set y = config.z'],
    ['{{- a -}}', 1, 1, 'a'],
  ])('finds the tag of %j at %i:%i', (text, line, column, expected) => {
    expect(expressionAt(text, line, column)).toBe(expected);
  });
});

describe('undefinedPath', () => {
  it.each([
    ['config.nmae', { path: 'config.nmae', parent: 'config', known: ['name', 'grid', 'list'] }],
    ['config.grid.ny | upper', { path: 'config.grid.ny', parent: 'config.grid', known: ['nx'] }],
    ['config.name.x.y', { path: 'config.name.x', parent: 'config.name', known: [] }],
    ['config.list[3]', { path: 'config.list[3]', parent: 'config.list', known: [] }],
    ['config["nmae"]', { path: 'config.nmae', parent: 'config', known: ['name', 'grid', 'list'] }],
    ['"config.x" ~ loopvar.x', { path: 'loopvar.x' }],
    [
      'range(3) | join(config.sep)',
      { path: 'config.sep', parent: 'config', known: ['name', 'grid', 'list'] },
    ],
    ['config.name', undefined],
  ])('names what is missing in %j', (expression, expected) => {
    expect(undefinedPath(expression, context)).toEqual(expected);
  });
});

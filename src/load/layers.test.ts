import { describe, expect, it } from 'vitest';
import { fileLayer } from './layers.js';
import { parseYaml } from './parse-yaml.js';

/** A parsed file as a layer, as often as it is read: an ensemble's members read one file many times. */

const TEXT = 'name: "${WHO}"\nshared: &grid {nx: 10}\nagain: *grid\nlist: [1, {a: 2}]\n';

describe('a file read into a layer again', () => {
  it('gives the same layer each time, each a copy of its own to change', () => {
    const parsed = parseYaml(TEXT);
    const env = { WHO: 'ada' };
    const first = fileLayer('cfg.yml', '/cfg.yml', parsed, env).layer;
    for (let i = 0; i < 4; i++) {
      const layer = fileLayer('cfg.yml', '/cfg.yml', parsed, env).layer;
      if (layer === undefined || first === undefined) throw new Error('no layer');
      expect(layer.data).toEqual(first.data);
      expect(layer.interpolated).toEqual(new Map([['["name"]', '${WHO}']]));
      // What an alias shares stays shared.
      expect(layer.data.again).toBe(layer.data.shared);
      // Merging changes a layer's data in place: no later reading sees it.
      (layer.data.shared as Record<string, unknown>).nx = i;
      layer.data.name = 'changed';
    }
  });

  it('is read again for another environment', () => {
    const parsed = parseYaml(TEXT);
    for (const who of ['ada', 'ada', 'ada', 'bob'])
      expect(fileLayer('cfg.yml', '/cfg.yml', parsed, { WHO: who }).layer?.data.name).toBe(who);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runModelrun } from './helpers/cli.js';
import { treeForEachTest } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';
import { copyWaveExample } from './helpers/wave-example.js';

/** The example ensemble (examples/wave/ensemble.yml) and its aggregate step, through the built CLI. */

const tree = treeForEachTest();
const copyExample = (id: string) => copyWaveExample(tree, id);

interface Member {
  run_id: string;
  status: string;
  parameters: Record<string, unknown>;
}

/** Whether every element closes, in order: enough of XML to know a viewer can read the file. */
function elementsClose(xml: string): boolean {
  const open: string[] = [];
  for (const [, closing, name, empty] of xml.matchAll(/<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g)) {
    if (empty === '/') continue;
    if (closing === '') open.push(name as string);
    else if (open.pop() !== name) return false;
  }
  return open.length === 0;
}

describe('the example wave ensemble', () => {
  it('runs six members, then tabulates and plots the highest water at the gauge', async () => {
    const id = uniqueId('wave-study');
    const example = copyExample(id);
    const result = await runModelrun(['ensemble', 'ensemble.yml'], { cwd: example });
    expect(result.stderr).toContain(`✓ ensemble ${id} succeeded: 6 succeeded of 6 members`);
    expect(result.stdout).toContain('aggregate: 6 of 6 members measured');
    expect(result.code).toBe(0);

    const dir = join(example, 'simulations', id);
    const record = JSON.parse(readFileSync(join(dir, 'ensemble.json'), 'utf8')) as {
      status: string;
      members: Member[];
      aggregate: { type: string; status: string }[];
    };
    expect(record.status).toBe('succeeded');
    expect(record.aggregate).toMatchObject([{ type: 'command', status: 'succeeded' }]);
    // The product of the lists (the interval has one value), the last varying fastest.
    const runs = [5, 10, 20].flatMap((depth) =>
      [0.1, 0.2].map((amplitude) => ({
        run_id: `wave-d${depth}-a${amplitude}`,
        status: 'succeeded',
        parameters: {
          'period.interval': '10s',
          'config.depth_m': depth,
          'config.pulse.amplitude_m': amplitude,
        },
      })),
    );
    expect(
      record.members.map(({ run_id, status, parameters }) => ({ run_id, status, parameters })),
    ).toEqual(runs);

    const [header, ...rows] = readFileSync(join(dir, 'members.csv'), 'utf8').trim().split('\n');
    expect(header).toBe(
      'run_id,status,period.interval,config.depth_m,config.pulse.amplitude_m,max_probe_height_m',
    );
    const table = rows.map((row) => {
      const [runId, status, , depth, amplitude, height] = row.split(',');
      expect(height).toMatch(/^\d+(\.\d+)?$/);
      return {
        runId,
        status,
        depth: Number(depth),
        amplitude: Number(amplitude),
        height: Number(height),
      };
    });
    expect(table.map((r) => [r.runId, r.status])).toEqual(runs.map((r) => [r.run_id, 'succeeded']));
    for (const depth of [5, 10, 20]) {
      const at = (amplitude: number) =>
        table.find((r) => r.depth === depth && r.amplitude === amplitude)?.height ?? Number.NaN;
      // Linear waves: twice the hump, twice the height, at every depth.
      expect(at(0.2) / at(0.1)).toBeCloseTo(2, 2);
      // The hump splits into two halves, which (one off each wall, 20 km each)
      // cross at the gauge and add up to the whole amplitude: depth sets when, not how high.
      expect(at(0.1)).toBeCloseTo(0.1, 2);
      expect(at(0.2)).toBeCloseTo(0.2, 2);
    }

    const svg = readFileSync(join(dir, 'max-height.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(elementsClose(svg)).toBe(true);
    expect(svg.match(/<polyline class="series"/g)).toHaveLength(2);
    for (const text of [
      'still-water depth (m)',
      'max |elevation| at the gauge (m)',
      'hump amplitude',
      '>0.1 m<',
      '>0.2 m<',
      `Highest water at the tide gauge (${id})`,
    ])
      expect(svg).toContain(text);
  }, 60_000);
});

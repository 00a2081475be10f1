import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnsembleRecord } from '../src/model/ensemble-record.js';
import { runModelrun, startModelrun } from './helpers/cli.js';
import { dockerUnavailable, ensureTestImages, reportMissingEngine } from './helpers/engines.js';
import { studyEnsemble, studyTree } from './helpers/ensemble-study.js';
import { makeTree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const missing = dockerUnavailable();
reportMissingEngine('docker', missing);
const docker = new Docker();

const tree = makeTree({
  ...studyTree('cat values.txt'),
});
afterAll(() => tree.remove());

const BACKEND = 'backend:\n  type: docker\n  image: modelrun-test/busybox\n  pull_policy: never\n';

const record = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'ensemble.json'), 'utf8')) as EnsembleRecord;

/** The containers of a run id, running or not. */
async function containersOf(runIds: string[]): Promise<string[]> {
  const all = await docker.listContainers({ all: true });
  return all
    .filter((c) => runIds.includes(c.Labels['modelrun.run_id'] ?? ''))
    .map((c) => `${c.Labels['modelrun.run_id']} ${c.State}`);
}

describe.skipIf(missing !== undefined)('an ensemble on a real Docker engine', () => {
  beforeAll(() => ensureTestImages(), 300_000);

  it('runs a 2×3 product and 2 listed members in containers, and leaves none behind', async () => {
    const id = uniqueId('ens-docker');
    tree.write(`${id}.yml`, studyEnsemble(id, BACKEND, 3, `${id}-`));
    const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
    expect(result.code, result.stderr).toBe(0);
    const dir = tree.path('simulations', id);
    const ended = record(dir);
    expect(ended.totals).toMatchObject({ members: 8, succeeded: 8 });
    expect(ended.max_parallel).toBe(3);
    expect(readFileSync(join(dir, `${id}-d60-w8`, 'logs', 'stdout.log'), 'utf8')).toBe(
      'depth=60,width=8\n',
    );
    const seen = JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8')) as EnsembleRecord;
    expect(seen.members.every((m) => m.status === 'succeeded')).toBe(true);
    expect(await containersOf(ended.members.map((m) => m.run_id))).toEqual([]);
  }, 120_000);

  it('on Ctrl-C, stops every running container, starts no other, and exits 130', async () => {
    const id = uniqueId('ens-docker-stop');
    tree.write(
      `${id}.yml`,
      `model: slow.yml\nensemble_id: ${id}\n${BACKEND}run_id: ${id}-{{ member.index }}\nreplicas: 4\nmax_parallel: 2\n`,
    );
    const dir = tree.path('simulations', id);
    const { child, exited } = await startModelrun(['ensemble', `${id}.yml`], {
      cwd: tree.root,
      marker: `${id}-1 running`,
      markerOn: 'stderr',
      waitMs: 60_000,
    });
    const runIds = [0, 1, 2, 3].map((i) => `${id}-${i}`);
    // Both running members have their container up and the model in its sleep.
    for (let i = 0; i < 400; i++) {
      const up = await containersOf(runIds);
      if (up.filter((c) => c.endsWith('running')).length === 2) break;
      await sleep(50);
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await containersOf(runIds)).toEqual([]);
    const ended = record(dir);
    expect(ended.status).toBe('cancelled');
    expect(ended.members.map((m) => m.status)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect(ended.members[3]?.reason).toBe('not started: the ensemble was cancelled by SIGINT');
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { strictObject } from '../config/fields.js';
import { diskPathContext } from '../config/path-context.js';
import { processGroupUndo, undoHandler } from '../exec/guard.js';
import { processGroupHandle } from '../exec/process-handle.js';
import { type BackendConfig, defineBackend, requireAvailable } from './contract.js';

const JOB = { runId: 'r1', stagingDir: '/tmp/r1', modelCommand: undefined };
const OWNER = { runId: 'r1', stagingDir: '/tmp/r1' };

/** A backend made up for the test, whose schema has one field of its own. */
function toyBackend(seen: unknown[] = []) {
  return defineBackend({
    type: 'toy',
    description: 'a toy',
    configSchema: () =>
      strictObject({
        type: z.literal('toy'),
        timeout: z.number().default(60),
        depth: z.number(),
      }),
    summaryFields: ['depth'],
    template: { required: { depth: 1 } },
    warnings(config) {
      // As written: the field may be anything.
      const depth: unknown = config.depth;
      // @ts-expect-error `width` is no field of this schema
      config.width;
      return depth === 0 ? [{ path: ['depth'], message: 'zero depth' }] : [];
    },
    launcherCopies(config) {
      // Inferred from the schema: a number, no cast.
      const depth: number = config.depth;
      return { copies: depth, path: ['depth'], serial: 'depth: 1' };
    },
    async probe() {
      return { available: false, detail: 'the toy engine is off', hint: 'switch it on' };
    },
    async plan(config) {
      return { lines: [['depth', String(config.depth)]], data: { depth: config.depth } };
    },
    secretFields: [['env_vars']],
    undo: [processGroupUndo],
    handle: processGroupHandle,
    async createRunner(config, _job, deps) {
      seen.push(config.depth);
      // @ts-expect-error the toy's runs may hand the guardian only process groups
      deps.guard?.({ kind: 'docker-container', id: 'c', engine: 'unix:///x', remove: true });
      throw new Error('no toy runner');
    },
  });
}

describe('defineBackend', () => {
  it.each([
    ['another kind', { kind: 'slurm-job', id: '12' }],
    ['no leader', { kind: 'process-group', pgid: 4242, graceMs: 10, mark: '0123456789abcdef' }],
    [
      'group 1, which would signal every process',
      {
        kind: 'process-group',
        pgid: 1,
        graceMs: 10,
        mark: '0123456789abcdef',
        leader: { pid: 1, host: 'h', start: 1 },
      },
    ],
    [
      "another run's cgroup, which would be killed whole",
      {
        kind: 'process-group',
        pgid: 4242,
        graceMs: 10,
        mark: 'r1-0123456789abcdef',
        cgroup: '/sys/fs/cgroup/modelrun-r2-fedcba9876543210',
        leader: { pid: 4242, host: 'h', start: 1 },
      },
    ],
    [
      'a mark that matches anything',
      {
        kind: 'process-group',
        pgid: 4242,
        graceMs: 10,
        mark: '',
        leader: { pid: 4242, host: 'h', start: 1 },
      },
    ],
  ])(
    'signals nothing for a handle its backend could not have written: %s',
    async (_name, handle) => {
      const backend = toyBackend();
      await expect(backend.handle.cancel(handle, {}, OWNER)).rejects.toThrow(
        'could not have written',
      );
      expect(await backend.handle.inspect(handle, {}, OWNER)).toMatchObject({ state: 'unknown' });
    },
  );

  it('hands each function the config its schema produced', async () => {
    const seen: unknown[] = [];
    const backend = toyBackend(seen);
    const config: BackendConfig = backend
      .configSchema(diskPathContext('/'))
      .parse({ type: 'toy', depth: 3 });
    expect(backend.launcherCopies(config)?.copies).toBe(3);
    expect(await backend.plan(config, JOB, {})).toEqual({
      lines: [['depth', '3']],
      data: { depth: 3 },
    });
    await expect(backend.createRunner(config, JOB, { env: {}, status: () => {} })).rejects.toThrow(
      'no toy runner',
    );
    expect(seen).toEqual([3]);
  });

  it('gives warnings the values as written, which may be of any type', () => {
    const backend = toyBackend();
    expect(backend.warnings({ type: 'toy', depth: 0 })).toEqual([
      { path: ['depth'], message: 'zero depth' },
    ]);
    expect(backend.warnings({ type: 'toy', depth: 'deep' })).toEqual([]);
    expect(backend.warnings({})).toEqual([]);
  });

  it('refuses a config of another type, which the union by type never hands over', async () => {
    const backend = toyBackend();
    const other: BackendConfig = { type: 'local', timeout: 60 };
    expect(backend.launcherCopies(other)).toBeUndefined();
    await expect(backend.plan(other, JOB, {})).rejects.toThrow(
      'a local config given to the toy backend',
    );
  });

  it('turns an unavailable probe into the error a run fails with', async () => {
    const availability = await toyBackend().probe({ env: {}, timeoutMs: 1000 });
    expect(() => requireAvailable(availability)).toThrow(
      expect.objectContaining({
        name: 'EngineUnavailableError',
        message: 'the toy engine is off',
        hint: 'switch it on',
      }),
    );
    expect(() => requireAvailable({ available: true, detail: 'on' })).not.toThrow();
  });
});

describe('undoHandler', () => {
  it('undoes one kind: a task type of two kinds cannot claim only one of them', () => {
    type Volume = { kind: 'volume'; id: string };
    type Network = { kind: 'network'; id: string };
    const undo = async () => {};
    const name = (task: { id: string }) => task.id;
    const volume = undoHandler<Volume>('volume', 'stop', async () => undo, name);
    // @ts-expect-error a handler for volumes that would let the runner hand over networks too
    const both = undoHandler<Volume | Network>('volume', 'stop', async () => undo, name);
    expect([volume.kind, both.kind]).toEqual(['volume', 'volume']);
  });
});

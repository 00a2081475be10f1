import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInProcess, runModelrun, startModelrun } from './helpers/cli.js';
import { detachAndHangUp } from './helpers/detach.js';
import { dockerUnavailable, ensureTestImages, reportMissingEngine } from './helpers/engines.js';
import { guardianOf, waitUntilGone } from './helpers/processes.js';
import { readRunRecord, waitForHandle, writeForged } from './helpers/run-record.js';
import { treeForEachTest } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const missing = dockerUnavailable();
reportMissingEngine('docker', missing);
const docker = new Docker();

/** A model that takes SIGTERM as a cue to save its state, then exits; it ends by itself only after a minute. */
const TRAPS_TERM =
  'trap "echo saving state; exit 0" TERM; echo started; i=0; while [ $i -lt 600 ]; do i=$((i+1)); sleep 0.1; done';

const tree = treeForEachTest({
  'docker.yml': 'type: docker\nimage: modelrun-test/busybox\npull_policy: never\n',
});

describe.skipIf(missing !== undefined)(
  'docker runs looked at and stopped from another shell',
  () => {
    beforeAll(() => ensureTestImages(), 300_000);

    it.each([
      ['stopped by the modelrun that runs it', false],
      ['stopped through its handle once that modelrun was killed', true],
    ])(
      'a container trapping SIGTERM is %s: nothing left, the record cancelled',
      async (_name, killOwner) => {
        const runId = uniqueId('docker-cancel');
        tree.write('model.yml', `run_id: ${runId}\ncommand: ${JSON.stringify(TRAPS_TERM)}\n`);
        const { child, exited } = await startModelrun(
          ['run', 'model.yml', '--backend-config', 'docker.yml'],
          { cwd: tree.root },
        );
        await waitForHandle(tree.path('simulations', runId));
        const status = JSON.parse(
          (await runInProcess(['status', runId, '--json'], { cwd: tree.root })).stdout,
        );
        expect(status).toMatchObject({
          live: {
            state: 'running',
            detail: expect.stringMatching(/^container [0-9a-f]{12} is running$/),
          },
          record: { handle: { kind: 'docker-container', remove: true } },
        });
        if (killOwner) {
          process.kill(guardianOf(child.pid ?? 0), 'SIGKILL');
          child.kill('SIGKILL');
          await exited;
          expect(await waitUntilGone(child.pid ?? 0)).toBe(true);
        }
        const cancelled = await runModelrun(['cancel', 'model.yml'], { cwd: tree.root });
        expect(cancelled.code).toBe(0);
        expect(cancelled.stdout).toContain(
          killOwner ? 'stopped through its handle (docker-container)' : 'stopped it',
        );
        if (!killOwner) expect(await exited).toBe(1);
        const left = await docker.listContainers({
          all: true,
          filters: { label: [`modelrun.run_id=${runId}`] },
        });
        expect(left).toEqual([]);
        expect(readRunRecord(tree.path('simulations', runId))).toMatchObject({
          status: 'cancelled',
        });
      },
      60_000,
    );

    it('runs detached to its end after its session is hung up on; waits give its outcome and postprocess once', async () => {
      const runId = uniqueId('docker-detach');
      tree.write(
        'short.yml',
        `run_id: ${runId}\ncommand: "echo started; sleep 1; echo bye"\npostprocess:\n  - type: command\n    command: "echo once >> post.txt"\n`,
      );
      const detached = await detachAndHangUp(['short.yml', '--backend-config', 'docker.yml'], {
        cwd: tree.root,
        env: { XDG_STATE_HOME: tree.path('state') },
      });
      expect(detached).toMatchObject({ code: 0, leftBehind: false });
      expect(detached.stdout).toMatch(/handle {4}container [0-9a-f]{12}\n/);
      const waits = await Promise.all([
        runModelrun(['wait', runId], { cwd: tree.root }),
        runModelrun(['wait', runId], { cwd: tree.root }),
      ]);
      expect(waits.map((wait) => wait.code)).toEqual([0, 0]);
      for (const wait of waits) expect(wait.stderr).toContain(`${runId} succeeded (exit code 0)`);
      expect(readFileSync(tree.path('simulations', runId, 'post.txt'), 'utf8')).toBe('once\n');
      expect((await runInProcess(['logs', runId], { cwd: tree.root })).stdout).toBe(
        'started\nbye\n',
      );
      const left = await docker.listContainers({
        all: true,
        filters: { label: [`modelrun.run_id=${runId}`] },
      });
      expect(left).toEqual([]);
    }, 60_000);

    it.each([
      [
        "another run's id",
        (_runId: string, _dir: string) => ({ 'modelrun.run_id': 'someone-else' }),
      ],
      [
        'the same run id, started for another run dir (a copy of a live run dir holds the same handle)',
        (runId: string, _dir: string) => ({
          'modelrun.run_id': runId,
          'modelrun.staging_dir': tree.path('simulations', 'the-original'),
        }),
      ],
    ])('stops no container with %s, whatever run.json names', async (_what, labels) => {
      const runId = uniqueId('forged');
      const dir = tree.path('simulations', runId);
      const stranger = await docker.createContainer({
        name: uniqueId('not-the-runs'),
        Image: 'modelrun-test/busybox',
        Cmd: ['sleep', '120'],
        Labels: labels(runId, dir),
      });
      await stranger.start();
      try {
        writeForged(dir, {
          run_id: runId,
          backend: { type: 'docker', config: { type: 'docker' } },
          handle: {
            kind: 'docker-container',
            id: stranger.id,
            engine: 'unix:///var/run/docker.sock',
            remove: true,
          },
        });
        const cancelled = await runModelrun(['cancel', runId], { cwd: tree.root });
        expect(cancelled.code).toBe(1);
        expect(cancelled.stderr).toContain(
          `does not carry the labels modelrun.run_id=${runId} and modelrun.staging_dir of ${dir}`,
        );
        expect((await stranger.inspect()).State.Running).toBe(true);
      } finally {
        await stranger.remove({ force: true });
      }
    });
  },
);

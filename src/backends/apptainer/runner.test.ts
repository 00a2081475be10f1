import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApptainer, makeFakeApptainer } from '../../../test/helpers/fake-apptainer.js';
import { pipelineHarness } from '../../../test/helpers/pipeline.js';
import { waitUntilGone } from '../../../test/helpers/processes.js';
import { makeTree, type Tree } from '../../../test/helpers/tree.js';
import { EngineUnavailableError } from '../../errors.js';
import type { GuardTask } from '../../guardian/tasks.js';
import { runPipeline } from '../../run/pipeline.js';
import { pulledImagePath } from '../containers/apptainer-image.js';

let tree: Tree;
let fake: FakeApptainer;
beforeEach(() => {
  tree = makeTree();
  fake = makeFakeApptainer();
});
afterEach(() => {
  tree.remove();
  fake.remove();
});

const SECRET = 'tok-5f0c9e21-very-secret';

/** A run through the library API with the fake on PATH and images cached in the test's tree. */
function harness(model: Record<string, unknown>, backend: Record<string, unknown> = {}) {
  const h = pipelineHarness(tree, model, {
    type: 'apptainer',
    image: 'docker://busybox',
    cache_dir: 'cache',
    ...backend,
  });
  h.deps.env = fake.env();
  return h;
}

/** The cached file a run of docker://busybox uses. */
const busyboxSif = () => pulledImagePath(tree.path('cache'), 'docker://busybox');

/** The pid a model wrote to a file in its staging dir, once it is there. */
async function pidIn(file: string): Promise<number> {
  for (let i = 0; i < 250 && !existsSync(file); i++) await sleep(20);
  return Number(readFileSync(file, 'utf8').trim());
}

describe('a run on the apptainer backend, with a fake apptainer', () => {
  it('checks the tool, pulls the image once, and runs exactly the command line it should', async () => {
    const { request, deps, staging, runJson } = harness(
      { command: 'echo hello' },
      { binds: ['.:/data:ro'], cpu: 2 },
    );
    const result = await runPipeline(request, deps);
    expect(result.exitCode).toBe(0);
    expect(fake.log()).toEqual([
      ['apptainer', '--version'],
      ['apptainer', 'pull', expect.stringMatching(/\.partial$/), 'docker://busybox'],
      [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        '--bind',
        `${staging}:/app/run:rw`,
        '--bind',
        `${tree.root}:/data:ro`,
        '--pwd',
        '/app/run',
        '--env-file',
        join(staging, '.modelrun', 'apptainer.env'),
        '--cpus',
        '2',
        busyboxSif(),
        '/bin/sh',
        '-c',
        'echo hello',
      ],
    ]);
    expect(runJson()).toMatchObject({ status: 'succeeded', exit_code: 0 });

    // A second run uses the image it already has.
    const again = harness({ command: 'true', run_id: 'r2' });
    expect((await runPipeline(again.request, again.deps)).exitCode).toBe(0);
    expect(fake.log().map((argv) => argv[1])).toEqual([
      '--version',
      'pull',
      'exec',
      '--version',
      'exec',
    ]);
  });

  it('hands env values over in a file only the owner can read, never on a command line', async () => {
    const { request, deps, staging } = harness(
      {
        command:
          'printf "%s|%s|%s" "$API_TOKEN" "$MODE" "$PYTHONNOUSERSITE" > seen.txt; stat -c %a .modelrun/apptainer.env > mode.txt',
      },
      { env_vars: { API_TOKEN: SECRET, MODE: 'hind cast' } },
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(readFileSync(join(staging, 'seen.txt'), 'utf8')).toBe(`${SECRET}|hind cast|1`);
    // Readable by its owner only while the model ran, and gone once the run ended.
    expect(readFileSync(join(staging, 'mode.txt'), 'utf8').trim()).toBe('600');
    expect(existsSync(join(staging, '.modelrun', 'apptainer.env'))).toBe(false);
    const invocations = fake.log();
    expect(invocations.map((argv) => argv[1])).toContain('exec');
    expect(invocations.flat().filter((arg) => arg.includes(SECRET))).toEqual([]);
    expect(readFileSync(join(staging, '.modelrun', 'run.json'), 'utf8')).not.toContain(SECRET);
  });

  it('hands the env file to the guardian while the model runs, and withdraws it once removed', async () => {
    const { request, deps, staging } = harness(
      { command: 'true' },
      { env_vars: { API_TOKEN: SECRET } },
    );
    const handed: { task: GuardTask; withdrawn: boolean }[] = [];
    deps.guard = (task) => {
      const entry = { task, withdrawn: false };
      handed.push(entry);
      return () => {
        // Withdrawn only once the file is gone: until then the guardian must still remove it.
        entry.withdrawn = !existsSync(join(staging, '.modelrun', 'apptainer.env'));
      };
    };
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(handed.filter((entry) => entry.task.kind === 'secret-file')).toEqual([
      {
        task: {
          kind: 'secret-file',
          path: join(staging, '.modelrun', 'apptainer.env'),
          dev: expect.stringMatching(/^\d+$/),
          ino: expect.stringMatching(/^\d+$/),
        },
        withdrawn: true,
      },
    ]);
  });

  it("keeps the model's output in the logs", async () => {
    const { request, deps, staging, captured } = harness({
      command: 'echo from-the-model; echo on-stderr >&2',
    });
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8')).toBe('from-the-model\n');
    expect(readFileSync(join(staging, 'logs', 'stderr.log'), 'utf8')).toBe('on-stderr\n');
    expect(captured.stdout).toBe('from-the-model\n');
  });

  it.each<{ name: string; command: string; record: Record<string, unknown> }>([
    {
      name: 'an exit code',
      command: 'exit 3',
      record: { status: 'failed', exit_code: 3, stages: { run: { detail: 'exited 3' } } },
    },
    {
      name: 'a death by signal',
      command: 'kill -KILL $$',
      record: { status: 'failed', exit_code: null, signal: 'SIGKILL' },
    },
  ])('fails the run on $name, never reporting success', async ({ command, record }) => {
    const { request, deps, runJson } = harness({ command });
    expect((await runPipeline(request, deps)).exitCode).toBe(1);
    expect(runJson()).toMatchObject(record);
  });

  it.each<{ name: string; command: string }>([
    { name: 'a model that stops on SIGTERM', command: 'sleep 300 & echo $! > pid; wait' },
    {
      name: 'a model that ignores SIGTERM',
      command: "trap '' TERM; sleep 300 & echo $! > pid; while :; do wait; done",
    },
  ])('on timeout, kills the whole process group of $name', async ({ command }) => {
    const { request, deps, staging, runJson } = harness({ command });
    const started = Date.now();
    // Long enough for the fake tool and the shell to start under load: the pid must be written.
    const result = await runPipeline(request, { ...deps, timeoutMs: 2000, graceMs: 500 });
    expect(result.exitCode).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(runJson()).toMatchObject({ status: 'timed_out', reason: 'timed out after 2 s' });
    expect(await waitUntilGone(await pidIn(join(staging, 'pid')))).toBe(true);
  });

  it('on interrupt, stops the model and records the run as cancelled', async () => {
    const { request, deps, staging, runJson, session } = harness({
      command: 'sleep 300 & echo $! > pid; wait',
    });
    const running = runPipeline(request, { ...deps, graceMs: 500 });
    const pid = await pidIn(join(staging, 'pid'));
    session.interrupt('SIGINT');
    expect((await running).exitCode).toBe(130);
    expect(runJson()).toMatchObject({ status: 'cancelled', reason: 'cancelled by SIGINT' });
    expect(await waitUntilGone(pid)).toBe(true);
  });

  it('calls singularity throughout with binary: singularity', async () => {
    const { request, deps } = harness({ command: 'true' }, { binary: 'singularity' });
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(fake.log().map((argv) => argv.slice(0, 2))).toEqual([
      ['singularity', '--version'],
      ['singularity', 'pull'],
      ['singularity', 'exec'],
    ]);
  });

  it('fails a run whose pull fails with the tool’s message, recorded', async () => {
    const { request, deps, runJson } = harness({ command: 'true' });
    deps.env = fake.env({ FAKE_FAIL: 'manifest unknown' });
    await expect(runPipeline(request, deps)).rejects.toThrow(/FATAL: +manifest unknown/);
    expect(runJson()).toMatchObject({ status: 'failed', stages: { run: { status: 'failed' } } });
    expect(fake.log().map((argv) => argv[1])).toEqual(['--version', 'pull']);
  });

  it('fails as engine unavailable, before anything is staged, without the tool on PATH', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'modelrun-empty-path-'));
    try {
      const { request, deps, staging } = harness({ command: 'true' });
      deps.env = fake.env({ PATH: empty });
      const error = await runPipeline(request, deps).then(
        () => undefined,
        (thrown: unknown) => thrown as EngineUnavailableError,
      );
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect(error?.message).toMatch(/^apptainer is not usable here: /);
      expect(error?.hint).toMatch(/module load apptainer/);
      expect(existsSync(staging)).toBe(false);
      expect(fake.log()).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('on --dry-run, shows the full command line with secrets masked, and runs nothing', async () => {
    const { request, deps, staging } = harness(
      { command: 'python wave.py' },
      { env_vars: { API_TOKEN: SECRET, MODE: 'hindcast' }, memory: '4g' },
    );
    request.dryRun = true;
    const result = await runPipeline(request, deps);
    expect(result.exitCode).toBe(0);
    const argv = [
      'apptainer',
      'exec',
      '--cleanenv',
      '--no-home',
      '--bind',
      `${staging}:/app/run:rw`,
      '--pwd',
      '/app/run',
      '--env-file',
      join(staging, '.modelrun', 'apptainer.env'),
      '--memory',
      '4g',
      busyboxSif(),
      '/bin/sh',
      '-c',
      'python wave.py',
    ];
    expect(result.dryRun?.lines).toEqual([
      ['argv', JSON.stringify(argv)],
      ['env file', join(staging, '.modelrun', 'apptainer.env')],
      ['  PYTHONNOUSERSITE', '1'],
      ['  API_TOKEN', '***'],
      ['  MODE', 'hindcast'],
      ['timeout', '3600 s'],
    ]);
    expect(JSON.stringify(result.dryRun)).not.toContain(SECRET);
    expect(fake.log().filter((argv) => argv[1] !== '--version')).toEqual([]);
    expect(existsSync(tree.path('cache'))).toBe(false);
    expect(existsSync(join(staging, '.modelrun', 'apptainer.env'))).toBe(false);
  });

  it('records a timeout that falls during the pull as timed out, not as a failed pull', async () => {
    const { request, deps, runJson } = harness({ command: 'true' });
    deps.env = fake.env({ FAKE_SLEEP: '5' });
    // Long enough for the fake tool and the shell to start under load: the pid must be written.
    const result = await runPipeline(request, { ...deps, timeoutMs: 2000, graceMs: 500 });
    expect(result.exitCode).toBe(1);
    expect(runJson()).toMatchObject({ status: 'timed_out', reason: 'timed out after 2 s' });
    expect(existsSync(busyboxSif())).toBe(false);
  });

  it('refuses a staging dir whose path --bind would split', async () => {
    const { request, deps } = harness({ command: 'true', output_dir: 'runs,v2' });
    await expect(runPipeline(request, deps)).rejects.toThrow(
      /apptainer cannot bind .*runs,v2.*: its path contains "," or ":"/,
    );
  });

  it('stops a daemon the model left outside its process group, marked for the container too', {
    timeout: 15_000,
  }, async () => {
    const { request, deps, staging, captured, runJson } = harness({
      command:
        'echo "$APPTAINERENV_MODELRUN_RUN_MARK" > mark.txt; setsid sleep 300 & echo $! > daemon.pid; sleep 0.2',
    });
    const result = await runPipeline(request, deps);
    const daemon = await pidIn(join(staging, 'daemon.pid'));
    try {
      expect(result.exitCode).toBe(0);
      expect(await waitUntilGone(daemon)).toBe(true);
      expect(readFileSync(join(staging, 'mark.txt'), 'utf8')).toMatch(
        /^r1-[0-9a-f]{16}\.[0-9a-f]{8}\n$/,
      );
      expect(captured.status).toContain(
        `warning: stopped 1 process that left the model's process group: ${daemon} sleep 300`,
      );
      expect(runJson().backend.details).toEqual({ stopped_escaped_processes: `${daemon} sleep` });
    } finally {
      try {
        process.kill(daemon, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
    }
  });
});

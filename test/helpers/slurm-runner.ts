import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { RunJob } from '../../src/backends/contract.js';
import { slurmConfigSchema } from '../../src/backends/slurm/config.js';
import { slurmBackend } from '../../src/backends/slurm/index.js';
import { createSlurmRunner } from '../../src/backends/slurm/runner.js';
import type { JobState } from '../../src/backends/slurm/state.js';
import { diskPathContext } from '../../src/config/path-context.js';
import type { RunHandle } from '../../src/exec/guard.js';
import type { RunOutput } from '../../src/exec/run-output.js';
import { Holdings, handlersFor } from '../../src/run/holdings.js';
import { FakeSlurm, type FakeSlurmOptions, type FakeStep, TestClock } from './fake-slurm.js';
import type { Tree } from './tree.js';

export const PENDING = (reason: string): FakeStep => ({ state: { state: 'PENDING', reason } });
export const RUNNING: FakeStep = {
  state: { state: 'RUNNING', nodes: 'node7', batchHost: 'node7' },
};
export const ended = (state: JobState): FakeStep => ({ state });
export const COMPLETED = ended({ state: 'COMPLETED', exitCode: 0, signal: 0 });

let runs = 0;

export interface Setup {
  config?: Record<string, unknown>;
  slurm?: FakeSlurmOptions;
  /** Where the job's output goes, as Slurm names the file; by default logs/slurm-4242.out. */
  files?: { stdout: string; stderr: string };
  /** The staging dir's name under the tree; by default run-N. */
  stagingName?: string;
}

/**
 * A Slurm runner on a fake cluster, in a staging dir of its own under
 * `tree`, with a clock that moves only when the runner sleeps.
 */
export function setupSlurmRunner(
  tree: Tree,
  { config = {}, slurm: options = {}, files, stagingName }: Setup = {},
) {
  const stagingDir = tree.path(stagingName ?? `run-${++runs}`);
  mkdirSync(stagingDir);
  const job: RunJob = { runId: `20240101-120000-r${runs}`, stagingDir, modelCommand: 'sh run.sh' };
  const clock = new TestClock();
  const slurm = new FakeSlurm({
    clock,
    files: files ?? {
      stdout: join(stagingDir, 'logs', 'slurm-4242.out'),
      stderr: join(stagingDir, 'logs', 'slurm-4242.err'),
    },
    ...options,
  });
  const statuses: string[] = [];
  const parsed = slurmConfigSchema(diskPathContext(tree.root)).parse({ type: 'slurm', ...config });
  const stopper = new AbortController();
  const holdings = new Holdings(handlersFor(slurmBackend.undo));
  const runner = createSlurmRunner(
    parsed,
    job,
    { env: {}, status: (line) => statuses.push(line), guard: holdings.hold },
    slurm,
    clock,
  );
  /** What the run still holds that runs (its job), as a stopped run would name it. */
  const held = () => holdings.leftovers();
  /** The hooks the run's timeout follows, each change once. */
  const hooks: string[] = [];
  /** The handles the runner reported. */
  const handles: RunHandle[] = [];
  const hook = (name: string) => () => {
    if (hooks.at(-1) !== name) hooks.push(name);
  };
  /** The times `started` was given: when the job began, as Slurm says. */
  const startedAt: (Date | undefined)[] = [];
  const run = async () => {
    await runner.start(new AbortController().signal);
    const { output, text } = collectingOutput();
    const outcome = await runner.run(output, stopper.signal, {
      waiting: hook('waiting'),
      started: (at) => {
        startedAt.push(at);
        hook('started')();
      },
      submitted: (handle) => handles.push(handle),
    });
    return { outcome, text };
  };
  return {
    slurm,
    clock,
    runner,
    statuses,
    stopper,
    hooks,
    startedAt,
    handles,
    run,
    stagingDir,
    held,
  };
}

/** The run's two output streams, each keeping what it was given. */
export function collectingOutput() {
  const text = { stdout: '', stderr: '' };
  const sink = (name: keyof typeof text) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text[name] += chunk.toString();
        callback();
      },
    });
  const output: RunOutput = { stdout: sink('stdout'), stderr: sink('stderr') };
  return { output, text };
}

/** The lines after "submitted batch job …". */
export const states = (statuses: string[]) => statuses.filter((line) => line.startsWith('job '));

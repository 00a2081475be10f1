import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendRunner, RunHooks, RunOutcome } from '../backends/contract.js';
import { type RunRecord, readRunRecord } from '../model/run-record.js';
import { recordOf } from '../runs/test-records.js';
import { Redactor } from '../secrets.js';
import { Holdings } from './holdings.js';
import { runModel } from './model-stage.js';
import type { PipelineDeps, RunChange } from './pipeline.js';
import { RecordWriter } from './record-writer.js';
import { Session } from './session.js';

/**
 * The run's timeout clock, driven through the RunHooks a runner calls. The
 * runner here is a stand-in for a backend's: what is under test is how the
 * stage times the run, not an engine.
 */
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function record(): RunRecord {
  return recordOf({
    started_at: new Date().toISOString(),
    staging_dir: dir,
    backend: { type: 'test', config: {} },
    stages: {
      generate: { status: 'succeeded' },
      run: { status: 'pending' },
      postprocess: { status: 'pending' },
    },
  });
}

/** A record and the writer that keeps it in run.json. */
function recorded(run = record()): [RunRecord, RecordWriter] {
  return [run, new RecordWriter(run, new Redactor())];
}

/** A pipeline's dependencies for a run with this timeout, and what the run holds. */
function deps(timeoutMs: number | undefined): [PipelineDeps, Holdings] {
  const session = new Session();
  const pipeline: PipelineDeps = {
    env: {},
    home: dir,
    terminal: { stdout: new PassThrough(), stderr: new PassThrough() },
    status: () => {},
    signal: session.signal,
    cleanup: session.cleanup,
    redactor: new Redactor(),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
  return [pipeline, new Holdings(new Map())];
}

/** A runner whose model waits `queuedMs` (reporting it), then runs `runMs` unless stopped. */
function runner(
  script: { queuedMs: number; runMs: number; reports: boolean; reportsEveryMs?: number },
  outcome: RunOutcome = { exitCode: 0, signal: null },
) {
  const seen = { stoppedAfterStartMs: undefined as number | undefined };
  const fake: BackendRunner = {
    check: async () => {},
    start: async () => {},
    async run(output, signal, hooks?: RunHooks) {
      if (script.reports) hooks?.waiting();
      await sleep(script.queuedMs);
      if (script.reports) hooks?.started();
      // A runner that polls says "started" at every look.
      const again =
        script.reportsEveryMs === undefined
          ? undefined
          : setInterval(() => hooks?.started(), script.reportsEveryMs);
      const began = Date.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, script.runMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          seen.stoppedAfterStartMs = Date.now() - began;
          resolve();
        });
      });
      clearInterval(again);
      output.stdout.end();
      output.stderr.end();
      return signal.aborted ? { exitCode: null, signal: null } : outcome;
    },
    stop: async () => {},
  };
  return { fake, seen };
}

const backend = (timeout?: number) => ({
  type: 'test',
  capture_output: false,
  stream_output: false,
  ...(timeout === undefined ? {} : { timeout }),
});

describe('the run timeout', () => {
  it('does not count the time a runner reports it waits for resources', async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-stage-'));
    const { fake } = runner({ queuedMs: 600, runMs: 50, reports: true });
    const result = await runModel(fake, backend(), ...recorded(), ...deps(300));
    expect(result.status).toBe('succeeded');
  });

  it('counts from when the runner reports the model started', async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-stage-'));
    const { fake, seen } = runner({ queuedMs: 400, runMs: 5000, reports: true });
    const result = await runModel(fake, backend(), ...recorded(), ...deps(300));
    expect(result).toMatchObject({ status: 'timed_out', stop: { kind: 'timeout', seconds: 0.3 } });
    expect(seen.stoppedAfterStartMs).toBeGreaterThanOrEqual(250);
  });

  it('is not started afresh by a runner that says "started" at every look', async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-stage-'));
    const { fake, seen } = runner({ queuedMs: 0, runMs: 3000, reports: true, reportsEveryMs: 100 });
    // Before, each report restarted the clock, and it never ran out.
    const result = await runModel(fake, backend(), ...recorded(), ...deps(300));
    expect(result.status).toBe('timed_out');
    expect(seen.stoppedAfterStartMs).toBeLessThan(1000);
  });

  it('counts from the start for a runner that reports nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-stage-'));
    const { fake, seen } = runner({ queuedMs: 200, runMs: 5000, reports: false });
    const result = await runModel(fake, backend(), ...recorded(), ...deps(300));
    expect(result.status).toBe('timed_out');
    expect(seen.stoppedAfterStartMs).toBeLessThan(250);
  });

  it('never fires when the backend has no timeout', async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-stage-'));
    const { fake } = runner({ queuedMs: 0, runMs: 100, reports: true });
    expect((await runModel(fake, backend(), ...recorded(), ...deps(undefined))).status).toBe(
      'succeeded',
    );
  });

  it("records a run a backend's own time limit ended as timed out, with the backend's reason", async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-stage-'));
    const limit = 'the job hit its Slurm time limit (TIMEOUT)';
    const { fake } = runner(
      { queuedMs: 0, runMs: 10, reports: true },
      { exitCode: null, signal: 'SIGTERM', reason: limit, timedOut: true },
    );
    const run = record();
    const result = await runModel(fake, backend(3600), ...recorded(run), ...deps(undefined));
    expect(result.status).toBe('timed_out');
    expect(run).toMatchObject({ exit_code: null, signal: 'SIGTERM', reason: limit });
    expect(run.stages.run).toMatchObject({ status: 'failed', detail: limit });
  });
});

describe('the record while the model runs', () => {
  it('keeps the handle and the queue state in run.json as the runner reports them', async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-stage-'));
    const onDisk = () => readRunRecord(join(dir, '.modelrun', 'run.json'));
    const seen: (RunRecord | undefined)[] = [];
    const fake: BackendRunner = {
      check: async () => {},
      start: async () => {},
      async run(output, _signal, hooks?: RunHooks) {
        hooks?.submitted({ kind: 'test-job', id: '42' });
        hooks?.waiting();
        await until(async () => (await onDisk())?.status === 'submitted');
        seen.push(await onDisk());
        hooks?.started();
        await until(async () => (await onDisk())?.status === 'running');
        seen.push(await onDisk());
        output.stdout.end();
        output.stderr.end();
        return { exitCode: 0, signal: null };
      },
      stop: async () => {},
    };
    const result = await runModel(fake, backend(), ...recorded(), ...deps(undefined));
    expect(result.status).toBe('succeeded');
    expect(seen.map((r) => [r?.status, r?.handle])).toEqual([
      ['submitted', { kind: 'test-job', id: '42' }],
      ['running', { kind: 'test-job', id: '42' }],
    ]);
  });
});

describe('the handle as the run reports it', () => {
  // On the old code the observer heard of the handle before run.json held it:
  // a `run --detach` that learnt of the start from <log>.started then read a
  // record without it (two CI failures of cli-detach.e2e).
  it('is told once run.json holds it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-stage-'));
    const heard: unknown[] = [];
    const fake: BackendRunner = {
      check: async () => {},
      start: async () => {},
      async run(output, _signal, hooks?: RunHooks) {
        hooks?.submitted({ kind: 'test-job', id: '42' });
        await until(async () => heard.length > 0);
        output.stdout.end();
        output.stderr.end();
        return { exitCode: 0, signal: null };
      },
      stop: async () => {},
    };
    const [pipeline, holdings] = deps(undefined);
    // Read at the very moment it is told.
    const observe = (change: RunChange) => {
      if ('handle' in change)
        heard.push(JSON.parse(readFileSync(join(dir, '.modelrun', 'run.json'), 'utf8')).handle);
    };
    await runModel(fake, backend(), ...recorded(), { ...pipeline, observe }, holdings);
    expect(heard).toEqual([{ kind: 'test-job', id: '42' }]);
  });
});

/** Waits until `check` holds, looking every 10 ms. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(10);
}

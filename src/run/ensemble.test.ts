import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import type { BatchOptions, RunBatch } from '../backends/contract.js';
import { localBackend } from '../backends/local/index.js';
import { diskPathContext } from '../config/path-context.js';
import { ConfigError, UsageError } from '../errors.js';
import type { StopReason } from '../exec/stop-reason.js';
import { modelConfigSchema } from '../load/model-schema.js';
import type { EnsembleRecord, MemberStatus } from '../model/ensemble-record.js';
import { RUN_RECORD_PATH, type RunRecord, type RunStatus } from '../model/run-record.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import { Redactor } from '../secrets.js';
import {
  type EnsembleDeps,
  type EnsembleMemberRequest,
  type EnsembleRequest,
  runEnsemble,
} from './ensemble.js';
import type { PipelineResult, RunChange, RunRequest } from './pipeline.js';

/**
 * runEnsemble with a fake member runner: how many members run at once,
 * what ensemble.json says of each, fail_fast, interrupts, --resume, --only,
 * the aggregate step and a batch that its engine throttles itself.
 */

const tree = treeForEachTest();
const dirOf = () => tree.path('sims', 'study');

/** What a fake member does: end with this status after `ms`, or when cancelled. */
interface Script {
  status?: RunStatus;
  exitCode?: number | null;
  reason?: string;
  /** The signal that killed it, as run.json says. */
  signal?: string;
  stderrTail?: string[];
  ms?: number;
  /** Runs until its signal is aborted, then ends cancelled (with the stop's reason). */
  untilCancelled?: boolean;
  /** Says it runs only through observe, after this long (a member of a batch). */
  runningAfterMs?: number;
  /** Rejects with this message instead of ending. */
  throws?: string;
}

function runRecord(runId: string, status: RunStatus, more: Partial<RunRecord> = {}): RunRecord {
  const now = new Date().toISOString();
  return {
    run_id: runId,
    status,
    exit_code: status === 'succeeded' ? 0 : null,
    started_at: now,
    ended_at: now,
    duration_s: 0,
    staging_dir: join(dirOf(), runId),
    backend: { type: 'local', config: { type: 'local' } },
    stages: {
      generate: { status: 'succeeded' },
      run: { status: status === 'succeeded' ? 'succeeded' : 'failed' },
      postprocess: { status: 'skipped' },
    },
    postprocess: [],
    modelrun_version: '0.0.0',
    host: {},
    ...more,
  };
}

/** A run's own run.json in `dir` (by default, the member's run dir), as the run would have left it. */
function writeRunJson(runId: string, status: RunStatus, dir = join(dirOf(), runId)): void {
  const path = join(dir, RUN_RECORD_PATH);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(runRecord(runId, status)));
}

function memberRequest(
  index: number,
  values: Record<string, unknown> = {},
  inputs = `sha256:${index}`,
): EnsembleMemberRequest {
  const runId = `w-${index}`;
  const ctx = diskPathContext(tree.root);
  const request: RunRequest = {
    model: modelConfigSchema(ctx).parse({
      run_id: runId,
      command: 'true',
      output_dir: dirOf(),
      run_id_subdir: true,
    }),
    backend: localBackend.configSchema(ctx).parse({ type: 'local' }),
    postprocessors: [],
    dryRun: false,
    skipGenerate: false,
    postprocess: false,
    cleanupOnFailure: false,
    sources: [],
  };
  return { index, replica: 0, runId, values, inputs, request: () => request };
}

function ensembleRequest(count: number, more: Partial<EnsembleRequest> = {}): EnsembleRequest {
  return {
    id: 'study',
    dir: dirOf(),
    file: 'study.yml',
    fileDir: tree.root,
    backendType: 'local',
    maxParallel: 2,
    failFast: false,
    members: Array.from({ length: count }, (_, i) => memberRequest(i)),
    aggregate: [],
    overrides: [],
    resume: false,
    ...more,
  };
}

/**
 * Deps whose runMember plays `scripts` (by run id; a member without one
 * succeeds at once), counting how many members run at once and what each
 * was given.
 */
function fakeDeps(scripts: Record<string, Script> = {}, more: Partial<EnsembleDeps> = {}) {
  const interrupt = new AbortController();
  const seen = {
    running: 0,
    most: 0,
    started: [] as string[],
    given: new Map<string, { signal: AbortSignal; batch?: RunBatch }>(),
    /** Each change: the member, its status, the progress given, and the runs started by then. */
    changes: [] as [string, MemberStatus, { ended: number; of: number }, string[]][],
    status: [] as string[],
  };
  const runMember: EnsembleDeps['runMember'] = async (request, member) => {
    const runId = request.model.run_id;
    const script = scripts[runId] ?? {};
    seen.given.set(runId, member);
    seen.started.push(runId);
    seen.running++;
    seen.most = Math.max(seen.most, seen.running);
    try {
      if (script.runningAfterMs !== undefined) {
        await sleep(script.runningAfterMs);
        member.observe({ status: 'running' } satisfies RunChange);
      }
      if (script.untilCancelled === true) {
        await new Promise((resolve) =>
          member.signal.addEventListener('abort', resolve, { once: true }),
        );
        const stop = member.signal.reason as StopReason;
        return result(runRecord(runId, 'cancelled', { reason: `cancelled (${stop.kind})` }));
      }
      await sleep(script.ms ?? 5);
      if (script.throws !== undefined) throw new Error(script.throws);
      const status = script.status ?? 'succeeded';
      return result(
        runRecord(runId, status, {
          exit_code: script.exitCode ?? (status === 'succeeded' ? 0 : 1),
          ...(script.reason === undefined ? {} : { reason: script.reason }),
          ...(script.signal === undefined ? {} : { signal: script.signal }),
          handle: { kind: 'process', pid: 1000 + Number(runId.slice(2)) },
        }),
        script.stderrTail,
      );
    } finally {
      seen.running--;
    }
  };
  const deps: EnsembleDeps = {
    env: { PATH: process.env.PATH },
    signal: interrupt.signal,
    status: (line) => seen.status.push(line),
    redactor: new Redactor(),
    runMember,
    onMember: (entry, { ended, of }) =>
      seen.changes.push([entry.run_id, entry.status, { ended, of }, [...seen.started]]),
    writeEveryMs: 10,
    ...more,
  };
  return { deps, seen, interrupt };
}

function result(record: RunRecord, stderrTail: string[] = []): PipelineResult {
  return { record, exitCode: record.status === 'succeeded' ? 0 : 1, stderrTail };
}

function ensembleJson(): EnsembleRecord {
  return JSON.parse(readFileSync(join(dirOf(), 'ensemble.json'), 'utf8'));
}

const byRunId = (record: EnsembleRecord) =>
  Object.fromEntries(record.members.map((m) => [m.run_id, m]));

describe('running members', () => {
  it.each([1, 2, 3])('never runs more than max_parallel %i at once', async (maxParallel) => {
    const { deps, seen } = fakeDeps(
      Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`w-${i}`, { ms: 20 }])),
    );
    const { exitCode } = await runEnsemble(ensembleRequest(7, { maxParallel }), deps);
    expect(exitCode).toBe(0);
    expect(seen.started).toHaveLength(7);
    expect(seen.most).toBe(maxParallel);
  });

  it('writes ensemble.json with every member, its values (secrets masked) and the totals', async () => {
    const members = [
      memberRequest(0, { 'config.depth_m': 5, 'backend.env_vars.API_TOKEN': 'tok-0123456789' }),
      memberRequest(1, { 'config.depth_m': 10 }),
      memberRequest(2, { 'config.depth_m': 20 }),
    ];
    const { deps } = fakeDeps({ 'w-2': { status: 'failed', exitCode: 3, reason: 'exited 3' } });
    const { record, exitCode } = await runEnsemble(
      ensembleRequest(3, { members, overrides: ['--set config.grid.nx=4'] }),
      deps,
    );
    expect(exitCode).toBe(1);
    const text = readFileSync(join(dirOf(), 'ensemble.json'), 'utf8');
    expect(text).not.toContain('tok-0123456789');
    const written = ensembleJson();
    expect(written).toEqual(JSON.parse(JSON.stringify(record)));
    expect(written).toMatchObject({
      ensemble_id: 'study',
      file: 'study.yml',
      dir: dirOf(),
      status: 'failed',
      backend: { type: 'local' },
      max_parallel: 2,
      fail_fast: false,
      overrides: ['--set config.grid.nx=4'],
      totals: {
        members: 3,
        pending: 0,
        running: 0,
        succeeded: 2,
        failed: 1,
        cancelled: 0,
        skipped: 0,
      },
      aggregate: [],
    });
    expect(written.ended_at).toEqual(expect.any(String));
    expect(written.members).toEqual([
      expect.objectContaining({
        index: 0,
        run_id: 'w-0',
        status: 'succeeded',
        exit_code: 0,
        run_dir: join(dirOf(), 'w-0'),
        parameters: { 'config.depth_m': 5, 'backend.env_vars.API_TOKEN': '***' },
        inputs: 'sha256:0',
        handle: { kind: 'process', pid: 1000 },
        duration_s: expect.any(Number),
      }),
      expect.objectContaining({
        index: 1,
        status: 'succeeded',
        run_dir: join(dirOf(), 'w-1'),
        parameters: { 'config.depth_m': 10 },
        inputs: 'sha256:1',
      }),
      expect.objectContaining({
        index: 2,
        status: 'failed',
        exit_code: 3,
        reason: 'exited 3',
        run_dir: join(dirOf(), 'w-2'),
        parameters: { 'config.depth_m': 20 },
      }),
    ]);
  });

  it.each<[string, Script, string | undefined]>([
    [
      "the stderr tail's last line, when the record says no reason",
      { status: 'failed', exitCode: 2, stderrTail: ['reading input', 'error: no grid.nc', '  '] },
      'stderr: error: no grid.nc',
    ],
    [
      "the record's reason before the stderr tail",
      { status: 'failed', reason: 'timed out after 60 s', stderrTail: ['error: late'] },
      'timed out after 60 s',
    ],
    ['none, without either', { status: 'failed', stderrTail: ['', ' '] }, undefined],
    // On the old code a member killed by a signal had no reason at all in ensemble.json.
    [
      'the signal that killed it, before the stderr tail',
      { status: 'failed', exitCode: null, signal: 'SIGSEGV', stderrTail: ['computing'] },
      'killed by SIGSEGV',
    ],
    [
      'the error, when running it threw',
      { throws: 'the staging dir is full' },
      'the staging dir is full',
    ],
  ])('gives a failed member a reason: %s', async (_, script, reason) => {
    const { deps, seen } = fakeDeps({ 'w-1': script });
    const { record, exitCode } = await runEnsemble(ensembleRequest(4), deps);
    expect(exitCode).toBe(1);
    expect(seen.started).toHaveLength(4);
    const failed = byRunId(record)['w-1'];
    expect(failed?.status).toBe('failed');
    expect(failed?.reason).toBe(reason);
    expect(record.totals).toMatchObject({ succeeded: 3, failed: 1 });
  });

  it("masks a secret in the error a member's run threw", async () => {
    const { deps } = fakeDeps({ 'w-0': { throws: 'login refused for tok-0123456789' } });
    deps.redactor.addEnv({ API_TOKEN: 'tok-0123456789' });
    const { record } = await runEnsemble(ensembleRequest(1), deps);
    expect(record.members[0]?.reason).toBe('login refused for ***');
  });

  it("makes each member's request when it starts, and never for a member that does not", async () => {
    const made: string[] = [];
    const members = Array.from({ length: 3 }, (_, i) => {
      const member = memberRequest(i);
      const { request } = member;
      return {
        ...member,
        request: () => {
          made.push(`${member.runId} made, ${seen.started.length} started`);
          return request();
        },
      };
    });
    const { deps, seen } = fakeDeps({ 'w-0': { status: 'failed' } });
    await runEnsemble(ensembleRequest(3, { members, maxParallel: 1, failFast: true }), deps);
    expect(made).toEqual(['w-0 made, 0 started']);
  });

  it('fails a member alone, saying why, when its request can no longer be made', async () => {
    const members = Array.from({ length: 2 }, (_, i) => memberRequest(i));
    const [first] = members;
    if (first === undefined) throw new Error('no member');
    first.request = () => {
      throw new ConfigError('member 0 no longer loads as it was checked: template is gone');
    };
    const { deps, seen } = fakeDeps();
    const { record } = await runEnsemble(ensembleRequest(2, { members }), deps);
    expect(seen.started).toEqual(['w-1']);
    expect(record.members.map((m) => [m.status, m.reason])).toEqual([
      ['failed', 'member 0 no longer loads as it was checked: template is gone'],
      ['succeeded', undefined],
    ]);
  });

  it.each([
    [
      'a file of the user',
      async () => {
        writeFileSync(tree.path('mine.txt'), 'mine\n');
        return tree.path('mine.txt');
      },
    ],
    [
      "another ensemble's record",
      async () => {
        await runEnsemble(ensembleRequest(1, { dir: tree.path('other') }), fakeDeps().deps);
        return tree.path('other', 'ensemble.json');
      },
    ],
    ['nothing', async () => tree.path('nothing-here')],
  ])(
    'refuses a link at ensemble.json that leads to %s, before it runs anything, and leaves both as they are',
    async (_what, target) => {
      const victim = await target();
      const before = existsSync(victim) ? readFileSync(victim, 'utf8') : undefined;
      const record = join(dirOf(), 'ensemble.json');
      mkdirSync(dirOf(), { recursive: true });
      symlinkSync(victim, record);
      const { deps, seen } = fakeDeps();
      const run = runEnsemble(ensembleRequest(2), deps);
      await expect(run).rejects.toThrow(UsageError);
      await expect(run).rejects.toThrow(
        `${record} is a link (to ${victim}) that modelrun did not make, and modelrun does not replace a link it did not make`,
      );
      expect(seen.started).toEqual([]);
      expect(readlinkSync(record)).toBe(victim);
      expect(existsSync(victim) ? readFileSync(victim, 'utf8') : undefined).toBe(before);
    },
  );

  it('refuses a folder that is a run of its own, before it runs anything', async () => {
    writeRunJson('solo', 'succeeded', dirOf());
    const { deps, seen } = fakeDeps();
    await expect(runEnsemble(ensembleRequest(2), deps)).rejects.toThrow(
      `${dirOf()} is the folder of the run solo, not of an ensemble`,
    );
    expect(seen.started).toEqual([]);
  });
});

describe('stopping', () => {
  it('with fail_fast, cancels the running members and starts no other', async () => {
    const { deps, seen } = fakeDeps({
      'w-0': { status: 'failed', ms: 20 },
      'w-1': { untilCancelled: true },
    });
    const { record, exitCode } = await runEnsemble(ensembleRequest(5, { failFast: true }), deps);
    expect(exitCode).toBe(1);
    expect(record.status).toBe('failed');
    // Started together, in either order.
    expect([...seen.started].sort()).toEqual(['w-0', 'w-1']);
    expect(seen.given.get('w-1')?.signal.reason).toEqual({ kind: 'fail-fast', runId: 'w-0' });
    expect(record.members.map((m) => [m.run_id, m.status, m.reason])).toEqual([
      ['w-0', 'failed', undefined],
      ['w-1', 'cancelled', 'cancelled (fail-fast)'],
      ['w-2', 'cancelled', 'not started: member w-0 failed (fail_fast: true)'],
      ['w-3', 'cancelled', 'not started: member w-0 failed (fail_fast: true)'],
      ['w-4', 'cancelled', 'not started: member w-0 failed (fail_fast: true)'],
    ]);
    expect(record.totals).toMatchObject({ failed: 1, cancelled: 4 });
  });

  it('without fail_fast, runs every member after one fails', async () => {
    const { deps, seen } = fakeDeps({ 'w-0': { status: 'failed' } });
    const { record } = await runEnsemble(ensembleRequest(5), deps);
    expect(seen.started).toHaveLength(5);
    expect(record.totals).toMatchObject({ succeeded: 4, failed: 1 });
  });

  it('on an interrupt, cancels every unfinished member, skips the aggregate step and exits 130', async () => {
    const { deps, seen, interrupt } = fakeDeps({
      'w-0': { untilCancelled: true },
      'w-1': { untilCancelled: true },
    });
    const aggregate = [commandStep('touch aggregated')];
    const running = runEnsemble(ensembleRequest(4, { aggregate }), deps);
    while (seen.running < 2) await sleep(5);
    interrupt.abort({ kind: 'interrupt', signal: 'SIGINT' } satisfies StopReason);
    const { record, exitCode } = await running;
    expect(exitCode).toBe(130);
    expect(record.status).toBe('cancelled');
    // Started together, in either order.
    expect([...seen.started].sort()).toEqual(['w-0', 'w-1']);
    expect(record.members.map((m) => [m.status, m.reason])).toEqual([
      ['cancelled', 'cancelled (interrupt)'],
      ['cancelled', 'cancelled (interrupt)'],
      ['cancelled', 'not started: the ensemble was cancelled by SIGINT'],
      ['cancelled', 'not started: the ensemble was cancelled by SIGINT'],
    ]);
    expect(record.aggregate).toEqual([]);
    expect(ensembleJson()).toMatchObject({ status: 'cancelled', totals: { cancelled: 4 } });
  });

  it('after an interrupt, starts no member', async () => {
    const { deps, seen, interrupt } = fakeDeps();
    interrupt.abort({ kind: 'interrupt', signal: 'SIGINT' } satisfies StopReason);
    const { record, exitCode } = await runEnsemble(ensembleRequest(3), deps);
    expect(exitCode).toBe(130);
    expect(seen.started).toEqual([]);
    expect(record.totals).toMatchObject({ members: 3, cancelled: 3 });
  });

  it('on an interrupt, records a member whose run threw as cancelled', async () => {
    const { deps, seen, interrupt } = fakeDeps({ 'w-0': { throws: 'aborted', ms: 50 } });
    const running = runEnsemble(ensembleRequest(1), deps);
    while (seen.running < 1) await sleep(5);
    interrupt.abort({ kind: 'interrupt', signal: 'SIGTERM' } satisfies StopReason);
    const { record, exitCode } = await running;
    expect(exitCode).toBe(143);
    expect(record.members[0]).toMatchObject({ status: 'cancelled', reason: 'aborted' });
  });
});

describe('--resume and --only', () => {
  /** A first run of the ensemble that left every member's run.json as `statuses` say. */
  async function ranBefore(statuses: RunStatus[], more: Partial<EnsembleRequest> = {}) {
    const { deps } = fakeDeps(
      Object.fromEntries(
        statuses.map((status, i) => [
          `w-${i}`,
          { status: status === 'succeeded' ? status : 'failed' },
        ]),
      ),
    );
    await runEnsemble(ensembleRequest(statuses.length, more), deps);
    for (const [i, status] of statuses.entries()) writeRunJson(`w-${i}`, status);
  }

  it('skips a member that succeeded before with the same inputs', async () => {
    await ranBefore(['succeeded', 'succeeded', 'succeeded']);
    const { deps, seen } = fakeDeps();
    const { record, exitCode } = await runEnsemble(ensembleRequest(3, { resume: true }), deps);
    expect(exitCode).toBe(0);
    expect(seen.started).toEqual([]);
    expect(record.status).toBe('succeeded');
    expect(record.members.map((m) => [m.status, m.exit_code, m.reason])).toEqual(
      Array.from({ length: 3 }, () => [
        'skipped',
        0,
        'succeeded before with the same inputs (--resume)',
      ]),
    );
    expect(record.totals).toMatchObject({ members: 3, skipped: 3 });
  });

  it('runs again a member whose inputs changed, or whose run.json says it failed', async () => {
    await ranBefore(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    writeRunJson('w-2', 'failed');
    const members = ensembleRequest(4).members;
    members[1] = memberRequest(1, {}, 'sha256:changed');
    const { deps, seen } = fakeDeps();
    const { record } = await runEnsemble(ensembleRequest(4, { members, resume: true }), deps);
    expect(seen.started.sort()).toEqual(['w-1', 'w-2']);
    expect(record.members.map((m) => m.status)).toEqual([
      'skipped',
      'succeeded',
      'succeeded',
      'skipped',
    ]);
    expect(record.members[1]?.inputs).toBe('sha256:changed');
  });

  // On the old code --only gave every member today's inputs on record, so a
  // later --resume skipped the members it had left alone as done.
  it('keeps on record the inputs a member ran with when --only leaves it alone', async () => {
    await ranBefore(['succeeded', 'succeeded']);
    const changed = [memberRequest(0, {}, 'sha256:new0'), memberRequest(1, {}, 'sha256:new1')];
    await runEnsemble(
      ensembleRequest(2, { members: changed, only: new Set([1]) }),
      fakeDeps().deps,
    );
    expect(ensembleJson().members.map((m) => m.inputs)).toEqual(['sha256:0', 'sha256:new1']);
    const { deps, seen } = fakeDeps();
    await runEnsemble(ensembleRequest(2, { members: changed, resume: true }), deps);
    expect(seen.started).toEqual(['w-0']);
  });

  it('runs again a member that failed before, whatever its run.json says', async () => {
    await ranBefore(['succeeded', 'failed']);
    writeRunJson('w-1', 'succeeded');
    const { deps, seen } = fakeDeps();
    await runEnsemble(ensembleRequest(2, { resume: true }), deps);
    expect(seen.started).toEqual(['w-1']);
  });

  it('skips members after the ensemble folder moved', async () => {
    await ranBefore(['succeeded', 'succeeded']);
    // As after `mv`: ensemble.json still names the folder where it ran first.
    const moved = ensembleJson();
    moved.dir = tree.path('before-the-move', 'study');
    writeFileSync(join(dirOf(), 'ensemble.json'), JSON.stringify(moved));
    const { deps, seen } = fakeDeps();
    const { record } = await runEnsemble(ensembleRequest(2, { resume: true }), deps);
    expect(seen.started).toEqual([]);
    expect(record.members.map((m) => m.status)).toEqual(['skipped', 'skipped']);
  });

  it('--only in a new ensemble leaves the others pending, and succeeds when its members do', async () => {
    const { deps, seen } = fakeDeps();
    const { record, exitCode } = await runEnsemble(
      ensembleRequest(3, { only: new Set([0, 2]) }),
      deps,
    );
    expect([...seen.started].sort()).toEqual(['w-0', 'w-2']);
    expect(record.members.map((m) => m.status)).toEqual(['succeeded', 'pending', 'succeeded']);
    expect(record.status).toBe('succeeded');
    expect(exitCode).toBe(0);
  });

  it("--only runs those members and keeps the others' entries, a skipped one as succeeded", async () => {
    await ranBefore(['succeeded', 'succeeded', 'failed', 'succeeded']);
    // A second run skips members 0, 1 and 3 and runs member 2 again, which fails again.
    const again = fakeDeps({ 'w-2': { status: 'failed', reason: 'still broken' } });
    await runEnsemble(ensembleRequest(4, { resume: true }), again.deps);
    expect(ensembleJson().members.map((m) => m.status)).toEqual([
      'skipped',
      'skipped',
      'failed',
      'skipped',
    ]);
    const before = byRunId(ensembleJson());

    const { deps, seen } = fakeDeps();
    const { record, exitCode } = await runEnsemble(
      ensembleRequest(4, { only: new Set([2]) }),
      deps,
    );
    expect(seen.started).toEqual(['w-2']);
    expect(seen.changes.map(([runId, status, progress]) => [runId, status, progress])).toEqual([
      ['w-2', 'running', { ended: 0, of: 1 }],
      ['w-2', 'succeeded', { ended: 1, of: 1 }],
    ]);
    expect(exitCode).toBe(0);
    expect(record.status).toBe('succeeded');
    expect(record.members.map((m) => [m.run_id, m.status, m.reason])).toEqual([
      ['w-0', 'succeeded', undefined],
      ['w-1', 'succeeded', undefined],
      ['w-2', 'succeeded', undefined],
      ['w-3', 'succeeded', undefined],
    ]);
    expect(record.members[0]?.started_at).toBe(before['w-0']?.started_at);
    expect(record.members[2]?.started_at).not.toBe(before['w-2']?.started_at);
  });
});

/** A command postprocessor, as the ensemble file's aggregate: would give it. */
function commandStep(command: string) {
  return postprocessorSchema(diskPathContext(tree.root)).parse({ type: 'command', command });
}

describe('the aggregate step', () => {
  it("runs once after every member, in the ensemble's folder, and sees every member's end", async () => {
    const aggregate = [
      commandStep('cp ensemble.json seen.json; pwd > where.txt; echo x >> runs.txt'),
    ];
    const { deps } = fakeDeps({ 'w-0': { ms: 30 }, 'w-2': { status: 'failed', ms: 60 } });
    // Slower than any member: only the last write before the step shows their ends.
    deps.writeEveryMs = 5000;
    const { record } = await runEnsemble(ensembleRequest(3, { aggregate }), deps);
    expect(readFileSync(join(dirOf(), 'runs.txt'), 'utf8')).toBe('x\n');
    expect(readFileSync(join(dirOf(), 'where.txt'), 'utf8').trim()).toBe(dirOf());
    const seen = JSON.parse(readFileSync(join(dirOf(), 'seen.json'), 'utf8')) as EnsembleRecord;
    expect(seen.members.map((m) => m.status)).toEqual(['succeeded', 'succeeded', 'failed']);
    expect(seen.totals).toMatchObject({ succeeded: 2, failed: 1, pending: 0, running: 0 });
    expect(record.aggregate).toMatchObject([{ type: 'command', status: 'succeeded' }]);
    expect(ensembleJson().aggregate).toMatchObject([{ type: 'command', status: 'succeeded' }]);
  });

  it('fails the ensemble when it fails', async () => {
    const { deps } = fakeDeps();
    const { record, exitCode } = await runEnsemble(
      ensembleRequest(2, { aggregate: [commandStep('exit 4')] }),
      deps,
    );
    expect(record.members.map((m) => m.status)).toEqual(['succeeded', 'succeeded']);
    expect(record.aggregate).toMatchObject([{ type: 'command', status: 'failed' }]);
    expect(record.status).toBe('failed');
    expect(exitCode).toBe(1);
  });
});

describe('keeping ensemble.json', () => {
  it('gets over a write that failed once: the next one makes it good', async () => {
    const record = join(dirOf(), 'ensemble.json');
    const { deps } = fakeDeps({}, { writeEveryMs: 5 });
    const runMember = deps.runMember;
    let blocked = false;
    // The first member puts a folder where the record goes, lets a write fail on it, and removes it.
    const { exitCode } = await runEnsemble(ensembleRequest(2, { maxParallel: 1 }), {
      ...deps,
      runMember: async (request, member) => {
        if (!blocked) {
          blocked = true;
          rmSync(record);
          mkdirSync(join(record, 'in-the-way'), { recursive: true });
          await sleep(60);
          rmSync(record, { recursive: true });
        }
        return runMember(request, member);
      },
    });
    expect(exitCode).toBe(0);
    expect(ensembleJson().status).toBe('succeeded');
  });
});

describe('a batch that its engine throttles', () => {
  function fakeBatch() {
    const calls = { opened: [] as BatchOptions[], left: [] as string[], closed: 0 };
    const batch: RunBatch = {
      leave: (runId) => calls.left.push(runId),
      close: async () => {
        calls.closed++;
      },
    };
    const openBatch = async (options: BatchOptions) => {
      calls.opened.push(options);
      return batch;
    };
    return { batch, calls, openBatch };
  }

  it('starts every member at once, each with the batch, and ends the batch once', async () => {
    const { batch, calls, openBatch } = fakeBatch();
    const scripts = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [`w-${i}`, { ms: 20 + i * 5 }]),
    );
    const { deps, seen } = fakeDeps(scripts, { openBatch });
    const { exitCode } = await runEnsemble(ensembleRequest(5, { maxParallel: 2 }), deps);
    expect(exitCode).toBe(0);
    expect(seen.most).toBe(5);
    expect(calls.opened).toEqual([
      expect.objectContaining({
        id: 'study',
        dir: dirOf(),
        members: ['w-0', 'w-1', 'w-2', 'w-3', 'w-4'],
        maxParallel: 2,
      }),
    ]);
    for (const runId of seen.started) expect(seen.given.get(runId)?.batch).toBe(batch);
    expect(calls.left.sort()).toEqual(['w-0', 'w-1', 'w-2', 'w-3', 'w-4']);
    expect(calls.closed).toBe(1);
  });

  it("gives it a log folder of modelrun's under XDG_STATE_HOME, out of the members' reach, made only when asked for", async () => {
    const { calls, openBatch } = fakeBatch();
    const state = tree.path('state');
    const { deps } = fakeDeps({}, { openBatch, env: { XDG_STATE_HOME: state } });
    await runEnsemble(ensembleRequest(1), deps);
    expect(existsSync(join(state, 'modelrun'))).toBe(false);
    expect(calls.opened[0]?.logFolder()).toBe(join(state, 'modelrun', 'ensembles'));
    expect(lstatSync(join(state, 'modelrun', 'ensembles')).isDirectory()).toBe(true);
  });

  it('opens it with the members --resume leaves to run', async () => {
    const first = fakeDeps();
    await runEnsemble(ensembleRequest(3), first.deps);
    writeRunJson('w-0', 'succeeded');
    writeRunJson('w-2', 'succeeded');
    const { calls, openBatch } = fakeBatch();
    const { deps } = fakeDeps({}, { openBatch });
    await runEnsemble(ensembleRequest(3, { resume: true }), deps);
    expect(calls.opened[0]?.members).toEqual(['w-1']);
  });

  it('shows a member pending until it says it runs', async () => {
    const { openBatch } = fakeBatch();
    const { deps, seen } = fakeDeps(
      { 'w-0': { runningAfterMs: 300, ms: 10 }, 'w-1': { runningAfterMs: 10, ms: 600 } },
      { openBatch },
    );
    const { record } = await runEnsemble(ensembleRequest(2), deps);
    // Both runs started at once, in either order; each shows running only once it said so.
    const both = expect.arrayContaining(['w-0', 'w-1']);
    expect(seen.changes).toEqual([
      ['w-1', 'running', { ended: 0, of: 2 }, both],
      ['w-0', 'running', { ended: 0, of: 2 }, both],
      ['w-0', 'succeeded', { ended: 1, of: 2 }, both],
      ['w-1', 'succeeded', { ended: 2, of: 2 }, both],
    ]);
    expect(seen.changes.every(([, , , started]) => started.length === 2)).toBe(true);
    expect(record.members.every((m) => m.started_at !== null)).toBe(true);
  });

  it('ends ensemble.json as failed when the batch cannot be opened', async () => {
    const { deps } = fakeDeps(
      {},
      {
        openBatch: async () => {
          throw new Error('sbatch is not installed');
        },
      },
    );
    await expect(runEnsemble(ensembleRequest(2), deps)).rejects.toThrow('sbatch is not installed');
    const record = ensembleJson();
    expect(record.status).toBe('failed');
    expect(record.members.map((m) => [m.status, m.reason])).toEqual([
      ['cancelled', 'not started: sbatch is not installed'],
      ['cancelled', 'not started: sbatch is not installed'],
    ]);
  });

  it('tells the batch of each member that never starts, interrupted before any did', async () => {
    const { calls, openBatch } = fakeBatch();
    const { deps, seen, interrupt } = fakeDeps({}, { openBatch });
    interrupt.abort({ kind: 'interrupt', signal: 'SIGINT' } satisfies StopReason);
    const { exitCode } = await runEnsemble(ensembleRequest(3), deps);
    expect(exitCode).toBe(130);
    expect(seen.started).toEqual([]);
    expect(calls.left).toEqual(['w-0', 'w-1', 'w-2']);
  });

  it('ends the batch when the ensemble is interrupted', async () => {
    const { calls, openBatch } = fakeBatch();
    const { deps, seen, interrupt } = fakeDeps(
      { 'w-0': { untilCancelled: true }, 'w-1': { untilCancelled: true } },
      { openBatch },
    );
    const running = runEnsemble(ensembleRequest(2), deps);
    while (seen.running < 2) await sleep(5);
    interrupt.abort({ kind: 'interrupt', signal: 'SIGINT' } satisfies StopReason);
    const { exitCode } = await running;
    expect(exitCode).toBe(130);
    expect(calls.left.sort()).toEqual(['w-0', 'w-1']);
    expect(calls.closed).toBe(1);
  });
});

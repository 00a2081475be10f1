import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning, waitUntilGone } from '../../test/helpers/processes.js';
import { makeTree } from '../../test/helpers/tree.js';
import { GUARDIAN_SCRIPT } from './client.js';
import type { GuardMessage } from './tasks.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
});

/** A stand-in for a model: a process group of its own that runs until stopped. */
function model(ignoreTerm = false): number {
  const child = spawn('/bin/sh', ['-c', ignoreTerm ? "trap '' TERM; sleep 300" : 'sleep 300'], {
    detached: true,
    stdio: 'ignore',
  });
  started.push(child);
  return child.pid as number;
}

/** The built guardian (npm run build), told these messages; then its pipe closes. */
function guardian(messages: GuardMessage[]) {
  const child = spawn(process.execPath, [GUARDIAN_SCRIPT], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  for (const message of messages) child.stdin.write(`${JSON.stringify(message)}\n`);
  child.stdin.end();
  return { exited, stderr: () => stderr };
}

describe('the guardian', () => {
  it('stops a process group it still holds when modelrun goes without a word', async () => {
    const pgid = model();
    const { exited } = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', pgid, graceMs: 5000 } },
    ]);
    expect(await exited).toBe(0);
    expect(await waitUntilGone(pgid)).toBe(true);
  });

  it('kills a group that ignores SIGTERM once the grace time is over', async () => {
    const pgid = model(true);
    const { exited } = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', pgid, graceMs: 300 } },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(isRunning(pgid)).toBe(true);
    expect(await exited).toBe(0);
    expect(await waitUntilGone(pgid)).toBe(true);
  });

  it('marks a run record still "running" as failed, and leaves a finished one alone', async () => {
    const tree = makeTree({
      'running.json': JSON.stringify({
        run_id: 'r',
        status: 'running',
        started_at: new Date().toISOString(),
      }),
      'done.json': JSON.stringify({ run_id: 'd', status: 'succeeded' }),
    });
    try {
      const { exited } = guardian([
        { op: 'add', key: 1, task: { kind: 'run-record', path: tree.path('running.json') } },
        { op: 'add', key: 2, task: { kind: 'run-record', path: tree.path('done.json') } },
      ]);
      expect(await exited).toBe(0);
      expect(JSON.parse(readFileSync(tree.path('running.json'), 'utf8'))).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^modelrun ended before the run did/),
        ended_at: expect.any(String),
        duration_s: expect.any(Number),
      });
      expect(JSON.parse(readFileSync(tree.path('done.json'), 'utf8'))).toEqual({
        run_id: 'd',
        status: 'succeeded',
      });
    } finally {
      tree.remove();
    }
  });

  it('releases the staging lock of the dead run, but not one a later run has touched', async () => {
    const tree = makeTree({ 'dead/.modelrun/run.lock/': '', 'taken/.modelrun/run.lock/': '' });
    try {
      tree.write('dead/.modelrun/run.lock.owner', '{}');
      const later = new Date(Date.now() + 60_000);
      utimesSync(tree.path('taken', '.modelrun', 'run.lock'), later, later);
      const pgid = model();
      const { exited } = guardian([
        { op: 'add', key: 1, task: { kind: 'process-group', pgid, graceMs: 5000 } },
        { op: 'add', key: 2, task: { kind: 'staging-lock', stagingDir: tree.path('dead') } },
        { op: 'add', key: 3, task: { kind: 'staging-lock', stagingDir: tree.path('taken') } },
      ]);
      expect(await exited).toBe(0);
      expect(isRunning(pgid)).toBe(false);
      expect(readdirSync(tree.path('dead', '.modelrun'))).toEqual([]);
      expect(existsSync(tree.path('taken', '.modelrun', 'run.lock'))).toBe(true);
    } finally {
      tree.remove();
    }
  });

  it('keeps the lock when what the run started could not be stopped', async () => {
    const tree = makeTree({ 'run/.modelrun/run.lock/': '' });
    try {
      const { exited } = guardian([
        {
          op: 'add',
          key: 1,
          task: {
            kind: 'docker-container',
            id: 'c',
            engine: `unix://${tree.path('no-engine.sock')}`,
            remove: true,
          },
        },
        { op: 'add', key: 2, task: { kind: 'staging-lock', stagingDir: tree.path('run') } },
      ]);
      expect(await exited).toBe(0);
      expect(existsSync(tree.path('run', '.modelrun', 'run.lock'))).toBe(true);
    } finally {
      tree.remove();
    }
  });

  it('leaves alone what modelrun withdrew, and everything once modelrun says done', async () => {
    const withdrawn = model();
    const kept = model();
    const first = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', pgid: withdrawn, graceMs: 5000 } },
      { op: 'remove', key: 1 },
    ]);
    const second = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', pgid: kept, graceMs: 5000 } },
      { op: 'done' },
    ]);
    expect([await first.exited, await second.exited]).toEqual([0, 0]);
    expect(isRunning(withdrawn)).toBe(true);
    expect(isRunning(kept)).toBe(true);
  });
});

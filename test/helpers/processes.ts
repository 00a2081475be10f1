import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';

/** Whether a process is running; a zombie waiting for a parent that will never reap it counts as gone. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Whether a process ignores `signal` (its SigIgn mask), as a shell does once
 * it has run `trap '' TERM`: a test that sends the signal waits for this.
 */
export function ignoresSignal(pid: number, signal: NodeJS.Signals): boolean {
  return inSignalMask(pid, 'SigIgn', signal);
}

/**
 * Whether a process has a handler for `signal` (its SigCgt mask). Node has
 * its own for SIGINT and SIGTERM from its start, which end it by the signal;
 * modelrun's, which also catches SIGHUP, is on once SIGHUP shows here.
 */
export function catchesSignal(pid: number, signal: NodeJS.Signals): boolean {
  return inSignalMask(pid, 'SigCgt', signal);
}

function inSignalMask(pid: number, mask: 'SigIgn' | 'SigCgt', signal: NodeJS.Signals): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const bits = new RegExp(`^${mask}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
    const bit = BigInt(osConstants.signals[signal] - 1);
    return bits !== undefined && ((BigInt(`0x${bits}`) >> bit) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** Waits until `check` holds, for at most `ms`, looking every 200 ms; returns whether it does. */
export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(200);
  return check();
}

/** Waits until a process is gone, for at most `ms`; returns whether it is. */
export async function waitUntilGone(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await sleep(20);
  }
  return !isRunning(pid);
}

/**
 * A list for the children a test file starts: each still running is killed
 * once its test is over, with its process group where it leads one. One
 * that has exited is left alone: its pid may belong to another process now.
 */
export function killedAfterEach(): ChildProcess[] {
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) {
      const { pid } = child;
      if (pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
          break;
        } catch {
          // Not a group leader, or gone already, as it should be.
        }
      }
    }
  });
  return started;
}

/** The guardian modelrun `pid` started: the one node process whose parent it is, running guardian.js. */
export function guardianOf(pid: number): number {
  const guardian = guardiansOf(pid)[0];
  if (guardian === undefined) throw new Error('no guardian');
  return guardian;
}

/** The guardians process `pid` has started that still run (node processes of guardian.js). */
export function guardiansOf(pid: number): number[] {
  const children = readFileSync(join('/proc', String(pid), 'task', String(pid), 'children'), 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return children.filter((child) => {
    try {
      return (
        isRunning(child) &&
        readFileSync(join('/proc', String(child), 'cmdline'), 'utf8').includes('guardian.js')
      );
    } catch {
      return false;
    }
  });
}

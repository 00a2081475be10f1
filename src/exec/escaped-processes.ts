// Processes that left the model's process group (setsid, a daemon's double
// fork) are out of reach of the group's signals, and may hold its output
// pipes open for ever. Like Jenkins' ProcessTreeKiller, every process
// modelrun starts carries a marker variable with a value random per run;
// the environment is inherited through every fork and setsid, so scanning
// /proc for that exact value finds what a run left behind.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { statFields } from './process-identity.js';

/** The variable that marks everything one run starts. */
export const MARK_VARIABLE = 'MODELRUN_RUN_MARK';

/**
 * A marker value no other run can have: the run's id (for a person reading
 * `ps e`) and 16 random hex digits; for a run in a run dir, then `.` and 8
 * hex digits that name the folder (runDirTag). The folder is in the mark
 * because a copy of a run dir holds the same record, and so the same mark:
 * `cancel` in the copy must not stop the run of the folder it was copied
 * from (markBelongsTo).
 */
export function newRunMark(runId?: string, runDir?: string): string {
  const random = randomBytes(8).toString('hex');
  const mark = runId === undefined || runId === '' ? random : `${runId}-${random}`;
  return runDir === undefined ? mark : `${mark}.${runDirTag(runDir)}`;
}

/** A mark that names its run dir: it ends in 16 hex digits, a dot and 8 more. */
const FOLDER_MARK = /[0-9a-f]{16}\.([0-9a-f]{8})$/;

/**
 * Whether a mark may be a run's in `runDir`, the same folder whatever links
 * lead to it: false only for a mark that names another folder. A mark made
 * before marks named their folder names none, and is taken at its word.
 */
export function markBelongsTo(mark: string, runDir: string): boolean {
  const tag = FOLDER_MARK.exec(mark)?.[1];
  return tag === undefined || tag === runDirTag(runDir);
}

/** 8 hex digits of the SHA-256 of the folder's real path. */
function runDirTag(runDir: string): string {
  let real = runDir;
  try {
    real = realpathSync(runDir);
  } catch {
    // A folder that is gone is named by its path as given.
  }
  return createHash('sha256').update(real).digest('hex').slice(0, 8);
}

/** A process found by the scan, named for a person. */
export interface FoundProcess {
  pid: number;
  /** Its command line, arguments joined by spaces. */
  command: string;
  /** Its program's name alone (no arguments, which may hold secrets), for run.json. */
  name: string;
}

/** Where the scan looks; a seam for tests, the real /proc and our own uid by default. */
export interface ProcScope {
  procRoot: string;
  /** Only processes of this user are ever ours; undefined (no getuid) means any. */
  uid: number | undefined;
  /** Never this process itself. */
  self: number;
}

export const REAL_PROCS: ProcScope = {
  procRoot: '/proc',
  uid: process.getuid?.(),
  self: process.pid,
};

/** Whether the live process `pid` carries the run's mark in its environment: the proof that it is the run's. */
export function carriesMark(pid: number, mark: string, scope: ProcScope = REAL_PROCS): boolean {
  const dir = join(scope.procRoot, String(pid));
  try {
    if (scope.uid !== undefined && statSync(dir).uid !== scope.uid) return false;
    return hasEntry(readEnviron(join(dir, 'environ')), Buffer.from(`${MARK_VARIABLE}=${mark}`));
  } catch {
    return false;
  }
}

/**
 * The live processes of our user whose environment holds exactly
 * `MARK_VARIABLE=mark`. The same name with another value is someone
 * else's run; a zombie's environment reads empty, so it is never found.
 * Processes that vanish or cannot be read during the scan are skipped.
 */
export function findMarked(mark: string, scope: ProcScope = REAL_PROCS): FoundProcess[] {
  const wanted = Buffer.from(`${MARK_VARIABLE}=${mark}`);
  let entries: string[];
  try {
    entries = readdirSync(scope.procRoot);
  } catch {
    return [];
  }
  const found: FoundProcess[] = [];
  // Paths by hand: path.join normalises each of a few hundred paths, a few ms a scan.
  const root = join(scope.procRoot, '.').replace(/\/$/, '');
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === scope.self) continue;
    const dir = `${root}/${entry}`;
    try {
      if (scope.uid !== undefined && statSync(dir).uid !== scope.uid) continue;
      if (!hasEntry(readEnviron(`${dir}/environ`), wanted)) continue;
      found.push(describeProcess(pid, dir));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/**
 * Whether a NUL-separated environment block holds exactly this NAME=value
 * entry: one search of the whole block, then a look at the bytes either side.
 */
function hasEntry(environ: Buffer, wanted: Buffer): boolean {
  for (let at = environ.indexOf(wanted); at !== -1; at = environ.indexOf(wanted, at + 1)) {
    const end = at + wanted.length;
    if ((at === 0 || environ[at - 1] === 0) && (end === environ.length || environ[end] === 0))
      return true;
  }
  return false;
}

/** The buffer each environment is read into, grown as needed and kept for the next scan. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * A process's environment block, valid until the next call: read into one
 * buffer, as a scan reads every process of ours and readFileSync would
 * allocate for each (a /proc file has no size to allocate by).
 */
function readEnviron(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger);
        scratch = bigger;
      }
      const read = readSync(fd, scratch, length, scratch.length - length, null);
      if (read === 0) return scratch.subarray(0, length);
      length += read;
    }
  } finally {
    closeSync(fd);
  }
}

function describeProcess(pid: number, dir: string): FoundProcess {
  const read = (file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      return '';
    }
  };
  const name = read('comm').trim() || '?';
  const argv = read('cmdline')
    .split('\0')
    .filter((arg) => arg !== '');
  return { pid, command: argv.length > 0 ? argv.join(' ') : name, name };
}

/** The process group of `pid` from /proc/<pid>/stat, or undefined when it is gone. */
export function processGroupOf(pid: number, procRoot = REAL_PROCS.procRoot): number | undefined {
  // State, ppid, pgrp.
  const pgrp = statFields(pid, procRoot)?.[2];
  return pgrp === undefined ? undefined : Number(pgrp);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already, which is what we want.
  }
}

export interface EscapedScope {
  /** Processes of the model's own group are the group's business, not escapees. */
  exceptGroup?: number | undefined;
  scope?: ProcScope;
  /** The run's cgroup, when it has one: it also holds what cleared its environment. */
  cgroup?: { kill(): void; members(): number[] } | undefined;
}

/** The processes of the run outside the model's group: marked, or in the run's cgroup. */
export function findEscaped(mark: string, options: EscapedScope = {}): FoundProcess[] {
  const scope = options.scope ?? REAL_PROCS;
  const marked = findMarked(mark, scope);
  const inCgroup = (options.cgroup?.members() ?? [])
    .filter((pid) => pid !== scope.self && !marked.some((p) => p.pid === pid))
    .map((pid) => describeProcess(pid, join(scope.procRoot, String(pid))));
  return [...marked, ...inCgroup].filter((p) => {
    if (options.exceptGroup === undefined) return true;
    // Gone since it was found (the group's own processes die as the group is
    // killed): no group to tell by, and nothing left to stop or to report.
    const group = processGroupOf(p.pid, scope.procRoot);
    return group !== undefined && group !== options.exceptGroup;
  });
}

/** Sends `name` to every escaped process of the run; returns what it found. */
export function signalEscaped(
  mark: string,
  name: NodeJS.Signals,
  options: EscapedScope = {},
): FoundProcess[] {
  const found = findEscaped(mark, options);
  for (const p of found) signal(p.pid, name);
  return found;
}

/**
 * Stops every escaped process of the run: SIGTERM now, SIGKILL at `killAt`
 * (ms since the epoch) to whatever is left, scanning again each time so
 * that children forked meanwhile go too. Returns all it found, for the report.
 */
export async function stopEscaped(
  mark: string,
  options: EscapedScope & { killAt: number; termed?: FoundProcess[] },
): Promise<FoundProcess[]> {
  const seen = new Map((options.termed ?? []).map((p) => [p.pid, p]));
  // SIGTERM once to each, so that a process shutting down cleanly is not interrupted again.
  const round = (name: NodeJS.Signals) => {
    const found = findEscaped(mark, options);
    for (const p of found) {
      if (name === 'SIGKILL' || !seen.has(p.pid)) signal(p.pid, name);
      if (!seen.has(p.pid)) seen.set(p.pid, p);
    }
    return found;
  };
  let alive = round('SIGTERM');
  while (alive.length > 0 && Date.now() < options.killAt) {
    await sleep(Math.min(50, Math.max(1, options.killAt - Date.now())));
    alive = round('SIGTERM');
  }
  // A process that forks as fast as it is killed cannot outrun a few rounds, nor the cgroup.
  for (let rounds = 0; rounds < 20 && alive.length > 0; rounds++) {
    options.cgroup?.kill();
    alive = round('SIGKILL');
    if (alive.length > 0) await sleep(20);
    alive = findEscaped(mark, options);
  }
  return [...seen.values()];
}

/** "stopped 1 process that left the model's process group: 4242 sleep 600". */
export function describeStopped(found: FoundProcess[], whose: string): string {
  const named = found.slice(0, NAMED_AT_MOST);
  const rest = found.length - named.length;
  const list = named.map((p) => `${p.pid} ${p.command}`).join('; ');
  const noun = found.length === 1 ? 'process' : 'processes';
  return `stopped ${found.length} ${noun} that left ${whose} process group: ${list}${rest > 0 ? `; and ${rest} more` : ''}`;
}

/** Processes named in the line; a model that forked hundreds gets one readable line. */
const NAMED_AT_MOST = 10;

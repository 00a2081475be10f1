import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fs } from 'node:fs';
import { constants as os } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Guard, ProcessGroupTask } from './guard.js';
import { LAUNCHER_SCRIPT } from './launcher-script.js';
import { signalGroup } from './process-group.js';
import { identify, type ProcessIdentity, presence, statFields } from './process-identity.js';
import { signalName } from './signals.js';

/**
 * Starts many processes for one modelrun through a small helper process,
 * instead of Node's spawn: Node forks its whole heap for each child, which
 * here takes 5 ms from a bare Node and 9 ms from one of 100 MB, all of it on
 * the one thread that runs everything else. An ensemble of short members
 * spent a third of its time there. The helper (Perl: see launcher-script.ts)
 * forks a few MB instead, beside modelrun rather than inside it, and the
 * model it starts is what Node's spawn would have started: a process group
 * of its own with no terminal, born in the run's cgroup, the same folder,
 * environment and pipes.
 *
 * Where there is no Perl, or a process it cannot express (a NUL in an
 * argument: Node's own spawn says what is wrong), `start` returns undefined
 * and the caller spawns from Node as before.
 */
export class Launcher {
  private helper: Helper | undefined;
  private broken = false;
  /** Whether any helper has ever answered: Perl works here. */
  private answered = false;

  private readonly perl: string | null;
  private readonly pairs: number;
  private readonly firstReplyMs: number;
  private readonly guard: Guard<ProcessGroupTask> | undefined;

  /**
   * `perl`: the program, null for none (every start is then Node's);
   * `pairs`: processes per helper, each with two pipes that Node makes when it starts the helper;
   * `firstReplyMs`: how long a new helper may stay silent before it is taken for no helper;
   * `guard`: hands each helper to the guardian, which kills it should modelrun die
   * while a model holds it stopped (a stopped helper would never see its input end).
   */
  constructor(
    options: {
      perl?: string | null;
      pairs?: number;
      firstReplyMs?: number;
      guard?: Guard<ProcessGroupTask> | undefined;
    } = {},
  ) {
    this.perl =
      options.perl === undefined ? (findOnPath('perl', process.env.PATH) ?? null) : options.perl;
    this.pairs = options.pairs ?? 32;
    this.firstReplyMs = options.firstReplyMs ?? FIRST_REPLY_MS;
    this.guard = options.guard;
  }

  /** Starts a process, or returns undefined when only Node's spawn can. */
  start(request: LaunchRequest): Promise<LaunchResult> | undefined {
    if (this.perl === null || this.broken || !expressible(request)) return undefined;
    return this.startOnHelper(request);
  }

  /**
   * A start that a helper took and then died with (a model beside it killed
   * it) goes to a new helper, not to Node: from Node, modelrun itself would
   * be the parent a model kills. Only a helper that never answered at all
   * leaves the start to Node.
   */
  private async startOnHelper(request: LaunchRequest): Promise<LaunchResult> {
    for (let tries = 1; ; tries++) {
      if (this.helper === undefined || !this.helper.usable) {
        this.helper?.retire();
        this.helper = new Helper(
          this.perl as string,
          this.pairs,
          () => {
            // A helper that never answered is no helper (a `perl` that is
            // something else), unless one has answered before: then a model
            // killed or stopped it first, and Node must not become its parent.
            if (!this.answered) this.broken = true;
          },
          () => {
            this.answered = true;
          },
          this.firstReplyMs,
          this.guard,
        );
      }
      const result = await this.helper.start(request);
      if (!('helperFailed' in result) || this.broken) return result;
      if (tries >= HELPER_TRIES) {
        const code = 'ELAUNCHER';
        const said = `modelrun's launcher was killed or stopped ${HELPER_TRIES} times before it could start ${request.file} (by a model that kills or stops its parent?)`;
        return { error: Object.assign(new Error(said), { code }) };
      }
    }
  }

  /** Starts nothing more; a helper ends once the processes it started have. */
  close(): void {
    this.helper?.retire();
    this.helper = undefined;
  }
}

export interface LaunchRequest {
  file: string;
  args: string[];
  cwd: string;
  /** The complete environment. */
  env: Record<string, string>;
  /** The run's cgroup, which the process is to be born in. */
  cgroup?: string | undefined;
}

export interface Exit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when how it ended is not known: its helper, its parent, was killed first. */
  endUnknown?: string;
}

export interface Launched {
  pid: number;
  stdout: Readable;
  stderr: Readable;
  /** Whether it was born in the cgroup; if not, the caller moves it in. */
  inside: boolean;
  exited: Promise<Exit>;
  /**
   * Resolves once the process is gone, whatever its helper says: for a run
   * that has killed it and still hears nothing (a helper stopped by SIGSTOP
   * reaps nobody).
   */
  gone(): Promise<Exit>;
}

export type LaunchResult =
  | { launched: Launched }
  | { error: Error & { code?: string } }
  /** The helper failed before the process could run a line of the model: the caller spawns it from Node. */
  | { helperFailed: true };

/** A NUL cannot be passed to a program; `=` cannot be in a variable's name. */
function expressible(request: LaunchRequest): boolean {
  const clean = (text: string) => !text.includes('\0');
  return (
    request.file !== '' &&
    [request.file, request.cwd, request.cgroup ?? '', ...request.args].every(clean) &&
    Object.entries(request.env).every(
      ([name, value]) => name !== '' && !name.includes('=') && clean(name) && clean(value),
    )
  );
}

interface Waiting {
  started(result: LaunchResult): void;
  pair: number;
  streams: [Readable, Readable];
  file: string;
  exited?: (exit: Exit) => void;
  /** Its pid, once its child has said it (before the exec). */
  pid?: number;
  /** Who it is, once forked: what says it is gone should its helper die first. */
  identity?: ProcessIdentity | undefined;
}

/** How many helpers a start may see killed under it before it fails. */
const HELPER_TRIES = 3;

/** How often a helper with processes or starts of its own is looked at, to tell whether a model stopped it. */
const STOPPED_LOOK_MS = 1000;

/** How long a helper may take to say anything at all before it is taken for one that never will. */
export const FIRST_REPLY_MS = 10_000;

/** How often the processes of a helper that died are looked at, until each is gone. */
const ORPHAN_LOOK_MS = 250;

/** One helper process, and the pipes it was given. */
class Helper {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, Waiting>();
  private nextPair = 0;
  private nextId = 0;
  private said = false;
  private dead = false;
  /** Reaped: its pid is no longer its own. */
  private exited = false;
  private silence: NodeJS.Timeout | undefined;
  private readonly watch: NodeJS.Timeout;

  constructor(
    perl: string,
    private readonly pairs: number,
    onBroken: () => void,
    private readonly onAnswer: () => void,
    private readonly firstReplyMs: number,
    guard: Guard<ProcessGroupTask> | undefined,
  ) {
    // An empty environment: PERL5OPT and its kin would change what Perl runs.
    // Its own session, so a Ctrl-C in the terminal reaches modelrun and not it.
    this.child = spawn(perl, ['-e', LAUNCHER_SCRIPT, String(pairs)], {
      stdio: ['pipe', 'pipe', 'ignore', ...Array<'pipe'>(2 * pairs).fill('pipe')],
      env: {},
      detached: true,
    });
    // Its session is its group: the guardian kills it should modelrun die
    // first. It ignores SIGTERM (a model's kill of its parent), so no grace.
    const leader = this.child.pid === undefined ? undefined : identify(this.child.pid);
    const unguard =
      leader === undefined
        ? undefined
        : guard?.({ kind: 'process-group', pgid: leader.pid, graceMs: 0, leader });
    this.child.stdin?.on('error', () => undefined);
    for (const pipe of this.pipes()) pipe?.on('error', () => undefined);
    createInterface({ input: this.child.stdout as Readable }).on('line', (line) =>
      this.heard(line),
    );
    // Once it has exited, its pid may be anyone's: nothing more is signalled
    // by it, here or by the guardian. (Its stdout may outlive it, held open
    // by something it started: that says when its starts are all told.)
    this.child.once('exit', () => {
      this.exited = true;
      unguard?.();
      clearInterval(this.watch);
      clearTimeout(this.silence);
    });
    const ended = () => {
      if (this.dead) return;
      this.dead = true;
      unguard?.();
      clearTimeout(this.silence);
      clearInterval(this.watch);
      // One that never answered is no helper (a `perl` that is something else): Node starts the rest.
      if (!this.said) onBroken();
      // Its stdout closes only once every child it forked has said its pid or
      // died before the exec, so a start with no pid never ran the model.
      for (const [id, waiting] of this.waiting) {
        this.waiting.delete(id);
        const { exited, identity, pid } = waiting;
        // Killed (by a model: it is their parent), it leaves its processes
        // running: each is let be until it ends, when how is no longer known.
        const unknownEnd = untilGone(identity).then(() => UNKNOWN_END);
        if (exited !== undefined) void unknownEnd.then(exited);
        // Forked, maybe running, its start never heard of: it must not be started twice.
        else if (pid !== undefined)
          waiting.started({ launched: this.launched(waiting, pid, false, unknownEnd) });
        else waiting.started({ helperFailed: true });
      }
    };
    this.child.once('error', ended);
    // Its stdout ends with it: the processes it started hold only their own pipes.
    this.child.stdout?.once('close', ended);
    // A model may stop its parent (SIGSTOP): it would then start, and reap,
    // nothing more. A stopped helper is killed, and is then one that died.
    // Seen stopped at two looks in a row: not a stop and continue in passing.
    let stops = 0;
    this.watch = setInterval(() => {
      stops = this.waiting.size > 0 && stopped(this.child.pid) ? stops + 1 : 0;
      if (stops >= 2) this.kill();
    }, STOPPED_LOOK_MS);
    this.watch.unref();
  }

  /** SIGKILL to its session, which is itself alone, while it has not exited. */
  private kill(): void {
    if (!this.exited) signalGroup(this.child.pid, 'SIGKILL');
  }

  /** Whether it can start one more process: alive, with pipes left. */
  get usable(): boolean {
    return !this.dead && this.nextPair < this.pairs;
  }

  start(request: LaunchRequest): Promise<LaunchResult> {
    if (this.dead) return Promise.resolve({ helperFailed: true });
    // A helper that has not said a word by then never will: it goes, and its starts with it.
    if (!this.said && this.silence === undefined) {
      // Its session: the helper alone, as each process it started has a group of its own.
      this.silence = setTimeout(() => this.kill(), this.firstReplyMs);
      this.silence.unref();
    }
    const pair = this.nextPair++;
    const id = String(this.nextId++);
    const fields = [
      id,
      request.cwd,
      request.cgroup ?? '',
      String(pair),
      String(1 + request.args.length),
      request.file,
      ...request.args,
      ...Object.entries(request.env).map(([name, value]) => `${name}=${value}`),
    ];
    const payload = Buffer.from(fields.join('\0'));
    // A socket says its 'end' as soon as it reads it, even to nobody: the
    // process may end before its start is told, and its caller listens only
    // then. Through a PassThrough, the end waits for its reader.
    const [out, err] = this.pair(pair);
    const streams: [Readable, Readable] = [
      out.pipe(new PassThrough()),
      err.pipe(new PassThrough()),
    ];
    return new Promise((started) => {
      this.waiting.set(id, { started, pair, streams, file: request.file });
      this.child.stdin?.write(Buffer.concat([Buffer.from(`${payload.length}\n`), payload]));
    });
  }

  /** Starts nothing more: with its stdin closed, the helper ends after its last process. */
  retire(): void {
    this.child.stdin?.end();
    // One that never said a word and has nothing under way would wait on for ever.
    if (!this.said && this.waiting.size === 0) this.kill();
    // The pipes no process was given.
    for (let pair = this.nextPair; pair < this.pairs; pair++)
      for (const pipe of this.pair(pair)) pipe.destroy();
    this.nextPair = this.pairs;
  }

  private heard(line: string): void {
    if (!this.said) this.onAnswer();
    this.said = true;
    clearTimeout(this.silence);
    const [kind, id = '', value = '', inside] = line.split(' ');
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return;
    // Signalled as a group later: anything but a process's own pid (0, 1, -1) would reach others.
    const pid = Number(value);
    if ((kind === 'P' || kind === 'S') && !(Number.isSafeInteger(pid) && pid > 1)) return;
    // Said once, by the child itself: a second one is no child's.
    if (kind === 'P' && waiting.pid === undefined) {
      waiting.pid = pid;
      waiting.identity = identify(pid);
    } else if (kind === 'S') {
      const exited = new Promise<Exit>((resolve) => {
        waiting.exited = resolve;
      });
      waiting.started({ launched: this.launched(waiting, pid, inside === '1', exited) });
    } else if (kind === 'F') {
      this.waiting.delete(id);
      for (const pipe of this.pair(waiting.pair)) pipe.destroy();
      const code = errnoName(Number(value));
      waiting.started({
        error: Object.assign(new Error(`spawn ${waiting.file} ${code}`), { code }),
      });
    } else if (kind === 'E') {
      this.waiting.delete(id);
      waiting.exited?.(fromWaitStatus(Number(value)));
    }
  }

  private launched(
    waiting: Waiting,
    pid: number,
    inside: boolean,
    exited: Promise<Exit>,
  ): Launched {
    waiting.identity ??= identify(pid);
    const { identity } = waiting;
    const [stdout, stderr] = waiting.streams;
    return {
      pid,
      stdout,
      stderr,
      inside,
      exited,
      gone: () => untilGone(identity).then(() => UNKNOWN_END),
    };
  }

  private pipes(): Readable[] {
    return this.child.stdio.slice(3) as Readable[];
  }

  private pair(pair: number): [Readable, Readable] {
    const pipes = this.pipes();
    return [pipes[2 * pair] as Readable, pipes[2 * pair + 1] as Readable];
  }
}

const UNKNOWN_END: Exit = {
  exitCode: null,
  signal: null,
  endUnknown:
    "modelrun's launcher, which started it, was killed before it ended, so how it ended is not known",
};

/** Whether the process is stopped by a signal (SIGSTOP), from its state in /proc; not one a tracer holds. */
function stopped(pid: number | undefined): boolean {
  return pid !== undefined && statFields(pid)?.[0] === 'T';
}

/** Resolves once the process is gone (or a zombie that nobody will reap). */
async function untilGone(identity: ProcessIdentity | undefined): Promise<void> {
  while (identity !== undefined && presence(identity) === 'alive') await sleep(ORPHAN_LOOK_MS);
}

/** A wait(2) status as Node's 'exit' event gives it. */
export function fromWaitStatus(status: number): Exit {
  const signal = status & 0x7f;
  if (signal === 0) return { exitCode: (status >> 8) & 0xff, signal: null };
  return { exitCode: null, signal: (signalName(signal) ?? `SIG${signal}`) as NodeJS.Signals };
}

function errnoName(errno: number): string {
  return Object.entries(os.errno).find(([, value]) => value === errno)?.[0] ?? `errno ${errno}`;
}

/** The program of this name that PATH finds, as an absolute path. */
export function findOnPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '/usr/bin:/bin').split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fs.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

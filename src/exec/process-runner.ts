import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRunCgroup, type RunCgroup, startInside } from './cgroup.js';
import {
  describeStopped,
  type FoundProcess,
  MARK_VARIABLE,
  newRunMark,
  signalEscaped,
  stopEscaped,
} from './escaped-processes.js';
import type { Guard, ProcessGroupTask } from './guard.js';
import type { Launcher } from './launcher.js';
import { pump } from './output-pump.js';
import { groupAlive, signalGroup } from './process-group.js';
import { identify } from './process-identity.js';
import type { RunOutput } from './run-output.js';

/**
 * How long the output pipes may stay open once the model's group and its
 * escapees are gone: what is left in them is read at once, so a pipe still
 * open after this is held by a process that could not be found, and the
 * run does not wait for it.
 */
const DRAIN_MS = 2000;

/** How long after its SIGKILL a process's end may go untold before the run looks for itself. */
const GONE_AFTER_KILL_MS = 1000;

/** How often a stopped group whose leader has ended is looked at, until it is gone or its grace is. */
const GROUP_LOOK_MS = 50;

/** A process to run: always an argv; a shell command is `/bin/sh -c <command>`. */
export interface ProcessSpec {
  file: string;
  args: string[];
  cwd: string;
  /** The complete environment; nothing is inherited beyond it. */
  env: Record<string, string>;
}

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  startError?: string;
  /** The system's code for that failure: ENOENT, EACCES, E2BIG… */
  startCode?: string;
  /** Set when the output could not be written to the logs. */
  outputError?: string;
  /** Set when how it ended is not known (the launcher that was its parent was killed). */
  endUnknown?: string;
  /** Processes that had left the process group, stopped when the run ended. */
  escaped?: FoundProcess[];
}

export interface ProcessRunOptions {
  /** Aborting stops the process: SIGTERM to its group, SIGKILL after the grace period. */
  signal: AbortSignal;
  graceMs: number;
  /**
   * Called once the process runs, with its pid (for leftover reports) and
   * its group as the guardian takes it, which is the run's handle.
   */
  onStart?: (pid: number, group: ProcessGroupTask) => void;
  /** Hands the process group to the guardian while it runs. */
  guard?: Guard<ProcessGroupTask> | undefined;
  /** Starts the run's marker value, so a person reading `ps e` sees whose it is. */
  runId?: string;
  /** The run's folder, named in its marker value: see newRunMark. */
  runDir?: string;
  /**
   * Further variables that carry the marker: Apptainer passes only
   * APPTAINERENV_X into a container started with --cleanenv.
   */
  markVariables?: string[];
  /** Starts the process instead of Node's spawn, when it can (see Launcher): an ensemble's. */
  launcher?: Launcher | undefined;
  /** Makes the run's cgroup; tests pass one that makes none, to see the marker scan alone at work. */
  createCgroup?: (mark: string) => RunCgroup | undefined;
}

/**
 * Runs a process in a process group of its own, streams its output, and
 * makes sure that nothing of it outlives the run: on abort the whole group
 * gets SIGTERM, then SIGKILL after a grace period; and once the process has
 * exited, any child it left behind in its group is killed too. Processes
 * that left the group (setsid, daemons) are found by the run's marker
 * variable and cgroup, and stopped the same way, whether the run ended by
 * itself or was stopped; they are returned in `escaped` for the report.
 */
export async function runProcess(
  spec: ProcessSpec,
  output: RunOutput,
  options: ProcessRunOptions,
): Promise<ProcessOutcome> {
  const mark = newRunMark(options.runId, options.runDir);
  const markEnv = Object.fromEntries(
    [MARK_VARIABLE, ...(options.markVariables ?? [])].map((name) => [name, mark]),
  );
  // Made before the start, so that the model is born in it (see startInside).
  let cgroup = (options.createCgroup ?? createRunCgroup)(mark);
  // Handed over before the start: killed before the group is registered
  // below, modelrun still leaves nothing behind, as the model carries the
  // mark, and the guardian removes the cgroup too.
  const unguardMark =
    options.guard?.({
      kind: 'process-group',
      graceMs: options.graceMs,
      mark,
      ...(cgroup === undefined ? {} : { cgroup: cgroup.dir }),
    }) ?? (() => {});
  // Node's own spawn, not execa: loading and first calling execa took longer
  // than everything else a local run does after Node has started, and a
  // streamed, detached child needs none of what execa adds.
  // Pipes copied into the log files by cat when the output allows it (see RunOutput.direct).
  const direct = output.direct;
  const relay = direct?.open();
  const env = { ...spec.env, ...markEnv };
  let launched =
    relay === undefined
      ? await options.launcher?.start({ ...spec, env, cgroup: cgroup?.dir })
      : undefined;
  // The helper failed before the process ran the model: Node starts it.
  if (launched !== undefined && 'helperFailed' in launched) launched = undefined;
  let inside = launched !== undefined && 'launched' in launched && launched.launched.inside;
  let started: Started;
  if (launched !== undefined) {
    started =
      'error' in launched
        ? { refused: Promise.resolve(launched.error) }
        : { child: launched.launched };
  } else {
    const start = () => fromNode(spawnOrRefusal(spec, env, relay));
    const born = cgroup === undefined ? undefined : startInside(cgroup, start);
    started = born?.started ?? start();
    // The child has its copies of the pipes (or never will): the copies end when its side closes.
    relay?.handed();
    // Should modelrun be stuck in the cgroup, killing it would kill modelrun.
    if (born?.trapped) cgroup = undefined;
    inside = born?.inside === true;
  }
  // It could not be started: Node's spawn either threw (E2BIG, ENAMETOOLONG)
  // or reports the failure with an 'error' event in a moment (ENOENT, EACCES).
  if ('refused' in started) {
    unguardMark();
    await cgroup?.dispose();
    const cause = await started.refused;
    return {
      exitCode: null,
      signal: null,
      startError: cause.message,
      ...(cause.code === undefined ? {} : { startCode: cause.code }),
    };
  }
  const child = started.child;
  const pid = child.pid;
  // Born in the cgroup, or else moved in at once, before the model has run a
  // line: anything quicker then still carries the mark.
  // Nothing is awaited before the listeners below are on: an 'exit' would be missed.
  if (cgroup !== undefined && !inside && !cgroup.join(pid)) {
    // Gone already, or the system refuses: an empty cgroup is removed at once.
    void cgroup.dispose();
    cgroup = undefined;
  }
  // The pumps end the run's output streams, so they settle only once every
  // chunk has reached the log files, not when the child's pipe closes. A
  // failure is kept as a value: it may come before the exit, while nothing
  // awaits it yet. `cut` stops them reading a pipe an escapee holds open.
  const cut = new AbortController();
  const streams =
    direct !== undefined
      ? // Settles once cat has copied all the child wrote, and the view has read it.
        direct.finish(cut.signal)
      : Promise.all([
          child.stdout ? pump(child.stdout, output.stdout, cut.signal) : undefined,
          child.stderr ? pump(child.stderr, output.stderr, cut.signal) : undefined,
        ]).then((errors) => errors.find((error) => error !== undefined));
  const exited = child.exited;
  const leader = identify(pid);
  const group: ProcessGroupTask = {
    kind: 'process-group',
    pgid: pid,
    graceMs: options.graceMs,
    mark,
    ...(cgroup === undefined ? {} : { cgroup: cgroup.dir }),
    ...(leader === undefined ? {} : { leader }),
  };
  options.onStart?.(pid, group);
  const unguard = options.guard?.(group) ?? (() => {});
  unguardMark();
  const escapees = { exceptGroup: pid, cgroup };

  let killTimer: NodeJS.Timeout | undefined;
  let forced = () => {};
  const killed = new Promise<void>((resolve) => {
    forced = resolve;
  });
  let killAt: number | undefined;
  let termed: FoundProcess[] = [];
  const onAbort = () => {
    killAt = Date.now() + options.graceMs;
    signalGroup(pid, 'SIGTERM');
    termed = signalEscaped(mark, 'SIGTERM', escapees);
    killTimer = setTimeout(() => {
      signalGroup(pid, 'SIGKILL');
      forced();
    }, options.graceMs);
  };
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener('abort', onAbort, { once: true });

  try {
    // Killed, a process the launcher started is taken for ended once it is
    // gone, even if its helper never says so: a stopped helper must not hold
    // the run for ever.
    const outcome = await (child.gone === undefined
      ? exited
      : Promise.race([exited, killed.then(() => sleep(GONE_AFTER_KILL_MS)).then(child.gone)]));
    // Stopped, the group has its whole grace: its leader may end at once (a
    // shell that does not trap TERM, as sh -c does) while what it started
    // still shuts down cleanly.
    if (killAt !== undefined)
      while (groupAlive(pid) && Date.now() < killAt) await sleep(GROUP_LOOK_MS);
    // Whatever the model left running in its group goes with it, and what
    // left the group too: a daemon left behind is an orphan nobody watches.
    signalGroup(pid, 'SIGKILL');
    const escaped = await stopEscaped(mark, {
      ...escapees,
      killAt: killAt ?? Date.now() + options.graceMs,
      termed,
    });
    await cgroup?.dispose();
    unguard();
    const ended = await Promise.race([streams.then(() => true), sleep(DRAIN_MS, false)]);
    if (!ended) cut.abort();
    const outputError = await streams;
    const found = escaped.length > 0 ? { escaped } : {};
    // The model ran, but its output could not be kept: that must not pass as success.
    if (outputError !== undefined)
      return { ...outcome, ...found, outputError: outputError.message };
    return { ...outcome, ...found };
  } finally {
    clearTimeout(killTimer);
    options.signal.removeEventListener('abort', onAbort);
  }
}

/** A started process, from Node's spawn or from the launcher. */
interface Child {
  pid: number;
  stdout: Readable | null;
  stderr: Readable | null;
  exited: Promise<ProcessOutcome>;
  /** The launcher's: resolves once the process is gone, for when its end is never told. */
  gone?: () => Promise<ProcessOutcome>;
}
/** A process that runs, or why it could not start. */
type Started = { child: Child } | { refused: Promise<Failure> };
type Spawned = { child: ChildProcess; error?: undefined } | { child?: undefined; error: Failure };
type Failure = Error & { code?: string };

/** Node's child, with its end and its refusal listened for at once: an unheard 'error' would crash modelrun. */
function fromNode(spawned: Spawned): Started {
  if (spawned.child === undefined) return { refused: Promise.resolve(spawned.error) };
  const child = spawned.child;
  if (child.pid === undefined) return { refused: startFailure(child) };
  const pid = child.pid;
  // The 'exit' event fires even when a grandchild still holds the output
  // pipes open, which execa's own promise would wait for.
  const exited = new Promise<ProcessOutcome>((resolve) => {
    child.once('exit', (code, signal) => resolve({ exitCode: code, signal }));
    child.once('error', (error) =>
      resolve({ exitCode: null, signal: null, startError: error.message }),
    );
  });
  return { child: { pid, stdout: child.stdout, stderr: child.stderr, exited } };
}

/**
 * Starts the process, or says why the system refused at once. Synchronous,
 * as startInside needs: the child must be born while modelrun is in the cgroup.
 */
function spawnOrRefusal(
  spec: ProcessSpec,
  env: Record<string, string>,
  pipes?: { stdout: Writable; stderr: Writable },
): Spawned {
  try {
    const child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      env,
      stdio:
        pipes === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', pipes.stdout, pipes.stderr],
      // A new session and process group, so that signals reach every process
      // the model starts, and Ctrl-C in the terminal reaches modelrun first.
      // What kills the group when modelrun dies is the guardian (options.guard).
      detached: true,
    });
    return { child };
  } catch (error) {
    return { error: error as Failure };
  }
}

/** The 'error' of a child that never ran; listened for at once, as an unheard one would crash modelrun. */
function startFailure(child: ChildProcess): Promise<Failure> {
  return new Promise((resolve) => child.once('error', resolve));
}

/** Tells the user, as a warning, what was stopped outside the model's group. */
export function reportEscaped(outcome: ProcessOutcome, status: (line: string) => void): void {
  if (outcome.escaped !== undefined)
    status(`warning: ${describeStopped(outcome.escaped, "the model's")}`);
}

/** Start failures that no fix of the program would cure: the system refuses what it is given. */
const TOO_LARGE: Record<string, { what: string; hint: string }> = {
  E2BIG: {
    what: 'the command line and environment are too large for the system (E2BIG)',
    hint: 'move big values out of env_vars, the command line and the environment modelrun runs in (the model gets it too) into a file the command reads, such as one in the template, and pass its path instead',
  },
  ENAMETOOLONG: {
    what: "the command's file name is too long for the system (ENAMETOOLONG)",
    hint: 'give the program by a shorter path, or run it through a shell script',
  },
};

/** Why a process could not start because of its size, with what to do, or undefined. */
export function tooLargeToStart(
  outcome: ProcessOutcome,
): { what: string; hint: string } | undefined {
  return outcome.startCode === undefined ? undefined : TOO_LARGE[outcome.startCode];
}

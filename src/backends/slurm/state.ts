import { signalName } from '../../exec/signals.js';
import type { RunOutcome } from '../contract.js';

/** What modelrun needs to know about a job at one moment. */
export interface JobState {
  state: string;
  reason?: string;
  exitCode?: number;
  /** The signal that ended the job's script, when one did. */
  signal?: number;
  nodes?: string;
  /** The node that runs the batch script. */
  batchHost?: string;
  /** The batch script the job runs, as submitted. */
  command?: string;
  /** When the job ended (or is to end, while it runs), as scontrol prints it: local time. */
  endTime?: string;
  /** When the job began to run, as scontrol prints it (local time); not before it has. */
  startTime?: string;
}

/** A time as scontrol prints it (local time, no zone), or undefined for none or Unknown. */
export function slurmTime(text: string | undefined): Date | undefined {
  const at = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(at) ? undefined : new Date(at);
}

/** States a job does not leave again. */
export const FINAL_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'CANCELLED',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'SPECIAL_EXIT',
  'REVOKED',
]);

/** Reads `Key=Value` fields of `scontrol show job -o`; values end at the next space. */
export function parseScontrol(line: string): JobState | undefined {
  const field = (key: string) => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1];
  const state = field('JobState');
  if (state === undefined) return undefined;
  const exit = /^(\d+):(\d+)$/.exec(field('ExitCode') ?? '');
  const reason = field('Reason');
  const nodes = field('NodeList');
  const batchHost = field('BatchHost');
  const endTime = field('EndTime');
  const startTime = field('StartTime');
  // A path may hold spaces: it runs up to the next Key=.
  const command = /(?:^|\s)Command=(.*?)(?=\s[A-Za-z]+=|\s*$)/.exec(line)?.[1];
  return {
    state,
    ...(reason === undefined || reason === 'None' ? {} : { reason }),
    ...(exit === null ? {} : { exitCode: Number(exit[1]), signal: Number(exit[2]) }),
    ...(nodes === undefined || nodes === '(null)' ? {} : { nodes }),
    ...(batchHost === undefined || batchHost === '(null)' || batchHost === '' ? {} : { batchHost }),
    ...(command === undefined || command === '(null)' || command === '' ? {} : { command }),
    ...(endTime === undefined || !/^\d{4}-\d\d-\d\dT/.test(endTime) ? {} : { endTime }),
    // A pending job's StartTime is the scheduler's guess, or Unknown: only a job that ran has one.
    ...(startTime === undefined || !/^\d{4}-\d\d-\d\dT/.test(startTime) || state === 'PENDING'
      ? {}
      : { startTime }),
  };
}

/** Reads `sacct -P -n -X -o State,ExitCode,Reason` (pipe-separated); CANCELLED may read "CANCELLED by 0". */
export function parseSacct(output: string): JobState | undefined {
  const [state, exitCode, reason] = (output.trim().split('\n')[0] ?? '').split('|');
  if (state === undefined || state === '') return undefined;
  const exit = /^(\d+):(\d+)$/.exec(exitCode ?? '');
  return {
    state: state.split(' ')[0] ?? state,
    ...(reason === undefined || reason === '' || reason === 'None' ? {} : { reason }),
    ...(exit === null ? {} : { exitCode: Number(exit[1]), signal: Number(exit[2]) }),
  };
}

const REASONS: Record<string, string> = {
  TIMEOUT: 'the job hit its Slurm time limit (TIMEOUT)',
  OUT_OF_MEMORY: 'the job ran out of memory (OUT_OF_MEMORY)',
  CANCELLED: 'the job was cancelled outside modelrun (CANCELLED)',
  NODE_FAIL: 'a node of the job failed (NODE_FAIL)',
  PREEMPTED: 'the job was preempted (PREEMPTED)',
  BOOT_FAIL: 'a node of the job failed to boot (BOOT_FAIL)',
  DEADLINE: 'the job missed its deadline (DEADLINE)',
};

/** The signal that ended the job's script, by name, or null when none did. */
export function signalOf(job: JobState): string | null {
  return job.signal !== undefined && job.signal > 0
    ? (signalName(job.signal) ?? `signal ${job.signal}`)
    : null;
}

/**
 * A final job state in the run's terms: only COMPLETED is success; every
 * other end says why. The exit code is the model's own, so there is none
 * when Slurm ended the job (time limit, cancel, node failure): ExitCode
 * then reads 0:15 or 0:0, and that 0 is no exit of the model's.
 */
export function outcomeOf(job: JobState): RunOutcome {
  const signal = signalOf(job);
  const exited = signal === null ? (job.exitCode ?? null) : null;
  if (job.state === 'COMPLETED') return { exitCode: exited ?? 0, signal };
  // Slurm says JobLaunchFailure of a script killed by a signal too (kill -9 $$): then the signal stands.
  const named = job.signal !== undefined && job.signal > 0 && signalName(job.signal) !== undefined;
  if (job.state === 'FAILED' && job.reason === 'JobLaunchFailure' && !named)
    // The script never ran: ExitCode's 0:53 or 0:0 is Slurm's, neither an exit nor a signal of the model's.
    return {
      exitCode: null,
      signal: null,
      reason:
        "Slurm could not start the job's script (JobLaunchFailure): check that the node can write output_file and error_file, and reach the staging dir",
    };
  if (job.state === 'FAILED') {
    // FAILED with ExitCode 0:0: the script never ran (a launch failure), so no exit of the model's.
    if (exited === 0 || (exited === null && signal === null))
      return { exitCode: null, signal, reason: `the job failed (${job.reason ?? 'FAILED'})` };
    return { exitCode: exited, signal };
  }
  return {
    exitCode: null,
    signal,
    reason: REASONS[job.state] ?? `the job ended ${job.state}`,
    ...(job.state === 'TIMEOUT' ? { timedOut: true } : {}),
  };
}

import { describe, expect, it } from 'vitest';
import { outcomeOf, parseSacct, parseScontrol } from './state.js';

const SCONTROL =
  'JobId=12 JobName=modelrun-r1 UserId=me(1000) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 RunTime=00:00:01 NodeList=node017 BatchHost=node017 StdOut=/scratch/run dir/logs/slurm-12.out';

describe('reading job states', () => {
  it('reads scontrol show job -o', () => {
    expect(parseScontrol(SCONTROL)).toEqual({
      state: 'FAILED',
      reason: 'NonZeroExitCode',
      exitCode: 3,
      signal: 0,
      nodes: 'node017',
      batchHost: 'node017',
    });
  });

  it('leaves out a reason of None, and a node list and batch host of (null)', () => {
    expect(
      parseScontrol(
        'JobId=5 JobState=PENDING Reason=None ExitCode=0:0 NodeList=(null) BatchHost=(null)',
      ),
    ).toEqual({
      state: 'PENDING',
      exitCode: 0,
      signal: 0,
    });
  });

  it('reads when a job began, once it has run', () => {
    const times = 'StartTime=2026-12-02T03:48:00 EndTime=2026-12-02T03:49:00';
    expect(parseScontrol(`JobId=5 JobState=COMPLETED ${times}`)).toMatchObject({
      startTime: '2026-12-02T03:48:00',
      endTime: '2026-12-02T03:49:00',
    });
    // A pending job's StartTime is the scheduler's guess; Unknown is no time.
    expect(parseScontrol(`JobId=5 JobState=PENDING ${times}`)?.startTime).toBeUndefined();
    expect(parseScontrol('JobId=5 JobState=RUNNING StartTime=Unknown')?.startTime).toBeUndefined();
  });

  it('knows nothing of a line without a job state', () => {
    expect(parseScontrol('slurm_load_jobs error: Invalid job id specified')).toBeUndefined();
  });

  it.each([
    ['COMPLETED|0:0|None\n', { state: 'COMPLETED', exitCode: 0, signal: 0 }],
    ['CANCELLED by 1000|0:15|None\n', { state: 'CANCELLED', exitCode: 0, signal: 15 }],
    [
      'OUT_OF_MEMORY|0:125|OutOfMemory\n',
      { state: 'OUT_OF_MEMORY', exitCode: 0, signal: 125, reason: 'OutOfMemory' },
    ],
  ])('reads sacct -P: %j', (line, state) => {
    expect(parseSacct(line)).toEqual(state);
  });
});

const LAUNCH_FAILED =
  "Slurm could not start the job's script (JobLaunchFailure): check that the node can write output_file and error_file, and reach the staging dir";

describe('the outcome of a final state', () => {
  it.each([
    [
      { state: 'COMPLETED', exitCode: 0, signal: 0 },
      { exitCode: 0, signal: null },
    ],
    [
      { state: 'FAILED', exitCode: 4, signal: 0 },
      { exitCode: 4, signal: null },
    ],
    // Killed by a signal, or ended by Slurm: the 0 of ExitCode 0:N is no exit of the model's.
    [
      { state: 'FAILED', exitCode: 0, signal: 9 },
      { exitCode: null, signal: 'SIGKILL' },
    ],
    // The script never ran: Slurm's 0:53 (or 0:0) is neither an exit nor a signal of the model's.
    [
      { state: 'FAILED', exitCode: 0, signal: 53, reason: 'JobLaunchFailure' },
      { exitCode: null, signal: null, reason: LAUNCH_FAILED },
    ],
    [
      { state: 'FAILED', exitCode: 0, signal: 0, reason: 'JobLaunchFailure' },
      { exitCode: null, signal: null, reason: LAUNCH_FAILED },
    ],
    // Slurm says JobLaunchFailure of a script killed by a signal too: the signal stands.
    [
      { state: 'FAILED', exitCode: 0, signal: 9, reason: 'JobLaunchFailure' },
      { exitCode: null, signal: 'SIGKILL' },
    ],
    [
      { state: 'FAILED', exitCode: 0, signal: 0, reason: 'BadConstraints' },
      { exitCode: null, signal: null, reason: 'the job failed (BadConstraints)' },
    ],
    [
      { state: 'TIMEOUT', exitCode: 0, signal: 15 },
      {
        exitCode: null,
        signal: 'SIGTERM',
        reason: 'the job hit its Slurm time limit (TIMEOUT)',
        timedOut: true,
      },
    ],
    [
      { state: 'OUT_OF_MEMORY', exitCode: 0, signal: 0 },
      { exitCode: null, signal: null, reason: 'the job ran out of memory (OUT_OF_MEMORY)' },
    ],
    [
      { state: 'CANCELLED', exitCode: 0, signal: 15 },
      {
        exitCode: null,
        signal: 'SIGTERM',
        reason: 'the job was cancelled outside modelrun (CANCELLED)',
      },
    ],
    [
      { state: 'CANCELLED', exitCode: 0, signal: 0, reason: 'JobHeldUser' },
      {
        exitCode: null,
        signal: null,
        reason: 'the job was cancelled outside modelrun (CANCELLED)',
      },
    ],
    [
      { state: 'CANCELLED' },
      {
        exitCode: null,
        signal: null,
        reason: 'the job was cancelled outside modelrun (CANCELLED)',
      },
    ],
    [
      { state: 'NODE_FAIL' },
      { exitCode: null, signal: null, reason: 'a node of the job failed (NODE_FAIL)' },
    ],
    [
      { state: 'PREEMPTED' },
      { exitCode: null, signal: null, reason: 'the job was preempted (PREEMPTED)' },
    ],
    [
      { state: 'BOOT_FAIL' },
      { exitCode: null, signal: null, reason: 'a node of the job failed to boot (BOOT_FAIL)' },
    ],
    [
      { state: 'DEADLINE' },
      { exitCode: null, signal: null, reason: 'the job missed its deadline (DEADLINE)' },
    ],
  ])('%j is %j', (state, outcome) => {
    expect(outcomeOf(state)).toEqual(outcome);
  });
});

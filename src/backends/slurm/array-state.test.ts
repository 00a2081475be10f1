import { describe, expect, it } from 'vitest';
import { parseArrayScontrol, taskIds } from './array-state.js';

describe('taskIds', () => {
  it.each([
    ['one task', '7', [7]],
    ['a list', '0,2,9', [0, 2, 9]],
    ['a range', '5-7', [5, 6, 7]],
    ['a range of one', '4-4', [4]],
    ['lists and ranges', '0,2,5-7', [0, 2, 5, 6, 7]],
    ['a step', '1-9:4', [1, 5, 9]],
    ['a step past the end', '0-10:4', [0, 4, 8]],
    ['the throttle suffix', '0,2,5-7%2', [0, 2, 5, 6, 7]],
    ['a throttle on a single task', '3%1', [3]],
    ['a throttle and a step', '1-9:4%10', [1, 5, 9]],
  ])('reads %s: %s', (_what, listed, ids) => {
    expect(taskIds(listed)).toEqual(ids);
  });

  it.each([
    ['nothing', ''],
    ['N/A', 'N/A'],
    ["scontrol's (null)", '(null)'],
    ['a word', 'abc'],
    ['a negative id', '-1'],
    ['a backwards range', '7-5'],
    ['a step of zero', '0-5:0'],
    ['an open range', '5-'],
    ['an empty part', '1,,2'],
    ['a trailing comma', '1,2,'],
    ['a throttle alone', '%2'],
    ['a throttle without a number', '1-3%'],
    ['a throttle in the middle', '1%2,3'],
    ['a space', '1, 2'],
    ['a range beside garbage', '0-3,x'],
  ])('gives none for %s (%j)', (_what, listed) => {
    expect(taskIds(listed)).toEqual([]);
  });

  it.each([
    ['a range one past the largest array Slurm allows', '0-4000001'],
    ['a range of 20 digits', '0-99999999999999999999'],
    ['ranges each within the bound but past it together', '0-1,0-4000000'],
  ])('gives none for %s, rather than millions of ids', (_what, listed) => {
    expect(taskIds(listed)).toEqual([]);
  });

  it('reads a step across the largest array Slurm allows', () => {
    expect(taskIds('0-4000000:2000000%5')).toEqual([0, 2_000_000, 4_000_000]);
  });
});

/** `scontrol show job -o` lines as the brief quotes them, cut where it cuts them. */
const ALL_PENDING =
  'JobId=1440 ArrayJobId=1440 ArrayTaskId=0,2,5-7%2 ArrayTaskThrottle=2 JobName=arrtest UserId=root(0) ... JobState=PENDING Reason=None ... ExitCode=0:0 ...';
const SOME_RAN = [
  'JobId=1440 ArrayJobId=1440 ArrayTaskId=5-7%2 ... JobState=PENDING ... ExitCode=0:0',
  'JobId=1442 ArrayJobId=1440 ArrayTaskId=2 ... JobState=FAILED ... ExitCode=2:0',
  'JobId=1441 ArrayJobId=1440 ArrayTaskId=0 ... JobState=COMPLETED ... ExitCode=0:0',
].join('\n');

/**
 * Captured whole from this machine's Slurm (`--array=0,2,5-7%2`, task 2
 * exiting 2): two tasks ran, two more then ran, one still waits for the
 * throttle. Each line ends in a space, as scontrol writes it.
 */
const CAPTURED = `${[
  'JobId=1454 ArrayJobId=1454 ArrayTaskId=7 ArrayTaskThrottle=2 JobName=test-2386415246 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=JobArrayTaskLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-12-01T16:29:10 EligibleTime=Unknown AccrueTime=Unknown StartTime=Unknown EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-01T16:29:16 Scheduler=Main Partition=debug AllocNode:Sid=localhost:12463 ReqNodeList=(null) ExcNodeList=(null) NodeList= NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=50M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=50M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/arrcap/job.sh WorkDir=/tmp/arrcap StdErr=/tmp/arrcap/1454_7.out StdIn=/dev/null StdOut=/tmp/arrcap/1454_7.out Power=',
  'JobId=1458 ArrayJobId=1454 ArrayTaskId=6 ArrayTaskThrottle=2 JobName=test-2386415246 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-12-01T16:29:10 EligibleTime=2026-12-01T16:29:16 AccrueTime=Unknown StartTime=2026-12-01T16:29:16 EndTime=2026-12-01T16:29:19 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-01T16:29:16 Scheduler=Main Partition=debug AllocNode:Sid=localhost:12463 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=50M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=50M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/arrcap/job.sh WorkDir=/tmp/arrcap StdErr=/tmp/arrcap/1454_6.out StdIn=/dev/null StdOut=/tmp/arrcap/1454_6.out Power=',
  'JobId=1457 ArrayJobId=1454 ArrayTaskId=5 ArrayTaskThrottle=2 JobName=test-2386415246 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-12-01T16:29:10 EligibleTime=2026-12-01T16:29:16 AccrueTime=Unknown StartTime=2026-12-01T16:29:16 EndTime=2026-12-01T16:29:19 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-01T16:29:16 Scheduler=Main Partition=debug AllocNode:Sid=localhost:12463 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=50M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=50M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/arrcap/job.sh WorkDir=/tmp/arrcap StdErr=/tmp/arrcap/1454_5.out StdIn=/dev/null StdOut=/tmp/arrcap/1454_5.out Power=',
  'JobId=1456 ArrayJobId=1454 ArrayTaskId=2 ArrayTaskThrottle=2 JobName=test-2386415246 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=2:0 RunTime=00:00:03 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-12-01T16:29:10 EligibleTime=2026-12-01T16:29:11 AccrueTime=Unknown StartTime=2026-12-01T16:29:11 EndTime=2026-12-01T16:29:14 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-01T16:29:11 Scheduler=Backfill Partition=debug AllocNode:Sid=localhost:12463 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=50M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=50M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/arrcap/job.sh WorkDir=/tmp/arrcap StdErr=/tmp/arrcap/1454_2.out StdIn=/dev/null StdOut=/tmp/arrcap/1454_2.out Power=',
  'JobId=1455 ArrayJobId=1454 ArrayTaskId=0 ArrayTaskThrottle=2 JobName=test-2386415246 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-12-01T16:29:10 EligibleTime=2026-12-01T16:29:11 AccrueTime=Unknown StartTime=2026-12-01T16:29:11 EndTime=2026-12-01T16:29:14 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-01T16:29:11 Scheduler=Backfill Partition=debug AllocNode:Sid=localhost:12463 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=50M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=50M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/arrcap/job.sh WorkDir=/tmp/arrcap StdErr=/tmp/arrcap/1454_0.out StdIn=/dev/null StdOut=/tmp/arrcap/1454_0.out Power=',
].join(' \n')} \n`;

/** Captured from this machine's Slurm: `--array=1-9:4 --hold`, whose step scontrol lists as it expands it. */
const CAPTURED_HELD =
  'JobId=1459 ArrayJobId=1459 ArrayTaskId=1,5,9 JobName=test-2386415246 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=0 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=JobHeldUser Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-12-01T16:29:18 EligibleTime=Unknown AccrueTime=Unknown StartTime=Unknown EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-01T16:29:18 Scheduler=Main Partition=debug AllocNode:Sid=localhost:12463 ReqNodeList=(null) ExcNodeList=(null) NodeList= NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=50M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=50M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/arrcap/job.sh WorkDir=/tmp/arrcap StdErr=/dev/null StdIn=/dev/null StdOut=/dev/null Power= \n';

/** Captured from this machine's Slurm: a job of its own, no array's. */
const CAPTURED_PLAIN =
  'JobId=1460 JobName=test-2386415246 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=0 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=JobHeldUser Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-12-01T16:29:24 EligibleTime=Unknown AccrueTime=Unknown StartTime=Unknown EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-01T16:29:24 Scheduler=Main Partition=debug AllocNode:Sid=localhost:12463 ReqNodeList=(null) ExcNodeList=(null) NodeList= NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=50M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=50M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/arrcap/job.sh WorkDir=/tmp/arrcap StdErr=/dev/null StdIn=/dev/null StdOut=/dev/null Power= \n';

const PENDING = { state: 'PENDING', exitCode: 0, signal: 0 };
const COMPLETED = { state: 'COMPLETED', exitCode: 0, signal: 0 };

/** Each task's state, its fields left out but those named. */
function states(output: string, ...fields: ('state' | 'exitCode' | 'reason')[]) {
  return Object.fromEntries(
    [...parseArrayScontrol(output)].map(([task, state]) => [
      task,
      Object.fromEntries(fields.map((field) => [field, state[field]])),
    ]),
  );
}

describe('parseArrayScontrol', () => {
  it.each([
    [
      'every task pending on one line, throttled',
      ALL_PENDING,
      {
        '1440_0': PENDING,
        '1440_2': PENDING,
        '1440_5': PENDING,
        '1440_6': PENDING,
        '1440_7': PENDING,
      },
    ],
    [
      'a pending range beside tasks that ended',
      SOME_RAN,
      {
        '1440_5': PENDING,
        '1440_6': PENDING,
        '1440_7': PENDING,
        '1440_2': { state: 'FAILED', exitCode: 2, signal: 0 },
        '1440_0': COMPLETED,
      },
    ],
    ['nothing', '', {}],
    ['blank lines', '\n\n', {}],
  ])('reads %s', (_what, output, tasks) => {
    expect(Object.fromEntries(parseArrayScontrol(output))).toEqual(tasks);
  });

  it('reads whole lines as Slurm writes them, each task under <array>_<task>', () => {
    expect(states(CAPTURED, 'state', 'exitCode', 'reason')).toEqual({
      '1454_7': { state: 'PENDING', exitCode: 0, reason: 'JobArrayTaskLimit' },
      '1454_6': { state: 'COMPLETED', exitCode: 0, reason: undefined },
      '1454_5': { state: 'COMPLETED', exitCode: 0, reason: undefined },
      '1454_2': { state: 'FAILED', exitCode: 2, reason: 'NonZeroExitCode' },
      '1454_0': { state: 'COMPLETED', exitCode: 0, reason: undefined },
    });
  });

  it('reads a stepped range as scontrol lists it once expanded', () => {
    expect(states(CAPTURED_HELD, 'state', 'reason')).toEqual({
      '1459_1': { state: 'PENDING', reason: 'JobHeldUser' },
      '1459_5': { state: 'PENDING', reason: 'JobHeldUser' },
      '1459_9': { state: 'PENDING', reason: 'JobHeldUser' },
    });
  });

  it.each([
    ['a job of its own, with no ArrayJobId', CAPTURED_PLAIN],
    ['a line without ArrayTaskId', 'JobId=9 ArrayJobId=9 JobState=RUNNING ExitCode=0:0'],
    ['a line without JobState', 'JobId=9 ArrayJobId=9 ArrayTaskId=0 ExitCode=0:0'],
    ['a line whose task list is garbage', 'JobId=9 ArrayJobId=9 ArrayTaskId=x JobState=PENDING'],
    ["scontrol's refusal", 'slurm_load_jobs error: Invalid job id specified'],
  ])('leaves out %s', (_what, line) => {
    expect(parseArrayScontrol(`${line}\n${ALL_PENDING}`).size).toBe(5);
    expect(parseArrayScontrol(line).size).toBe(0);
  });

  it('does not take a field whose name ends in ArrayJobId for it', () => {
    expect(
      parseArrayScontrol('JobId=9 OtherArrayJobId=9 ArrayTaskId=0 JobState=PENDING').size,
    ).toBe(0);
  });
});

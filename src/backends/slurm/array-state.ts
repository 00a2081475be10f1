import { type JobState, parseScontrol } from './state.js';

/**
 * The state of every task of a job array from one `scontrol show job -o
 * <array job id>`: a line per task that has started (its own JobId, one
 * ArrayTaskId), and one line for the tasks still pending, whose
 * ArrayTaskId lists them (`0,2,5-7%2`: ranges, a step, the throttle).
 * Keyed `<array job id>_<task id>`, as squeue, scontrol and scancel name a task.
 */
export function parseArrayScontrol(output: string): Map<string, JobState> {
  const tasks = new Map<string, JobState>();
  for (const line of output.split('\n')) {
    const field = (key: string) => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1];
    const arrayJob = field('ArrayJobId');
    const listed = field('ArrayTaskId');
    const state = parseScontrol(line);
    if (arrayJob === undefined || listed === undefined || state === undefined) continue;
    for (const task of taskIds(listed)) tasks.set(`${arrayJob}_${task}`, state);
  }
  return tasks;
}

/** The most task ids one ArrayTaskId is read into: Slurm's MaxArraySize is at most 4000001. */
const MAX_TASKS = 4_000_001;

/** `0,2,5-7%2` → 0, 2, 5, 6, 7; `1-9:4` → 1, 5, 9. What does not read as a list gives none. */
export function taskIds(listed: string): number[] {
  const ids: number[] = [];
  for (const part of listed.replace(/%\d+$/, '').split(',')) {
    const match = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part);
    if (match === null) return [];
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    const step = match[3] === undefined ? 1 : Number(match[3]);
    // Bounded over the whole list, not each part: `0-4000000,0-4000000,…` would be as many ids as parts times that.
    if (step < 1 || last < first || ids.length + Math.floor((last - first) / step) + 1 > MAX_TASKS)
      return [];
    for (let id = first; id <= last; id += step) ids.push(id);
  }
  return ids;
}

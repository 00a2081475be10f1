/**
 * A local or Apptainer model's process group: SIGTERM, then SIGKILL after
 * graceMs; with it the processes that left the group, found by the run's
 * marker value (`mark`) and in its cgroup folder (`cgroup`), when it has one.
 * Without `pgid`: handed over before the model starts, so that a modelrun
 * killed between the start and the group's registration still leaves
 * nothing behind; every process of the run carries the mark.
 */
export interface ProcessGroupTask {
  kind: 'process-group';
  pgid?: number;
  graceMs: number;
  mark?: string;
  cgroup?: string;
}

/**
 * Hands something started to whoever undoes it should modelrun die first
 * (the guardian); the function returned withdraws it once modelrun has
 * undone it itself.
 */
export type Guard<Task> = (task: Task) => () => void;

/**
 * Milliseconds between SIGTERM and SIGKILL when a model that runs as a
 * process group here (local, apptainer) is stopped.
 */
export const PROCESS_GRACE_MS = 10_000;

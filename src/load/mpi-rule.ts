import type { LauncherCopies } from '../backends/contract.js';
import { findBackend } from '../backends/registry.js';
import type { PathSegment, Problem } from '../problems.js';

/** Places a message at a data path of a file (ValidationResult.place). */
export type Placer = (path: PathSegment[], message: string) => Problem;

/**
 * The rule for MPI launchers: a backend's `mpiexec` that starts more than
 * one copy of the command is right only for an MPI program, whose ranks
 * share the work. A serial or threaded model would run N times over in one
 * staging dir, its copies writing the same output files. Only the model file
 * can say which it is (`mpi: true`), so the run warns, at the field the
 * count comes from, when the backend starts several copies and the model
 * does not say so. A count modelrun cannot know is not warned about.
 */
export function mpiWarning(
  mpi: boolean | undefined,
  launcher: LauncherCopies | undefined,
  modelFile: string,
  place: Placer,
): Problem | undefined {
  if (mpi === true || launcher?.copies === undefined || launcher.copies <= 1) return undefined;
  const { copies } = launcher;
  return place(
    launcher.path,
    `mpiexec starts ${copies} copies of the command, but ${modelFile} does not say it is an MPI program: a serial or threaded model would run ${copies} times over, its copies writing the same output files; set \`mpi: true\` in ${modelFile} if it is an MPI program; otherwise remove mpiexec (${launcher.serial})`,
  );
}

/** The rule's warning for a run of `model` on `backend`, if any. */
export function runMpiWarning(
  model: { mpi?: boolean },
  modelFile: string,
  backend: Record<string, unknown>,
  place: Placer,
): Problem | undefined {
  const launcher = findBackend(String(backend.type))?.launcherCopies?.(backend);
  return mpiWarning(model.mpi, launcher, modelFile, place);
}

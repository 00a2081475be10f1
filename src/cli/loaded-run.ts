import type { LoadedRun, RunLoad } from '../load/run-request.js';
import { placeOf } from '../problems.js';
import type { Output } from './output.js';
import { presentError } from './present-error.js';

/**
 * Prints what loading a run found: its warnings, then each of its errors.
 * Returns the run, or the exit code to stop with when it has errors.
 */
export function printLoad(load: RunLoad, output: Output): LoadedRun | number {
  for (const warning of load.warnings) output.warn(placeOf(warning));
  if ('run' in load) return load.run;
  let code = 0;
  for (const error of load.errors) code = Math.max(code, presentError(error, output));
  return code;
}

/**
 * One thing wrong (or worth knowing) about a file, placed where it was
 * written: a file's line and column, or a command-line argument (`--set
 * cpu=0`), which has no line: `line` and `column` are then 0.
 */
export interface Problem {
  file: string;
  line: number;
  column: number;
  /** Dot path of the offending key or value, such as `volumes[1]` or `env_vars.OMP_NUM_THREADS`; empty for the whole file. */
  path: string;
  message: string;
}

export type PathSegment = string | number;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_$-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `file:line:column  field: message`, or `--set x=1  field: message`: the way every placed problem is printed. */
export function placeOf(problem: Problem): string {
  const where =
    problem.line === 0 ? problem.file : `${problem.file}:${problem.line}:${problem.column}`;
  const field = problem.path === '' ? '' : `${problem.path}: `;
  return `${where}  ${field}${problem.message}`;
}

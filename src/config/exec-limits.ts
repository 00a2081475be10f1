import type * as z from 'zod';

/**
 * What the kernel lets a program start with. Every backend ends in an exec:
 * the local process and `apptainer exec` here, docker-init in a container,
 * the job's shell on a Slurm node; each runs the command as the one
 * argument of `/bin/sh -c` and hands it env_vars. So one rule holds for
 * all of them, checked when a config is validated, rather than found out
 * as E2BIG when the run starts.
 */

/** Linux's MAX_ARG_STRLEN: the most one argument or one NAME=value may take, its NUL included. */
export const MAX_ARG_STRLEN = 128 * 1024;

/**
 * The most the arguments and environment may take together. Linux allows a
 * quarter of the stack limit (ARG_MAX: 2 MiB under the usual 8 MiB), but
 * Node cannot ask for it, and the node that runs a job or a container may
 * differ from this one; so the usual value, less 64 KiB for what the system
 * and the backend add (PATH, SLURM_*, the launcher's own arguments).
 */
export const ARG_MAX_BUDGET = 2 * 1024 * 1024 - 64 * 1024;

/** Each string also costs the pointer to it, in argv or envp. */
const POINTER_BYTES = 8;

const KIB = 1024;
const HINT =
  'put big values into a file the model reads (such as one in the template), and pass its path';

/** The bytes an argument takes in the kernel's count: its UTF-8 text and its NUL. */
export function argumentBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8') + 1;
}

/** The bytes NAME=value takes in the kernel's count. */
export function envEntryBytes(name: string, value: string): number {
  return argumentBytes(`${name}=${value}`);
}

/** Why a command, run as the one argument of /bin/sh -c, cannot start; undefined when it can. */
export function commandTooLarge(command: string): string | undefined {
  const bytes = argumentBytes(command);
  if (bytes <= MAX_ARG_STRLEN) return undefined;
  return `is ${bytes} bytes, over the ${MAX_ARG_STRLEN} bytes (${MAX_ARG_STRLEN / KIB} KiB, MAX_ARG_STRLEN) the system allows one argument: the command runs as the one argument of /bin/sh -c, so it could never start; put it into a script (such as one in the template) and run that`;
}

/** Why one variable cannot be passed; undefined when it can. */
export function envEntryTooLarge(name: string, value: string): string | undefined {
  const bytes = envEntryBytes(name, value);
  if (bytes <= MAX_ARG_STRLEN) return undefined;
  return `${name}=… is ${bytes} bytes, over the ${MAX_ARG_STRLEN} bytes (${MAX_ARG_STRLEN / KIB} KiB, MAX_ARG_STRLEN) the system allows one variable, so the model could never start; ${HINT}`;
}

/** The bytes a set of variables takes of the ARG_MAX budget. */
export function envBytes(env: Readonly<Record<string, string>>): number {
  let total = 0;
  for (const [name, value] of Object.entries(env))
    total += envEntryBytes(name, value) + POINTER_BYTES;
  return total;
}

/** Why variables together cannot be passed; undefined when they can. */
export function execTooLarge(env: Readonly<Record<string, string>>): string | undefined {
  const bytes = envBytes(env);
  if (bytes <= ARG_MAX_BUDGET) return undefined;
  const headroom = (2 * 1024 * KIB - ARG_MAX_BUDGET) / KIB;
  return `env_vars take ${bytes} bytes together, over the ${ARG_MAX_BUDGET} bytes (2 MiB, ARG_MAX, less ${headroom} KiB for what the system adds) a program may start with, so the model could never start; ${HINT}`;
}

/** A zod check for a command field: refuses a command too large to start. */
export function checkCommandSize(command: string, zctx: z.RefinementCtx): void {
  const problem = commandTooLarge(command);
  if (problem !== undefined) zctx.addIssue({ code: 'custom', input: command, message: problem });
}

/** A zod check for an env_vars map: each variable, then all of them together. */
export function checkEnvSizes(env: Readonly<Record<string, string>>, zctx: z.RefinementCtx): void {
  let each = false;
  for (const [name, value] of Object.entries(env)) {
    const problem = envEntryTooLarge(name, value);
    if (problem === undefined) continue;
    each = true;
    zctx.addIssue({ code: 'custom', path: [name], input: value, message: problem });
  }
  // One variable too large already says what to do; the sum would only repeat it.
  const total = each ? undefined : execTooLarge(env);
  if (total !== undefined) zctx.addIssue({ code: 'custom', input: env, message: total });
}

// The variables one modelrun hands another through the environment: a
// detached run's or ensemble's supervisor learns from them what the
// modelrun that started it was told. They are modelrun's own, never the
// user's: a model does not inherit them, and a config's ${VAR} does not see them.

/** Set in a detached run's supervisor (run-detach.ts): it echoes no model output, as it has no terminal. */
export const DETACHED_VARIABLE = 'MODELRUN_DETACHED';

/**
 * The overrides a detached run's supervisor is started with (run-detach.ts),
 * as JSON [flag, PATH=VALUE] pairs: in its environment, which only its user
 * can read, rather than in its arguments, which anyone can, as one may hold
 * a secret.
 */
export const DETACHED_OVERRIDES_VARIABLE = 'MODELRUN_DETACHED_OVERRIDES';

/**
 * Where a detached run's supervisor tells its handle, as soon as it has one,
 * to the `run --detach` that started it: a new file beside its log, in
 * modelrun's state folder. Unlike the run's record, it stays where it is
 * whatever the model does to its run dir.
 */
export const DETACHED_STARTED_VARIABLE = 'MODELRUN_DETACHED_STARTED';

/** Where a detached ensemble's supervisor learns the log its lines go to, for `modelrun logs`. */
export const SUPERVISOR_LOG_VARIABLE = 'MODELRUN_SUPERVISOR_LOG';

const HANDED_OVER: readonly string[] = [
  DETACHED_VARIABLE,
  DETACHED_OVERRIDES_VARIABLE,
  DETACHED_STARTED_VARIABLE,
  SUPERVISOR_LOG_VARIABLE,
];

/** Whether a variable is one modelrun hands a supervisor, not the user's. */
export function isHandedOver(name: string): boolean {
  return HANDED_OVER.includes(name);
}

/** The environment without modelrun's hand-over variables: what a model and a config see. */
export function withoutHandedOver(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (HANDED_OVER.every((name) => env[name] === undefined)) return env;
  return Object.fromEntries(Object.entries(env).filter(([name]) => !isHandedOver(name)));
}

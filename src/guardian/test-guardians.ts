import type { GuardianProcess } from './shared.js';

/**
 * Guardians that say what they were told, standing in for their processes;
 * for the tests of a shared guardian and of a session. `made[i].told` is
 * the i-th guardian's list ("start", "add run-record", "remove …", "done"),
 * its pid is 1001 + i, and `made[i].alive` can be set to play its death.
 */
export function fakeGuardians() {
  const made: { told: string[]; alive: boolean }[] = [];
  const make = (): GuardianProcess => {
    const told: string[] = [];
    const state = { told, alive: true };
    made.push(state);
    const pid = 1000 + made.length;
    return {
      guard: (task: { kind: string }) => {
        told.push(`add ${task.kind}`);
        return () => told.push(`remove ${task.kind}`);
      },
      prepare: () => told.push('start'),
      close: () => told.push('done'),
      interrupted: (signal: string) => told.push(`interrupted ${signal}`),
      pid,
      get alive() {
        return state.alive;
      },
    };
  };
  return { make, made };
}

import { constants } from 'node:os';

/** SIGKILL for 9, SIGTERM for 15; undefined for a number that names no signal here. */
export function signalName(number: number): string | undefined {
  return Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
}

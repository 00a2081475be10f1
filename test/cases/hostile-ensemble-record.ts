import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/**
 * An ensemble's folder whose ensemble.json a member or a person changed:
 * `status`, `wait`, `cancel` and `logs` on it say what is wrong with the
 * file, never fail on it as a bug, hang, or read what it points at.
 */

/** A whole record of an ended ensemble of no members in `dir`, as modelrun writes one. */
function wholeRecord(dir: string): Record<string, unknown> {
  return {
    ensemble_id: 'study',
    file: join(dir, 'study.yml'),
    dir,
    status: 'succeeded',
    started_at: '2024-01-01T00:00:00.000Z',
    ended_at: '2024-01-01T00:00:05.000Z',
    duration_s: 5,
    backend: { type: 'local' },
    max_parallel: 1,
    fail_fast: false,
    totals: {
      members: 0,
      pending: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
      skipped: 0,
    },
    members: [],
    aggregate: [],
    modelrun_version: '0.0.0',
  };
}

/** A row running `command` on the folder `ens`, its record as `change` leaves it, written as `text` gives it. */
function edited(
  name: string,
  command: string,
  change: (record: Record<string, unknown>, paths: { outside: string }) => void,
  says: RegExp,
  text: (record: Record<string, unknown>) => string = (record) => JSON.stringify(record),
): HostileCase {
  return {
    name,
    setup({ dir, outside }) {
      const ens = join(dir, 'ens');
      mkdirSync(ens);
      const record = wholeRecord(ens);
      change(record, { outside });
      writeFileSync(join(ens, 'ensemble.json'), text(record));
      return { args: [command, 'ens'], exit: [1], says, keep: ['ens'], timeoutS: 10 };
    },
  };
}

export const hostileCases: HostileCase[] = [
  ...['backend', 'totals', 'members', 'status'].map((field) =>
    edited(
      `ensemble.json without ${field}: status`,
      'status',
      (record) => {
        delete record[field];
      },
      new RegExp(`its field \`${field}\` is missing`),
    ),
  ),
  edited(
    'ensemble.json whose backend is a string: wait',
    'wait',
    (record) => {
      record.backend = 'local';
    },
    /its field `backend` is not a mapping/,
  ),
  edited(
    'ensemble.json cut short: status',
    'status',
    () => undefined,
    /not JSON that parses: cut short/,
    (record) => JSON.stringify(record).slice(0, 40),
  ),
  edited(
    'ensemble.json that says running and names no modelrun: wait ends',
    'wait',
    (record) => {
      record.status = 'running';
    },
    /names no modelrun that runs it/,
  ),
  ...['data.txt', 'data-link', '../home/.ssh/id_rsa'].map((target) =>
    edited(
      `ensemble.json whose log names ${target} outside: logs prints none of it`,
      'logs',
      (record, { outside }) => {
        record.log = join(outside, target);
      },
      /field `log` names .* which is no log modelrun keeps/,
    ),
  ),
];

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/**
 * Commands and environments larger than the system lets a program start
 * with: refused when the files are read, with the size and the limit, before
 * anything is staged or started.
 */
const MODEL = 'run_id: hostile-limits\ncommand: "true"\n';
const KIB_200 = 'x'.repeat(200 * 1024);
const ONE_ARG = /over the 131072 bytes \(128 KiB, MAX_ARG_STRLEN\) the system allows one/;

function files(dir: string, entries: Record<string, string>): void {
  for (const [name, text] of Object.entries(entries)) writeFileSync(join(dir, name), text);
}

export const hostileCases: HostileCase[] = [
  {
    name: 'a model command of 200 KiB',
    setup: ({ dir }) => {
      files(dir, { 'model.yml': `run_id: hostile-limits\ncommand: "echo ${KIB_200}"\n` });
      return {
        args: ['run', 'model.yml'],
        exit: [2],
        says: new RegExp(`model\\.yml:2:10 {2}command: is 204806 bytes, ${ONE_ARG.source}`),
        keep: ['model.yml'],
        timeoutS: 10,
      };
    },
  },
  {
    name: 'an env var value of 200 KiB',
    setup: ({ dir }) => {
      files(dir, {
        'model.yml': MODEL,
        'local.yml': `type: local\nenv_vars:\n  BIG: ${KIB_200}\n`,
      });
      return {
        args: ['run', 'model.yml', '--backend-config', 'local.yml'],
        exit: [2],
        says: new RegExp(
          `local\\.yml:3:8 {2}env_vars\\.BIG: BIG=… is 204805 bytes, ${ONE_ARG.source}`,
        ),
        keep: ['model.yml', 'local.yml'],
        timeoutS: 10,
      };
    },
  },
  {
    name: 'many env vars that sum to more than ARG_MAX',
    setup: ({ dir }) => {
      const vars = Array.from({ length: 24 }, (_, i) => `  V${i}: \${BIG}\n`).join('');
      files(dir, {
        'model.yml': MODEL,
        'docker.yml': `type: docker\nimage: busybox\nenv_vars:\n${vars}`,
      });
      return {
        args: ['run', 'model.yml', '--backend-config', 'docker.yml'],
        env: { BIG: 'y'.repeat(100 * 1024) },
        exit: [2],
        says: /docker\.yml:4:\d+ {2}env_vars: env_vars take 2457\d{3} bytes together, over the 2031616 bytes \(2 MiB, ARG_MAX/,
        keep: ['model.yml', 'docker.yml'],
        timeoutS: 10,
      };
    },
  },
];

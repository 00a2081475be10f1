import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/**
 * Models and postprocessors that leave a daemon behind in a session of its
 * own, holding the output pipe: the run must still end, stop the daemon and
 * say so. The daemon waits a moment before the model exits, so that it has
 * left the group when the group is killed.
 */
const daemon = 'setsid sleep 600 & sleep 0.2';

export const hostileCases: HostileCase[] = [
  {
    name: 'a model that leaves a setsid daemon holding its stdout',
    setup: ({ dir }) => {
      const id = `esc-${randomBytes(4).toString('hex')}`;
      writeFileSync(join(dir, 'model.yml'), `run_id: ${id}\ncommand: "${daemon}; echo done"\n`);
      return {
        args: ['run', 'model.yml', '--no-postprocess'],
        exit: [0],
        says: /stopped 1 process that left the model's process group: \d+ sleep 600/,
      };
    },
  },
  {
    name: 'a command postprocessor that leaves a setsid daemon and overruns its timeout',
    setup: ({ dir }) => {
      const id = `esc-${randomBytes(4).toString('hex')}`;
      writeFileSync(join(dir, 'model.yml'), `run_id: ${id}\ncommand: "true"\n`);
      writeFileSync(
        join(dir, 'post.yml'),
        `type: command\ntimeout: 2\ncommand: "${daemon}; sleep 600"\n`,
      );
      return {
        args: ['run', 'model.yml', '--postprocessor-config', 'post.yml'],
        exit: [1],
        says: /timed out after 2 s; stopped 1 process that left its process group: \d+ sleep 600/,
        timeoutS: 15,
      };
    },
  },
];

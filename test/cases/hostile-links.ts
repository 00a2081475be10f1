import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runModelrun } from '../helpers/cli.js';
import type { HostileCase } from '../helpers/hostile.js';

/**
 * modelrun's own files in a run directory (logs, run.json, SHA256SUMS) among
 * links a template or a model left there: none is written through a link,
 * and a model's own file is not replaced by one of modelrun's.
 */

/** A model staged into dir/sims/r1 from dir/tpl, running `command` with `extra` config. */
function lay(dir: string, command: string, extra = ''): void {
  writeFileSync(
    join(dir, 'model.yml'),
    `run_id: r1\noutput_dir: ./sims\ntemplate: ./tpl\ncommand: ${JSON.stringify(command)}\n${extra}`,
  );
  mkdirSync(join(dir, 'tpl'), { recursive: true });
  writeFileSync(join(dir, 'tpl', 'input.txt'), 'input\n');
}

export const hostileCases: HostileCase[] = [
  {
    name: 'a model that puts a FIFO where .modelrun was',
    setup({ dir }) {
      // modelrun may be writing the record there as the model starts: the model tries again until the FIFO stands.
      lay(
        dir,
        'until rm -rf .modelrun 2>/dev/null && mkfifo .modelrun 2>/dev/null; do sleep 0.05; done',
      );
      return {
        args: ['run', 'model.yml'],
        exit: [1],
        says: /\.modelrun is a special file, not modelrun's folder/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    name: 'a model that puts a FIFO where the staging lock was',
    setup({ dir }) {
      lay(dir, 'rm -rf .modelrun/run.lock && mkfifo .modelrun/run.lock');
      return {
        args: ['run', 'model.yml'],
        exit: [0],
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    name: 'a model that empties its own run dir, logs and all',
    setup({ dir }) {
      lay(dir, 'echo before; sleep 0.5; rm -rf ./*; echo after');
      return {
        args: ['run', 'model.yml'],
        exit: [0],
        says: /logs {6}\S+stdout\.log, \S+stderr\.log \(both removed during the run, so what was written there is lost\)/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    name: 'a model that removes the staging lock while it runs',
    setup({ dir }) {
      // The lock is touched every 5 s: the next touch finds it gone.
      lay(dir, 'sleep 0.5; rm -rf .modelrun/run.lock; sleep 6; echo end');
      return {
        args: ['run', 'model.yml'],
        exit: [0],
        says: /warning: the staging lock was lost/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    // On the old code the final record was written at the run dir's path, through the link.
    name: 'a model that moves its run dir away and puts a symlink to a folder outside in its place',
    setup({ dir, outside }) {
      lay(dir, `d="$PWD"; mv "$d" "$d.moved"; ln -s ${outside} "$d"`);
      return {
        args: ['run', 'model.yml'],
        exit: [0],
        // Its logs and record went along with it, and the summary shows them there.
        says: /run dir {3}\S+\/r1\.moved \(moved there from \S+\/r1 during the run\)\n {2}logs {6}\S+\/r1\.moved\/logs\/stdout\.log/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    // On the old code the checksum postprocessor wrote SHA256SUMS and a .modelrun/ into the
    // folder outside, which a later run with delete_existing then took for a run dir and emptied.
    name: 'a model that moves its run dir away and puts a symlink to a folder outside in its place, with a checksum postprocessor',
    setup({ dir, outside }) {
      lay(
        dir,
        `d="$PWD"; mv "$d" "$d.moved"; ln -s ${outside} "$d"`,
        'postprocess: [{type: checksum}]\n',
      );
      return {
        args: ['run', 'model.yml'],
        exit: [1],
        says: /postprocessing skipped: \S+\/r1 no longer leads to the folder the model ran in/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    // On the old code --cleanup-on-failure removed the folder the model made at its run dir's path.
    name: 'a model that moves its run dir away, makes a folder of its own in its place and fails, with --cleanup-on-failure',
    setup({ dir }) {
      lay(dir, 'd="$PWD"; mv "$d" "$d.moved"; mkdir "$d"; echo mine > "$d/theirs.txt"; exit 3');
      writeFileSync(join(dir, 'pipe.yml'), 'model: model.yml\n');
      return {
        args: ['pipeline', 'pipe.yml', '--cleanup-on-failure'],
        exit: [1],
        says: /warning: --cleanup-on-failure removed nothing: \S+\/r1 no longer leads to the folder the model ran in/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    // On the old code the final record was written at the path again, through the link.
    name: 'a model that removes its run dir and puts a symlink to a folder outside in its place',
    setup({ dir, outside }) {
      // modelrun may be writing the record there meanwhile: the model tries again until it is gone.
      lay(
        dir,
        `d="$PWD"; cd /; until rm -rf "$d" 2>/dev/null && [ ! -e "$d" ]; do sleep 0.05; done; ln -s ${outside} "$d"`,
      );
      return {
        args: ['run', 'model.yml'],
        exit: [1],
        says: /was removed during the run, and its record with it; modelrun does not make it again/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    name: "a FIFO that an earlier run's model left where the staging lock was, met by the next run",
    async setup({ dir, home }) {
      lay(dir, 'rm -rf .modelrun/run.lock && mkfifo .modelrun/run.lock');
      const first = await runModelrun(['run', 'model.yml'], { cwd: dir, env: { HOME: home } });
      if (first.code !== 0) throw new Error(`the earlier run failed: ${first.stderr}`);
      return {
        args: ['run', 'model.yml'],
        exit: [1],
        says: /run\.lock is a special file, not modelrun's staging lock \(a folder\)/,
        keep: ['model.yml', 'tpl', 'sims/r1/.modelrun/run.lock'],
        // Said at once, not after the 15 s a lock takes to go stale.
        timeoutS: 10,
      };
    },
  },
  {
    name: "a template's logs/stdout.log that is a symlink to a file outside",
    setup({ dir, outside }) {
      lay(dir, 'echo hello-from-model');
      mkdirSync(join(dir, 'tpl', 'logs'));
      symlinkSync(join(outside, 'data.txt'), join(dir, 'tpl', 'logs', 'stdout.log'));
      return {
        args: ['run', 'model.yml'],
        exit: [1],
        says: /stdout\.log is a symlink, which modelrun does not write through/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    name: "a template's logs folder that is a symlink to a folder outside",
    setup({ dir, outside }) {
      lay(dir, 'echo hello-from-model');
      symlinkSync(outside, join(dir, 'tpl', 'logs'));
      return {
        args: ['run', 'model.yml'],
        exit: [1],
        says: /logs is a symlink, which modelrun does not write through/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    name: 'a model that replaces .modelrun/run.json with a symlink to a file outside',
    setup({ dir, outside }) {
      // Once the record holds the run's handle, which modelrun writes just after the model starts.
      lay(
        dir,
        `until grep -q handle .modelrun/run.json; do sleep 0.05; done; rm -f .modelrun/run.json; ln -s ${join(outside, 'data.txt')} .modelrun/run.json`,
      );
      return { args: ['run', 'model.yml'], exit: [0], keep: ['model.yml', 'tpl'] };
    },
  },
  {
    name: 'a model that replaces the .modelrun folder with a symlink to a folder outside',
    setup({ dir, outside }) {
      // Once the record holds the run's handle: the end's record and the lock's release come later.
      lay(
        dir,
        `until grep -q handle .modelrun/run.json; do sleep 0.05; done; mv .modelrun .modelrun-was; ln -sT ${join(outside, 'sub')} .modelrun`,
      );
      return {
        args: ['run', 'model.yml'],
        exit: [1],
        says: /\.modelrun is a symlink to .*sub, not modelrun's folder: .* never writes or removes through a link/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    name: 'a model that leaves .modelrun/history as a symlink to a folder outside, run twice',
    setup({ dir, outside }) {
      lay(dir, 'true');
      // The first run plants the link; the row's run is the second, in the same folder.
      mkdirSync(join(dir, 'sims', 'r1', '.modelrun'), { recursive: true });
      symlinkSync(outside, join(dir, 'sims', 'r1', '.modelrun', 'history'));
      writeFileSync(
        join(dir, 'sims', 'r1', '.modelrun', 'run.json'),
        '{"run_id":"r1","status":"succeeded","started_at":"2026-01-01T00:00:00.000Z"}\n',
      );
      return {
        args: ['run', 'model.yml'],
        exit: [1, 2],
        says: /history is a symlink/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
  {
    name: 'a model that writes its own SHA256SUMS, with a checksum postprocessor',
    setup({ dir }) {
      lay(dir, 'echo precious > SHA256SUMS', 'postprocess:\n  - type: checksum\n');
      return {
        args: ['run', 'model.yml'],
        exit: [1],
        says: /output "SHA256SUMS" already exists in the run directory and is not a checksum file modelrun wrote/,
        keep: ['model.yml', 'tpl'],
      };
    },
  },
];

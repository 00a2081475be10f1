import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HostileCase, HostilePaths } from '../helpers/hostile.js';
import { mountTmpfs, tmpfsUnavailable, unmount } from '../helpers/mount.js';

/**
 * Staging-dir inputs: what delete_existing and --cleanup-on-failure may
 * delete, dry runs, reruns, postprocess of a run that is not there, and
 * output_dirs that cannot hold a run. The model sits in `project/` and
 * modelrun runs from `dir`, so nothing may depend on the current folder.
 */

function write(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A project folder with a model file, a template and a file of the user's. */
function project(dir: string, model: string): string[] {
  write(dir, {
    'project/model.yml': model,
    'project/template/input.txt': 'n=1\n',
    'project/notes.txt': 'keep me',
  });
  return ['project/model.yml', 'project/template/input.txt', 'project/notes.txt'];
}

const modelAt = (outputDir: string, more = '') =>
  `run_id: r1\noutput_dir: ${JSON.stringify(outputDir)}\ncommand: "true"\n${more}`;

/** A row that runs `modelrun run project/model.yml` on a model with this output_dir. */
function badOutputDir(
  name: string,
  outputDir: (paths: HostilePaths) => string,
  says: string | RegExp,
): HostileCase {
  return {
    name,
    setup: (paths) => ({
      args: ['run', 'project/model.yml'],
      keep: project(paths.dir, modelAt(outputDir(paths))),
      exit: [2],
      says,
    }),
  };
}

/** A row on a tmpfs mounted with `options` as output_dir, unmounted afterwards. */
function onTmpfs(
  name: string,
  options: string,
  model: string,
  expect: { exit: number[]; says: string | RegExp },
): HostileCase {
  return {
    name,
    skip: tmpfsUnavailable,
    setup: ({ dir }) => {
      const keep = project(dir, model);
      const mount = join(dir, 'project', 'disk');
      const failed = mountTmpfs(mount, options);
      if (failed !== undefined) throw new Error(failed);
      return {
        args: ['run', 'project/model.yml'],
        keep,
        ...expect,
        teardown: () => unmount(mount),
      };
    },
  };
}

export const hostileCases: HostileCase[] = [
  {
    name: 'delete_existing with output_dir: . and run_id_subdir: false, run from another folder',
    setup: ({ dir }) => ({
      args: ['run', 'project/model.yml'],
      keep: project(
        dir,
        'run_id: r1\noutput_dir: .\nrun_id_subdir: false\ndelete_existing: true\ntemplate: ./template\ncommand: "true"\n',
      ),
      exit: [2],
      says: 'it is output_dir itself',
    }),
  },
  {
    name: 'delete_existing on a run dir that is a symlink to an outside folder',
    setup: ({ dir, outside }) => {
      const keep = project(dir, 'run_id: r1\ndelete_existing: true\ncommand: "true"\n');
      mkdirSync(join(dir, 'project', 'simulations'));
      symlinkSync(outside, join(dir, 'project', 'simulations', 'r1'));
      return { args: ['run', 'project/model.yml'], keep, exit: [2], says: 'did not stage it' };
    },
  },
  {
    name: 'delete_existing on an output_dir that is a symlink to the home folder',
    setup: ({ dir, home }) => {
      const keep = project(
        dir,
        'run_id: r1\noutput_dir: ./sims\nrun_id_subdir: false\ndelete_existing: true\ncommand: "true"\n',
      );
      symlinkSync(home, join(dir, 'project', 'sims'));
      return { args: ['run', 'project/model.yml'], keep, exit: [2], says: 'your home folder' };
    },
  },
  {
    name: 'delete_existing on a run dir that is a symlink to the folder above the project',
    setup: ({ dir }) => {
      const keep = project(dir, 'run_id: r1\ndelete_existing: true\ncommand: "true"\n');
      mkdirSync(join(dir, 'project', 'simulations'));
      symlinkSync(dir, join(dir, 'project', 'simulations', 'r1'));
      return { args: ['run', 'project/model.yml'], keep, exit: [2], says: 'made from' };
    },
  },
  {
    name: '--dry-run with delete_existing on an earlier run',
    setup: ({ dir }) => {
      const keep = project(dir, 'run_id: r1\ndelete_existing: true\ncommand: "true"\n');
      write(dir, {
        'project/simulations/r1/.modelrun/run.json': '{"run_id":"r1","status":"succeeded"}\n',
        'project/simulations/r1/output/a.txt': '1\n',
        'project/simulations/r1/logs/stdout.log': 'out\n',
      });
      return {
        args: ['run', 'project/model.yml', '--dry-run'],
        keep: [
          ...keep,
          'project/simulations/r1/.modelrun/run.json',
          'project/simulations/r1/output/a.txt',
          'project/simulations/r1/logs/stdout.log',
        ],
        exit: [0],
        says: 'dry run: nothing was staged or started',
      };
    },
  },
  {
    name: 'pipeline --cleanup-on-failure with output_dir: . and run_id_subdir: false',
    setup: ({ dir }) => {
      write(dir, {
        'project/pipeline.yml':
          'model:\n  run_id: r1\n  output_dir: .\n  run_id_subdir: false\n  command: "exit 1"\n',
        'project/notes.txt': 'keep me',
      });
      return {
        args: ['pipeline', 'project/pipeline.yml', '--cleanup-on-failure'],
        keep: ['project/pipeline.yml', 'project/notes.txt'],
        exit: [1],
        says: '--cleanup-on-failure kept',
      };
    },
  },
  {
    name: 'pipeline --cleanup-on-failure with the home folder as staging dir',
    setup: ({ dir, home }) => {
      write(dir, {
        'pipeline.yml': `model:\n  run_id: r1\n  output_dir: ${JSON.stringify(home)}\n  run_id_subdir: false\n  command: "exit 1"\n`,
      });
      return {
        args: ['pipeline', 'pipeline.yml', '--cleanup-on-failure'],
        keep: ['pipeline.yml'],
        says: 'your home folder',
        exit: [2],
      };
    },
  },
  {
    name: 'a run staged in the home folder itself (run_id_subdir: false)',
    setup: ({ dir, home }) => ({
      args: ['run', 'project/model.yml'],
      keep: project(dir, modelAt(home, 'run_id_subdir: false\n')),
      exit: [2],
      says: 'it is your home folder',
    }),
  },
  {
    name: 'a run staged in the folder above the home folder (run_id_subdir: false)',
    setup: ({ dir, home }) => ({
      args: ['run', 'project/model.yml'],
      keep: project(dir, modelAt(dirname(home), 'run_id_subdir: false\n')),
      exit: [2],
      says: 'it holds your home folder',
    }),
  },
  badOutputDir(
    'an output_dir that is a file',
    ({ dir }) => join(dir, 'project', 'notes.txt'),
    'is a file',
  ),
  badOutputDir('an output_dir of /dev/null', () => '/dev/null', 'not a folder'),
  badOutputDir('an output_dir under /sys', () => '/sys/modelrun-hostile', 'sysfs'),
  badOutputDir(
    'an output_dir under /proc (it used to hang)',
    () => '/proc/modelrun-hostile',
    'proc',
  ),
  badOutputDir(
    'an output_dir with a 300-character folder name',
    ({ dir }) => join(dir, 'x'.repeat(300)),
    'longer than 255 bytes',
  ),
  {
    name: 'a 300-character run_id',
    setup: ({ dir }) => ({
      args: ['run', 'project/model.yml'],
      keep: project(dir, `run_id: ${'a'.repeat(300)}\ncommand: "true"\n`),
      exit: [2],
      says: 'at most 128 characters',
    }),
  },
  {
    name: 'postprocess of a run that does not exist',
    setup: ({ dir }) => ({
      args: ['postprocess', 'project/model.yml'],
      keep: project(dir, 'run_id: r1\ncommand: "true"\npostprocess:\n  - type: checksum\n'),
      exit: [2],
      says: 'no run at',
    }),
  },
  {
    name: 'a rerun into a staging dir that holds an earlier run',
    setup: ({ dir }) => {
      const keep = project(dir, 'run_id: r1\ncommand: "true"\n');
      write(dir, {
        'project/simulations/r1/.modelrun/run.json':
          '{"run_id":"r1","status":"succeeded","started_at":"2024-01-01T00:00:00.000Z"}\n',
        'project/simulations/r1/output/a.txt': '1\n',
      });
      return {
        args: ['run', 'project/model.yml'],
        keep: [...keep, 'project/simulations/r1/output/a.txt'],
        exit: [0],
        says: 'holds an earlier run',
      };
    },
  },
  onTmpfs('an output_dir on a read-only filesystem', 'ro,size=64k', modelAt('./disk'), {
    exit: [2],
    says: 'read-only filesystem',
  }),
  onTmpfs(
    'a disk that fills up during the run',
    'size=64k',
    modelAt('./disk').replace('"true"', '"head -c 400000 /dev/zero > fill.bin; echo more >&2"'),
    { exit: [1], says: 'no space left' },
  ),
  {
    name: 'a staging dir that is the template folder (run_id names it, output_dir: .)',
    setup: ({ dir }) => {
      write(dir, {
        'tpl/_b.txt': 'id={{ runtime.run_id }}',
        'tpl/.a.txt': 'id={{ runtime.run_id }}',
        'm.yml': 'run_id: tpl\ntemplate: ./tpl\noutput_dir: .\ncommand: "true"\n',
      });
      return {
        args: ['run', 'm.yml'],
        keep: ['tpl/_b.txt', 'tpl/.a.txt', 'm.yml'],
        exit: [2],
        says: 'it is the template folder',
      };
    },
  },
  {
    name: 'an output_dir inside the template folder',
    setup: ({ dir }) => {
      write(dir, {
        'tpl/in.txt': 'x',
        'm.yml': 'run_id: r1\ntemplate: ./tpl\noutput_dir: ./tpl/sim\ncommand: "true"\n',
      });
      return {
        args: ['generate', 'm.yml'],
        keep: ['tpl/in.txt', 'm.yml'],
        exit: [2],
        says: 'inside the template folder',
      };
    },
  },
  {
    // On the old code the ensemble read the whole template first, to hash it:
    // with template: / that was the whole file system, for minutes.
    name: "an ensemble whose folder is inside its model's template folder",
    setup: ({ dir }) => {
      write(dir, {
        'tpl/in.txt': 'x',
        'm.yml': 'run_id: r1\ntemplate: ./tpl\noutput_dir: ./tpl/sim\ncommand: "true"\n',
        'e.yml': 'model: m.yml\nreplicas: 2\n',
      });
      return {
        args: ['ensemble', 'e.yml'],
        keep: ['tpl/in.txt', 'm.yml', 'e.yml'],
        exit: [2],
        says: 'inside the template folder',
      };
    },
  },
  {
    name: 'a template entry with the model file name, staged in the model folder',
    setup: ({ dir }) => {
      write(dir, {
        'tpl/m.yml': 'overwritten',
        'p/m.yml':
          'run_id: r1\ntemplate: ../tpl\noutput_dir: .\nrun_id_subdir: false\ncommand: "true"\n',
      });
      return {
        args: ['run', 'p/m.yml'],
        keep: ['p/m.yml', 'tpl/m.yml'],
        exit: [2],
        says: 'a file this run was made from',
      };
    },
  },
  {
    name: 'delete_existing with a model file named ..model.yml in the staging dir',
    setup: ({ dir }) => {
      mkdirSync(join(dir, 'sim', 'r1', '.modelrun'), { recursive: true });
      mkdirSync(join(dir, 'tpl'));
      write(dir, {
        'sim/r1/..model.yml':
          'run_id: r1\noutput_dir: ..\ntemplate: ../../tpl\ndelete_existing: true\ncommand: "true"\n',
      });
      return {
        args: ['run', 'sim/r1/..model.yml'],
        keep: ['sim/r1/..model.yml'],
        exit: [2],
        says: 'which this run was made from',
      };
    },
  },
  ...(['run', 'generate', 'pipeline', 'postprocess'] as const).map(
    (command): HostileCase => ({
      name: `${command} with a .modelrun that is a symlink to an outside folder`,
      setup: ({ dir, outside }) => {
        write(dir, {
          'm.yml': 'run_id: r1\ncommand: "true"\npostprocess:\n  - type: checksum\n',
          'pipe.yml': 'model: m.yml\n',
        });
        mkdirSync(join(dir, 'simulations', 'r1'), { recursive: true });
        symlinkSync(outside, join(dir, 'simulations', 'r1', '.modelrun'));
        return {
          args: [command, command === 'pipeline' ? 'pipe.yml' : 'm.yml'],
          keep: ['m.yml', 'pipe.yml'],
          exit: [2],
          says: '.modelrun is a symlink',
        };
      },
    }),
  ),
  {
    name: 'pipeline --cleanup-on-failure on a rerun over an earlier successful run',
    setup: ({ dir }) => {
      write(dir, {
        'pipe.yml': 'model:\n  run_id: r1\n  command: "exit 1"\n',
        'simulations/r1/.modelrun/run.json':
          '{"run_id":"r1","status":"succeeded","started_at":"2024-01-01T00:00:00.000Z"}\n',
        'simulations/r1/result.dat': 'earlier\n',
      });
      return {
        args: ['pipeline', 'pipe.yml', '--cleanup-on-failure'],
        keep: ['pipe.yml', 'simulations/r1/result.dat'],
        exit: [1],
        says: 'before this run began',
      };
    },
  },
  ...(['true', 'false'] as const).map(
    (subdir): HostileCase => ({
      name: `an output_dir that is a dangling symlink (run_id_subdir: ${subdir})`,
      setup: ({ dir }) => {
        write(dir, {
          'm.yml': `run_id: r1\noutput_dir: ./sims\nrun_id_subdir: ${subdir}\ncommand: "true"\n`,
        });
        symlinkSync('/x/nowhere/deeper', join(dir, 'sims'));
        return {
          args: ['run', 'm.yml'],
          keep: ['m.yml'],
          exit: [2],
          says: 'is a symlink to /x/nowhere/deeper, which does not exist',
        };
      },
    }),
  ),
  ...(['.modelrun', '.MODELRUN'] as const).map(
    (runId): HostileCase => ({
      name: `run_id: ${runId}, staged in another run's folder`,
      setup: ({ dir }) => {
        write(dir, {
          'project/template/f.txt': 'x',
          'project/b.yml': `run_id: ${runId}\noutput_dir: ./simulations/A\ntemplate: ./template\ncommand: "true"\ndelete_existing: true\n`,
          'project/simulations/A/.modelrun/run.json': '{"run_id":"A","status":"succeeded"}\n',
          'project/simulations/A/.modelrun/history/1/run.json': '{"run_id":"A"}\n',
        });
        return {
          args: ['run', 'project/b.yml'],
          keep: [
            'project/b.yml',
            'project/simulations/A/.modelrun/run.json',
            'project/simulations/A/.modelrun/history/1/run.json',
          ],
          exit: [2],
          says: 'cannot be ".modelrun"',
        };
      },
    }),
  ),
  {
    name: "an output_dir inside another run's .modelrun folder",
    setup: ({ dir }) => {
      write(dir, {
        'project/simulations/A/.modelrun/run.json': '{"run_id":"A","status":"succeeded"}\n',
        'project/simulations/A/.modelrun/history/1/run.json': '{"run_id":"A"}\n',
      });
      return {
        args: ['run', 'project/model.yml'],
        keep: [
          ...project(
            dir,
            'run_id: history\noutput_dir: ./simulations/A/.modelrun\ncommand: "true"\ndelete_existing: true\n',
          ),
          'project/simulations/A/.modelrun/run.json',
          'project/simulations/A/.modelrun/history/1/run.json',
        ],
        exit: [2],
        says: 'it is in a .modelrun folder',
      };
    },
  },
  badOutputDir('output_dir: /proc/self/cwd', () => '/proc/self/cwd', 'it is under /proc'),
  {
    name: '--cleanup-on-failure on a staging dir that is a symlink to a folder of the user',
    setup: ({ dir }) => {
      write(dir, {
        'A/template/f.txt': 'x',
        'A/model.yml': 'run_id: ra\ntemplate: ./template\ncommand: "exit 1"\n',
        'A/pipe.yml': 'model: model.yml\nbackend: {type: local}\n',
      });
      mkdirSync(join(dir, 'A', 'precious_empty'));
      mkdirSync(join(dir, 'A', 'simulations'));
      symlinkSync('../precious_empty', join(dir, 'A', 'simulations', 'ra'));
      return {
        args: ['pipeline', 'A/pipe.yml', '--cleanup-on-failure'],
        keep: ['A/model.yml', 'A/pipe.yml', 'A/simulations/ra'],
        exit: [1],
        says: 'before this run began',
      };
    },
  },
];

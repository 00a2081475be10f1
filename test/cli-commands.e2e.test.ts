import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_GUIDES } from '../src/cli/command-guide.js';
import { commandsOf } from '../src/cli/command-tree.js';
import { Output } from '../src/cli/output.js';
import { buildProgram } from '../src/cli/program.js';
import { Session } from '../src/run/session.js';
import { BIN, runInProcess, runModelrun } from './helpers/cli.js';
import {
  bashCompletes,
  fishCompletes,
  shellMissing,
  zshCompleter,
} from './helpers/shell-completion.js';
import { treeForEachTest } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

/** The real command tree, as the CLI builds it; nothing here runs a command. */
function commandTree() {
  const sink = { write: () => true };
  const env = {};
  return buildProgram({
    output: new Output({ stdout: sink, stderr: sink, env, color: false, verbose: false }),
    stdout: sink,
    stderr: sink,
    env,
    cwd: '/',
    session: new Session(),
    terminal: { stdout: process.stdout, stderr: process.stderr },
    setExitCode: () => undefined,
  });
}
const commands = commandsOf(commandTree()).map(({ path, command }) => ({
  name: path.join(' ') || 'modelrun',
  path,
  command,
}));

/** Each test's own folder, empty until it writes there. */
const tree = treeForEachTest();

describe('modelrun help', () => {
  it.each(commands)('`help $name` prints the same help as --help, exit 0', async ({ path }) => {
    const viaHelp = await runInProcess(['help', ...path], { cwd: tree.root });
    const viaFlag = await runInProcess([...path, '--help'], { cwd: tree.root });
    expect(viaHelp).toMatchObject({ code: 0, stderr: '' });
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout).toMatch(/^Usage: modelrun/);
  });

  it('exits 0 from the built binary too', async () => {
    const result = await runModelrun(['help', 'run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: modelrun run/);
  });

  it('calls an unknown command a usage error, with a suggestion', async () => {
    const typo = await runModelrun(['help', 'backends', 'valdate']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("modelrun backends has no command 'valdate'");
    expect(typo.stderr).toContain('did you mean `modelrun help backends validate`?');
    const nothing = await runModelrun(['help', 'nosuch']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(
      /no command 'nosuch'[\s\S]*its commands are [a-z, ]*\bvalidate, /,
    );
  });

  it.each([
    {
      words: ['run', 'extra'],
      says: "modelrun run has no subcommands, so there is no 'extra'",
      hint: '`modelrun help run`',
    },
    {
      words: ['backends', 'create', 'extra'],
      says: "modelrun backends create has no subcommands, so there is no 'extra'",
      hint: '`modelrun help backends create`',
    },
    { words: ['rnu'], says: "modelrun has no command 'rnu'", hint: '`modelrun help run`?' },
    {
      words: ['backends', 'backends'],
      says: "modelrun backends has no command 'backends'",
      hint: 'its commands are validate, list, schema, create',
    },
  ])('`help $words` names the command in full and what to type', async ({ words, says, hint }) => {
    const result = await runInProcess(['help', ...words], { cwd: tree.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(says);
    expect(result.stderr).toContain(hint);
  });
});

describe('every command', () => {
  it.each(commands)('$name has examples and exit codes in its help', async ({ path }) => {
    expect(COMMAND_GUIDES[path.join(' ')], 'its row in COMMAND_GUIDES').toBeDefined();
    const { stdout } = await runInProcess([...path, '--help'], { cwd: tree.root });
    expect(stdout).toMatch(/\nExamples:\n {2}\$ modelrun /);
    expect(stdout).toMatch(/\nExit codes:\n {2}0 +success\n/);
    expect(stdout).toMatch(/\n {2}2 +usage or config error/);
    expect(stdout).toMatch(/\n {2}70 +a bug in modelrun/);
    expect(stdout).toMatch(/\n {2}128\+n +stopped by signal n/);
  });

  /** A long option whose start (`--backend` of `--backend-config`) is no option itself and begins no other. */
  const suggestible = (command: (typeof commands)[number]['command']) =>
    command.options
      .map((o) => o.long ?? '')
      // commander suggests a negated option (--no-x) for no start of it.
      .filter((long) => long.includes('-', 3) && !long.startsWith('--no-'))
      .map((long) => ({ long, start: long.slice(0, long.indexOf('-', 3)) }))
      .find(
        ({ start }) =>
          !command.options.some((o) => o.long === start) &&
          command.options.filter((o) => o.long?.startsWith(`${start}-`)).length === 1,
      );

  it.each(commands.filter(({ command }) => suggestible(command) !== undefined))(
    '$name suggests the option whose start was given, exit 2',
    async ({ path, command }) => {
      const { long, start } = suggestible(command) ?? { long: '', start: '' };
      const result = await runInProcess([...path, start], { cwd: tree.root });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`unknown option '${start}'\n(Did you mean ${long}?)`);
    },
  );

  it('suggests --backend-config for --backend', async () => {
    const result = await runModelrun(['run', 'model.yml', '--backend', 'b.yml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--backend'\n(Did you mean --backend-config?)");
  });
});

describe('modelrun validate', () => {
  it('checks a pipeline file as a pipeline, and says which kind each file is', async () => {
    tree.write('v/model.yml', 'run_id: v1\ncommand: echo hi\n');
    tree.write('v/pipeline.yml', 'model: model.yml\nbackend:\n  type: local\n');
    tree.write('v/post.yml', 'type: checksum\n');
    const result = await runModelrun(['validate', 'v/model.yml', 'v/pipeline.yml', 'v/post.yml'], {
      cwd: tree.root,
    });
    expect(result.stdout).toContain('✓ v/pipeline.yml  pipeline · model model.yml · backend local');
    expect(result.stdout).toContain('✓ v/model.yml  model · run v1');
    expect(result.stdout).toContain('✓ v/post.yml  postprocessor · checksum');
    expect(result.code).toBe(0);
  });

  it('checks every file as --kind says', async () => {
    tree.write('v/post.yml', 'type: checksum\n');
    const result = await runModelrun(['validate', '--kind', 'model', 'v/post.yml'], {
      cwd: tree.root,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('v/post.yml:1:1  type: unknown key "type"');
  });
});

describe('a file with errors', () => {
  const bad = 'type: docker\nimage: x\ncpu: 0\nuser: root\n';

  it('shows its warnings in validate and run', async () => {
    tree.write('w/bad-docker.yml', bad);
    tree.write('w/model.yml', 'run_id: w1\ncommand: "true"\n');
    const checked = await runModelrun(['backends', 'validate', 'w/bad-docker.yml'], {
      cwd: tree.root,
    });
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain('error w/bad-docker.yml:3:6  cpu:');
    expect(checked.stdout).toContain('warning w/bad-docker.yml:4:7  user: the model runs as root');
    const run = await runModelrun(['run', 'w/model.yml', '--backend-config', 'w/bad-docker.yml'], {
      cwd: tree.root,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('w/bad-docker.yml:3:6  cpu:');
    expect(run.stderr).toContain('w/bad-docker.yml:4:7  user: warning: the model runs as root');
  });
});

describe('`-` as standard input', () => {
  it('reads a file from stdin, names it <stdin>, and resolves its paths against the current folder', async () => {
    tree.write('s/model.yml', 'run_id: s1\ncommand: echo hi\n');
    const valid = await runModelrun(['validate', '-'], {
      cwd: tree.path('s'),
      input: 'model: model.yml\n',
    });
    expect(valid.stdout).toContain('✓ <stdin>  pipeline · model model.yml · backend local');
    expect(valid.code).toBe(0);
    const invalid = await runModelrun(['backends', 'validate', '-'], {
      cwd: tree.path('s'),
      input: 'type: local\n\ntimout: 5m\n',
    });
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain('error <stdin>:3:1  timout: unknown key');
  });

  it('stages a model read from stdin relative to the current folder', async () => {
    const runId = uniqueId('stdin');
    const result = await runModelrun(['run', '-', '--dry-run'], {
      cwd: tree.root,
      input: `run_id: ${runId}\noutput_dir: runs\ncommand: "true"\n`,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`staging dir    ${tree.path('runs', runId)}`);
  });

  it('takes one `-` per command, and refuses a second', async () => {
    const result = await runModelrun(['run', '-', '--backend-config', '-'], { cwd: tree.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('`-` (standard input) is given 2 times');
  });

  it('holds stdin to the size limit of files', async () => {
    const result = await runModelrun(['validate', '-'], {
      cwd: tree.root,
      input: `# ${'x'.repeat(1024 * 1024 + 10)}\n`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('<stdin>:1:1  file is over 1 MiB');
  });

  // `producer | modelrun validate -` with a producer that never finishes: a signal must still stop it.
  it.each([[['validate', '-']], [['backends', 'validate', '-']], [['run', '--dry-run', '-']]])(
    '%j exits 143 at once on SIGTERM while standard input stays open',
    async (args) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: tree.root,
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      try {
        // More than the pipe holds, and less than a config file may be: once all
        // of it is written, modelrun is reading, and waits for the rest.
        const comments = `# ${'x'.repeat(98)}\n`.repeat(6000);
        await new Promise<void>((resolve, reject) =>
          child.stdin.write(`run_id: waiting\n${comments}`, (error) =>
            error ? reject(error) : resolve(),
          ),
        );
        const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
        const sent = Date.now();
        child.kill('SIGTERM');
        const code = await Promise.race([exited, sleep(10_000, 'still waiting on stdin')]);
        expect(code).toBe(143);
        expect(Date.now() - sent).toBeLessThan(5000);
      } finally {
        child.kill('SIGKILL');
        child.stdin.destroy();
      }
    },
  );

  it('refuses a terminal rather than wait on it', () => {
    const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined) {
      console.log('skipping the terminal case: `script` (util-linux) is not installed');
      return;
    }
    const command = `${process.execPath} ${BIN} validate -`;
    const result = spawnSync('script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(result.stdout).toContain('`-` reads standard input, but it is a terminal');
    expect(result.status).toBe(2);
  });
});

describe('counts', () => {
  it('say "1 file" and "1 line"', async () => {
    tree.write('one/template/input.txt', 'x\n');
    tree.write(
      'one/model.yml',
      `run_id: ${uniqueId('one')}\ntemplate: template\ncommand: "echo oops >&2; exit 3"\n`,
    );
    const checked = await runModelrun(['validate', '--format', 'github', 'one/model.yml'], {
      cwd: tree.root,
    });
    expect(checked.stdout).toContain('1 file checked, 0 invalid');
    const run = await runModelrun(['run', 'one/model.yml'], { cwd: tree.root });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('generated 1 file from');
    expect(run.stderr).toContain('last 1 line of stderr:');
  });
});

describe('run flags on pipeline and postprocess', () => {
  /** A model and a pipeline in a folder of their own, so each test stands alone in any order. */
  function project(): { cwd: string; stagingDir: string } {
    const runId = uniqueId('flags');
    const name = `flags-${runId}`;
    tree.write(`${name}/model.yml`, `run_id: ${runId}\noutput_dir: runs\ncommand: "echo hello"\n`);
    tree.write(`${name}/pipeline.yml`, 'model: model.yml\npostprocess:\n  - type: checksum\n');
    return { cwd: tree.path(name), stagingDir: tree.path(name, 'runs', runId) };
  }

  it('pipeline --dry-run stages and starts nothing', async () => {
    const { cwd, stagingDir } = project();
    const result = await runModelrun(['pipeline', 'pipeline.yml', '--dry-run'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('dry run: nothing was staged or started');
    expect(existsSync(stagingDir)).toBe(false);
  });

  it('pipeline --json --no-postprocess prints only the record on stdout', async () => {
    const { cwd, stagingDir } = project();
    const result = await runModelrun(['pipeline', 'pipeline.yml', '--json', '--no-postprocess'], {
      cwd,
    });
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout) as { status: string; postprocess?: unknown[] };
    expect(record.status).toBe('succeeded');
    expect(record.postprocess ?? []).toEqual([]);
    expect(result.stderr).toContain('hello');
    expect(existsSync(join(stagingDir, 'SHA256SUMS'))).toBe(false);
  });

  it('pipeline --skip-generate runs in the staging dir as it is', async () => {
    const { cwd, stagingDir } = project();
    expect(
      (await runModelrun(['pipeline', 'pipeline.yml', '--no-postprocess'], { cwd })).code,
    ).toBe(0);
    writeFileSync(join(stagingDir, 'kept.txt'), 'from before\n');
    const result = await runModelrun(['pipeline', 'pipeline.yml', '--skip-generate', '--json'], {
      cwd,
    });
    expect(result.code).toBe(0);
    expect(existsSync(join(stagingDir, 'kept.txt'))).toBe(true);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'succeeded',
      postprocess: [{ type: 'checksum', status: 'succeeded' }],
    });
  });

  it('postprocess --json prints the updated record on stdout, the rest on stderr', async () => {
    const { cwd } = project();
    expect((await runModelrun(['pipeline', 'pipeline.yml'], { cwd })).code).toBe(0);
    tree.write(`${cwd.slice(tree.root.length + 1)}/checksum.yml`, 'type: checksum\n');
    const result = await runModelrun(
      ['postprocess', 'model.yml', '--postprocessor-config', 'checksum.yml', '--json'],
      { cwd },
    );
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout) as { postprocess: { type: string }[] };
    expect(record.postprocess.map((p) => p.type)).toEqual(['checksum', 'checksum']);
    expect(result.stderr).not.toContain('{');
  });
});

describe('modelrun completion', () => {
  const scripts = Object.fromEntries(
    ['bash', 'zsh', 'fish'].map((shell) => [
      shell,
      spawnSync(process.execPath, [join('bin', 'modelrun.js'), 'completion', shell], {
        encoding: 'utf8',
      }),
    ]),
  );

  it.each(['bash', 'zsh', 'fish'])('%s names every command and option', (shell) => {
    const script = scripts[shell];
    expect(script?.status).toBe(0);
    for (const { path, command } of commands) {
      for (const word of path) expect(script?.stdout).toContain(word);
      for (const option of command.options) {
        const long = option.long ?? '';
        expect(script?.stdout).toContain(shell === 'fish' ? `-l ${long.slice(2)}` : long);
      }
    }
  });

  it.each(['bash', 'zsh', 'fish'])('%s parses it with -n', (shell) => {
    // From a file: fish reads a script on stdin only when stdin is a pipe it can stat as one.
    const file = join(mkdtempSync(join(tmpdir(), 'modelrun-completion-')), `modelrun.${shell}`);
    writeFileSync(file, scripts[shell]?.stdout ?? '');
    const check = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
    rmSync(dirname(file), { recursive: true, force: true });
    if (check.error !== undefined) {
      console.log(`skipping the ${shell} syntax check: ${shell} is not installed`);
      return;
    }
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('bash keeps a file name with spaces as one completion', () => {
    tree.write('completion dir/my model.yml', 'run_id: x\n');
    const words = ['modelrun', 'run', 'completion dir/my'];
    expect(bashCompletes(scripts.bash?.stdout ?? '', words, tree.root)).toEqual([
      'completion dir/my model.yml',
    ]);
  });

  const zsh = zshCompleter(scripts.zsh?.stdout ?? '');
  afterAll(() => zsh.close());
  /** What each shell offers for a line typed so far, the way bash would split it into words. */
  const complete: Record<string, (line: string) => string[]> = {
    bash: (line) => bashCompletes(scripts.bash?.stdout ?? '', bashWords(line), tree.root),
    zsh: (line) => zsh.completes(line, tree.root),
    fish: (line) => fishCompletes(scripts.fish?.stdout ?? '', line, tree.root),
  };
  /** bash splits `--format=js` into `--format`, `=`, `js` (COMP_WORDBREAKS). */
  const bashWords = (line: string) =>
    line.split(' ').flatMap((w) => w.replace('=', ' = ').split(' '));

  it.each(['bash', 'zsh', 'fish'])(
    '%s completes commands, subcommands, option values and files',
    (shell) => {
      if (shellMissing(shell)) return;
      tree.write('completion-model.yml', 'run_id: x\n');
      const offers = (line: string) =>
        // fish offers `--format=json` where the others offer `json` after the `=`.
        (complete[shell]?.(line) ?? []).map((w) => w.replace(/^--[a-z-]+=/, '')).sort();
      expect(offers('modelrun ')).toEqual(
        commandTree()
          .commands.map((c) => c.name())
          .sort(),
      );
      expect(offers('modelrun ba')).toEqual(['backends']);
      expect(offers('modelrun backends ')).toEqual(['create', 'list', 'schema', 'validate']);
      expect(offers('modelrun run --backend-c')).toEqual(['--backend-config']);
      expect(offers('modelrun backends create --backend-type ')).toEqual([
        'apptainer',
        'docker',
        'local',
        'slurm',
      ]);
      expect(offers('modelrun validate --kind p')).toEqual(['pipeline', 'postprocessor']);
      expect(offers('modelrun backends schema --format ')).toEqual(['json', 'yaml']);
      expect(offers('modelrun run completion-m')).toEqual(['completion-model.yml']);
      expect(offers('modelrun completion ')).toEqual(['bash', 'fish', 'zsh']);
      expect(offers('modelrun help backends ')).toEqual(['create', 'list', 'schema', 'validate']);
      expect(offers('modelrun backends schema --format=')).toEqual(['json', 'yaml']);
      expect(offers('modelrun validate --format=j')).toEqual(['json']);
      expect(offers('modelrun run --backend-config=completion-m')).toEqual([
        'completion-model.yml',
      ]);
    },
    // zsh starts an interactive shell for each line.
    30_000,
  );
});

describe('standard output that takes nothing', () => {
  it('--version into /dev/full says so in a line, with no stack trace, and exits 1', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const result = spawnSync(process.execPath, [BIN, '--version'], {
        stdio: ['ignore', full, 'pipe'],
        encoding: 'utf8',
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        'modelrun: cannot write the version to standard output: ENOSPC: no space left on device, write\n',
      );
    } finally {
      closeSync(full);
    }
  });
});

describe('--help alone', () => {
  it.each(['--help', '-h'])(
    '%s prints what the full CLI prints, from a package without the commands',
    (flag) => {
      // The full CLI, run as its own script: the reference.
      const full = spawnSync(
        process.execPath,
        [join(dirname(BIN), '..', 'dist', 'cli.cjs'), flag],
        {
          encoding: 'utf8',
        },
      );
      expect(full.status).toBe(0);
      expect(full.stdout).toMatch(/^Usage: modelrun /);
      // A copy of the package without dist/cli.cjs: `--help` must not need the commands' bundle.
      const copy = mkdtempSync(join(tmpdir(), 'modelrun-help-'));
      try {
        for (const part of ['bin', 'dist', 'package.json'])
          cpSync(join(dirname(BIN), '..', part), join(copy, part), { recursive: true });
        rmSync(join(copy, 'dist', 'cli.cjs'));
        const helped = spawnSync(process.execPath, [join(copy, 'bin', 'modelrun.js'), flag], {
          encoding: 'utf8',
        });
        expect({ status: helped.status, stderr: helped.stderr }).toEqual({ status: 0, stderr: '' });
        expect(helped.stdout).toBe(full.stdout);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    },
  );
});

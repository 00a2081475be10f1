import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';
import { treeForEachTest } from './helpers/tree.js';

const runId = `streams-${randomBytes(4).toString('hex')}`;
// Writes to both streams, a byte that is not UTF-8, and ends without a newline.
const command = String.raw`printf 'A\n\377\n'; sleep 0.2; printf 'B\n' >&2; sleep 0.2; printf 'C\nD'`;
/** Each test's own folder, with the model file. */
const tree = treeForEachTest({
  'm.yml': `run_id: ${runId}\ncommand: ${JSON.stringify(command)}\npostprocess: []\n`,
});

const MODEL_STDOUT = Buffer.from('A\n\xff\nC\nD', 'latin1');
const MODEL_STDERR = Buffer.from('B\n');

/** Runs `modelrun run m.yml > out.txt 2> err.txt`, as a shell would set it up. */
function runRedirected(): Promise<{ code: number | null; out: Buffer; err: Buffer }> {
  const out = openSync(tree.path('out.txt'), 'w');
  const err = openSync(tree.path('err.txt'), 'w');
  const child = spawn(process.execPath, [BIN, 'run', 'm.yml'], {
    cwd: tree.root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', out, err],
  });
  closeSync(out);
  closeSync(err);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        out: readFileSync(tree.path('out.txt')),
        err: readFileSync(tree.path('err.txt')),
      }),
    );
  });
}

const scriptMissing =
  spawnSync('script', ['--version']).status === 0
    ? undefined
    : 'script (util-linux) is not installed';

if (scriptMissing !== undefined) console.log(`the terminal test is skipped: ${scriptMissing}`);

describe('the model output echoed by modelrun run', () => {
  it('passes each stream through byte for byte when stdout and stderr go to files', async () => {
    const result = await runRedirected();
    expect(result.code).toBe(0);
    expect(result.out.equals(MODEL_STDOUT)).toBe(true);
    // stderr also carries modelrun's own status lines around the model's.
    expect(result.err.includes(MODEL_STDERR)).toBe(true);
    expect(result.err.toString()).not.toContain('err| ');
  });

  it.skipIf(scriptMissing !== undefined)(
    'labels the lines by stream when both go to one terminal',
    () => {
      const shell = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} run m.yml`;
      const result = spawnSync('script', ['-qec', shell, '/dev/null'], {
        cwd: tree.root,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
      const screen = result.stdout.toString('latin1').replaceAll('\r\n', '\n');
      expect(result.status).toBe(0);
      expect(screen).toContain('A\n');
      expect(screen).toContain('err| B\n');
      expect(screen).toContain('out| C\nout| D');
    },
  );

  it('stops at once on Ctrl-C, with the logs complete, when nobody reads the piped stdout (`| less` on its first page)', async () => {
    const stalledId = `stalled-${randomBytes(4).toString('hex')}`;
    const size = 1_000_000;
    writeFileSync(
      tree.path('stalled.yml'),
      `run_id: ${stalledId}\noutput_dir: ./sims\npostprocess: []\n` +
        `command: ${JSON.stringify(`head -c ${size} /dev/zero | tr '\\0' x; sleep 60`)}\n`,
    );
    const child = spawn(process.execPath, [BIN, 'run', 'stalled.yml'], {
      cwd: tree.root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // stdout is never read: the pipe fills after some 64 KiB and stays full.
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const log = tree.path('sims', stalledId, 'logs', 'stdout.log');
      const logged = () => statSync(log, { throwIfNoEntry: false })?.size ?? 0;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && logged() < size) await sleep(50);
      expect(logged()).toBe(size);
      const interrupted = Date.now();
      child.kill('SIGINT');
      const code = await Promise.race([exited, sleep(8000, 'still running')]);
      expect(code).toBe(130);
      expect(Date.now() - interrupted).toBeLessThan(8000);
      expect(stderr).toContain(`${stalledId} cancelled`);
      expect(logged()).toBe(size);
    } finally {
      child.kill('SIGKILL');
    }
  }, 40_000);
});

describe('an output that takes nothing (/dev/full)', () => {
  /** Runs `modelrun run m.yml` with stdout and stderr on the given paths, killed if it hangs. */
  function runTo(stdout: string, stderr: string) {
    const out = openSync(stdout, 'w');
    const err = stderr === stdout ? out : openSync(stderr, 'w');
    try {
      return spawnSync(process.execPath, [BIN, 'run', 'm.yml'], {
        cwd: tree.root,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', out, err],
        timeout: 30_000,
        killSignal: 'SIGKILL',
      });
    } finally {
      closeSync(out);
      if (err !== out) closeSync(err);
    }
  }

  it.each([
    ['stdout', '/dev/full', 'err.txt'],
    ['stderr', 'out.txt', '/dev/full'],
    ['both', '/dev/full', '/dev/full'],
  ])('on %s: the run ends with its own exit code, and keeps its logs', (_name, stdout, stderr) => {
    const path = (name: string) => (name.startsWith('/') ? name : tree.path(name));
    const result = runTo(path(stdout), path(stderr));
    // It used to exit 70 with a stack trace (stdout), or spin for ever (stderr).
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    const logs = tree.path('simulations', runId, 'logs');
    expect(readFileSync(`${logs}/stdout.log`).equals(MODEL_STDOUT)).toBe(true);
    expect(readFileSync(`${logs}/stderr.log`).equals(MODEL_STDERR)).toBe(true);
    if (stdout === 'out.txt')
      expect(readFileSync(tree.path('out.txt')).equals(MODEL_STDOUT)).toBe(true);
    if (stderr === 'err.txt')
      expect(readFileSync(tree.path('err.txt'), 'utf8')).not.toContain('unexpected error');
  });
});

describe('a reader of the echo that stalls past the close limit', () => {
  // `modelrun run big.yml | less` with the user still on the first page: the
  // rest of the echo is lost at exit, and the reader would see output that
  // looks complete. stderr, which is still read, says so.
  it('is told on stderr how much it was not shown and where all of it is, with the log complete', async () => {
    const bigId = `big-${randomBytes(4).toString('hex')}`;
    const size = 10 * 1024 * 1024;
    writeFileSync(
      tree.path('big.yml'),
      `run_id: ${bigId}\noutput_dir: ./sims\npostprocess: []\n` +
        `command: ${JSON.stringify(`head -c ${size} /dev/zero | tr '\\0' x; echo END`)}\n`,
    );
    const child = spawn(process.execPath, [BIN, 'run', 'big.yml'], {
      cwd: tree.root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      // stdout is read only once modelrun has exited, as by `| (sleep 14; cat)`.
      const code = await Promise.race([
        new Promise<number | null>((resolve) => child.on('exit', resolve)),
        sleep(30_000, 'still running'),
      ]);
      const shown = Buffer.concat(await child.stdout.toArray()).toString();
      const log = tree.path('sims', bigId, 'logs', 'stdout.log');
      expect(code).toBe(0);
      expect(statSync(log).size).toBe(size + 'END\n'.length);
      expect(shown).not.toContain('END');
      const line =
        /modelrun: stdout's reader fell behind; (\d+) bytes not shown; all of it is in (.*)\n/.exec(
          stderr,
        );
      expect(line?.[2]).toBe(log);
      // The count is what the reader had not taken when modelrun gave up on it.
      expect(Number(line?.[1])).toBeGreaterThan(size / 2);
      const modelShown = shown.length - shown.replace(/^x+/, '').length;
      expect(Number(line?.[1])).toBeLessThanOrEqual(size + 4 - modelShown);
    } finally {
      child.kill('SIGKILL');
    }
  }, 40_000);
});

describe('colour on a terminal', () => {
  const colourId = `colour-${randomBytes(4).toString('hex')}`;
  const ESC = String.fromCharCode(27);

  /** Runs `shell` on a terminal (script's pty), with colour left to modelrun. */
  function onTerminal(shell: string): { status: number | null; screen: string } {
    tree.write('colour.yml', `run_id: ${colourId}\ncommand: echo hi\npostprocess: []\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const result = spawnSync('script', ['-qec', shell, '/dev/null'], {
      cwd: tree.root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return { status: result.status, screen: result.stdout.toString() };
  }
  const modelrun = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`;

  it.skipIf(scriptMissing !== undefined)(
    'keeps escapes out of stderr sent to a file while stdout is a terminal',
    () => {
      const result = onTerminal(`${modelrun} run colour.yml 2>err-file.txt`);
      expect(result.status).toBe(0);
      const err = readFileSync(tree.path('err-file.txt'), 'utf8');
      expect(err).toContain(`running ${colourId} on local`);
      expect(err).toContain(`${colourId} succeeded`);
      expect(err).not.toContain(ESC);
    },
  );

  it.skipIf(scriptMissing !== undefined)(
    'colours stderr on a terminal while stdout goes to a file (--json)',
    () => {
      const result = onTerminal(`${modelrun} run colour.yml --json >record.json`);
      expect(result.status).toBe(0);
      expect(result.screen).toContain(`${ESC}[2mrunning ${colourId} on local${ESC}[22m`);
      expect(readFileSync(tree.path('record.json'), 'utf8')).not.toContain(ESC);
    },
  );
});

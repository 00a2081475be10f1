import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { BIN } from './cli.js';
import type { HostilePaths, HostileRun } from './hostile.js';

/**
 * What the hostile-input table needs around a row: the watched folders
 * filled with something to lose, a snapshot of them, and the built CLI run
 * with a deadline.
 */

/** Fills `outside` and `home` with files modelrun must never change. */
export function fillWatched(paths: HostilePaths): void {
  const { outside, home } = paths;
  mkdirSync(join(outside, 'sub'), { recursive: true });
  writeFileSync(join(outside, 'data.txt'), 'data that is not modelrun’s\n');
  writeFileSync(join(outside, 'sub', 'nested.txt'), 'nested\n');
  writeFileSync(join(outside, 'model.yml'), 'run_id: outside\ncommand: "true"\n');
  writeFileSync(join(outside, 'tool.sh'), '#!/bin/sh\necho tool\n');
  chmodSync(join(outside, 'tool.sh'), 0o755);
  symlinkSync('data.txt', join(outside, 'data-link'));
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(
    join(home, '.ssh', 'id_rsa'),
    '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n',
    { mode: 0o600 },
  );
  writeFileSync(join(home, '.bashrc'), 'export PS1="$ "\n');
}

/** One line per entry under `root` (or `root` itself): path, type, mode, size, sha256 or link target. */
export function snapshot(root: string): string[] {
  const lines: string[] = [];
  const visit = (path: string) => {
    let stats: ReturnType<typeof lstatSync>;
    try {
      stats = lstatSync(path);
    } catch {
      lines.push(`${relative(root, path) || '.'} absent`);
      return;
    }
    const mode = (stats.mode & 0o7777).toString(8);
    const name = relative(root, path) || '.';
    if (stats.isSymbolicLink()) {
      lines.push(`${name} link ${mode} -> ${readlinkSync(path)}`);
    } else if (stats.isDirectory()) {
      lines.push(`${name} dir ${mode}`);
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
    } else if (stats.isFile()) {
      const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
      lines.push(`${name} file ${mode} ${stats.size} ${sha}`);
    } else {
      // A FIFO or a device is never opened: reading one could block.
      lines.push(`${name} special ${mode}`);
    }
  };
  visit(root);
  return lines;
}

export interface HostileResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  hung: boolean;
  ms: number;
}

/** Keeps the first `limit` characters of a stream: a 10 MB value echoed back must not fill the test's memory. */
const OUTPUT_LIMIT = 200_000;

/** Runs the built CLI as the row says; kills its whole process group when it outlives `timeoutS`. */
export function runHostile(run: HostileRun, paths: HostilePaths): Promise<HostileResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HOME: paths.home };
  delete env.FORCE_COLOR;
  for (const [name, value] of Object.entries(run.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [BIN, ...run.args], {
      cwd: paths.dir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // A group of its own, so that a hang is ended with everything it started.
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < OUTPUT_LIMIT) stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < OUTPUT_LIMIT) stderr += chunk;
    });
    child.stdin?.on('error', () => undefined).end();
    const timer = setTimeout(
      () => {
        hung = true;
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      },
      (run.timeoutS ?? 20) * 1000,
    );
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung, ms: Date.now() - started });
    });
  });
}

/** A limit on how many rows run at once: each row is a process, and the machine's cores are few. */
export function limiter(size: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../../test/helpers/cli.js';
import { makeTree } from '../../test/helpers/tree.js';
import { readSource, readStdinSource } from './read-source.js';

const tree = makeTree();
let socket: Server;
beforeAll(async () => {
  socket = createServer();
  await new Promise<void>((resolve) => socket.listen(tree.path('config.sock'), resolve));
});
afterAll(() => {
  socket.close();
  tree.remove();
});

/** Reads within a deadline; a blocking read never returns, so the time is the check. */
const quickly = (file: string) => {
  const started = performance.now();
  const result = readSource(file);
  expect(performance.now() - started).toBeLessThan(2000);
  return result;
};

describe('files that are not config files', () => {
  it('refuses a FIFO without a writer at once, instead of waiting for one', () => {
    const fifo = tree.path('config.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(quickly(fifo)).toEqual({
      ok: false,
      reason: 'unreadable',
      message: `${fifo} is a named pipe (FIFO), not a config file; give the path of a regular YAML or JSON file`,
    });
  });

  it.each([
    ['/dev/zero', 'a character device'],
    ['/dev/urandom', 'a character device'],
    ['/dev/null', 'a character device'],
  ])('refuses %s, which never ends or holds nothing', (file, kind) => {
    expect(quickly(file)).toMatchObject({
      ok: false,
      message: `${file} is ${kind}, not a config file; give the path of a regular YAML or JSON file`,
    });
  });

  it('refuses a socket by name, not with "no such device"', () => {
    const file = tree.path('config.sock');
    expect(quickly(file)).toMatchObject({
      ok: false,
      message: `${file} is a socket, not a config file; give the path of a regular YAML or JSON file`,
    });
  });

  it('refuses a directory', () => {
    expect(quickly(tree.root)).toMatchObject({
      ok: false,
      message: `${tree.root} is a directory, not a config file; give the path of a regular YAML or JSON file`,
    });
  });

  it('reads a /proc file, whose size says 0, to its end', () => {
    const result = quickly('/proc/self/status');
    expect(result.ok && result.text).toMatch(/^Name:/);
  });
});

describe('encoding', () => {
  it('refuses a byte that is not UTF-8, with its line, column and offset', () => {
    const file = tree.write('latin1.yml', '');
    execFileSync('sh', ['-c', `printf 'run_id: r1\\ncommand: "caf\\351"\\n' > '${file}'`]);
    expect(quickly(file)).toEqual({
      ok: false,
      reason: 'unreadable',
      line: 2,
      column: 14,
      message:
        'byte 0xe9 at byte offset 24 is not UTF-8; config files must be UTF-8 (save the file as UTF-8, or convert it with `iconv -f latin1 -t utf-8`)',
    });
  });

  it('reads a file that starts with a byte order mark', () => {
    const file = tree.write('bom.yml', '\uFEFFrun_id: r1\n');
    expect(quickly(file)).toEqual({ ok: true, text: 'run_id: r1\n' });
  });
});

describe('standard input', () => {
  it('refuses a folder, which a stream would read as an empty file', async () => {
    const fd = openSync(tree.path(), 'r');
    try {
      expect(await readStdinSource(() => process.stdin, fd)).toMatchObject({
        ok: false,
        message: expect.stringMatching(/^standard input is a directory, not a config file/),
      });
    } finally {
      closeSync(fd);
    }
  });

  it('reads a seqpacket socket, which Node does not stream', () => {
    // Python makes the socket pair; modelrun reads the other end as its standard input.
    const script = [
      'import socket, subprocess, sys',
      'a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)',
      'a.sendall(b"run_id: r1\\ncommand: echo\\n"); a.close()',
      'sys.exit(subprocess.run(sys.argv[1:], stdin=b.fileno()).returncode)',
    ].join('\n');
    const result = spawnSync('python3', ['-c', script, process.execPath, BIN, 'validate', '-'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });
});

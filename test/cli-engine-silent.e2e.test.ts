import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';
import { makeTree } from './helpers/tree.js';

/**
 * A Docker address that accepts connections and never answers (a hung
 * engine, or some other service on that port): a signal during the engine
 * check ends modelrun at once, rather than after the cleanup limit.
 */
const tree = makeTree({
  'model.yml': 'run_id: silent\ncommand: "true"\n',
  'docker.yml': 'type: docker\nimage: modelrun-test/busybox\n',
});
const sockets: Socket[] = [];
const server = createServer((socket) => sockets.push(socket));
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  tree.remove();
});

describe('an engine that never answers', () => {
  it('a SIGTERM during the engine check exits 143 at once', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const child = spawn(
      process.execPath,
      [BIN, 'run', 'model.yml', '--backend-config', 'docker.yml'],
      {
        cwd: tree.root,
        env: { ...process.env, NO_COLOR: '1', DOCKER_HOST: `tcp://127.0.0.1:${port}` },
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The check is under way once the engine has a connection.
    for (let i = 0; i < 400 && sockets.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(sockets.length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 8000);
    const began = Date.now();
    const code = await exited;
    clearTimeout(killed);
    expect(Date.now() - began).toBeLessThan(5000);
    expect(code).toBe(143);
    expect(stderr).toMatch(
      /stopped by SIGTERM while waiting for the Docker engine at tcp:\/\/127\.0\.0\.1:\d+ to answer the version request/,
    );
  }, 20_000);
});

// The engine's share of a docker run, without any start-up: from a process
// that has already loaded dockerode, the calls modelrun makes for one run
// (create, attach, wait, start, the exit, inspect, remove), with the
// container settings modelrun uses. Prints the median ms as JSON.
// Usage: node bench/lib/engine-calls.js image dir runs
import Docker from 'dockerode';
import { median } from './measure.js';

const [image, dir, runs = '7'] = process.argv.slice(2);
const docker = new Docker();
const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

async function once() {
  const started = process.hrtime.bigint();
  const container = await docker.createContainer({
    Image: image,
    Cmd: ['/bin/sh', '-c', 'true'],
    WorkingDir: '/app/run',
    User: `${uid}:${gid}`,
    Labels: { 'modelrun.run_id': 'bench-engine-calls' },
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: { Binds: [`${dir}:/app/run:rw`], Init: true, NetworkMode: 'bridge' },
  });
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  stream.resume();
  const exited = container.wait({ condition: 'next-exit' });
  await container.start();
  await exited;
  await container.inspect();
  await container.remove({ force: true, v: true });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

await once(); // warm-up: the first run pays for connections and caches
const samples = [];
for (let i = 0; i < Number(runs); i++) samples.push(await once());
console.log(JSON.stringify({ ms: median(samples) }));

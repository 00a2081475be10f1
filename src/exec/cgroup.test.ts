import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { killedAfterEach, waitUntilGone } from '../../test/helpers/processes.js';
import { createRunCgroup, ownCgroupDir } from './cgroup.js';
import { newRunMark } from './escaped-processes.js';

const started = killedAfterEach();

const V1 = '30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory';

describe('where our cgroup is', () => {
  it.each([
    [
      'a pure cgroup v2 machine',
      `${V1.replace('memory', 'x')}\n29 24 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n`,
      '0::/user.slice/session-3.scope\n',
      '/sys/fs/cgroup/user.slice/session-3.scope',
    ],
    [
      'a hybrid machine, v2 beside v1',
      `${V1}\n36 25 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n`,
      '4:memory:/x\n0::/\n',
      '/sys/fs/cgroup/unified',
    ],
    [
      'a container that sees a sub-tree mounted at its root',
      '40 30 0:31 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
      '0::/docker/abc/job\n',
      '/sys/fs/cgroup/job',
    ],
  ])('on %s', (_what, mountinfo, selfCgroup, dir) => {
    expect(ownCgroupDir({ mountinfo: () => mountinfo, selfCgroup: () => selfCgroup })).toBe(dir);
  });

  it('is none on a cgroup v1 machine', () => {
    expect(ownCgroupDir({ mountinfo: () => V1, selfCgroup: () => '4:memory:/x\n' })).toBe(
      undefined,
    );
  });
});

/** Whether this machine lets us make a cgroup of our own, or why not. */
function cgroupUnavailable(): string | undefined {
  const probe = createRunCgroup(newRunMark('probe'));
  if (probe === undefined) return 'no writable cgroup v2 with cgroup.kill here';
  void probe.dispose();
  return undefined;
}

const unavailable = cgroupUnavailable();
if (unavailable !== undefined) console.log(`skipping the real cgroup test: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('a run’s cgroup on this machine', () => {
  it('holds what the model forks, even with its environment cleared, and kills it all', async () => {
    const cgroup = createRunCgroup(newRunMark('r1'));
    if (cgroup === undefined) throw new Error('the probe made one a moment ago');
    const child = spawn('/bin/sh', ['-c', 'sleep 0.2; env -i setsid sleep 300 & echo $!; wait'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    started.push(child);
    expect(cgroup.join(child.pid as number)).toBe(true);
    const escapee = await new Promise<number>((resolve) =>
      child.stdout?.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim()))),
    );
    expect(cgroup.members()).toEqual(expect.arrayContaining([child.pid, escapee]));
    await cgroup.dispose();
    expect(await waitUntilGone(escapee)).toBe(true);
    expect(existsSync(cgroup.dir)).toBe(false);
    expect(readFileSync('/proc/self/cgroup', 'utf8')).not.toContain('modelrun-');
  });
});

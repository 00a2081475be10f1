import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/processes.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { createRunCgroup } from './cgroup.js';
import { newRunMark } from './escaped-processes.js';
import {
  findOnPath,
  fromWaitStatus,
  type Launched,
  Launcher,
  type LaunchRequest,
} from './launcher.js';
import { LAUNCHER_SCRIPT } from './launcher-script.js';

const PATH = process.env.PATH ?? '/usr/bin:/bin';
const perl = findOnPath('perl', PATH) ?? null;
let tree: Tree | undefined;
const launchers: Launcher[] = [];
afterEach(() => {
  for (const launcher of launchers.splice(0)) launcher.close();
  tree?.remove();
  tree = undefined;
});

function launcher(pairs?: number): Launcher {
  const made = new Launcher({ perl, pairs });
  launchers.push(made);
  return made;
}

function text(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let said = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      said += chunk;
    });
    stream.once('end', () => resolve(said));
  });
}

/** Starts a process, reads both its streams to their end, and waits for its exit. */
async function run(via: Launcher, request: Partial<LaunchRequest> & { file: string }) {
  tree ??= makeTree({});
  const result = await via.start({ args: [], cwd: tree.root, env: { PATH }, ...request });
  if (result === undefined || !('launched' in result)) return { result };
  const launched: Launched = result.launched;
  const [stdout, stderr, exit] = await Promise.all([
    text(launched.stdout),
    text(launched.stderr),
    launched.exited,
  ]);
  return { result, launched, stdout, stderr, exit };
}

/** `sh -c script` in the test's tree, started by `via`; throws unless it started. */
async function startShell(via: Launcher, script: string): Promise<Launched> {
  tree ??= makeTree({});
  const result = await via.start({
    file: '/bin/sh',
    args: ['-c', script],
    cwd: tree.root,
    env: { PATH },
  });
  if (result === undefined || !('launched' in result))
    throw new Error(`not started: ${JSON.stringify(result)}`);
  return result.launched;
}

/** A launcher of the real helper, slowed down 2 s between a child's exec and its reply, and its tree. */
function slowedLauncher(): { via: Launcher; made: Tree } {
  expect(LAUNCHER_SCRIPT).toContain('reply("S ');
  const made = makeTree({
    'bin/perl': `#!/bin/sh\nexec ${perl} -e "$(printf '%s' "$2" | /bin/sed 's/reply("S /select(undef, undef, undef, 2); &/')" "$3"\n`,
  });
  tree = made;
  chmodSync(made.path('bin/perl'), 0o755);
  const via = new Launcher({ perl: made.path('bin/perl'), pairs: 4 });
  launchers.push(via);
  return { via, made };
}

describe.skipIf(perl === null)('the launcher', () => {
  it('gives the program exactly the arguments and folder it is told', async () => {
    const args = ['two words', '', 'it\'s "quoted"', 'line\nbreak', 'ünïcode $HOME `x` *', '-n'];
    tree = makeTree({ 'sub dir/': '' });
    const dir = tree.path('sub dir');
    const shown = await run(launcher(), {
      file: '/bin/sh',
      args: ['-c', 'printf "%s\\0" "$@"; pwd >&2', 'sh', ...args],
      cwd: dir,
    });
    expect(shown.exit).toEqual({ exitCode: 0, signal: null });
    expect(shown.stdout?.split('\0').slice(0, -1)).toEqual(args);
    expect(shown.stderr).toBe(`${dir}\n`);
  });

  it('gives the program exactly the environment it is told, and nothing of its own', async () => {
    const env = { PATH, ONE: 'a=b=c', EMPTY: '', MULTI: 'x\ny', 'odd.name-1': 'v', ü: 'ß' };
    const shown = await run(launcher(), { file: '/bin/cat', args: ['/proc/self/environ'], env });
    const seen = shown.stdout?.split('\0').filter((entry) => entry !== '');
    const expected = Object.entries(env).map(([name, value]) => `${name}=${value}`);
    expect(seen?.sort()).toEqual(expected.sort());
  });

  it('keeps stdout and stderr apart, and gives stdin at its end', async () => {
    const shown = await run(launcher(), {
      file: '/bin/sh',
      args: ['-c', 'echo out; echo err >&2; cat; echo "read $?"'],
    });
    expect(shown.stdout).toBe('out\nread 0\n');
    expect(shown.stderr).toBe('err\n');
  });

  it('starts each process in a process group of its own, with no pipe of another process', async () => {
    const via = launcher();
    const holder = await run(via, { file: '/bin/sh', args: ['-c', 'sleep 0.3 & echo held'] });
    const shown = await run(via, {
      file: '/bin/sh',
      args: ['-c', 'cut -d" " -f5 /proc/$$/stat; echo $$; ls -l /proc/$$/fd | grep -c socket:'],
    });
    const [group, pid, sockets] = (shown.stdout ?? '').trim().split('\n');
    expect(group).toBe(pid);
    expect(Number(pid)).toBe(shown.launched?.pid);
    // Its own stdout and stderr: no pipe of the other process, nor any the helper holds.
    expect(sockets).toBe('2');
    expect(holder.stdout).toBe('held\n');
  });

  it('tells an exit code from a death by signal', async () => {
    const via = launcher();
    const exited = await run(via, { file: '/bin/sh', args: ['-c', 'exit 137'] });
    const killed = await run(via, { file: '/bin/sh', args: ['-c', 'kill -KILL $$'] });
    expect(exited.exit).toEqual({ exitCode: 137, signal: null });
    expect(killed.exit).toEqual({ exitCode: null, signal: 'SIGKILL' });
  });

  it.each([
    ['a program that does not exist', { file: 'no-such-program-here' }, 'ENOENT'],
    ['a folder that does not exist', { file: 'true', cwd: '/no/such/folder' }, 'ENOENT'],
  ])('says why it could not start %s, as Node would', async (_what, request, code) => {
    const { result } = await run(launcher(), request);
    expect(result).toMatchObject({ error: { code } });
    expect(result && 'error' in result ? result.error.message : '').toContain(code);
  });

  it('says so for a file that may not be run', async () => {
    tree = makeTree({ 'script.sh': '#!/bin/sh\necho hi\n' });
    chmodSync(tree.path('script.sh'), 0o644);
    const { result } = await run(launcher(), { file: tree.path('script.sh') });
    expect(result).toMatchObject({ error: { code: 'EACCES' } });
  });

  it('starts more processes than one helper has pipes for', async () => {
    const via = launcher(2);
    const said = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => run(via, { file: '/bin/echo', args: [String(n)] })),
    );
    expect(said.map((s) => s.stdout)).toEqual(['1\n', '2\n', '3\n', '4\n', '5\n']);
  });

  it('leaves to Node what it cannot pass on, and everything where there is no Perl', () => {
    const request = { file: 'true', args: [], cwd: '/', env: { PATH } };
    expect(launcher().start({ ...request, args: ['a\0b'] })).toBeUndefined();
    expect(launcher().start({ ...request, env: { 'A=B': 'c' } })).toBeUndefined();
    expect(new Launcher({ perl: null }).start(request)).toBeUndefined();
  });

  it('keeps its helper when a process signals its parent, and starts the next one all the same', async () => {
    const via = launcher();
    const rude = await run(via, {
      file: '/bin/sh',
      args: ['-c', 'kill -TERM $PPID; kill -HUP $PPID; echo done'],
    });
    const next = await run(via, { file: '/bin/echo', args: ['next'] });
    expect(rude.exit).toEqual({ exitCode: 0, signal: null });
    expect(next.stdout).toBe('next\n');
  });

  // On the old code the processes of a killed helper were reported ended at once, and
  // killed with it; starts sent to the dead helper were never answered.
  it('lets the processes of a killed helper run to their end, then says their end is not known', {
    timeout: 10_000,
  }, async () => {
    tree = makeTree({});
    const via = launcher();
    const started = await startShell(via, 'sleep 0.5; touch ended');
    // The helper is its parent.
    const parent = Number(
      readFileSync(`/proc/${started.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1],
    );
    process.kill(parent, 'SIGKILL');
    const exit = await started.exited;
    expect(existsSync(tree.path('ended'))).toBe(true);
    expect(exit).toMatchObject({ exitCode: null, signal: null });
    expect(exit.endUnknown).toMatch(/was killed before it ended, so how it ended is not known/);
    // The next start goes to a new helper.
    const next = await run(via, { file: '/bin/echo', args: ['next'] });
    expect(next.stdout).toBe('next\n');
  });

  // On the old code the start was "helperFailed", and the caller started the
  // model a second time from Node, whose pid was then the model's $PPID.
  it('never starts twice a model that kills its helper before its start is told', {
    timeout: 10_000,
  }, async () => {
    const { via, made } = slowedLauncher();
    const started = await startShell(
      via,
      'echo ran >> runs; kill -KILL $PPID; sleep 0.3; echo ended >> runs',
    );
    const exit = await started.exited;
    expect(exit.endUnknown).toMatch(/how it ended is not known/);
    expect(readFileSync(made.path('runs'), 'utf8')).toBe('ran\nended\n');
  });

  // On the old code the start beside it came back "helperFailed", and Node
  // started it: modelrun was then the parent that its model would kill.
  it('starts on a new helper what a helper killed by a model beside it had not started yet', {
    timeout: 15_000,
  }, async () => {
    const { via } = slowedLauncher();
    // The helper sleeps 2 s after the first exec: the second request waits
    // unread in its stdin when the first model kills it.
    const rude = startShell(via, 'sleep 0.6; kill -KILL $PPID');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [, beside] = await Promise.all([rude, startShell(via, 'echo $PPID')]);
    const said = await text(beside.stdout);
    expect(Number(said)).not.toBe(process.pid);
    expect(Number(said)).toBeGreaterThan(1);
  });

  it('fails a start after its helpers were killed three times under it, without Node', async () => {
    // A helper that says a line (so it works) and dies before any start.
    tree = makeTree({ 'bin/perl': '#!/bin/sh\necho "X 0"\n' });
    chmodSync(tree.path('bin/perl'), 0o755);
    const via = new Launcher({ perl: tree.path('bin/perl'), pairs: 4 });
    launchers.push(via);
    const result = await via.start({ file: 'true', args: [], cwd: tree.root, env: { PATH } });
    expect(result).toMatchObject({
      error: { code: 'ELAUNCHER', message: expect.stringMatching(/was killed or stopped 3 times/) },
    });
  });

  // On the old code a new helper killed before its first word made Perl count as
  // broken, and every later start went to Node, whose pid a model could then kill.
  it('never leaves starts to Node once a helper has answered, however the next ones die', {
    timeout: 15_000,
  }, async () => {
    tree = makeTree({});
    // The first helper is Perl; every later one never answers.
    const first = tree.path('first');
    writeFileSync(
      tree.path('perl'),
      `#!/bin/sh\nif [ -e ${first} ]; then exec sleep 300; fi\n: > ${first}\nexec ${perl} "$@"\n`,
    );
    chmodSync(tree.path('perl'), 0o755);
    const via = new Launcher({ perl: tree.path('perl'), pairs: 4, firstReplyMs: 300 });
    launchers.push(via);
    const rude = await run(via, { file: '/bin/sh', args: ['-c', 'kill -KILL $PPID'] });
    expect(rude.exit?.endUnknown).toMatch(/how it ended is not known/);
    const next = await via.start({ file: 'true', args: [], cwd: tree.root, env: { PATH } });
    expect(next).toMatchObject({ error: { code: 'ELAUNCHER' } });
    const last = via.start({ file: 'true', args: [], cwd: tree.root, env: { PATH } });
    expect(last).toBeDefined();
    // Its helper, which never answers, is killed at its deadline: nothing is left running.
    await last;
  });

  // On the old code a stopped helper started nothing more, and the ensemble hung.
  it('kills a helper that a model stopped, and starts the next process on a new one', {
    timeout: 15_000,
  }, async () => {
    const via = launcher();
    const rude = await startShell(via, 'kill -STOP $PPID; echo stopped');
    const exit = await rude.exited;
    expect(exit.endUnknown).toMatch(/how it ended is not known/);
    const next = await run(via, { file: '/bin/echo', args: ['next'] });
    expect(next.stdout).toBe('next\n');
  });

  // On the old code a helper stayed in the guardian's hands until its stdout
  // closed, which something it started can hold open after it died: the
  // guardian would then kill whatever group came to bear its number.
  it('withdraws a helper from the guardian once it has exited, though its stdout is held open', async () => {
    tree = makeTree({ 'bin/perl': '#!/bin/sh\nsleep 30 &\necho $! > "$0.held"\nsleep 0.3\n' });
    chmodSync(tree.path('bin/perl'), 0o755);
    const calls: string[] = [];
    const via = new Launcher({
      perl: tree.path('bin/perl'),
      pairs: 4,
      guard: (task) => {
        calls.push(`guard ${task.pgid}`);
        return () => calls.push('withdraw');
      },
    });
    launchers.push(via);
    // (It lives a moment, as a helper does: one gone before it was looked at is handed to nobody.)
    const starting = via.start({ file: 'true', args: [], cwd: tree.root, env: { PATH } });
    expect(await waitFor(() => calls.includes('withdraw'), 5000)).toBe(true);
    expect(calls).toEqual([expect.stringMatching(/^guard \d+$/), 'withdraw']);
    // Its stdout closes with the process that held it, and the start ends.
    process.kill(Number(readFileSync(tree.path('bin/perl.held'), 'utf8')), 'SIGKILL');
    expect(await starting).toEqual({ helperFailed: true });
  });

  it('gives up on a helper that never answers, and leaves the start to Node', async () => {
    tree = makeTree({ 'bin/perl': '#!/bin/sh\nexec sleep 300\n' });
    chmodSync(tree.path('bin/perl'), 0o755);
    const via = new Launcher({ perl: tree.path('bin/perl'), pairs: 4, firstReplyMs: 200 });
    launchers.push(via);
    const result = await via.start({ file: 'true', args: [], cwd: tree.root, env: { PATH } });
    expect(result).toEqual({ helperFailed: true });
    // Broken for good: the next start is Node's at once.
    expect(via.start({ file: 'true', args: [], cwd: tree.root, env: { PATH } })).toBeUndefined();
  });

  const probe = createRunCgroup(newRunMark('probe'));
  void probe?.dispose();
  it.skipIf(probe === undefined)('starts the process inside the cgroup it is given', async () => {
    const cgroup = createRunCgroup(newRunMark('launch'));
    if (cgroup === undefined) throw new Error('no cgroup');
    try {
      const shown = await run(launcher(), {
        file: '/bin/cat',
        args: ['/proc/self/cgroup'],
        cgroup: cgroup.dir,
      });
      expect(shown.launched?.inside).toBe(true);
      expect(shown.stdout).toContain(cgroup.dir.split('/').pop());
    } finally {
      await cgroup.dispose();
    }
  });
});

describe('a wait status', () => {
  it.each([
    [0, { exitCode: 0, signal: null }],
    [137 << 8, { exitCode: 137, signal: null }],
    [9, { exitCode: null, signal: 'SIGKILL' }],
    // A core dump sets bit 7 beside the signal.
    [0x80 | 11, { exitCode: null, signal: 'SIGSEGV' }],
  ])('%i reads as Node says it', (status, exit) => {
    expect(fromWaitStatus(status)).toEqual(exit);
  });
});

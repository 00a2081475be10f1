import { appendFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { writeDetachedEntry } from './detached-entry.js';
import { copyLog, openLog, runLogPath, startOfLastLines } from './log-reader.js';
import { recordOf } from './test-records.js';

const tree = treeForEachTest();

/** What copyLog hands on, from `from`, of a log holding `text`. */
async function copied(text: string, lines?: number): Promise<string> {
  const file = await openLog(tree.write('stdout.log', text));
  if (file === undefined) throw new Error('no log');
  try {
    const from = lines === undefined ? 0 : await startOfLastLines(file, lines);
    const out: Buffer[] = [];
    await copyLog(file, from, async (bytes) => {
      out.push(bytes);
      return true;
    });
    return Buffer.concat(out).toString();
  } finally {
    await file.close();
  }
}

describe('reading a log', () => {
  it.each([
    ['a\nb\nc\n', 2, 'b\nc\n'],
    ['a\nb\nc', 2, 'b\nc'],
    ['a\nb\nc\n', 5, 'a\nb\nc\n'],
    ['a\nb\nc\n', 0, ''],
    ['\n\n\n', 1, '\n'],
    ['', 3, ''],
  ])('takes the last lines of %j: %i', async (text, lines, expected) => {
    expect(await copied(text, lines)).toBe(expected);
  });

  it('finds the last lines across reads of a log larger than one', async () => {
    const text = `${'x'.repeat(200_000)}\n${Array.from({ length: 5 }, (_, i) => `line ${i}`).join('\n')}\n`;
    expect(await copied(text, 3)).toBe('line 2\nline 3\nline 4\n');
    expect(await copied(text)).toBe(text);
  });

  it('follows a log as it grows until the run has ended, and reads what came before the end', async () => {
    const path = tree.write('stdout.log', 'one\n');
    const file = await openLog(path);
    if (file === undefined) throw new Error('no log');
    const out: string[] = [];
    let looks = 0;
    await copyLog(
      file,
      0,
      async (bytes) => {
        out.push(bytes.toString());
        return true;
      },
      {
        pollMs: 5,
        ended: async () => {
          looks++;
          if (looks === 2) appendFileSync(path, 'two\n');
          // The run writes its last line just as it ends.
          if (looks === 4) appendFileSync(path, 'last\n');
          return looks >= 4;
        },
      },
    );
    await file.close();
    expect(out.join('')).toBe('one\ntwo\nlast\n');
  });

  it('reads a log written again from its start (a requeued job) from its start', async () => {
    const path = tree.write('stdout.log', 'first run, line 1\nfirst run, line 2\n');
    const file = await openLog(path);
    if (file === undefined) throw new Error('no log');
    const out: string[] = [];
    let looks = 0;
    await copyLog(
      file,
      0,
      async (bytes) => {
        out.push(bytes.toString());
        return true;
      },
      {
        pollMs: 5,
        ended: async () => {
          looks++;
          // Slurm truncates the output file when it starts the job again.
          if (looks === 1) writeFileSync(path, 'again\n');
          return looks >= 3;
        },
      },
    );
    await file.close();
    expect(out.join('')).toBe('first run, line 1\nfirst run, line 2\nagain\n');
  });

  it('stops when the reader takes no more', async () => {
    const file = await openLog(tree.write('stdout.log', 'x'.repeat(200_000)));
    if (file === undefined) throw new Error('no log');
    const at = await copyLog(file, 0, async () => false, { pollMs: 5, ended: async () => false });
    await file.close();
    expect(at).toBe(64 * 1024);
  });

  it('reads no log through a link, nor anything but a file', async () => {
    symlinkSync(tree.write('secret', 'not the log'), tree.path('linked.log'));
    expect(await openLog(tree.path('linked.log'))).toBeUndefined();
    expect(await openLog(tree.root)).toBeUndefined();
    expect(await openLog(tree.path('none.log'))).toBeUndefined();
  });

  it('reads no log through a logs folder that is a link, as a model may leave one', async () => {
    tree.write('secret/stdout.log', "not the run's");
    symlinkSync(tree.path('secret'), tree.path('logs'));
    expect(await openLog(tree.path('logs', 'stdout.log'))).toBeUndefined();
  });
});

describe('where a run’s log is', () => {
  const handle = { kind: 'slurm-job', id: '812' };
  const detached = (stdout: string) =>
    recordOf({
      staging_dir: tree.path('run'),
      handle,
      detached: { logs: { stdout, stderr: tree.path('run', 'logs', 'err') } },
    });
  const env = () => ({ XDG_STATE_HOME: tree.path('state'), HOME: tree.path('home') });

  it('is logs/ in the run dir for a run that modelrun follows', async () => {
    tree.write('run/logs/stdout.log', '');
    const record = recordOf({ staging_dir: tree.path('run') });
    expect(await runLogPath(env(), tree.path('run'), record, 'stdout')).toBe(
      tree.path('run', 'logs', 'stdout.log'),
    );
  });

  it('is what the submitting host kept for a detached run, whatever run.json says now', async () => {
    tree.write('run/logs/slurm-812.out', '');
    tree.write('secret.txt', 'not the run’s');
    const kept = detached(tree.path('run', 'logs', 'slurm-812.out'));
    await writeDetachedEntry(env(), {
      run_dir: tree.path('run'),
      run_id: kept.run_id,
      started_at: kept.started_at,
      backend: 'slurm',
      handle,
      logs: { stdout: tree.path('run', 'logs', 'slurm-812.out'), stderr: tree.path('e') },
      files: { model: tree.path('m.yml'), postprocessors: [] },
    });
    // The model rewrote run.json to name a file of its choosing.
    const forged = { ...kept, detached: { logs: { stdout: tree.path('secret.txt'), stderr: '' } } };
    expect(await runLogPath(env(), tree.path('run'), forged, 'stdout')).toBe(
      tree.path('run', 'logs', 'slurm-812.out'),
    );
  });

  it('is run.json’s word on a host with no entry only inside the run dir', async () => {
    tree.write('run/logs/slurm-812.out', '');
    tree.write('secret.txt', 'not the run’s');
    const inside = detached(tree.path('run', 'logs', 'slurm-812.out'));
    expect(await runLogPath(env(), tree.path('run'), inside, 'stdout')).toBe(
      tree.path('run', 'logs', 'slurm-812.out'),
    );
    const outside = detached(tree.path('secret.txt'));
    await expect(runLogPath(env(), tree.path('run'), outside, 'stdout')).rejects.toThrow(
      /names its stdout log outside its run dir .*secret\.txt.*no entry of its own/,
    );
    // Nor through a link in the run dir that leads out of it.
    symlinkSync(tree.path(), tree.path('run', 'out'));
    const linked = detached(tree.path('run', 'out', 'secret.txt'));
    await expect(runLogPath(env(), tree.path('run'), linked, 'stdout')).rejects.toThrow(
      /outside its run dir/,
    );
  });
});

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { RUN_RECORD_PATH } from '../model/run-record.js';
import { recordOf } from '../runs/test-records.js';
import { Redactor } from '../secrets.js';
import { RecordWriter } from './record-writer.js';

let tree: Tree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

/** A run staged in `runs/r1` of a fresh tree, and its writer. */
function staged() {
  tree = makeTree({ 'runs/r1/input.txt': 'x' });
  const dir = tree.path('runs', 'r1');
  const record = recordOf({ staging_dir: dir });
  return { tree, dir, record, writer: new RecordWriter(record, new Redactor()) };
}

const statusAt = (dir: string) =>
  JSON.parse(readFileSync(join(dir, RUN_RECORD_PATH), 'utf8')).status as string;

describe("a run's record writer", () => {
  // On the old code each write went to the path, made again: a folder of modelrun's
  // appeared where the model had moved its own away, or inside one it made there.
  it('writes into the run folder wherever a model moved it, and makes nothing at its old path', async () => {
    const { tree, dir, record, writer } = staged();
    await writer.write();
    renameSync(tree.path('runs'), tree.path('moved'));
    record.status = 'succeeded';
    await writer.write();
    await writer.close();
    expect(statusAt(tree.path('moved', 'r1'))).toBe('succeeded');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(tree.path('runs'))).toBe(false);
  });

  it('writes nothing into a folder made anew at its path after the move', async () => {
    const { tree, dir, record, writer } = staged();
    await writer.write();
    expect(await writer.displaced()).toBeUndefined();
    renameSync(dir, tree.path('runs', 'r1.moved'));
    mkdirSync(dir);
    expect(await writer.displaced()).toMatch(
      /r1 no longer leads to the folder the model ran in: .* \(that folder is now .*r1\.moved\)/,
    );
    record.status = 'failed';
    await writer.write();
    await writer.close();
    expect(statusAt(tree.path('runs', 'r1.moved'))).toBe('failed');
    expect(existsSync(join(dir, '.modelrun'))).toBe(false);
  });

  // On the old code the record was written at its path again, through the link a model put there.
  it('makes nothing again, nor writes through a link, where the folder was removed', async () => {
    const { tree, dir, record, writer } = staged();
    await writer.write();
    rmSync(dir, { recursive: true });
    const outside = tree.path('outside');
    mkdirSync(outside);
    symlinkSync(outside, dir);
    record.status = 'failed';
    await writer.write();
    expect(writer.lost).toMatch(
      /the run's folder .*r1 was removed during the run, and its record with it/,
    );
    expect(await writer.displaced()).toBe(writer.lost);
    await writer.close();
    expect(readdirSync(outside)).toEqual([]);
  });

  // On the old code the record was written by path, through the link, into whatever it led to.
  it('holds the folder a link of the user’s leads to, not the link', async () => {
    const { tree, record } = staged();
    mkdirSync(tree.path('real'));
    symlinkSync(tree.path('real'), tree.path('link'));
    const writer = new RecordWriter({ ...record, staging_dir: tree.path('link') }, new Redactor());
    await writer.write();
    renameSync(tree.path('real'), tree.path('real.moved'));
    mkdirSync(tree.path('elsewhere'));
    rmSync(tree.path('link'));
    symlinkSync(tree.path('elsewhere'), tree.path('link'));
    await writer.write();
    await writer.close();
    expect(existsSync(tree.path('real.moved', RUN_RECORD_PATH))).toBe(true);
    expect(readdirSync(tree.path('elsewhere'))).toEqual([]);
  });

  it('makes its .modelrun again in the folder a model emptied', async () => {
    const { dir, record, writer } = staged();
    await writer.write();
    rmSync(join(dir, '.modelrun'), { recursive: true });
    record.status = 'succeeded';
    await writer.write();
    await writer.close();
    expect(statusAt(dir)).toBe('succeeded');
  });
});

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase, HostilePaths, HostileRun } from '../helpers/hostile.js';

/**
 * Archive and checksum postprocessors on a staged run holding odd files, or
 * pointed at odd places. Each row stages sims/r1 by hand (modelrun
 * postprocess needs only the model file and the run dir) and runs one
 * postprocessor config on it.
 */
export const POSTPROCESS = ['postprocess', 'model.yml', '--postprocessor-config', 'p.yml'];

export function stage(
  dir: string,
  postprocessor: string,
  extra: (run: string) => void = () => {},
): string {
  writeFileSync(join(dir, 'model.yml'), 'run_id: r1\noutput_dir: ./sims\ncommand: "true"\n');
  writeFileSync(join(dir, 'p.yml'), postprocessor);
  const run = join(dir, 'sims', 'r1');
  mkdirSync(join(run, 'out'), { recursive: true });
  mkdirSync(join(run, '.modelrun'));
  writeFileSync(join(run, '.modelrun', 'run.json'), recordOf(run));
  writeFileSync(join(run, 'out', 'result.nc'), 'result');
  extra(run);
  return run;
}

/** The run.json of a run that succeeded, as `modelrun run` leaves it. */
function recordOf(run: string, status = 'succeeded'): string {
  const done = { status: 'succeeded' };
  return JSON.stringify({
    run_id: 'r1',
    status,
    exit_code: 0,
    started_at: '2026-01-01T00:00:00.000Z',
    ended_at: '2026-01-01T00:00:01.000Z',
    duration_s: 1,
    staging_dir: run,
    backend: { type: 'local', config: { type: 'local' } },
    stages: { generate: done, run: done, postprocess: { status: 'skipped' } },
    postprocess: [],
    modelrun_version: '0.1.0',
    host: {},
  });
}

export function row(
  name: string,
  postprocessor: string | ((paths: HostilePaths) => string),
  extra: (run: string, paths: HostilePaths) => void,
  expected: Omit<HostileRun, 'args'>,
): HostileCase {
  return {
    name,
    setup(paths) {
      const text = typeof postprocessor === 'string' ? postprocessor : postprocessor(paths);
      stage(paths.dir, text, (run) => extra(run, paths));
      return { args: POSTPROCESS, ...expected };
    },
  };
}

export const ARCHIVE = 'type: archive\ndestination: out.tar.gz\n';
export const CHECKSUM = 'type: checksum\n';

export const hostileCases: HostileCase[] = [
  row(
    'archive: a setuid file in the run',
    ARCHIVE,
    (run) => {
      writeFileSync(join(run, 'out', 'tool'), '#!/bin/sh\n');
      chmodSync(join(run, 'out', 'tool'), 0o6755);
    },
    { exit: [0], says: /✓ archive: wrote .*out\.tar\.gz \(2 files,/ },
  ),
  row(
    'archive: a symlink to the outside folder',
    ARCHIVE,
    (run, { outside }) => {
      symlinkSync(outside, join(run, 'out', 'data'));
    },
    {
      exit: [0],
      says: /\(1 file, [\d.]+ \w+\); left out 1: out\/data \(symlink to .*, outside the run directory; never followed\)/,
    },
  ),
  row(
    'checksum: a symlink to the outside folder',
    CHECKSUM,
    (run, { outside }) => {
      symlinkSync(outside, join(run, 'out', 'data'));
    },
    {
      exit: [0],
      says: /left out 1: out\/data \(symlink to .*, outside the run directory; never followed\)/,
    },
  ),
  row(
    'archive: a FIFO in the run dir',
    ARCHIVE,
    (run) => {
      execFileSync('mkfifo', [join(run, 'out', 'pipe')]);
    },
    { exit: [0], says: 'out/pipe (a FIFO, not a regular file)', timeoutS: 20 },
  ),
  row(
    'checksum: a FIFO in the run dir',
    CHECKSUM,
    (run) => {
      execFileSync('mkfifo', [join(run, 'out', 'pipe')]);
    },
    { exit: [0], says: 'out/pipe (a FIFO, not a regular file)', timeoutS: 20 },
  ),
  row(
    'archive: a file name that is not UTF-8',
    ARCHIVE,
    (run) => {
      writeFileSync(Buffer.from(`${run}/out/bad\x80\x1b[2J.nc`, 'latin1'), 'x');
    },
    { exit: [0], says: 'out/bad\\x80\\x1b[2J.nc (name is not UTF-8)' },
  ),
  row('archive: destination is a folder', 'type: archive\ndestination: sims\n', () => {}, {
    exit: [1],
    says: 'is a folder; give a file name in it',
  }),
  row('archive: destination is /dev/full', 'type: archive\ndestination: /dev/full\n', () => {}, {
    exit: [1],
    says: 'the destination /dev/full is not a regular file',
  }),
  row(
    'archive: destination is a file modelrun did not write',
    'type: archive\ndestination: thesis.tar.gz\n',
    (run) => {
      writeFileSync(join(run, '..', '..', 'thesis.tar.gz'), 'the only copy');
    },
    { exit: [1], says: 'is not an archive modelrun wrote', keep: ['thesis.tar.gz'] },
  ),
  row(
    'archive: destination is a symlink to the outside folder',
    'type: archive\ndestination: link.tar.gz\n',
    (run, { outside }) => {
      symlinkSync(outside, join(run, '..', '..', 'link.tar.gz'));
    },
    {
      exit: [1],
      says: 'is a symlink, which modelrun does not write through',
      keep: ['link.tar.gz'],
    },
  ),
  row(
    'archive: destination under a file',
    'type: archive\ndestination: model.yml/x.tar.gz\n',
    () => {},
    {
      exit: [1],
      says: 'cannot create the folder',
      keep: ['model.yml'],
    },
  ),
  row(
    'archive: an include that matches nothing',
    'type: archive\ninclude: ["nothing/**"]\n',
    () => {},
    {
      exit: [1],
      says: 'no files in the run directory match ["nothing/**"]',
    },
  ),
  row(
    'checksum: output through a symlinked folder leading outside',
    'type: checksum\noutput: sums/SHA256SUMS\n',
    (run, { outside }) => {
      symlinkSync(outside, join(run, 'sums'));
    },
    { exit: [1], says: 'goes through the symlink sums' },
  ),
  row('checksum: output is a folder', 'type: checksum\noutput: out\n', () => {}, {
    exit: [1],
    says: 'output "out" is a folder',
  }),
  ...['{}', 'null', '[]', '"text"', '{"run_id": "r1", "stages": 3}', '{not json'].map((text) =>
    row(
      `postprocess: a run.json that holds ${text}`,
      CHECKSUM,
      (run) => writeFileSync(join(run, '.modelrun', 'run.json'), text),
      { exit: [0], says: /run\.json could not be read; the results are not recorded/ },
    ),
  ),
];

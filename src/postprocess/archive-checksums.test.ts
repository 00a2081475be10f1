import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { archivePostprocessor } from './archive.js';
import { listedName } from './archive-checksums.js';
import { checksumPostprocessor } from './checksum.js';
import { checksumLine } from './checksum-run.js';
import type { PostprocessContext, PostprocessorConfig, PostprocessorDefinition } from './types.js';

const HEX = 'a'.repeat(64);

describe('listedName', () => {
  it.each([['output/a.nc'], ['two  spaces.txt'], ['back\\slash'], ['new\nline'], ['cr\r']])(
    'reads back the name %j from the line checksum writes',
    (name) => {
      expect(listedName(checksumLine(HEX, name))).toBe(name);
    },
  );

  it.each([['not a line\n'], [`${'a'.repeat(63)}  short\n`]])('takes %j for no line', (line) => {
    expect(listedName(line)).toBeUndefined();
  });
});

describe('a checksum file in an archive', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = makeTree({ 'run/out/a.nc': 'a', 'run/out/b.nc': 'b', 'out/': '' });
  });
  afterEach(() => tree.remove());

  const context = (): PostprocessContext => ({
    runId: 'run-1',
    stagingDir: tree.path('run'),
    outputDir: tree.path('out'),
    signal: new AbortController().signal,
    progress: () => {},
    env: {},
  });
  const run = (definition: PostprocessorDefinition, fields: Record<string, unknown>) => {
    const schema = definition.configSchema(diskPathContext(tree.root));
    const config = schema.parse({ type: definition.type, ...fields }) as PostprocessorConfig;
    return definition.run(config, context());
  };

  it('is packed listing only the files packed beside it, and sha256sum -c passes', async () => {
    await run(checksumPostprocessor, {});
    const outcome = await run(archivePostprocessor, { include: ['SHA256SUMS', 'out/a.nc'] });
    expect(outcome.summary).toMatch(
      /; SHA256SUMS packed listing only the 1 of its 2 files that the archive holds$/,
    );
    const into = tree.path('extracted');
    mkdirSync(into);
    execFileSync('tar', ['xzf', tree.path('out', 'run-1.tar.gz'), '-C', into]);
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: into, encoding: 'utf8' })).toBe(
      'out/a.nc: OK\n',
    );
  });

  it('is left out, and named, when it would list none of the files the archive holds', async () => {
    await run(checksumPostprocessor, {});
    tree.write('run/notes.txt', 'n');
    const outcome = await run(archivePostprocessor, { include: ['SHA256SUMS', 'notes.txt'] });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.summary).toMatch(
      /\(1 file, .*\); left out 1: SHA256SUMS \(a checksum file that lists none of the files the archive holds \(its 2 files are not packed\)\)$/,
    );
    const only = await run(archivePostprocessor, { include: ['SHA256SUMS'] });
    expect(only).toMatchObject({ status: 'failed' });
    expect(only.summary).toContain('SHA256SUMS (a checksum file that lists none of the files');
  });
});

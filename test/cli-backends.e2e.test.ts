import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { backendTypes } from '../src/backends/registry.js';
import { publishedSchemaUrl } from '../src/schema/schema-url.js';
import { REPO_ROOT, runInProcess, runModelrun } from './helpers/cli.js';
import { makeTree, treeForEachTest } from './helpers/tree.js';

const EXAMPLES = join(REPO_ROOT, 'examples', 'backends');
const exampleFiles = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join('examples', 'backends', f));

/** Each test's own folder, with these files. */
const tree = treeForEachTest({
  'bad.yml': 'type: docker\ntimout: 100\ncpu: 0\nvolumes:\n  - /tmp:/data\n  - data\n',
  'good.yml': 'type: local\ntimeout: 90m\n',
  'untyped.yml': 'image: ubuntu:22.04\n',
});

describe('global behaviour', () => {
  it('prints the version', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await runModelrun(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it.each([
    [[]],
    [['backends']],
    [['backends', 'validate']],
    [['backends', 'list']],
    [['backends', 'schema']],
    [['backends', 'create']],
  ])('prints help for %j', async (command) => {
    const result = await runModelrun([...command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: modelrun/);
  });

  it('exits 2 on an unknown option, with a suggestion', async () => {
    const result = await runModelrun(['backends', 'validate', 'good.yml', '--formt', 'json'], {
      cwd: tree.root,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--formt'\n\(Did you mean --format\?\)/);
  });

  it('exits 2 on an unknown command', async () => {
    const result = await runModelrun(['backends', 'vaildate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'vaildate'/);
  });

  it('exits 2 on a bad option value', async () => {
    const result = await runModelrun(['backends', 'validate', 'good.yml', '--format', 'xml'], {
      cwd: tree.root,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Allowed choices are text, json, github/);
  });

  const ANSI = String.fromCharCode(27);
  it('colours output only when asked, and honours --no-color and NO_COLOR', async () => {
    const coloured = await runModelrun(['backends', 'validate', 'good.yml'], {
      cwd: tree.root,
      env: { NO_COLOR: undefined, FORCE_COLOR: '1' },
    });
    expect(coloured.stdout).toContain(ANSI);
    const flag = await runModelrun(['--no-color', 'backends', 'validate', 'good.yml'], {
      cwd: tree.root,
      env: { NO_COLOR: undefined, FORCE_COLOR: '1' },
    });
    expect(flag.stdout).not.toContain(ANSI);
    const env = await runModelrun(['backends', 'validate', 'good.yml'], {
      cwd: tree.root,
      env: { NO_COLOR: '1', FORCE_COLOR: '1' },
    });
    expect(env.stdout).not.toContain(ANSI);
  });

  it('prints debug lines on stderr under --verbose only', async () => {
    const quiet = await runModelrun(['backends', 'validate', 'good.yml'], { cwd: tree.root });
    expect(quiet.stderr).toBe('');
    const verbose = await runModelrun(['-v', 'backends', 'validate', 'good.yml'], {
      cwd: tree.root,
    });
    expect(verbose.stderr).toMatch(/^debug: validated 1 file in [\d.]+ ms$/m);
    expect(verbose.stdout).toBe(quiet.stdout);
  });
});

describe('backends validate', () => {
  it('accepts every example config', async () => {
    const result = await runModelrun(['backends', 'validate', ...exampleFiles]);
    expect(result.code).toBe(0);
    for (const file of exampleFiles) expect(result.stdout).toContain(`✓ ${file}`);
    expect(result.stdout).toMatch(
      /examples\/backends\/docker\.yml {2}docker · image ubuntu:22\.04 · cpu 4 · memory 4g/,
    );
    expect(result.stdout).toContain(
      `${exampleFiles.length} files: ${exampleFiles.length} valid, 0 invalid`,
    );
  });

  it('exits 1 and places each error when a file is invalid', async () => {
    const result = await runModelrun(['backends', 'validate', 'good.yml', 'bad.yml'], {
      cwd: tree.root,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✓ good.yml  local · shell true · timeout 1h30m');
    expect(result.stdout).toContain('✗ bad.yml  4 errors');
    expect(result.stdout).toContain(
      'error bad.yml:1:1  either image or dockerfile must be provided',
    );
    expect(result.stdout).toContain(
      'error bad.yml:2:1  timout: unknown key "timout"; did you mean "timeout"?',
    );
    expect(result.stdout).toContain('error bad.yml:3:6  cpu: must be at least 1, got 0');
    expect(result.stdout).toMatch(
      /error bad\.yml:6:5 {2}volumes\[1\]: volume "data" is missing ':'/,
    );
    expect(result.stdout).toContain('2 files: 1 valid, 1 invalid');
  });

  it('exits 2 when a file is missing, and still checks the others', async () => {
    const result = await runModelrun(['backends', 'validate', 'good.yml', 'missing.yml'], {
      cwd: tree.root,
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('✓ good.yml');
    expect(result.stdout).toContain('missing.yml does not exist');
  });

  it('prints JSON', async () => {
    const result = await runModelrun(
      ['backends', 'validate', '--format', 'json', 'good.yml', 'bad.yml'],
      { cwd: tree.root },
    );
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as unknown[];
    expect(report[0]).toEqual({
      file: 'good.yml',
      valid: true,
      type: 'local',
      errors: [],
      warnings: [],
    });
    expect(report[1]).toMatchObject({ file: 'bad.yml', valid: false, type: 'docker' });
    expect((report[1] as { errors: unknown[] }).errors).toContainEqual({
      line: 2,
      column: 1,
      path: 'timout',
      message: 'unknown key "timout"; did you mean "timeout"?',
    });
  });

  it('prints GitHub Actions annotations', async () => {
    const result = await runModelrun(['backends', 'validate', '--format', 'github', 'bad.yml'], {
      cwd: tree.root,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '::error file=bad.yml,line=2,col=1,title=modelrun%3A timout::unknown key "timout"; did you mean "timeout"?',
    );
  });

  it('supplies and checks the type with --backend-type', async () => {
    const supplied = await runModelrun(
      ['backends', 'validate', '--backend-type', 'docker', 'untyped.yml'],
      { cwd: tree.root },
    );
    expect(supplied.code).toBe(0);
    const clash = await runModelrun(
      ['backends', 'validate', '--backend-type', 'docker', 'good.yml'],
      { cwd: tree.root },
    );
    expect(clash.code).toBe(1);
    expect(clash.stdout).toContain('type: type is "local" but --backend-type is "docker"');
  });
});

describe('backends list', () => {
  const bin = makeTree({ apptainer: '#!/bin/sh\necho "apptainer version 1.3.4"\n' });
  chmodSync(bin.path('apptainer'), 0o755);
  afterAll(() => bin.remove());

  it('reports each backend and whether its engine is usable', async () => {
    const result = await runModelrun(['backends', 'list', '--json'], {
      env: {
        DOCKER_HOST: `unix://${tree.path('no-such.sock')}`,
        PATH: `${bin.root}:/usr/bin:/bin`,
      },
    });
    expect(result.code).toBe(0);
    const { backends } = JSON.parse(result.stdout) as {
      backends: { type: string; available: boolean; detail: string }[];
    };
    expect(backends.map((b) => b.type)).toEqual(['local', 'docker', 'apptainer', 'slurm']);
    expect(backends[0]).toMatchObject({ available: true });
    expect(backends[1]).toMatchObject({
      available: false,
      detail: expect.stringContaining(
        `cannot reach the Docker engine at unix://${tree.path('no-such.sock')}`,
      ),
      hint: expect.stringMatching(/is dockerd running\?/),
    });
    expect(backends[2]).toMatchObject({
      available: true,
      detail: 'apptainer: apptainer version 1.3.4',
    });
  });

  it('says when apptainer is not installed', async () => {
    const result = await runModelrun(['backends', 'list'], { env: { PATH: '/nonexistent' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /✗ apptainer .*\n\s+neither apptainer nor singularity is on PATH/,
    );
  });
});

describe('backends schema', () => {
  it('emits one type as JSON Schema draft 2020-12', async () => {
    const result = await runModelrun(['backends', 'schema', '--backend-type', 'docker']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(result.stdout).toBe(
      readFileSync(join(REPO_ROOT, 'schemas', 'docker.schema.json'), 'utf8'),
    );
  });

  it('emits YAML', async () => {
    const result = await runModelrun([
      'backends',
      'schema',
      '--backend-type',
      'local',
      '--format',
      'yaml',
    ]);
    expect(parse(result.stdout)).toEqual(
      JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'local.schema.json'), 'utf8')),
    );
  });

  it('writes every schema into a folder with --all', async () => {
    const out = tree.path('schemas-out');
    const result = await runModelrun(['backends', 'schema', '--all', '--output', out]);
    expect(result.code).toBe(0);
    for (const name of readdirSync(join(REPO_ROOT, 'schemas'))) {
      expect(readFileSync(join(out, name), 'utf8')).toBe(
        readFileSync(join(REPO_ROOT, 'schemas', name), 'utf8'),
      );
    }
  });

  it.each([
    [['backends', 'schema'], /say which schema to emit/],
    [['backends', 'schema', '--all'], /--all writes one file per schema/],
  ])('exits 2 for %j', async (args, message) => {
    const result = await runModelrun(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('backends create', () => {
  const variants = backendTypes.flatMap((type) =>
    ['yml', 'json'].flatMap((ext) =>
      [false, true].map((withExamples) => ({ type, ext, withExamples })),
    ),
  );

  it.each(variants)(
    'writes a $type .$ext template (examples: $withExamples) that validates as written',
    async ({ type, ext, withExamples }) => {
      const file = `templates/${type}${withExamples ? '-full' : ''}.${ext}`;
      const args = [
        'backends',
        'create',
        '--backend-type',
        type,
        '--output',
        file,
        ...(withExamples ? ['--with-examples'] : []),
      ];
      // In process: the same entry function as the binary, without a start-up per variant.
      expect((await runInProcess(args, { cwd: tree.root })).code).toBe(0);
      const validated = await runInProcess(['backends', 'validate', file], { cwd: tree.root });
      expect(validated.stdout).toContain(`✓ ${file}`);
      expect(validated.code).toBe(0);

      const text = readFileSync(tree.path(file), 'utf8');
      const ref =
        ext === 'json'
          ? (JSON.parse(text) as { $schema: string }).$schema
          : /^# yaml-language-server: \$schema=(.+)$/m.exec(text)?.[1];
      // The temporary folder holds no modelrun, so the file names the published schema.
      expect(ref).toBe(publishedSchemaUrl(`${type}.schema.json`));
      expect(existsSync(join(REPO_ROOT, 'schemas', `${type}.schema.json`))).toBe(true);
      if (ext === 'yml') expect(text).toContain('# Environment variables for the model');
    },
  );

  it('names the schema by a relative path in a project that holds modelrun', async () => {
    const project = mkdtempSync(join(REPO_ROOT, '.test-project-'));
    try {
      const result = await runModelrun(
        ['backends', 'create', '--backend-type', 'slurm', '--output', 'backends/hpc.yml'],
        { cwd: project },
      );
      expect(result.code).toBe(0);
      const text = readFileSync(join(project, 'backends', 'hpc.yml'), 'utf8');
      const ref = /^# yaml-language-server: \$schema=(.+)$/m.exec(text)?.[1] ?? '';
      expect(ref).toBe(`../../schemas/slurm.schema.json`);
      expect(existsSync(resolve(project, 'backends', ref))).toBe(true);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('does not overwrite a file unless --force is given', async () => {
    const file = tree.path('existing.yml');
    writeFileSync(file, 'keep me\n');
    const refused = await runModelrun([
      'backends',
      'create',
      '--backend-type',
      'local',
      '--output',
      file,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already exists\n {2}hint: pass --force to overwrite it/);
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');
    const forced = await runModelrun([
      'backends',
      'create',
      '--backend-type',
      'local',
      '--output',
      file,
      '--force',
    ]);
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^type: local$/m);
  });

  it('requires --backend-type', async () => {
    const result = await runModelrun(['backends', 'create']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/required option '--backend-type <type>' not specified/);
  });
});

import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../test/helpers/tree.js';
import { validateBackendFile } from './backend-config.js';
import type { Layering } from './layering.js';
import { validateModelFile } from './model-file.js';
import { parseOverride } from './override-arg.js';
import { validatePipelineFile } from './pipeline-file.js';
import { loadRunRequest } from './run-request.js';
import { loadSiteConfig } from './site-config.js';

/**
 * Configs in layers, read from real files: what `extends:`, the site config
 * and `--set` merge into, and where each problem is placed.
 */

const tree = makeTree({
  'base/local.yml':
    'type: local\ntimeout: 2h\nenv_vars:\n  A: base\n  B: base\nworking_dir: data\n',
  'base/data/': '',
  'base/model.yml':
    'run_id: wave\ncommand: "true"\nconfig:\n  depth_m: 5\n  grid: {nx: 10, dx: 25}\n',
  'base/docker.yml': 'type: docker\nimage: busybox\n',
  'base/Dockerfile': 'FROM scratch\n',
  'base/docker-build.yml': 'type: docker\ndockerfile: Dockerfile\n',
  'base/bad-timeout.yml': 'type: local\ntimeout: soon\n',
  'base/env.yml': 'type: local\nenv_vars:\n  FROM_ENV: ${LAYER_VALUE}\n',
  'base/bad-env.yml': 'type: local\nenv_vars:\n  X: ${UNSET_IN_TEST:?needed}\n',
  'deep/1.yml': 'extends: 2.yml\n',
  'loop/a.yml': 'extends: b.yml\ntype: local\n',
  'loop/b.yml': 'extends: a.yml\n',
  'site.yml': 'backends:\n  local:\n    timeout: 3h\n    env_vars:\n      SITE: "yes"\n',
  'site-bad.yml': 'backends:\n  locl:\n    timeout: 3h\n',
});
for (let i = 2; i <= 12; i++)
  tree.write(`deep/${i}.yml`, i === 12 ? 'type: local\n' : `extends: ${i + 1}.yml\n`);
afterAll(() => tree.remove());

const backend = (text: string, layering: Layering = {}, env: NodeJS.ProcessEnv = {}) =>
  validateBackendFile(tree.write(`c/${Math.random().toString(36).slice(2)}.yml`, text), {
    env,
    display: 'child.yml',
    layering,
  });
const set = (...texts: string[]) => ({ overrides: texts.map((t) => parseOverride('--set', t)) });

describe('merging', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    [
      'maps merge deeply, the child wins',
      'extends: ../base/local.yml\nenv_vars:\n  B: child\n  C: child\n',
      { timeout: 7200, env_vars: { A: 'base', B: 'child', C: 'child' } },
    ],
    [
      'null removes what the base set',
      'extends: ../base/local.yml\nenv_vars:\n  A: null\ntimeout: null\n',
      { timeout: 3600, env_vars: { B: 'base' } },
    ],
    [
      'bases merge in order, the later wins',
      'extends: [../base/local.yml, ../base/env.yml]\n',
      { timeout: 7200, env_vars: { A: 'base', B: 'base', FROM_ENV: 'from-env' } },
    ],
    [
      "a relative path in a base resolves against the base's folder",
      'extends: ../base/local.yml\n',
      { working_dir: tree.path('base', 'data') },
    ],
    [
      'a chain of ten extends is read to its end',
      'extends: ../deep/3.yml\n',
      { type: 'local', timeout: 3600 },
    ],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => {
      const result = backend(text, {}, { LAYER_VALUE: 'from-env' });
      expect(result.errors).toEqual([]);
      expect(result.value).toMatchObject(want);
    });
  }

  it('lists replace, and a Dockerfile from a base builds in its folder', () => {
    const result = backend('extends: ../base/docker-build.yml\nbuild_args: {A: "1"}\n');
    expect(result.errors).toEqual([]);
    expect(result.value).toMatchObject({
      build_context: tree.path('base'),
      dockerfile: 'Dockerfile',
    });
  });
});

describe('where problems are placed', () => {
  const cases: [string, string, Layering, string[]][] = [
    [
      'a bad value from a base, in the base',
      'extends: ../base/bad-timeout.yml\n',
      {},
      [/^\.\.\/base\/bad-timeout\.yml:2:10 timeout: /.source],
    ],
    [
      'a value both files set, in the file that won',
      'extends: ../base/local.yml\ntimeout: later\n',
      {},
      [/^child\.yml:2:10 timeout: /.source],
    ],
    [
      'a rule broken across files names both places',
      'extends: ../base/docker.yml\ndockerfile: ../base/Dockerfile\n',
      {},
      [
        /^child\.yml:2:13 dockerfile: cannot specify both image and dockerfile \(image is set in \.\.\/base\/docker\.yml:2:1\)$/
          .source,
      ],
    ],
    [
      'a missing base, at its extends: entry',
      'type: local\nextends: ../base/nothere.yml\n',
      {},
      [/^child\.yml:2:10 extends: the base file \.\.\/base\/nothere\.yml does not exist/.source],
    ],
    [
      'an entry that is not a path, at the entry',
      'type: local\nextends: [../base/local.yml, 3]\n',
      {},
      [/^child\.yml:2:30 extends\[1\]: must be the path of a base file/.source],
    ],
    [
      'a cycle, at the entry that closes it',
      'extends: ../loop/a.yml\n',
      {},
      [
        /^\.\.\/loop\/b\.yml:1:10 extends: makes a cycle: \.\.\/loop\/a\.yml → \.\.\/loop\/b\.yml → \.\.\/loop\/a\.yml/
          .source,
      ],
    ],
    [
      'a chain deeper than ten, where it goes too deep',
      'extends: ../deep/1.yml\n',
      {},
      // The chain is cut there, so the type its end would have given is missing too.
      [
        /type is required/.source,
        /deep\/10\.yml:1:10 extends: goes more than 10 files deep/.source,
      ],
    ],
    [
      'a failed ${...} in a base, in the base, and once',
      'extends: ../base/bad-env.yml\n',
      {},
      [/^\.\.\/base\/bad-env\.yml:3:6 env_vars\.X: .*needed/.source],
    ],
    [
      'a bad override, at the argument',
      'type: local\n',
      set('backend.timeout=soon'),
      [/^--set backend\.timeout=soon:0:0 timeout: /.source],
    ],
    [
      'an override through a value that is not a mapping, at the argument',
      'type: local\ntimeout: 1h\n',
      set('backend.timeout.x=1'),
      [
        /^--set backend\.timeout\.x=1:0:0 timeout\.x: timeout is "1h", not a mapping or a list/
          .source,
      ],
    ],
  ];
  for (const [name, text, layering, want] of cases) {
    it(name, () => {
      const result = backend(text, layering);
      const shown = result.errors.map(
        (e) => `${e.file}:${e.line}:${e.column} ${e.path}: ${e.message}`,
      );
      expect(shown).toHaveLength(want.length);
      for (const [i, pattern] of want.entries()) expect(shown[i]).toMatch(new RegExp(pattern));
    });
  }
});

describe('--set', () => {
  it('sets, adds and removes values, and keeps their types', () => {
    const result = backend(
      'extends: ../base/local.yml\n',
      set('backend.timeout=30m', 'backend.env_vars.N=4', 'backend.env_vars.A=null'),
    );
    expect(result.errors).toEqual([]);
    expect(result.value).toMatchObject({ timeout: 1800, env_vars: { B: 'base', N: '4' } });
    expect((result.value as { env_vars: Record<string, string> }).env_vars.A).toBeUndefined();
  });

  it('warns about a config: key the model file does not have, with a guess', () => {
    const file = tree.path('base', 'model.yml');
    const result = validateModelFile(file, {}, 'model.yml', undefined, set('config.dpeth_m=9'));
    expect(result.status).toBe('valid');
    expect(result.warnings.map((w) => `${w.file} ${w.message}`)).toEqual([
      '--set config.dpeth_m=9 config has no key "dpeth_m", so this adds one, which the model sees only if it reads it; did you mean "depth_m"?',
    ]);
    expect(result.value?.config).toMatchObject({ depth_m: 5, dpeth_m: 9 });
  });

  it('says nothing of a config: key the model file has', () => {
    const file = tree.path('base', 'model.yml');
    const result = validateModelFile(file, {}, 'model.yml', undefined, set('config.grid.nx=20'));
    expect(result.warnings).toEqual([]);
    expect(result.value?.config).toMatchObject({ grid: { nx: 20, dx: 25 } });
  });

  it('masks a secret value wherever the argument is shown', () => {
    const result = backend('type: local\n', set('backend.env_vars.API_TOKEN=hunter2'));
    const shown = JSON.stringify([...result.errors, ...result.warnings]);
    expect(shown).toContain('--set backend.env_vars.API_TOKEN=***');
    expect(shown).not.toContain('hunter2');
  });
});

describe('--set, as the hostile review found it', () => {
  it('fills ${NAME} from the environment, so a secret stays off the command line, with no warning', () => {
    const result = backend(
      'type: local\n',
      set('backend.env_vars.API_TOKEN=${API_TOKEN}', 'backend.timeout=${LIMIT}'),
      { API_TOKEN: 'from-env', LIMIT: '120' },
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.value).toMatchObject({ timeout: 120, env_vars: { API_TOKEN: 'from-env' } });
  });

  it('names the --set whose ${NAME} is not set', () => {
    const result = backend('type: local\n', set('backend.env_vars.X=${NOT_SET_HERE}'));
    expect(result.errors.map((e) => `${e.file} ${e.path}`)).toEqual([
      '--set backend.env_vars.X=${NOT_SET_HERE} env_vars.X',
    ]);
  });

  it('says a list that is not there is set whole', () => {
    const file = tree.path('base', 'model.yml');
    const result = validateModelFile(
      file,
      {},
      'model.yml',
      undefined,
      set('postprocess.5.format=zip'),
    );
    expect(result.errors.map((e) => e.message)).toEqual([
      'postprocess is not set, so it has no item 5; set the whole list, such as postprocess=[…]',
    ]);
  });

  it('warns of the first config: key that is not there', () => {
    const file = tree.path('base', 'model.yml');
    const result = validateModelFile(file, {}, 'model.yml', undefined, set('config.newmap.x=1'));
    expect(result.warnings.map((w) => w.message)).toEqual([
      'config has no key "newmap", so this adds one, which the model sees only if it reads it',
    ]);
  });
});

describe('the site config', () => {
  const site = (file: string) =>
    loadSiteConfig({ MODELRUN_SITE_CONFIG: tree.path(file) }, tree.root, ['local', 'docker']);

  it('sets defaults under every config of its type, which the file overrides', () => {
    const layered = { site: site('site.yml') };
    expect(backend('type: local\n', layered).value).toMatchObject({
      timeout: 10800,
      env_vars: { SITE: 'yes' },
    });
    expect(backend('type: local\ntimeout: 1m\n', layered).value).toMatchObject({ timeout: 60 });
    expect(backend('extends: ../base/local.yml\n', layered).value).toMatchObject({ timeout: 7200 });
    expect(backend('type: docker\nimage: x\n', layered).value).toMatchObject({ timeout: 3600 });
  });

  it('takes the defaults of the type a --set switches to', () => {
    tree.write(
      'site-two.yml',
      'backends:\n  local:\n    shell: false\n  docker:\n    image: busybox\n',
    );
    const result = backend('type: local\n', {
      site: loadSiteConfig({ MODELRUN_SITE_CONFIG: tree.path('site-two.yml') }, tree.root, [
        'local',
        'docker',
      ]),
      ...set('backend.type=docker'),
    });
    expect(result.errors).toEqual([]);
    expect(result.value).toMatchObject({ type: 'docker', image: 'busybox' });
  });

  it('that is empty, or comments only, sets nothing', () => {
    tree.write('site-empty.yml', '# nothing here yet\n\n');
    const empty = loadSiteConfig({ MODELRUN_SITE_CONFIG: tree.path('site-empty.yml') }, tree.root, [
      'local',
    ]);
    expect(
      backend('type: local\n', empty === undefined ? {} : { site: empty }).value,
    ).toMatchObject({
      timeout: 3600,
    });
    expect(empty?.layerFor('local')).toBeUndefined();
  });

  it('is off without a site', () => {
    expect(backend('type: local\n').value).toMatchObject({ timeout: 3600 });
  });

  it('places a problem it causes in the site config', () => {
    const result = backend('type: local\n', {
      site: site('site.yml'),
      ...set('backend.env_vars=[1]'),
    });
    expect(result.errors.map((e) => e.file)).toEqual(['--set backend.env_vars=[1]']);
  });

  it('refuses a site config that names no backend type, saying where', () => {
    expect(() => site('site-bad.yml')).toThrow(/site config .*site-bad\.yml is not valid/);
    try {
      site('site-bad.yml');
    } catch (error) {
      expect((error as { problems: { line: number; message: string }[] }).problems).toEqual([
        expect.objectContaining({
          line: 2,
          message: 'unknown backend type "locl"; did you mean "local"?',
        }),
      ]);
    }
  });

  it('refuses a site config named by MODELRUN_SITE_CONFIG that is not there, and takes none at the default place', () => {
    expect(() => site('nothere.yml')).toThrow(/cannot be read/);
    expect(
      loadSiteConfig({ XDG_CONFIG_HOME: tree.path('no-config') }, tree.root, ['local']),
    ).toBeUndefined();
  });
});

describe('precedence', () => {
  // site < bases < the file < the pipeline's section < --backend-config < --set
  it('is the same at every step, each layer over the ones before', () => {
    tree.write(
      'p/base.yml',
      'type: local\nenv_vars: {S: base, F: base, P: base, B: base, O: base}\n',
    );
    tree.write('p/file.yml', 'extends: base.yml\nenv_vars: {F: file, P: file, B: file, O: file}\n');
    tree.write('p/model.yml', 'run_id: p\ncommand: "true"\n');
    tree.write(
      'p/pipeline.yml',
      'model: model.yml\nbackend:\n  extends: file.yml\n  env_vars: {P: pipeline, B: pipeline, O: pipeline}\n',
    );
    tree.write('p/flag.yml', 'extends: file.yml\nenv_vars: {P: flag, B: flag, O: flag}\n');
    tree.write(
      'p/site.yml',
      'backends:\n  local:\n    env_vars: {S: site, F: site, P: site, B: site, O: site}\n',
    );
    const layering = {
      site: loadSiteConfig({ MODELRUN_SITE_CONFIG: tree.path('p/site.yml') }, tree.root, ['local']),
      ...set('backend.env_vars.O=set'),
    };
    const env = (files: Parameters<typeof loadRunRequest>[0]) => {
      const load = loadRunRequest(files, { env: {}, cwd: tree.path('p'), ...layering });
      if (!('run' in load)) throw new Error(JSON.stringify(load.errors.map((e) => e.problems)));
      return load.run.backend.env_vars;
    };
    expect(env({ pipelineFile: 'pipeline.yml', postprocessorConfigs: [] })).toEqual({
      S: 'base',
      F: 'file',
      P: 'pipeline',
      B: 'pipeline',
      O: 'set',
    });
    expect(
      env({ pipelineFile: 'pipeline.yml', backendConfig: 'flag.yml', postprocessorConfigs: [] }),
    ).toEqual({ S: 'base', F: 'file', P: 'flag', B: 'flag', O: 'set' });
  });
});

describe('hostile layers', () => {
  it('refuses a base that is a FIFO without waiting for a writer', () => {
    tree.write('h/.keep', '');
    const fifo = tree.path('h', 'fifo.yml');
    execFileSync('mkfifo', [fifo]);
    const result = backend('type: local\nextends: ../h/fifo.yml\n');
    expect(result.errors.map((e) => e.message).join()).toMatch(
      /the base file \.\.\/h\/fifo\.yml: .*FIFO/i,
    );
  });

  it('refuses a base that is a device', () => {
    const result = backend('type: local\nextends: /dev/zero\n');
    expect(result.status).toBe('invalid');
    expect(result.errors[0]?.line).toBe(2);
  });

  it('follows a cycle made of a link', () => {
    symlinkSync(tree.path('loop', 'a.yml'), tree.path('loop', 'link.yml'));
    tree.write('loop/c.yml', 'extends: link.yml\n');
    const result = backend('extends: ../loop/c.yml\n');
    expect(result.errors.map((e) => e.message).join()).toMatch(/makes a cycle/);
  });

  it('keeps __proto__ a key in a file, and refuses it in --set', () => {
    const result = backend('extends: ../base/local.yml\n__proto__: {polluted: 1}\n');
    expect(result.status).toBe('invalid');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => set('backend.__proto__.x=1')).toThrow(/a key cannot be __proto__/);
  });

  it('reads each base once, however many files extend it, so repeats cannot make it slow', () => {
    for (let i = 1; i <= 9; i++)
      tree.write(
        `fan/b${i}.yml`,
        `extends: [${Array(9)
          .fill(`b${i + 1}.yml`)
          .join(', ')}]\ntype: local\n`,
      );
    tree.write('fan/b10.yml', 'type: local\ntimeout: 2m\n');
    const result = backend('extends: ../fan/b1.yml\n');
    expect(result.errors).toEqual([]);
    expect(result.value).toMatchObject({ timeout: 120 });
    // Nine to the ninth reads before; ten bases and the file now.
    expect(result.layers).toHaveLength(11);
  });

  it('reads a base listed many times once, and refuses a list of more than 100', () => {
    tree.write('many/b.yml', 'type: local\n');
    const listed = (n: number) => `extends:\n${'  - ../many/b.yml\n'.repeat(n)}timeout: 10m\n`;
    const hundred = backend(listed(100));
    expect(hundred.errors).toEqual([]);
    expect(hundred.layers).toHaveLength(2);
    // The list is not read, so the type its bases would have given is missing too.
    expect(backend(listed(101)).errors.map((e) => `${e.line} ${e.message}`)).toEqual([
      expect.stringMatching(/^1 type is required/),
      '2 lists 101 bases; at most 100 make one config',
    ]);
  });

  it('merges a base two files extend where it is first reached', () => {
    tree.write('dia/z.yml', 'type: local\ntimeout: 5m\n');
    tree.write('dia/x.yml', 'extends: z.yml\ntimeout: 2m\n');
    tree.write('dia/y.yml', 'extends: z.yml\n');
    expect(backend('extends: [../dia/x.yml, ../dia/y.yml]\n').value).toMatchObject({
      timeout: 120,
    });
  });

  it('refuses an alias inside its own anchor, in a base or in the file', () => {
    tree.write('self/base.yml', 'type: local\nenv_vars: &a {A: *a}\n');
    for (const text of ['extends: ../self/base.yml\n', 'type: local\nrec: &q [*q]\n']) {
      const result = backend(text);
      expect(result.status).toBe('invalid');
      expect(result.errors.map((e) => e.message).join()).toMatch(
        /an alias refers to the anchor it sits in/,
      );
      // At the alias, not at the top of the file.
      expect(result.errors.find((e) => /alias/.test(e.message))?.line).toBe(2);
    }
  });

  it('a pipeline section that extends its own file is a cycle', () => {
    tree.write(
      'selfpipe/pipe.yml',
      'model:\n  extends: pipe.yml\n  run_id: x\n  command: "true"\n',
    );
    const result = validatePipelineFile(tree.path('selfpipe/pipe.yml'), {}, 'pipe.yml');
    expect(result.errors.map((e) => `${e.line} ${e.message}`)).toEqual([
      expect.stringMatching(/^2 makes a cycle: pipe\.yml → pipe\.yml/),
    ]);
  });

  it('validates a pipeline whose inline backend extends a file, and places a problem in that file', () => {
    tree.write('pp/bad.yml', 'type: local\ntimeout: never\n');
    tree.write(
      'pp/pipeline.yml',
      'model:\n  run_id: x\n  command: "true"\nbackend:\n  extends: bad.yml\n',
    );
    const result = validatePipelineFile(tree.path('pp/pipeline.yml'), {}, 'pipeline.yml');
    expect(result.errors.map((e) => `${e.file}:${e.line} ${e.path}`)).toEqual([
      'bad.yml:2 backend.timeout',
    ]);
  });
});

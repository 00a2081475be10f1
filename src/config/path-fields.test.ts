import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { apptainerFields, rebaseImage } from '../backends/containers/apptainer-fields.js';
import { backendRegistry, backendTypes, findBackend } from '../backends/registry.js';
import { backendConfigSchema } from '../load/backend-config.js';
import { ensembleConfigSchema } from '../load/ensemble-file.js';
import { modelConfigSchema } from '../load/model-schema.js';
import { pipelineConfigSchema } from '../load/pipeline-file.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import { commonFields } from './base.js';
import { documented } from './fields.js';
import { bindList, containerPath, rebaseMountSource, volumeList } from './mounts.js';
import type { PathContext, PathKind } from './path-context.js';
import { pathFields, rebaseFields, rebasePath } from './path-fields.js';
import { anyPath, existingPath } from './paths.js';

/** The base file's folder, and the folder of the file that extends it. */
const BASE = '/cfg/base';
const CHILD = '/cfg/child';
const HOME = '/home/me';

const TREE = new Map<string, PathKind>([
  [BASE, 'directory'],
  [CHILD, 'directory'],
  [`${BASE}/run`, 'directory'],
  [`${BASE}/data`, 'directory'],
  [`${BASE}/ctx`, 'directory'],
  [`${BASE}/ctx/Dockerfile`, 'file'],
  [`${BASE}/Dockerfile`, 'file'],
  [`${BASE}/images/model.sif`, 'file'],
  [`${BASE}/model.def`, 'file'],
  [`${BASE}/template`, 'directory'],
  [`${BASE}/model.yml`, 'file'],
  [`${BASE}/backends/docker.yml`, 'file'],
  ['/srv/data', 'directory'],
  [`${HOME}/data`, 'directory'],
]);

function memoryContext(baseDir: string): PathContext {
  return { baseDir, home: HOME, kindOf: (path) => TREE.get(path) ?? 'missing' };
}

type Data = Record<string, unknown>;
type Build = (ctx: PathContext) => z.ZodType;

const ctx = memoryContext(BASE);
const docs = { description: 'a path', examples: [] };

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>(
    (value, key) => (value as Record<string | number, unknown>)[key],
    data,
  );
}

/** Each path field found, as dotted path → its value rebased onto BASE (or the siblings it sets). */
function rebasedFields(schema: z.ZodType, data: unknown): Record<string, unknown> {
  return Object.fromEntries(
    pathFields(schema, data).map((field) => [
      field.path.join('.'),
      field.rebase(
        String(valueAt(data, field.path)),
        BASE,
        valueAt(data, field.path.slice(0, -1)) as Record<string, unknown>,
      ),
    ]),
  );
}

describe('the builders mark the schema the walk meets', () => {
  it.each<[string, () => z.core.$ZodType]>([
    ['existingPath', () => existingPath(ctx, 'file', docs)],
    ['existingPath().optional()', () => existingPath(ctx, 'directory', docs).optional()],
    ['existingPath().prefault()', () => existingPath(ctx, 'file', docs).prefault('x')],
    [
      'documented(existingPath()), a copy by .meta()',
      () => documented(existingPath(ctx, 'file', docs), docs),
    ],
    ["commonFields' working_dir", () => commonFields(ctx).working_dir],
    [
      // As slurm's directivePath does: .superRefine() and .meta() copy the schema.
      'working_dir.unwrap().superRefine().meta().optional()',
      () =>
        commonFields(ctx)
          .working_dir.unwrap()
          .superRefine(() => undefined)
          .meta({ pattern: '.' })
          .optional(),
    ],
    ['anyPath', () => anyPath(ctx, docs)],
    ['anyPath().default()', () => anyPath(ctx, docs).default('/x')],
    ['a union of anyPath and a mapping', () => z.union([anyPath(ctx, docs), z.object({})])],
    ["apptainer's image", () => apptainerFields(ctx).image],
    ["apptainer's definition", () => apptainerFields(ctx).definition],
    ["apptainer's cache_dir", () => apptainerFields(ctx).cache_dir],
  ])('%s', (_, build) => {
    expect(pathFields(build(), 'x').map((field) => field.path)).toEqual([[]]);
  });

  it.each([
    ['volumeList', volumeList(ctx)],
    ['bindList', bindList(ctx)],
  ])('%s marks each entry, not the list', (_, list) => {
    expect(pathFields(list, ['data:/d', '/srv/data']).map((field) => field.path)).toEqual([
      [0],
      [1],
    ]);
    expect(pathFields(list, 'data:/d')).toEqual([]);
  });

  it.each([
    ['a plain string', z.string()],
    ['a container path', containerPath(docs)],
  ])('%s is not a path field', (_, schema) => {
    expect(pathFields(schema, 'x')).toEqual([]);
  });
});

describe('the kinds of schema the walk reads through', () => {
  const path = anyPath(ctx, docs);
  const lazy: z.ZodType = z.lazy(() => z.object({ file: path, next: lazy.optional() }));
  it.each<[string, z.core.$ZodType, unknown, string[]]>([
    ['a record', z.record(z.string(), path), { a: 'x', b: 1 }, ['a']],
    ['a tuple with a rest', z.tuple([z.number(), path], path), [1, 'x', 'y'], ['1', '2']],
    ['a lazy schema', lazy, { file: 'x', next: { file: 'y' } }, ['file', 'next.file']],
    [
      'an intersection',
      z.intersection(z.object({ a: path }), z.object({ b: path })),
      { a: 'x', b: 'y' },
      ['a', 'b'],
    ],
    ['nullable, readonly, catch', path.nullable().readonly().catch(null), 'x', ['']],
    ['a loose object', z.looseObject({ a: path }), { a: 'x', b: 'y' }, ['a']],
    ['an object with a catchall', z.object({}).catchall(path), { a: 'x' }, ['a']],
    ['a pipe: its input side only', z.string().pipe(path), 'x', []],
    ['a union by JavaScript type', z.union([z.number(), z.array(path)]), ['x'], ['0']],
  ])('%s', (_, schema, data, expected) => {
    expect(pathFields(schema, data).map((field) => field.path.join('.'))).toEqual(expected);
  });
});

describe('rebasing', () => {
  it.each([
    [rebasePath, 'data', `${BASE}/data`],
    [rebasePath, './a/../b/', `${BASE}/b`],
    [rebasePath, '~user/x', `${BASE}/~user/x`],
    [rebasePath, '/srv/data', '/srv/data'],
    [rebasePath, '~', '~'],
    [rebasePath, '~/data', '~/data'],
    [rebasePath, '', ''],
    [rebaseMountSource, 'data:/data:ro', `${BASE}/data:/data:ro`],
    [rebaseMountSource, 'data', `${BASE}/data`],
    [rebaseMountSource, '/srv/data:/srv', '/srv/data:/srv'],
    [rebaseMountSource, '~/data:/data', '~/data:/data'],
    [rebaseMountSource, ':/data', ':/data'],
    [rebaseImage, 'images/model.sif', `${BASE}/images/model.sif`],
    [rebaseImage, 'docker://ubuntu:22.04', 'docker://ubuntu:22.04'],
    [rebaseImage, 'oras://ghcr.io/me/model:1', 'oras://ghcr.io/me/model:1'],
    [rebaseImage, 'library://me/model', 'library://me/model'],
    // Refused as it is, with the scheme named in the message.
    [rebaseImage, 'https://example.org/model.sif', 'https://example.org/model.sif'],
  ])('%o: %j → %j', (rebase, written, rebased) => {
    expect(rebase(written, BASE)).toBe(rebased);
  });
});

const backend = (type: string): Build => {
  const found = findBackend(type);
  if (found === undefined) throw new Error(`no backend ${type}`);
  return (c) => found.configSchema(c) as z.ZodType;
};

describe('the path fields of the real schemas', () => {
  it.each<[string, Build, unknown, Record<string, unknown>]>([
    [
      'local working_dir',
      backend('local'),
      { type: 'local', working_dir: 'run', command: 'x' },
      { working_dir: `${BASE}/run` },
    ],
    [
      'docker volumes, not its image',
      backend('docker'),
      { type: 'docker', image: 'ubuntu:22.04', volumes: ['data:/data:ro', '/srv/data:/srv'] },
      { 'volumes.0': `${BASE}/data:/data:ro`, 'volumes.1': '/srv/data:/srv' },
    ],
    [
      // dockerfile is relative to build_context, which moves on its own.
      'docker build_context, and dockerfile as it is',
      backend('docker'),
      { type: 'docker', dockerfile: 'Dockerfile', build_context: 'ctx', build_args: { A: 'b' } },
      { build_context: `${BASE}/ctx`, dockerfile: 'Dockerfile' },
    ],
    [
      'docker dockerfile without build_context, which it names',
      backend('docker'),
      { type: 'docker', dockerfile: 'docker/Dockerfile' },
      { dockerfile: { build_context: `${BASE}/docker`, dockerfile: 'Dockerfile' } },
    ],
    [
      'apptainer image as a path',
      backend('apptainer'),
      { type: 'apptainer', image: 'images/model.sif' },
      { image: `${BASE}/images/model.sif` },
    ],
    [
      'apptainer docker:// image',
      backend('apptainer'),
      { type: 'apptainer', image: 'docker://ubuntu:22.04' },
      { image: 'docker://ubuntu:22.04' },
    ],
    [
      'apptainer definition, binds and cache_dir, not home',
      backend('apptainer'),
      {
        type: 'apptainer',
        definition: 'model.def',
        binds: ['data'],
        cache_dir: '~/c',
        home: 'h:/home/me',
      },
      { definition: `${BASE}/model.def`, 'binds.0': `${BASE}/data`, cache_dir: '~/c' },
    ],
    [
      'slurm working_dir, output_file and error_file',
      backend('slurm'),
      {
        type: 'slurm',
        working_dir: 'run',
        output_file: 'logs/%j.out',
        error_file: '/tmp/%j.err',
        job_name: 'x',
      },
      { working_dir: `${BASE}/run`, output_file: `${BASE}/logs/%j.out`, error_file: '/tmp/%j.err' },
    ],
    [
      'slurm container: apptainer',
      backend('slurm'),
      {
        type: 'slurm',
        container: {
          type: 'apptainer',
          image: 'images/model.sif',
          binds: ['data:/d'],
          cache_dir: 'c',
        },
      },
      {
        'container.image': `${BASE}/images/model.sif`,
        'container.binds.0': `${BASE}/data:/d`,
        'container.cache_dir': `${BASE}/c`,
      },
    ],
    [
      'slurm container: docker',
      backend('slurm'),
      { type: 'slurm', container: { type: 'docker', image: 'ubuntu:22.04', volumes: ['data:/d'] } },
      { 'container.volumes.0': `${BASE}/data:/d` },
    ],
    [
      'the backend union, by type',
      backendConfigSchema,
      { type: 'apptainer', image: 'a.sif', working_dir: 'run' },
      { image: `${BASE}/a.sif`, working_dir: `${BASE}/run` },
    ],
    [
      'the backend union, unknown type',
      backendConfigSchema,
      { type: 'podman', image: 'a.sif' },
      {},
    ],
    [
      'model output_dir, template and postprocessors, not config',
      (c) => modelConfigSchema(c),
      {
        run_id: 'r',
        output_dir: 'sims',
        template: 'template',
        config: { input: 'data/in.nc' },
        postprocess: [
          { type: 'checksum', output: 'SUMS' },
          { type: 'archive', destination: 'a.zip' },
        ],
      },
      {
        output_dir: `${BASE}/sims`,
        template: `${BASE}/template`,
        'postprocess.1.destination': `${BASE}/a.zip`,
      },
    ],
    [
      'postprocessor archive destination',
      (c) => postprocessorSchema(c),
      { type: 'archive', destination: 'out/a.tar.gz' },
      { destination: `${BASE}/out/a.tar.gz` },
    ],
    [
      'pipeline model and backend as paths',
      pipelineConfigSchema,
      {
        $schema: '../schemas/pipeline.schema.json',
        model: 'model.yml',
        backend: 'backends/docker.yml',
      },
      { model: `${BASE}/model.yml`, backend: `${BASE}/backends/docker.yml` },
    ],
    [
      'pipeline model and backend inline',
      pipelineConfigSchema,
      {
        model: { run_id: 'r', output_dir: 'sims' },
        backend: { type: 'docker', image: 'x', volumes: ['data:/d'] },
        postprocess: [{ type: 'archive', destination: 'a.zip' }],
      },
      {
        'model.output_dir': `${BASE}/sims`,
        'backend.volumes.0': `${BASE}/data:/d`,
        'postprocess.0.destination': `${BASE}/a.zip`,
      },
    ],
  ])('%s', (_, build, data, expected) => {
    expect(rebasedFields(build(ctx), data)).toEqual(expected);
  });
});

describe('data that does not fit the schema', () => {
  const model = modelConfigSchema(ctx);
  const backends = backendConfigSchema(ctx);
  const pipeline = pipelineConfigSchema(ctx);
  const cyclic: Data = { run_id: 'r' };
  cyclic.config = cyclic;
  it.each<[string, z.ZodType, unknown, string[]]>([
    ['nothing', backends, undefined, []],
    ['null', backends, null, []],
    ['a number', model, 42, []],
    ['a string for a mapping', model, 'model.yml', []],
    ['a list for a mapping', backends, [{ type: 'local', working_dir: 'run' }], []],
    ['no type', backends, { working_dir: 'run' }, []],
    ['a type that is not text', backends, { type: ['docker'], working_dir: 'run' }, []],
    ['a number for a path', backends, { type: 'local', working_dir: 42 }, []],
    ['a mapping for a path', model, { output_dir: { path: 'sims' } }, []],
    ['a string for a list of volumes', backends, { type: 'docker', volumes: 'data:/d' }, []],
    [
      'a list of odd entries',
      backends,
      { type: 'apptainer', binds: [1, null, ['x'], 'data'] },
      ['binds.3'],
    ],
    ['a string for postprocessors', model, { postprocess: 'archive' }, []],
    [
      'a postprocessor of no known type',
      model,
      { postprocess: [{ type: 'tar', destination: 'a' }] },
      [],
    ],
    ['a number for the model', pipeline, { model: 42, backend: true }, []],
    ['a list for the model', pipeline, { model: ['model.yml'] }, []],
    ['data that holds itself', model, cyclic, []],
    ['unknown keys', model, JSON.parse('{"output": "sims", "__proto__": "sims"}'), []],
  ])('%s: no throw, only strings', (_, schema, data, expected) => {
    const found = pathFields(schema, data);
    expect(found.map((field) => field.path.join('.'))).toEqual(expected);
    for (const field of found) expect(typeof valueAt(data, field.path)).toBe('string');
  });
});

/**
 * Sample files, valid as they are in BASE, that between them set every
 * field of their schema (checked below), with relative paths wherever a
 * path is allowed and relative-looking text everywhere else.
 */
const WORKING_DIR = { working_dir: 'run', env_vars: { MODE: 'hindcast' } };
const APPTAINER_BLOCK = {
  image: 'images/model.sif',
  binds: ['data', 'data:/data:ro', '/srv/data', '~/data:/home/data'],
  cleanenv: false,
  no_home: false,
  home: 'home:/home/me',
  mount_path: '/app/run',
  containall: true,
  writable_tmpfs: true,
  nv: true,
  rocm: true,
  pwd: '/app/run',
  executable: 'bin/run',
  mpiexec: 'mpirun',
  cpu: 4,
  memory: '4g',
  cache_dir: 'cache',
  binary: 'singularity',
  extra_args: ['--fakeroot'],
};
const DOCKER_BLOCK = {
  cpu: 2,
  memory: '4g',
  shm_size: '1g',
  volumes: ['data:/data:ro', '/srv/data:/srv', '~/data:/home/data'],
  user: '1000:1000',
  executable: 'bin/model',
  mpiexec: 'mpirun',
  mount_path: '/app/run',
  remove_container: false,
  gpus: 'all',
  network: 'none',
  pull_policy: 'never',
};
const BACKEND_SAMPLES: Record<string, Data[]> = {
  local: [
    {
      $schema: '../schemas/local.schema.json',
      type: 'local',
      timeout: '90m',
      ...WORKING_DIR,
      command: 'bin/run',
      shell: false,
      capture_output: true,
      stream_output: false,
    },
  ],
  docker: [
    {
      $schema: 'docker.schema.json',
      type: 'docker',
      timeout: 7200,
      ...WORKING_DIR,
      image: 'ubuntu:22.04',
      ...DOCKER_BLOCK,
      docker_host: 'tcp://build-host:2375',
    },
    {
      type: 'docker',
      ...WORKING_DIR,
      dockerfile: 'Dockerfile',
      build_context: 'ctx',
      build_args: { V: '1' },
    },
  ],
  apptainer: [
    {
      $schema: 'apptainer.schema.json',
      type: 'apptainer',
      timeout: '1h',
      ...WORKING_DIR,
      ...APPTAINER_BLOCK,
    },
    { type: 'apptainer', ...WORKING_DIR, image: 'docker://ubuntu:22.04' },
    { type: 'apptainer', ...WORKING_DIR, definition: 'model.def' },
  ],
  slurm: [
    {
      $schema: 'slurm.schema.json',
      type: 'slurm',
      ...WORKING_DIR,
      timeout: '1h',
      queue_timeout: '30m',
      queue: 'compute',
      nodes: 2,
      ntasks: 8,
      cpus_per_task: 4,
      mem: '16G',
      time_limit: '04:00:00',
      account: 'ocean',
      qos: 'normal',
      reservation: 'r1',
      constraint: 'skylake',
      gres: 'gpu:2',
      gpus: 2,
      exclusive: true,
      job_name: 'wave',
      output_file: 'logs/%j.out',
      error_file: 'logs/%j.err',
      mail_type: ['END', 'FAIL'],
      mail_user: 'me@example.org',
      postprocess_on: 'node',
      additional_options: ['--requeue'],
      command: 'srun ./model',
    },
    {
      type: 'slurm',
      ...WORKING_DIR,
      mem_per_cpu: '2G',
      container: { type: 'apptainer', definition: 'model.def' },
    },
    { type: 'slurm', ...WORKING_DIR, container: { type: 'apptainer', ...APPTAINER_BLOCK } },
    {
      type: 'slurm',
      ...WORKING_DIR,
      container: { type: 'docker', image: 'ubuntu:22.04', ...DOCKER_BLOCK },
    },
  ],
};
const MODEL_SAMPLES: Data[] = [
  {
    $schema: 'model.schema.json',
    run_id: 'r1',
    output_dir: 'sims',
    run_id_subdir: false,
    delete_existing: true,
    period: { start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z', interval: '1h' },
    template: 'template',
    config: { input: 'data/in.nc' },
    command: 'node wave.js',
    mpi: true,
    postprocess: [
      {
        $schema: 'postprocess-noop.schema.json',
        type: 'noop',
        stop_on_error: true,
        validate_outputs: false,
      },
      {
        type: 'archive',
        format: 'zip',
        include: ['output/**'],
        exclude: ['tmp/**'],
        destination: 'archives/a.zip',
      },
      { type: 'checksum', output: 'sums/SHA256SUMS', include: ['output/**'], exclude: ['tmp/**'] },
      { type: 'command', command: 'python plot.py', timeout: '10m', env_vars: { FORMAT: 'png' } },
    ],
  },
];
const PIPELINE_SAMPLES: Data[] = [
  { $schema: 'pipeline.schema.json', model: 'model.yml', backend: 'backends/docker.yml' },
  ...MODEL_SAMPLES.map((model) => ({ model, postprocess: model.postprocess })),
  ...Object.values(BACKEND_SAMPLES).flatMap((samples) =>
    samples.map((backend) => ({ model: 'model.yml', backend })),
  ),
];

const ENSEMBLE_SAMPLES: Data[] = [
  ...PIPELINE_SAMPLES,
  {
    $schema: 'ensemble.schema.json',
    model: 'model.yml',
    ensemble_id: 'study',
    output_dir: 'sims',
    run_id: 'r-{{ member.depth_m }}',
    // Keys without dots: the coverage check splits keys at dots.
    parameters: { depth_m: [1, 2] },
    members: [{ depth_m: 3 }],
    replicas: 2,
    max_parallel: 2,
    fail_fast: true,
    aggregate: [{ type: 'archive', destination: 'all.tar.gz' }],
  },
  ...MODEL_SAMPLES.map((model) => ({ model: 'model.yml', aggregate: model.postprocess })),
];

const SUITES: [string, Build, Data[]][] = [
  ...backendRegistry.map((b): [string, Build, Data[]] => [
    b.type,
    backend(b.type),
    BACKEND_SAMPLES[b.type] ?? [],
  ]),
  ['model', (c) => modelConfigSchema(c), MODEL_SAMPLES],
  ['pipeline', pipelineConfigSchema, PIPELINE_SAMPLES],
  ['ensemble', ensembleConfigSchema, ENSEMBLE_SAMPLES],
];

/** The data with every path field that pathFields finds rebased onto `dir`, as a loader would. */
function moved(schema: z.ZodType, data: Data, dir: string): Data {
  const copy = structuredClone(data);
  rebaseFields(schema, copy, () => dir);
  return copy;
}

/**
 * Whether pathFields knows every path field: a sample read in BASE must
 * give the same config as the sample rebased onto BASE and read in CHILD.
 * A field that resolves against the config's folder without being marked
 * (a new resolveConfigPath, or a hand-made resolve(ctx.baseDir, …)) comes
 * out under CHILD and fails this; a field marked that is not a path comes
 * out under BASE and fails it too. The coverage test below makes sure the
 * samples set every field, so a new field cannot pass by being left out.
 */
describe('rebasing what pathFields finds is all that moving a file needs', () => {
  const cases = SUITES.flatMap(([name, build, samples]) =>
    samples.map((sample, i): [string, Build, Data] => [`${name} #${i + 1}`, build, sample]),
  );
  it.each(cases)('%s', (_, build, sample) => {
    const there = build(ctx).safeParse(sample);
    expect(there.error?.issues).toBeUndefined();
    const here = build(memoryContext(CHILD));
    expect(here.safeParse(moved(build(ctx), sample, BASE))).toEqual(there);
    // The sample has a relative path to move: without rebasing, it reads otherwise.
    expect(here.safeParse(sample)).not.toEqual(there);
  });

  // A dockerfile without build_context is relative to the file's own folder,
  // which is also the build context; it cannot be rebased alone, as the
  // schema refuses an absolute dockerfile: it moves with a build_context.
  it('a docker dockerfile without build_context moves with one', () => {
    const sample = { type: 'docker', dockerfile: 'Dockerfile' };
    const build = backend('docker');
    const there = build(ctx).safeParse(sample);
    expect(there.success).toBe(true);
    expect(build(memoryContext(CHILD)).safeParse(moved(build(ctx), sample, BASE))).toEqual(there);
  });

  it('has samples of every backend', () => {
    expect(Object.keys(BACKEND_SAMPLES)).toEqual(backendTypes);
  });

  it.each(SUITES)('the %s samples set every field of the schema', (_, build, samples) => {
    const set = new Set<string>();
    for (const sample of samples) dataKeys(sample, '', set);
    const unset = [...schemaKeys(build(ctx), '', new Set(), 0)].filter(
      (key) => ![...set].some((written) => covers(key, written)),
    );
    expect(unset).toEqual([]);
  });
});

const join = (prefix: string, key: string) => (prefix === '' ? key : `${prefix}.${key}`);

/** Every key a schema's mappings can hold, dotted; `*` stands for a list entry or a record's key. */
function schemaKeys(
  schema: z.core.$ZodType,
  prefix: string,
  out: Set<string>,
  depth: number,
): Set<string> {
  if (depth > 30) return out;
  const def = schema._zod.def as z.core.$ZodTypes['_zod']['def'];
  const inner = (next: z.core.$ZodType, at = prefix) => schemaKeys(next, at, out, depth + 1);
  switch (def.type) {
    case 'object':
      for (const [key, field] of Object.entries(def.shape)) {
        // The loader reads extends: and takes it out before the check, which refuses it.
        if (key === 'extends') continue;
        out.add(join(prefix, key));
        inner(field, join(prefix, key));
      }
      break;
    case 'record':
      out.add(join(prefix, '*'));
      inner(def.valueType, join(prefix, '*'));
      break;
    case 'array':
      inner(def.element, join(prefix, '*'));
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      inner(def.innerType);
      break;
    case 'pipe':
      inner(def.in);
      break;
    case 'lazy':
      inner(def.getter());
      break;
    case 'union':
      for (const option of def.options) inner(option);
      break;
    case 'intersection':
      inner(def.left);
      inner(def.right);
      break;
  }
  return out;
}

/** Every key the data holds, dotted, with `*` for list entries. */
function dataKeys(data: unknown, prefix: string, out: Set<string>): void {
  if (Array.isArray(data)) {
    for (const item of data) dataKeys(item, join(prefix, '*'), out);
  } else if (data !== null && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) {
      out.add(join(prefix, key));
      dataKeys(value, join(prefix, key), out);
    }
  }
}

function covers(schemaKey: string, written: string): boolean {
  const want = schemaKey.split('.');
  const have = written.split('.');
  return want.length === have.length && want.every((part, i) => part === '*' || part === have[i]);
}

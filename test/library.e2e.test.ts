import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';
import { type PackedInstall, packedInstall } from './helpers/packed.js';
import { isRunning } from './helpers/processes.js';
import { uniqueId } from './helpers/unique-id.js';

const run = promisify(execFile);
let packed: PackedInstall;

beforeAll(async () => {
  packed = await packedInstall();
}, 120_000);
afterAll(() => packed?.remove());

/** A user's script, written as the README shows: every export it uses comes from 'modelrun'. */
const CONSUMER = `
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConfigError,
  jsonSchemas,
  type ModelConfig,
  type RunRecord,
  runModel,
  type ValidationIssue,
  validateBackend,
  validateModel,
} from 'modelrun';

const [dir, runId] = process.argv.slice(2) as [string, string];
writeFileSync(\`\${dir}/docker.yml\`, 'type: docker\\nimage: alpine\\ncpu: lots\\n');
const bad = validateBackend(\`\${dir}/docker.yml\`);
const issue: ValidationIssue | undefined = bad.errors[0];

const model = validateModel({ run_id: runId, output_dir: dir, command: 'echo hi; exit 4' });
const value: ModelConfig | undefined = model.value;
if (value === undefined) throw new Error('the model should be valid');

const schema = jsonSchemas()['docker.schema.json'];
const record: RunRecord = await runModel({ model: value });

let rejected = '';
try {
  await runModel({ model: { run_id: runId, command: 'true', timeout: 'soon' } });
} catch (error) {
  if (error instanceof ConfigError) rejected = error.name;
}

const controller = new AbortController();
const pidFile = \`\${dir}/pid\`;
const long = runModel({
  model: { run_id: \`\${runId}-long\`, output_dir: dir, command: \`echo $$ > \${pidFile}; exec sleep 60\` },
  signal: controller.signal,
});
let pid = 0;
while (pid === 0) {
  await sleep(100);
  try { pid = Number(readFileSync(pidFile, 'utf8')); } catch {}
}
controller.abort();
const cancelled = await long;

console.log(JSON.stringify({
  line: issue?.line, path: issue?.path, schema: schema?.title,
  status: record.status, exit: record.exit_code, rejected, cancelled: cancelled.status, pid,
}));
`;

it('a TypeScript consumer type-checks against the packed tarball and runs', async () => {
  const dir = packed.prefix;
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        lib: ['ES2023'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
        outDir: 'out',
      },
      files: ['consumer.ts'],
    }),
  );
  // The package is ESM; the consumer is too.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch(
    (error: { stdout: string }) => ({ stdout: error.stdout, failed: true }),
  );
  expect(compiled.stdout).toBe('');
  const { stdout, stderr } = await run(
    process.execPath,
    [join(dir, 'out', 'consumer.js'), dir, uniqueId('consumer')],
    { cwd: dir, timeout: 60_000 },
  );
  expect(stderr).toBe('');
  const result = JSON.parse(stdout) as Record<string, unknown>;
  expect(result).toEqual({
    line: 3,
    path: 'cpu',
    schema: 'modelrun docker backend config',
    status: 'failed',
    exit: 4,
    rejected: 'ConfigError',
    cancelled: 'cancelled',
    pid: expect.any(Number),
  });
  expect(isRunning(result.pid as number)).toBe(false);
}, 180_000);

it('the bundled types import nothing but zod and node built-ins', async () => {
  const { readFile } = await import('node:fs/promises');
  const types = await readFile(join(packed.packageDir, 'dist', 'index.d.ts'), 'utf8');
  const imported = [...types.matchAll(/from ['"]([^'"]+)['"]/g)].map((m) => m[1]);
  expect(imported.filter((name) => name !== 'zod' && !name?.startsWith('node:'))).toEqual([]);
});

it('importing the library starts nothing, hooks nothing, prints nothing and lets the process end', async () => {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'uncaughtException', 'unhandledRejection'];
  const resultFile = join(packed.prefix, `${uniqueId('import')}.json`);
  // The counts go to a file: stdout and stderr must stay empty.
  const script = `
    import { writeFileSync } from 'node:fs';
    const events = ${JSON.stringify(events)};
    const before = events.map((e) => process.listenerCount(e));
    const library = await import('modelrun');
    const after = events.map((e) => process.listenerCount(e));
    writeFileSync(${JSON.stringify(resultFile)}, JSON.stringify({ before, after, runModel: typeof library.runModel }));
  `;
  const started = Date.now();
  const child = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: packed.prefix,
    timeout: 15_000,
  });
  expect(child).toEqual({ stdout: '', stderr: '' });
  // It ended by itself, long before the timeout: no handle kept it open.
  expect(Date.now() - started).toBeLessThan(10_000);
  const { readFile } = await import('node:fs/promises');
  expect(JSON.parse(await readFile(resultFile, 'utf8'))).toEqual({
    before: [0, 0, 0, 0, 0],
    after: [0, 0, 0, 0, 0],
    runModel: 'function',
  });
});

it('a run leaves no signal listener behind and process.emit and process.reallyExit as they were', async () => {
  const dir = packed.prefix;
  const resultFile = join(dir, `${uniqueId('hooks')}.json`);
  const script = `
    import { constants } from 'node:os';
    import { writeFileSync } from 'node:fs';
    import { runModel } from 'modelrun';
    const events = [...Object.keys(constants.signals), 'exit'];
    const count = () => Object.fromEntries(events.map((e) => [e, process.listenerCount(e)]));
    const { emit, reallyExit } = process;
    const before = count();
    // A real local run: it takes the staging lock and starts the model through execa.
    const record = await runModel({
      model: { run_id: ${JSON.stringify(uniqueId('hooks'))}, output_dir: ${JSON.stringify(dir)}, command: 'echo hi' },
    });
    writeFileSync(${JSON.stringify(resultFile)}, JSON.stringify({
      status: record.status, before, after: count(),
      emit: process.emit === emit, reallyExit: process.reallyExit === reallyExit,
    }));
  `;
  await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, timeout: 60_000 });
  const { readFile } = await import('node:fs/promises');
  const result = JSON.parse(await readFile(resultFile, 'utf8')) as Record<string, unknown>;
  expect(result).toEqual({
    status: 'succeeded',
    before: result.before,
    after: result.before,
    emit: true,
    reallyExit: true,
  });
}, 120_000);

it('a CommonJS script can require() it (Node 20.19 and later load ES modules that way)', async () => {
  const script = join(packed.prefix, `${uniqueId('consumer')}.cjs`);
  writeFileSync(
    script,
    `const { validateBackend, ConfigError } = require('modelrun');
     const { errors } = validateBackend({ type: 'local', timeout: 'soon' });
     console.log(JSON.stringify({ path: errors[0]?.path, ConfigError: typeof ConfigError }));`,
  );
  const { stdout, stderr } = await run(process.execPath, [script], { cwd: packed.prefix });
  expect(stderr).toBe('');
  expect(JSON.parse(stdout)).toEqual({ path: 'timeout', ConfigError: 'function' });
});

/** Narrows configs by `type`, and needs nothing from @types/node. */
const NARROWING = `
import {
  type ArchiveConfig, type DockerConfig, type OutputStream, runModel, validateBackend, validatePostprocessor,
} from 'modelrun';
const backend = validateBackend({ type: 'docker', image: 'alpine' });
if (backend.value?.type === 'docker') {
  const docker: DockerConfig = backend.value;
  docker.image satisfies string | undefined;
}
const post = validatePostprocessor({ type: 'archive' });
if (post.value?.type === 'archive') {
  const archive: ArchiveConfig = post.value;
  archive.format satisfies string;
}
const out: OutputStream = { write: (chunk: string | Uint8Array) => chunk.length };
export const run = () => runModel({ model: 'model.yml', env: { A: '1' }, stdout: out });
`;

it('configs narrow by type, and the types compile without @types/node', async () => {
  const dir = packed.prefix;
  writeFileSync(join(dir, 'narrowing.ts'), NARROWING);
  const config = join(dir, 'tsconfig.no-node.json');
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        // zod's own declarations need URL, from the DOM library or @types/node.
        lib: ['ES2023', 'DOM'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        skipLibCheck: false,
        types: [],
        typeRoots: [],
        noEmit: true,
      },
      files: ['narrowing.ts'],
    }),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = await run(process.execPath, [tsc, '-p', config], { cwd: dir }).catch(
    (error: { stdout: string }) => ({ stdout: error.stdout }),
  );
  expect(compiled.stdout).toBe('');
}, 120_000);

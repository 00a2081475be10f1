/**
 * Every backend config rule, as a passing or failing case. The rules test
 * validates each one; the schema agreement test runs each one through ajv on
 * the emitted JSON Schema as well. Each backend keeps the cases of its own
 * fields beside it (src/backends/<type>/config-cases.ts); here are those of
 * what they share: the type, the fields every backend has, and values from
 * the environment.
 */
import { backendTypes } from '../../src/backends/registry.js';
import {
  type BackendCase,
  DURATION_BOUNDS,
  ENVIRONMENT,
  EXEC_BYTES,
  KIB,
  ONE_ARG,
  PATH_EXISTS,
} from './backend-case-kit.js';

export { type BackendCase, CASE_TREE } from './backend-case-kit.js';

const local = (body: string) => `type: local\n${body}`;
const docker = (body: string) => `type: docker\nimage: ubuntu:22.04\n${body}`;
const slurm = (body: string) => `type: slurm\n${body}`;
const apptainer = (body: string) => `type: apptainer\nimage: docker://ubuntu:22.04\n${body}`;

/** The rules of what every backend shares. */
export const SHARED_CASES: BackendCase[] = [
  // type
  { name: 'type local', yaml: 'type: local\n' },
  { name: 'type docker', yaml: 'type: docker\nimage: ubuntu:22.04\n' },
  { name: 'type apptainer', yaml: 'type: apptainer\nimage: docker://ubuntu:22.04\n' },
  {
    name: 'missing type',
    yaml: 'timeout: 60\n',
    error: { path: 'type', message: /type is required/ },
  },
  {
    name: 'unknown type with a near miss',
    yaml: 'type: dokcer\n',
    error: { path: 'type', message: /"dokcer" is not a backend type\. Did you mean "docker"\?/ },
  },
  { name: 'JSON Schema reference key', yaml: local('$schema: ../schemas/local.schema.json\n') },

  // unknown keys
  {
    name: 'unknown key near a known one',
    yaml: local('timout: 60\n'),
    error: { path: 'timout', message: 'unknown key "timout"; did you mean "timeout"?' },
  },
  {
    name: 'unknown key far from any',
    yaml: local('colourful: true\n'),
    error: {
      path: 'colourful',
      message: /unknown key "colourful"; allowed keys are type, extends, timeout/,
    },
  },

  // timeout
  { name: 'timeout at the minimum', yaml: local('timeout: 60\n') },
  { name: 'timeout of a day', yaml: local('timeout: 86400\n') },
  { name: 'timeout at the maximum', yaml: local('timeout: 31536000\n') },
  { name: 'timeout of a year as a duration', yaml: local('timeout: 365d\n') },

  // Past what one setTimeout holds (24.8 days): the run's timer chains timers.
  { name: 'timeout of more days than setTimeout can wait', yaml: local('timeout: 30d\n') },
  { name: 'timeout in minutes', yaml: local('timeout: 90m\n') },
  { name: 'timeout in hours', yaml: local('timeout: 2h\n') },
  { name: 'timeout in hours and minutes', yaml: local('timeout: 1h30m\n') },
  { name: 'timeout in seconds as text', yaml: local('timeout: "120"\n') },
  {
    name: 'timeout too large to hold',
    yaml: local('timeout: 1e400\n'),
    error: { path: 'timeout', message: /got infinity \(a number too large to hold\)$/ },
  },
  {
    name: 'timeout of 2^64 seconds',
    yaml: local('timeout: 18446744073709551616\n'),
    error: { path: 'timeout', message: /from 60 to 31536000 seconds \(1m to 365d\)/ },
  },
  {
    name: 'timeout of 2^64 seconds as text',
    yaml: local('timeout: "18446744073709551616"\n'),
    error: { path: 'timeout', message: /from 60 to 31536000 seconds \(1m to 365d\)/ },
    schemaCannot: DURATION_BOUNDS,
  },
  {
    name: 'timeout below the minimum',
    yaml: local('timeout: 59\n'),
    error: { path: 'timeout', message: /from 60 to 31536000 seconds \(1m to 365d\)/ },
  },
  {
    name: 'timeout above the maximum',
    yaml: local('timeout: 31536001\n'),
    error: { path: 'timeout', message: /from 60 to 31536000 seconds \(1m to 365d\)/ },
  },
  {
    name: 'timeout not whole',
    yaml: local('timeout: 90.5\n'),
    error: { path: 'timeout', message: /whole seconds or a duration/ },
  },
  {
    name: 'timeout duration above the maximum',
    yaml: local('timeout: 366d\n'),
    error: { path: 'timeout', message: /from 60 to 31536000 seconds \(1m to 365d\)/ },
    schemaCannot: DURATION_BOUNDS,
  },
  {
    name: 'timeout duration below the minimum',
    yaml: local('timeout: 30s\n'),
    error: { path: 'timeout', message: /from 60 to 31536000 seconds \(1m to 365d\)/ },
    schemaCannot: DURATION_BOUNDS,
  },
  {
    name: 'timeout malformed',
    yaml: local('timeout: soon\n'),
    error: { path: 'timeout', message: /got "soon"/ },
  },

  // env_vars
  {
    name: 'env_vars with numbers and booleans',
    yaml: local('env_vars:\n  OMP_NUM_THREADS: 4\n  DEBUG: true\n  _X1: text\n'),
  },
  {
    name: 'env_vars name with a dash',
    yaml: local('env_vars:\n  b-c: x\n'),
    error: { path: 'env_vars.b-c', message: /"b-c" is not a valid environment variable name/ },
  },
  {
    name: 'env_vars name starting with a digit',
    yaml: local('env_vars:\n  1A: x\n'),
    error: { path: 'env_vars.1A', message: /is not a valid environment variable name/ },
  },
  {
    name: 'env_vars empty name',
    yaml: local('env_vars:\n  "": x\n'),
    error: { path: 'env_vars[""]', message: 'an environment variable name cannot be empty' },
  },
  {
    name: 'env_vars list value',
    yaml: local('env_vars:\n  A: [1, 2]\n'),
    error: { path: 'env_vars.A', message: /must be a string, number or boolean; got a list/ },
  },
  {
    name: 'env_vars map value',
    yaml: local('env_vars:\n  A: {b: 1}\n'),
    error: { path: 'env_vars.A', message: /must be a string, number or boolean; got a mapping/ },
  },
  {
    name: 'env_vars not a map',
    yaml: local('env_vars: [A]\n'),
    error: { path: 'env_vars', message: /must be a mapping/ },
  },

  // working_dir
  { name: 'working_dir an existing folder', yaml: local('working_dir: data\n') },
  {
    name: 'working_dir missing',
    yaml: local('working_dir: nowhere\n'),
    error: {
      path: 'working_dir',
      message:
        /"nowhere" does not exist \(looked for .*nowhere; relative paths are resolved against the config file's folder\)/,
    },
    schemaCannot: PATH_EXISTS,
  },
  {
    name: 'working_dir a file',
    yaml: local('working_dir: notes.txt\n'),
    error: { path: 'working_dir', message: '"notes.txt" is a file, not a directory' },
    schemaCannot: PATH_EXISTS,
  },
  { name: 'type slurm', yaml: 'type: slurm\n' },

  // what the system lets a program start with
  {
    name: 'env_vars value just under the per-variable limit',
    yaml: local(`env_vars:\n  BIG: ${'x'.repeat(128 * 1024 - 'BIG='.length - 1)}\n`),
  },
  {
    name: 'env_vars value one byte over the per-variable limit',
    yaml: local(`env_vars:\n  BIG: ${'x'.repeat(128 * 1024 - 'BIG='.length)}\n`),
    error: { path: 'env_vars.BIG', message: /^BIG=… is 131073 bytes, over the 131072 bytes/ },
    schemaCannot: EXEC_BYTES,
  },
  {
    name: 'env_vars value of 200 KiB',
    yaml: docker(`env_vars:\n  BIG: ${KIB(200)}\n`),
    error: { path: 'env_vars.BIG', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
  {
    name: 'env_vars of multi-byte text, counted in bytes',
    yaml: local(`env_vars:\n  BIG: ${'é'.repeat(70 * 1024)}\n`),
    error: { path: 'env_vars.BIG', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
  {
    name: 'env_vars together over ARG_MAX',
    yaml: slurm(
      `env_vars:\n${Array.from({ length: 17 }, (_, i) => `  V${i}: ${KIB(120)}\n`).join('')}`,
    ),
    error: {
      path: 'env_vars',
      message: /^env_vars take \d+ bytes together, over the 2031616 bytes/,
    },
    schemaCannot: EXEC_BYTES,
  },

  // values from the environment: the schema accepts ${...} where modelrun does
  ...[
    docker('cpu: ${NCPU:-4}\n'),
    'type: docker\nimage: ${NODE_IMAGE:-node:20-slim}\n',
    docker(
      'memory: ${MEMORY:-2g}\nremove_container: ${KEEP:-false}\npull_policy: ${PULL:-never}\n',
    ),
    docker('gpus: ${GPUS:-all}\nmount_path: /app/${RUN_DIR:-run}\n'),
    local('timeout: ${TIMEOUT:-2h}\nenv_vars:\n  OMP_NUM_THREADS: ${OMP_NUM_THREADS:-4}\n'),
    slurm(
      'queue: ${SLURM_PARTITION:-debug}\nntasks: ${NTASKS:-1}\nmem: ${MEM:-2G}\ntime_limit: ${LIMIT:-01:00:00}\nmail_type: [END]\nmail_user: ${MAIL_USER:-me@example.org}\n',
    ),
    apptainer('cpu: ${NCPU:-${SLURM_CPUS:-2}}\nbinds: ["${DATA:-data}:/data:ro"]\n'),
  ].map((yaml): BackendCase => ({ name: `from the environment: ${yaml}`, yaml })),
  {
    name: 'from the environment, not a variable name',
    yaml: docker('cpu: "${1}"\n'),
    error: { path: 'cpu', message: /"\$\{1\}" is not a variable reference/ },
  },
  {
    name: 'from the environment, unclosed',
    yaml: docker('cpu: "${NCPU"\n'),
    error: { path: 'cpu', message: /"\$\{" is not closed/ },
  },
  {
    name: 'a literal ${ is not a reference',
    yaml: docker('cpu: "$${NCPU}"\n'),
    error: { path: 'cpu', message: 'must be a number, got "${NCPU}" (from $${NCPU})' },
  },
  {
    name: 'from the environment, a variable that is not set',
    yaml: docker('cpu: ${NCPU}\n'),
    error: { path: 'cpu', message: /environment variable NCPU is not set/ },
    schemaCannot: ENVIRONMENT,
  },
  {
    name: 'from the environment, a default of the wrong type',
    yaml: docker('cpu: ${NCPU:-four}\n'),
    error: { path: 'cpu', message: 'must be a number, got "four" (from ${NCPU:-four})' },
    schemaCannot: ENVIRONMENT,
  },
];

/** A backend's own table, found by its type, so that a new backend adds no line here. */
export async function configCasesOf(type: string): Promise<BackendCase[]> {
  const path = `../../src/backends/${type}/config-cases.js`;
  const table: { CONFIG_CASES?: BackendCase[] } = await import(/* @vite-ignore */ path);
  if (table.CONFIG_CASES === undefined)
    throw new Error(`src/backends/${type}/config-cases.ts exports no CONFIG_CASES`);
  return table.CONFIG_CASES;
}

export const BACKEND_CASES: BackendCase[] = [
  ...SHARED_CASES,
  ...(await Promise.all(backendTypes.map(configCasesOf))).flat(),
];

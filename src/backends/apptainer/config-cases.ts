import {
  type BackendCase,
  EXEC_BYTES,
  IMAGE_KIND,
  KIB,
  ONE_ARG,
  PATH_EXISTS,
} from '../../../test/cases/backend-case-kit.js';

/**
 * The apptainer backend: its image or definition, binds and flags. Each rule
 * of its config as a passing or failing case; test/cases/backend-cases.ts
 * gathers every backend's table, and the rules and schema agreement tests
 * run them all.
 */
const apptainer = (body: string) => `type: apptainer\nimage: docker://ubuntu:22.04\n${body}`;

export const CONFIG_CASES: BackendCase[] = [
  // apptainer images
  ...['docker://ubuntu:22.04', 'oras://ghcr.io/org/model:1', 'library://lolcow'].map(
    (image): BackendCase => ({
      name: `apptainer image ${image}`,
      yaml: `type: apptainer\nimage: ${image}\n`,
    }),
  ),
  {
    name: 'apptainer docker:// image the engine would refuse',
    yaml: 'type: apptainer\nimage: docker://UPPER/Case\n',
    error: { path: 'image', message: /^docker:\/\/ "UPPER\/Case" .*lower case/ },
  },
  {
    name: 'apptainer docker:// image with a path in it',
    yaml: 'type: apptainer\nimage: docker://../../etc\n',
    error: { path: 'image', message: /is not an image reference/ },
  },
  { name: 'apptainer image a .sif file', yaml: 'type: apptainer\nimage: image.sif\n' },
  { name: 'apptainer image a sandbox folder', yaml: 'type: apptainer\nimage: sandbox\n' },
  {
    name: 'apptainer image file missing',
    yaml: 'type: apptainer\nimage: missing.sif\n',
    error: { path: 'image', message: /image "missing.sif" does not exist/ },
    schemaCannot: PATH_EXISTS,
  },
  {
    name: 'apptainer image with another scheme',
    yaml: 'type: apptainer\nimage: https://example.com/x.sif\n',
    error: {
      path: 'image',
      message: /uses an unsupported scheme: use docker:\/\/, oras:\/\/ or library:\/\//,
    },
    schemaCannot: IMAGE_KIND,
  },
  { name: 'apptainer definition', yaml: 'type: apptainer\ndefinition: model.def\n' },
  {
    name: 'apptainer definition missing',
    yaml: 'type: apptainer\ndefinition: other.def\n',
    error: { path: 'definition', message: /"other.def" does not exist/ },
    schemaCannot: PATH_EXISTS,
  },
  {
    name: 'apptainer neither image nor definition',
    yaml: 'type: apptainer\ncpu: 2\n',
    error: { path: '', message: 'either image or definition must be provided' },
  },
  {
    name: 'apptainer both image and definition',
    yaml: 'type: apptainer\nimage: image.sif\ndefinition: model.def\n',
    error: { path: 'definition', message: 'cannot specify both image and definition' },
  },

  // apptainer binds and flags
  {
    name: 'apptainer binds',
    yaml: apptainer('binds:\n  - data\n  - data:/data\n  - data:/in:ro\n'),
  },
  {
    name: 'apptainer bind source missing',
    yaml: apptainer('binds:\n  - nowhere:/data\n'),
    error: { path: 'binds[0]', message: /host path "nowhere" does not exist/ },
    schemaCannot: PATH_EXISTS,
  },
  {
    name: 'apptainer bind with a relative destination',
    yaml: apptainer('binds:\n  - data:data\n'),
    error: { path: 'binds[0]', message: /the container path "data" must be absolute/ },
  },
  {
    name: 'apptainer bind with a Docker-only mode',
    yaml: apptainer('binds:\n  - data:/data:Z\n'),
    error: { path: 'binds[0]', message: /mode "Z" is not valid; use ro or rw/ },
  },
  {
    name: 'apptainer bind with a comma',
    yaml: apptainer('binds:\n  - data,data:/data\n'),
    error: { path: 'binds[0]', message: /contains ",", which Apptainer reads as a separator/ },
  },
  {
    name: 'apptainer flags',
    yaml: apptainer(
      'cleanenv: false\nno_home: false\ncontainall: true\nwritable_tmpfs: true\nnv: true\nrocm: false\npwd: /work\n',
    ),
  },
  {
    name: 'apptainer pwd relative',
    yaml: apptainer('pwd: work\n'),
    error: { path: 'pwd', message: /must be an absolute path inside the container/ },
  },
  {
    name: 'apptainer resources',
    yaml: apptainer('cpu: 8\nmemory: 16g\ncache_dir: ./cache\nexecutable: run.sh\nmpiexec: srun\n'),
  },
  {
    name: 'apptainer memory as a number',
    yaml: apptainer('memory: 512\n'),
    error: { path: 'memory', message: /^needs a unit: write "512m" for 512 megabytes/ },
  },
  { name: 'apptainer binary singularity', yaml: apptainer('binary: singularity\n') },
  {
    name: 'apptainer binary unknown',
    yaml: apptainer('binary: docker\n'),
    error: { path: 'binary', message: 'must be one of "apptainer", "singularity", got "docker"' },
  },
  { name: 'apptainer extra_args', yaml: apptainer('extra_args: ["--fakeroot", "--net"]\n') },
  {
    name: 'apptainer extra_args not text',
    yaml: apptainer('extra_args: [1]\n'),
    error: { path: 'extra_args[0]', message: 'must be text, got 1' },
  },

  // what the system lets a program start with
  {
    name: 'apptainer executable of 200 KiB',
    yaml: apptainer(`executable: ${KIB(200)}\n`),
    error: { path: 'executable', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
];

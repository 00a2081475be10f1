import {
  type BackendCase,
  EXEC_BYTES,
  KIB,
  ONE_ARG,
  PATH_EXISTS,
  SIZE_BOUNDS,
} from '../../../test/cases/backend-case-kit.js';

/**
 * The docker backend: its image or dockerfile, resources, volumes and
 * process settings. Each rule of its config as a passing or failing case;
 * test/cases/backend-cases.ts gathers every backend's table, and the rules
 * and schema agreement tests run them all.
 */
const docker = (body: string) => `type: docker\nimage: ubuntu:22.04\n${body}`;

export const CONFIG_CASES: BackendCase[] = [
  // docker image and dockerfile
  ...[
    'ubuntu:20.04',
    'registry.example.com/repo/image:tag',
    'localhost:5000/image:latest',
    'simple-name',
    `name@sha256:${'a'.repeat(64)}`,
    '[::1]:5000/team/model:1.2',
    'Registry.Example.com/team/model',
    'team/model__v2-x:TAG_1.0',
  ].map(
    (image): BackendCase => ({
      name: `docker image ${image}`,
      yaml: `type: docker\nimage: "${image}"\n`,
    }),
  ),
  {
    name: 'docker image with a space',
    yaml: 'type: docker\nimage: "ubuntu 20.04"\n',
    error: { path: 'image', message: /is not an image reference/ },
  },
  {
    name: 'docker neither image nor dockerfile',
    yaml: 'type: docker\ncpu: 2\n',
    error: { path: '', message: 'either image or dockerfile must be provided' },
  },
  {
    name: 'docker both image and dockerfile',
    yaml: 'type: docker\nimage: ubuntu\ndockerfile: Dockerfile\n',
    error: { path: 'dockerfile', message: 'cannot specify both image and dockerfile' },
  },
  { name: 'docker dockerfile beside the config', yaml: 'type: docker\ndockerfile: Dockerfile\n' },
  {
    name: 'docker dockerfile in a build context',
    yaml: 'type: docker\ndockerfile: Dockerfile\nbuild_context: docker\nbuild_args:\n  VERSION: 2\n',
  },
  {
    name: 'docker dockerfile absolute',
    yaml: 'type: docker\ndockerfile: /etc/Dockerfile\n',
    error: {
      path: 'dockerfile',
      message: 'must be a path relative to build_context, not an absolute path',
    },
    schemaCannot: 'a JSON Schema pattern cannot tell absolute paths from relative ones portably',
  },
  {
    name: 'docker dockerfile missing from the build context',
    yaml: 'type: docker\ndockerfile: Dockerfile.gpu\nbuild_context: docker\n',
    error: { path: 'dockerfile', message: /"Dockerfile.gpu" does not exist/ },
    schemaCannot: PATH_EXISTS,
  },
  {
    name: 'docker build_context missing',
    yaml: 'type: docker\ndockerfile: Dockerfile\nbuild_context: nowhere\n',
    error: { path: 'build_context', message: /"nowhere" does not exist/ },
    schemaCannot: PATH_EXISTS,
  },
  {
    name: 'docker build_args with an image',
    yaml: docker('build_args:\n  A: b\n'),
    error: { path: 'build_args', message: 'only applies when building from a dockerfile' },
  },

  // docker resources
  { name: 'docker cpu bounds', yaml: docker('cpu: 128\n') },
  {
    name: 'docker cpu zero',
    yaml: docker('cpu: 0\n'),
    error: { path: 'cpu', message: 'must be at least 1, got 0' },
  },
  {
    name: 'docker cpu too many',
    yaml: docker('cpu: 129\n'),
    error: { path: 'cpu', message: 'must be at most 128, got 129' },
  },
  {
    name: 'docker cpu too large to hold',
    yaml: docker('cpu: 1e400\n'),
    error: { path: 'cpu', message: 'must be a number, got infinity (a number too large to hold)' },
  },
  {
    name: 'docker cpu 2^64',
    yaml: docker('cpu: 18446744073709551616\n'),
    error: { path: 'cpu', message: 'must be at most 128, got 18446744073709552000' },
  },
  {
    name: 'docker cpu minus zero',
    yaml: docker('cpu: -0\n'),
    error: { path: 'cpu', message: 'must be at least 1, got 0' },
  },
  {
    name: 'docker cpu fraction',
    yaml: docker('cpu: 2.5\n'),
    error: { path: 'cpu', message: 'must be a whole number, got 2.5' },
  },
  ...['2g', '512m', '6m', '4G', '6291456', '8192k'].map(
    (memory): BackendCase => ({
      name: `docker memory ${memory}`,
      yaml: docker(`memory: "${memory}"\n`),
    }),
  ),
  ...['1gb', '1x', '512MiB'].map(
    (memory): BackendCase => ({
      name: `docker memory ${JSON.stringify(memory)}`,
      yaml: docker(`memory: "${memory}"\n`),
      error: { path: 'memory', message: /is not understood; .* followed by k, m or g/ },
    }),
  ),
  ...['1.5g', '', '2 g', '-1g'].map(
    (memory): BackendCase => ({
      name: `docker memory ${JSON.stringify(memory)}`,
      yaml: docker(`memory: "${memory}"\n`),
      error: {
        path: 'memory',
        message: /must be a whole number with a unit k, m or g, such as "512m" or "2g"/,
      },
    }),
  ),
  {
    name: 'docker memory as a number',
    yaml: docker('memory: 1024\n'),
    error: {
      path: 'memory',
      message:
        'needs a unit: write "1024m" for 1024 megabytes or "1024g" for 1024 gigabytes; got the bare number 1024',
    },
  },
  {
    name: 'docker memory as a number of bytes',
    yaml: docker('memory: 1073741824\n'),
    error: {
      path: 'memory',
      message:
        'needs a unit: write "1073741824m" for 1073741824 megabytes or "1073741824g" for 1073741824 gigabytes, or "1073741824" in quotes for 1073741824 bytes; got the bare number 1073741824',
    },
  },
  {
    name: 'docker memory as a fraction',
    yaml: docker('memory: 1.5\n'),
    error: { path: 'memory', message: /such as "512m" or "2g" .*; got 1\.5$/ },
  },
  {
    name: 'docker memory in bytes below the minimum',
    yaml: docker('memory: "1024"\n'),
    error: {
      path: 'memory',
      message:
        '"1024" is 1024 bytes, less than the 6m minimum; write "1024m" for 1024 megabytes or "1024g" for gigabytes',
    },
    schemaCannot: SIZE_BOUNDS,
  },
  {
    name: 'docker memory below the minimum',
    yaml: docker('memory: 64k\n'),
    error: { path: 'memory', message: '"64k" is less than the 6m minimum' },
    schemaCannot: SIZE_BOUNDS,
  },
  {
    name: 'docker memory beyond any machine',
    yaml: docker('memory: 99999999999999999999g\n'),
    error: { path: 'memory', message: /is too large; a size must be under 8 PiB/ },
    schemaCannot: SIZE_BOUNDS,
  },
  { name: 'docker shm_size in bytes', yaml: docker('shm_size: "1024"\n') },
  {
    name: 'docker shm_size as a number',
    yaml: docker('shm_size: 64\n'),
    error: { path: 'shm_size', message: /^needs a unit: write "64m" for 64 megabytes/ },
  },
  { name: 'docker shm_size', yaml: docker('shm_size: 1g\n') },
  {
    name: 'docker shm_size malformed',
    yaml: docker('shm_size: 1.5g\n'),
    error: { path: 'shm_size', message: /such as "512m"/ },
  },

  // docker volumes
  {
    name: 'docker volumes',
    yaml: docker(
      'volumes:\n  - data:/data\n  - data:/in:ro\n  - ./data:/out:rw\n  - data:/se:Z\n  - data:/se2:ro,z\n',
    ),
  },
  {
    name: 'docker volume without a colon',
    yaml: docker('volumes:\n  - data:/data\n  - data\n'),
    error: { path: 'volumes[1]', message: /volume "data" is missing ':'/ },
  },
  {
    name: 'docker volume with a relative container path',
    yaml: docker('volumes:\n  - data:data\n'),
    error: { path: 'volumes[0]', message: /the container path "data" must be absolute/ },
  },
  {
    name: 'docker volume with a bad mode',
    yaml: docker('volumes:\n  - data:/data:rx\n'),
    error: { path: 'volumes[0]', message: /mode "rx" is not valid; use ro or rw/ },
  },
  {
    name: 'docker volume host path missing',
    yaml: docker('volumes:\n  - nowhere:/data\n'),
    error: { path: 'volumes[0]', message: /host path "nowhere" does not exist/ },
    schemaCannot: PATH_EXISTS,
  },

  // docker process settings
  { name: 'docker user uid:gid', yaml: docker('user: "1000:1000"\n') },
  { name: 'docker user root', yaml: docker('user: root\n') },
  {
    name: 'docker user malformed',
    yaml: docker('user: "a b"\n'),
    error: { path: 'user', message: /must be a user name or uid/ },
  },
  {
    name: 'docker executable and mpiexec',
    yaml: docker('executable: /opt/bin/model\nmpiexec: mpirun -np 8\nremove_container: false\n'),
  },
  {
    name: 'docker empty mpiexec',
    yaml: docker('mpiexec: ""\n'),
    error: { path: 'mpiexec', message: 'mpiexec cannot be empty' },
  },
  ...['all', 2, '[0, 1]', '["GPU-3b2f"]'].map(
    (gpus): BackendCase => ({ name: `docker gpus ${gpus}`, yaml: docker(`gpus: ${gpus}\n`) }),
  ),
  ...['some', 0, '[]'].map(
    (gpus): BackendCase => ({
      name: `docker gpus ${gpus}`,
      yaml: docker(`gpus: ${gpus}\n`),
      error: {
        path: 'gpus',
        message: /must be "all", a number of GPUs \(at least 1\), or a list of device ids/,
      },
    }),
  ),
  ...['bridge', 'none', 'host', 'model-net'].map(
    (network): BackendCase => ({
      name: `docker network ${network}`,
      yaml: docker(`network: ${network}\n`),
    }),
  ),
  {
    name: 'docker network malformed',
    yaml: docker('network: "my net"\n'),
    error: { path: 'network', message: /must be "bridge", "none", "host"/ },
  },
  { name: 'docker pull_policy', yaml: docker('pull_policy: never\n') },

  // Names the engine refuses with "invalid reference format".
  ...[
    ['--privileged', /starts with "-", as an option would/],
    ['UPPER/Case', /repository names must be lower case/],
    ['Ubuntu', /repository names must be lower case/],
    ['a..b', /is not an image reference/],
    ['../../etc', /is not an image reference/],
    ['team//model', /is not an image reference/],
    ['ubuntu:', /is not an image reference/],
    ['ubuntu@sha256:abc', /is not an image reference/],
  ].map(
    ([image, message]): BackendCase => ({
      name: `docker image ${image}`,
      yaml: `type: docker\nimage: "${image}"\n`,
      error: { path: 'image', message: message as RegExp },
    }),
  ),
  {
    name: 'docker pull_policy near miss',
    yaml: docker('pull_policy: alway\n'),
    error: {
      path: 'pull_policy',
      message: 'must be one of "missing", "always", "never", got "alway" (did you mean "always"?)',
    },
  },
  {
    name: 'docker mount_path with a colon',
    yaml: docker('mount_path: /app:run\n'),
    error: { path: 'mount_path', message: /without spaces, control characters, "," or ":"/ },
  },

  // what the system lets a program start with
  {
    name: 'docker executable of 200 KiB',
    yaml: docker(`executable: ${KIB(200)}\n`),
    error: { path: 'executable', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
];

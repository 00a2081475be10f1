/**
 * Every backend config rule, as a passing or failing case. The rules test
 * validates each one; the schema agreement test runs each one through ajv on
 * the emitted JSON Schema as well.
 */

/** The folder every case's config file sits in. */
export const CASE_TREE = {
  'data/': '',
  'sandbox/': '',
  'docker/Dockerfile': 'FROM scratch\n',
  Dockerfile: 'FROM scratch\n',
  'image.sif': 'not really an image',
  'model.def': 'Bootstrap: docker\nFrom: ubuntu:22.04\n',
  'notes.txt': 'a file, not a folder',
};

export interface BackendCase {
  name: string;
  yaml: string;
  /** Omitted: the config is valid. */
  error?: { path: string; message: string | RegExp };
  /** Why a JSON Schema cannot express this rule, for cases that fail only in modelrun. */
  schemaCannot?: string;
}

const PATH_EXISTS = 'a JSON Schema cannot check that a path exists';
const DURATION_BOUNDS =
  'a JSON Schema pattern cannot bound the seconds a duration string adds up to';
const SIZE_BOUNDS = 'a JSON Schema pattern cannot bound the bytes a size string adds up to';
const COMPARES_FIELDS = 'a JSON Schema cannot compare the values of two fields';
const IMAGE_KIND =
  'a JSON Schema cannot tell a local image path from a remote reference with another scheme';

/** A `${VAR}` takes its value when the file is read, in the environment of that moment. */
const ENVIRONMENT = 'a JSON Schema cannot know the environment a file is read in';

/** Rules that need the byte count of text (MAX_ARG_STRLEN, ARG_MAX), which a JSON Schema cannot take. */
const EXEC_BYTES = 'a JSON Schema cannot count the bytes the system takes to start a program';
const KIB = (n: number) => 'x'.repeat(n * 1024);
const ONE_ARG = /over the 131072 bytes \(128 KiB, MAX_ARG_STRLEN\) the system allows one/;

const local = (body: string) => `type: local\n${body}`;
const docker = (body: string) => `type: docker\nimage: ubuntu:22.04\n${body}`;
const slurm = (body: string) => `type: slurm\n${body}`;
const apptainer = (body: string) => `type: apptainer\nimage: docker://ubuntu:22.04\n${body}`;

export const BACKEND_CASES: BackendCase[] = [
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
      message: /unknown key "colourful"; allowed keys are type, timeout/,
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

  // local
  {
    name: 'local command',
    yaml: local(
      'command: python run.py\nshell: false\ncapture_output: false\nstream_output: true\n',
    ),
  },
  {
    name: 'local empty command',
    yaml: local('command: ""\n'),
    error: { path: 'command', message: 'command cannot be empty' },
  },
  {
    name: 'local shell not a boolean',
    yaml: local('shell: sometimes\n'),
    error: { path: 'shell', message: 'must be true or false, got "sometimes"' },
  },

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
    name: 'slurm ntasks 2^64',
    yaml: slurm('ntasks: 18446744073709551616\n'),
    error: { path: 'ntasks', message: /^must be at most 9007199254740991/ },
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
  {
    name: 'apptainer memory as a number',
    yaml: apptainer('memory: 512\n'),
    error: { path: 'memory', message: /^needs a unit: write "512m" for 512 megabytes/ },
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
    name: 'docker container block in slurm with an upper-case image',
    yaml: 'type: slurm\ncontainer:\n  type: docker\n  image: Ubuntu\n',
    error: { path: 'container.image', message: /repository names must be lower case/ },
  },
  {
    name: 'docker pull_policy near miss',
    yaml: docker('pull_policy: alway\n'),
    error: {
      path: 'pull_policy',
      message: 'must be one of "missing", "always", "never", got "alway" (did you mean "always"?)',
    },
  },

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
    name: 'docker mount_path with a colon',
    yaml: docker('mount_path: /app:run\n'),
    error: { path: 'mount_path', message: /without spaces, control characters, "," or ":"/ },
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

  // slurm
  { name: 'type slurm', yaml: 'type: slurm\n' },
  {
    name: 'slurm everything',
    yaml: slurm(
      'queue: compute\nnodes: 2\nntasks: 8\ncpus_per_task: 4\nmem: 16G\ntime_limit: "1-12:00:00"\naccount: ocean\nqos: normal\nreservation: r1\nconstraint: skylake\ngres: "gpu:2"\ngpus: 2\nexclusive: true\njob_name: wave\noutput_file: out-%j.txt\nerror_file: err-%j.txt\nmail_type: [END, FAIL]\nmail_user: me@example.org\nadditional_options: ["--requeue", "--licenses=matlab:1"]\ncommand: srun ./model\n',
    ),
  },
  ...['00:30:00', '1:00:00', '1234:00:00', '0-00:30:00', '7-23:59:59', '100-00:00:00'].map(
    (limit): BackendCase => ({
      name: `slurm time_limit ${limit}`,
      yaml: slurm(`time_limit: "${limit}"\n`),
    }),
  ),
  ...[
    '00:00',
    '1:1:1',
    '25-00-00',
    '12345:00:00',
    '23::59',
    'invalid',
    '1-24:00:00',
    '00:60:00',
  ].map(
    (limit): BackendCase => ({
      name: `slurm time_limit ${limit}`,
      yaml: slurm(`time_limit: "${limit}"\n`),
      error: {
        path: 'time_limit',
        message: /must be HH:MM:SS \(1 to 4 digits of hours\) or D-HH:MM:SS/,
      },
    }),
  ),
  ...['00:00:00', '0-00:00:00', '0000:00:00'].map(
    (limit): BackendCase => ({
      name: `slurm time_limit ${limit}, which Slurm reads as none`,
      yaml: slurm(`time_limit: "${limit}"\n`),
      error: {
        path: 'time_limit',
        message: /^cannot be zero: to Slurm a time limit of 0 means none/,
      },
    }),
  ),
  {
    name: 'slurm time_limit as quoted minutes, as sbatch -t reads them',
    yaml: slurm('time_limit: "45"\n'),
    error: {
      path: 'time_limit',
      message:
        'must be HH:MM:SS (1 to 4 digits of hours) or D-HH:MM:SS, such as "02:00:00" or "1-12:00:00": sbatch reads a bare 45 as 45 minutes, which is written "00:45:00" here',
    },
  },
  {
    name: 'slurm time_limit as a bare number of minutes, as sbatch -t reads it',
    yaml: slurm('time_limit: 90\n'),
    error: {
      path: 'time_limit',
      message:
        'must be text: sbatch reads a bare 90 as 90 minutes, which is written "01:30:00" here',
    },
  },
  // slurm time limits: time_limit is Slurm's; timeout and queue_timeout are modelrun's own
  { name: 'slurm timeout within time_limit', yaml: slurm('time_limit: "02:00:00"\ntimeout: 2h\n') },
  { name: 'slurm time_limit of days without timeout', yaml: slurm('time_limit: "2-00:00:00"\n') },
  { name: 'slurm timeout of 30 days', yaml: slurm('timeout: 30d\n') },
  { name: 'slurm queue_timeout', yaml: slurm('queue_timeout: 10m\n') },
  { name: 'slurm queue_timeout of a second', yaml: slurm('queue_timeout: 1\n') },
  {
    name: 'slurm timeout longer than time_limit',
    yaml: slurm('time_limit: "01:00:00"\ntimeout: 90m\n'),
    error: {
      path: 'timeout',
      message:
        'timeout 1h30m is longer than time_limit "01:00:00" (1h): Slurm ends the job at its time_limit first. Shorten timeout to 1h or less, raise time_limit, or leave timeout out',
    },
    schemaCannot: COMPARES_FIELDS,
  },
  {
    name: 'slurm timeout of days longer than a time_limit in days',
    yaml: slurm('time_limit: "1-12:00:00"\ntimeout: 2d\n'),
    error: {
      path: 'timeout',
      message: /^timeout 2d is longer than time_limit "1-12:00:00" \(1d12h\)/,
    },
    schemaCannot: COMPARES_FIELDS,
  },
  {
    name: 'slurm queue_timeout zero',
    yaml: slurm('queue_timeout: 0\n'),
    error: { path: 'queue_timeout', message: /from 1 to 31536000 seconds \(1s to 365d\); got 0/ },
  },
  {
    name: 'slurm queue_timeout malformed',
    yaml: slurm('queue_timeout: "10 minutes"\n'),
    error: { path: 'queue_timeout', message: /whole seconds or a duration/ },
  },
  {
    name: 'slurm timeout below the minimum',
    yaml: slurm('timeout: 30s\n'),
    error: { path: 'timeout', message: /from 60 to 31536000 seconds/ },
    schemaCannot: DURATION_BOUNDS,
  },
  {
    name: 'slurm nodes zero',
    yaml: slurm('nodes: 0\n'),
    error: { path: 'nodes', message: 'must be at least 1, got 0' },
  },
  {
    name: 'slurm nodes too many',
    yaml: slurm('nodes: 101\n'),
    error: { path: 'nodes', message: 'must be at most 100, got 101' },
  },
  {
    name: 'slurm ntasks zero',
    yaml: slurm('ntasks: 0\n'),
    error: { path: 'ntasks', message: 'must be at least 1, got 0' },
  },
  {
    name: 'slurm cpus_per_task too many',
    yaml: slurm('cpus_per_task: 129\n'),
    error: { path: 'cpus_per_task', message: 'must be at most 128, got 129' },
  },
  { name: 'slurm mem_per_cpu', yaml: slurm('mem_per_cpu: 2G\n') },
  { name: 'slurm mem in megabytes', yaml: slurm('mem: 4096\n') },
  { name: 'slurm mem in megabytes as text', yaml: slurm('mem: "4096"\n') },
  {
    name: 'slurm mem malformed',
    yaml: slurm('mem: 4GB\n'),
    error: {
      path: 'mem',
      message:
        'must be a size such as "4G" or "500M", or a whole number of megabytes such as 4096 (as sbatch reads a number without a unit)',
    },
  },
  {
    name: 'slurm mem zero',
    yaml: slurm('mem: 0\n'),
    error: { path: 'mem', message: /or a whole number of megabytes such as 4096/ },
  },
  {
    name: 'slurm mem a fraction',
    yaml: slurm('mem_per_cpu: 1.5\n'),
    error: { path: 'mem_per_cpu', message: /or a whole number of megabytes such as 4096/ },
  },
  {
    name: 'slurm mem and mem_per_cpu',
    yaml: slurm('mem: 4G\nmem_per_cpu: 1G\n'),
    error: { path: 'mem_per_cpu', message: 'cannot specify both mem and mem_per_cpu' },
  },
  {
    name: 'slurm mail_type without mail_user',
    yaml: slurm('mail_type: [END]\n'),
    error: { path: 'mail_type', message: 'mail_type needs mail_user: give both or neither' },
  },
  {
    name: 'slurm mail_user without mail_type',
    yaml: slurm('mail_user: me@example.org\n'),
    error: { path: 'mail_user', message: 'mail_user needs mail_type: give both or neither' },
  },
  {
    name: 'slurm mail_user not an address',
    yaml: slurm('mail_type: [END]\nmail_user: me\n'),
    error: { path: 'mail_user', message: 'must be an email address' },
  },
  {
    name: 'slurm additional option not an option',
    yaml: slurm('additional_options: ["requeue"]\n'),
    error: {
      path: 'additional_options[0]',
      message: 'must be an sbatch option such as "--licenses=matlab:1"',
    },
  },
  {
    name: 'slurm additional option that a field sets',
    yaml: slurm('additional_options: ["--requeue", "--partition=debug"]\n'),
    error: {
      path: 'additional_options[1]',
      message: '--partition is set by the field `queue`: use that field instead',
    },
  },
  {
    name: 'slurm additional option in short form that a field sets',
    yaml: slurm('additional_options: ["-t=10"]\n'),
    error: {
      path: 'additional_options[0]',
      message: '-t is set by the field `time_limit`: use that field instead',
    },
  },
  {
    name: 'slurm additional option for an array job',
    yaml: slurm('additional_options: ["--array=1-4"]\n'),
    error: { path: 'additional_options[0]', message: /^--array cannot be used: .*own run_id$/ },
  },
  {
    name: 'slurm additional option --wait',
    yaml: slurm('additional_options: ["--wait"]\n'),
    error: { path: 'additional_options[0]', message: /^--wait cannot be used/ },
  },
  {
    name: 'slurm additional option that only starts like a field option',
    yaml: slurm('additional_options: ["--partition-x=1", "--mem-bind=local", "--time-min=10"]\n'),
  },
  {
    name: 'slurm job_name holding a line feed',
    yaml: slurm('job_name: "wave\\necho pwned"\n'),
    error: {
      path: 'job_name',
      message:
        'cannot hold a line feed (\\x0a), which would end or split a line of the batch script; "wave\\x0aecho pwned" has one at character 5',
    },
  },
  ...(
    [
      ['job_name', 'wave\\r', 'a carriage return (\\x0d)'],
      ['queue', 'debug\\tx', 'a tab (\\x09)'],
      ['account', 'ocean\\u2028x', 'a line separator (\\u2028)'],
      ['qos', 'normal\\u2029', 'a paragraph separator (\\u2029)'],
      ['constraint', 'skylake\\x85', 'a next-line character (NEL) (\\x85)'],
      ['gres', 'gpu:2\\x7f', 'a DEL (\\x7f)'],
      ['reservation', 'r\\e[31m', 'a control character (\\x1b)'],
      ['additional_options[0]', '--comment=a\\tb', 'a tab (\\x09)'],
      ['output_file', 'logs/\\u2028%j.out', 'a line separator (\\u2028)'],
      ['error_file', 'logs/\\x85%j.err', 'a next-line character (NEL) (\\x85)'],
    ] as const
  ).map(
    ([path, escaped, what]): BackendCase => ({
      name: `slurm ${path} holding ${what}`,
      yaml: slurm(
        path.startsWith('additional_options')
          ? `additional_options: ["${escaped}"]\n`
          : `${path}: "${escaped}"\n`,
      ),
      error: {
        path,
        message: new RegExp(`^cannot hold ${what.replace(/[\\()]/g, '\\$&')}, which would end`),
      },
    }),
  ),
  {
    name: 'slurm env_vars value with a NUL',
    yaml: slurm('env_vars:\n  API_TOKEN: "tok\\0en"\n'),
    error: {
      path: 'env_vars.API_TOKEN',
      message: 'cannot hold a NUL character (\\x00): no environment variable can carry one',
    },
  },
  {
    name: 'slurm --export=NONE beside a secret-named variable',
    yaml: slurm(
      'env_vars:\n  API_TOKEN: x\nadditional_options: ["--export=ALL", "--export=NONE"]\n',
    ),
    error: {
      path: 'additional_options[1]',
      message:
        /^--export=NONE leaves no way to give the job API_TOKEN: .*such as --export=PATH,HOME$/,
    },
    schemaCannot:
      'a JSON Schema cannot pick the last of several --export options, the one sbatch takes',
  },
  {
    name: 'slurm --export=NONE without secrets',
    yaml: slurm('env_vars:\n  MODE: x\nadditional_options: ["--export=NONE"]\n'),
  },
  {
    name: 'slurm --export list beside a secret',
    yaml: slurm('env_vars:\n  API_TOKEN: x\nadditional_options: ["--export=PATH,HOME"]\n'),
  },
  {
    name: 'slurm values with spaces, quotes, # and backslashes',
    yaml: slurm(
      'job_name: \'wave "2" #1 \\\\ x\'\noutput_file: "my logs/%j.out"\nadditional_options: ["--comment=a b # c"]\n',
    ),
  },
  {
    name: 'slurm apptainer container',
    yaml: slurm('container:\n  type: apptainer\n  image: docker://ubuntu:22.04\n  binds: [data]\n'),
  },
  {
    name: 'slurm docker container',
    yaml: slurm('container:\n  type: docker\n  image: ubuntu:22.04\n  cpu: 2\n'),
  },
  {
    name: 'slurm container without an image',
    yaml: slurm('container:\n  type: apptainer\n'),
    error: { path: 'container', message: 'either image or definition must be provided' },
  },
  {
    name: 'slurm container with a run-wide field',
    yaml: slurm('container:\n  type: docker\n  image: ubuntu\n  timeout: 60\n'),
    error: { path: 'container.timeout', message: /unknown key "timeout"/ },
  },
  {
    name: 'slurm container of an unknown type',
    yaml: slurm('container:\n  type: podman\n  image: x\n'),
    error: { path: 'container.type', message: /type "podman" is not a container type/ },
  },

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
  {
    name: 'local command of 200 KiB',
    yaml: local(`command: ${KIB(200)}\n`),
    error: { path: 'command', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
  {
    name: 'local command of 200 KiB without a shell, split into arguments',
    yaml: local(`shell: false\ncommand: ${KIB(100)} ${KIB(100)}\n`),
  },
  {
    name: 'docker executable of 200 KiB',
    yaml: docker(`executable: ${KIB(200)}\n`),
    error: { path: 'executable', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
  {
    name: 'apptainer executable of 200 KiB',
    yaml: apptainer(`executable: ${KIB(200)}\n`),
    error: { path: 'executable', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
  {
    name: 'slurm command of 200 KiB',
    yaml: slurm(`command: ${KIB(200)}\n`),
    error: { path: 'command', message: ONE_ARG },
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

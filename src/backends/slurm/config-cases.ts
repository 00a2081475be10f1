import {
  type BackendCase,
  COMPARES_FIELDS,
  DURATION_BOUNDS,
  EXEC_BYTES,
  KIB,
  ONE_ARG,
} from '../../../test/cases/backend-case-kit.js';

/**
 * The slurm backend: its job options, time limits, the text of its batch
 * script, and the container it nests. Each rule of its config as a passing
 * or failing case; test/cases/backend-cases.ts gathers every backend's
 * table, and the rules and schema agreement tests run them all.
 */
const slurm = (body: string) => `type: slurm\n${body}`;

export const CONFIG_CASES: BackendCase[] = [
  // slurm
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
  {
    name: 'slurm ntasks 2^64',
    yaml: slurm('ntasks: 18446744073709551616\n'),
    error: { path: 'ntasks', message: /^must be at most 9007199254740991/ },
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
  {
    name: 'docker container block in slurm with an upper-case image',
    yaml: 'type: slurm\ncontainer:\n  type: docker\n  image: Ubuntu\n',
    error: { path: 'container.image', message: /repository names must be lower case/ },
  },

  // what the system lets a program start with
  {
    name: 'slurm command of 200 KiB',
    yaml: slurm(`command: ${KIB(200)}\n`),
    error: { path: 'command', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
];

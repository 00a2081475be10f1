import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import type { KnownError } from '../errors.js';
import { parseOverride } from '../load/override-arg.js';
import type { FileContext } from '../load/run-inputs.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { placeOf } from '../problems.js';
import {
  type LoadedEnsemble,
  loadEnsemble,
  loadEnsembleInTurns,
  MAX_INVALID_CHECKED,
  MAX_MEMBER_ERRORS,
} from './load-ensemble.js';

/**
 * Loading an ensemble file from real files: its members in order, each a
 * run of the model with the member's values set over it, and every way a
 * member can be wrong, placed in the ensemble file where the value is.
 */

const MODEL =
  'run_id: wave\ncommand: "true"\noutput_dir: runs\nrun_id_subdir: false\nconfig:\n  depth_m: 5\n  grid: {nx: 10}\n';
const tree = treeForEachTest({
  'models/wave.yml': MODEL,
  'backends/local.yml': 'type: local\ntimeout: 1h\n',
});

const FILE = 'study/ensemble.yml';

interface Given {
  backendConfig?: string;
  sets?: string[];
  env?: NodeJS.ProcessEnv;
}

function load(text: string, given: Given = {}) {
  tree.write(FILE, text);
  const ctx: FileContext = {
    env: given.env ?? {},
    cwd: tree.root,
    overrides: (given.sets ?? []).map((set) => parseOverride('--set', set)),
  };
  return loadEnsemble(
    {
      ensembleFile: FILE,
      ...(given.backendConfig === undefined ? {} : { backendConfig: given.backendConfig }),
      postprocessorConfigs: [],
    },
    ctx,
  );
}

function loaded(text: string, given: Given = {}) {
  const result = load(text, given);
  if ('errors' in result) throw new Error(result.errors.map(shown).join('\n\n'));
  return withRuns(result.ensemble);
}

/** The ensemble, each member with its run as it is made when the member starts. */
function withRuns(ensemble: LoadedEnsemble) {
  return {
    ...ensemble,
    members: ensemble.members.map((member) => ({ ...member, run: ensemble.runOf(member) })),
  };
}

/** An error as the CLI prints it: message, each placed problem, hint. */
function shown(error: KnownError): string {
  return [error.message, ...error.problems.map(placeOf), `hint: ${error.hint}`].join('\n');
}

function errorsOf(text: string, given: Given = {}): string[] {
  const result = load(text, given);
  if (!('errors' in result)) throw new Error('the ensemble loaded');
  return result.errors.map(shown);
}

/** The model from models/, then `rest`. */
const ensemble = (rest: string) => `model: ../models/wave.yml\n${rest}`;

/** The product of two paths, 2 × 3, then two members written out. */
const PRODUCT = ensemble(`backend:
  type: local
  timeout: 1h
parameters:
  config.depth_m: [5, 10]
  config.grid.nx: [1, 2, 3]
members:
  - {config.depth_m: 50}
  - {config.grid.nx: 7, backend.timeout: 2h}
`);

describe('members', () => {
  it.each<[string, string, [string, Record<string, unknown>][]]>([
    [
      'a 2 × 3 product, the last path fastest, then the listed members; run ids <run_id>-<index>',
      PRODUCT,
      [
        ['wave-0', { 'config.depth_m': 5, 'config.grid.nx': 1 }],
        ['wave-1', { 'config.depth_m': 5, 'config.grid.nx': 2 }],
        ['wave-2', { 'config.depth_m': 5, 'config.grid.nx': 3 }],
        ['wave-3', { 'config.depth_m': 10, 'config.grid.nx': 1 }],
        ['wave-4', { 'config.depth_m': 10, 'config.grid.nx': 2 }],
        ['wave-5', { 'config.depth_m': 10, 'config.grid.nx': 3 }],
        ['wave-6', { 'config.depth_m': 50 }],
        ['wave-7', { 'config.grid.nx': 7, 'backend.timeout': '2h' }],
      ],
    ],
    [
      "a run_id: template over the member's merged config",
      `${PRODUCT}run_id: d{{ config.depth_m }}-n{{ config.grid.nx }}\n`,
      [
        ['d5-n1', { 'config.depth_m': 5, 'config.grid.nx': 1 }],
        ['d5-n2', { 'config.depth_m': 5, 'config.grid.nx': 2 }],
        ['d5-n3', { 'config.depth_m': 5, 'config.grid.nx': 3 }],
        ['d10-n1', { 'config.depth_m': 10, 'config.grid.nx': 1 }],
        ['d10-n2', { 'config.depth_m': 10, 'config.grid.nx': 2 }],
        ['d10-n3', { 'config.depth_m': 10, 'config.grid.nx': 3 }],
        ['d50-n10', { 'config.depth_m': 50 }],
        ['d5-n7', { 'config.grid.nx': 7, 'backend.timeout': '2h' }],
      ],
    ],
    [
      'replicas of each member side by side, by short name and replica',
      ensemble(
        'parameters:\n  config.depth_m: [5, 10]\nreplicas: 2\nrun_id: w{{ member.depth_m }}-r{{ member.replica }}\n',
      ),
      [
        ['w5-r0', { 'config.depth_m': 5 }],
        ['w5-r1', { 'config.depth_m': 5 }],
        ['w10-r0', { 'config.depth_m': 10 }],
        ['w10-r1', { 'config.depth_m': 10 }],
      ],
    ],
    [
      'neither parameters nor members: the model itself, replicas times',
      ensemble('replicas: 3\n'),
      [
        ['wave-0', {}],
        ['wave-1', {}],
        ['wave-2', {}],
      ],
    ],
  ])('%s', (_, text, want) => {
    const { members } = loaded(text);
    expect(members.map((m) => [m.run.model.run_id, m.values])).toEqual(want);
    expect(members.map((m) => m.index)).toEqual(want.map((__, i) => i));
  });

  it('gives each member its scope and its merged model config', () => {
    const { members } = loaded(PRODUCT);
    expect(members.map((m) => m.run.model.config)).toEqual([
      { depth_m: 5, grid: { nx: 1 } },
      { depth_m: 5, grid: { nx: 2 } },
      { depth_m: 5, grid: { nx: 3 } },
      { depth_m: 10, grid: { nx: 1 } },
      { depth_m: 10, grid: { nx: 2 } },
      { depth_m: 10, grid: { nx: 3 } },
      { depth_m: 50, grid: { nx: 10 } },
      { depth_m: 5, grid: { nx: 7 } },
    ]);
    expect(members[4]?.scope).toEqual({
      index: 4,
      replica: 0,
      parameters: { 'config.depth_m': 10, 'config.grid.nx': 2 },
      config: { depth_m: 10, grid: { nx: 2 } },
      depth_m: 10,
      nx: 2,
    });
    expect(members[7]?.scope).toEqual({
      index: 7,
      replica: 0,
      parameters: { 'config.grid.nx': 7, 'backend.timeout': '2h' },
      config: { grid: { nx: 7 } },
      backend: { timeout: '2h' },
      nx: 7,
      timeout: '2h',
    });
  });

  it("keeps an inline model's $${ for every member's shell, filling ${NAME} once", () => {
    const { members } = loaded(
      'model:\n  run_id: wave\n  output_dir: runs\n  command: "echo $${HOME} ${WHO}"\nparameters:\n  config.depth_m: [5, 10]\n',
      { env: { HOME: '/home/ada', WHO: 'ada' } },
    );
    expect(members.map((m) => m.run.model.command)).toEqual([
      'echo ${HOME} ada',
      'echo ${HOME} ada',
    ]);
  });

  it("warns at a parameter that ends in a key member has of its own, which stays the member's", () => {
    const text = ensemble(
      'run_id: w{{ config.index }}\nparameters:\n  config.index: [7, 8]\nmembers:\n  - {config.index: 9, backend.env_vars.replica: 2}\n',
    );
    const result = load(text);
    if ('errors' in result) throw new Error(result.errors.map(shown).join('\n\n'));
    const { members } = withRuns(result.ensemble);
    expect(members.map((m) => [m.runId, m.scope.index, m.scope.config])).toEqual([
      ['w7', 0, { index: 7 }],
      ['w8', 1, { index: 8 }],
      ['w9', 2, { index: 9 }],
    ]);
    expect(
      result.warnings.filter((w) => w.message.includes('a name member keeps')).map(placeOf),
    ).toEqual([
      `study/ensemble.yml:4:17  parameters["config.index"]: ends in index, a name member keeps for its own: {{ member.index }} in a template is the member's index, its place in the ensemble, not this value; write {{ config.index }} (or {{ member.config.index }})`,
      `study/ensemble.yml:6:49  members[0]["backend.env_vars.replica"]: ends in replica, a name member keeps for its own: {{ member.replica }} in a template is the member's replica, which run of the same values it is, not this value; write {{ member.backend.env_vars.replica }}`,
    ]);
  });

  it('gives replicas their replica number and the same values', () => {
    const { members } = loaded(ensemble('parameters:\n  config.depth_m: [5, 10]\nreplicas: 3\n'));
    expect(members.map((m) => [m.index, m.replica, m.scope.depth_m])).toEqual([
      [0, 0, 5],
      [1, 1, 5],
      [2, 2, 5],
      [3, 0, 10],
      [4, 1, 10],
      [5, 2, 10],
    ]);
  });
});

describe('the files members are made of', () => {
  it('are read once: a model file edited while members are checked changes none of them', async () => {
    tree.write(FILE, ensemble('replicas: 30\n'));
    const loading = loadEnsembleInTurns(
      { ensembleFile: FILE, postprocessorConfigs: [] },
      { env: {}, cwd: tree.root },
    );
    // The check gives the event loop a turn every few members: the file is edited in the first.
    setImmediate(() => tree.write('models/wave.yml', MODEL.replace('depth_m: 5', 'depth_m: 6')));
    const result = await loading;
    if ('errors' in result) throw new Error(result.errors.map(shown).join('\n\n'));
    const depths = withRuns(result.ensemble).members.map((m) => m.run.model.config.depth_m);
    expect(new Set(depths)).toEqual(new Set([5]));
  });
});

describe("the ensemble's folder", () => {
  it.each<[string, string, string, string[]]>([
    ["is the model's output_dir and run_id by default", '', 'wave', ['models', 'runs', 'wave']],
    [
      "is output_dir/ensemble_id, output_dir resolved against the ensemble file's folder",
      'ensemble_id: depth-study\noutput_dir: ./sims\n',
      'depth-study',
      ['study', 'sims', 'depth-study'],
    ],
    [
      "takes the model's output_dir with an ensemble_id of its own",
      'ensemble_id: depth-study\n',
      'depth-study',
      ['models', 'runs', 'depth-study'],
    ],
    [
      "takes the model's run_id as its name in an output_dir of its own",
      'output_dir: ../elsewhere\n',
      'wave',
      ['elsewhere', 'wave'],
    ],
  ])('%s', (_, fields, id, dir) => {
    const result = loaded(ensemble(`${fields}parameters:\n  config.depth_m: [5, 10]\n`));
    expect(result.id).toBe(id);
    expect(result.dir).toBe(tree.path(...dir));
    // Each member is staged in a folder of its own there, whatever the model file says.
    for (const member of result.members) {
      expect(member.run.model).toMatchObject({ output_dir: result.dir, run_id_subdir: true });
      expect(stagingDirOf(member.run.model)).toBe(tree.path(...dir, member.run.model.run_id));
    }
  });

  it('keeps the fields the file gives for running it', () => {
    const result = loaded(
      ensemble(
        'max_parallel: 3\nfail_fast: true\naggregate:\n  - {type: command, command: "true"}\nparameters:\n  config.depth_m: [5]\n',
      ),
      { sets: ['config.grid.nx=4'] },
    );
    expect(result).toMatchObject({
      file: FILE,
      maxParallel: 3,
      failFast: true,
      aggregate: [{ type: 'command', command: 'true' }],
      overrides: ['--set config.grid.nx=4'],
    });
    expect(result.members[0]?.run.model.config).toEqual({ depth_m: 5, grid: { nx: 4 } });
  });
});

describe('backend values', () => {
  it.each<[string, string, Given, number[]]>([
    [
      'reach an inline backend',
      ensemble(
        'backend:\n  type: local\n  timeout: 1h\nparameters:\n  backend.timeout: [2h, 3h]\n',
      ),
      {},
      [7200, 10800],
    ],
    [
      'reach a backend config the file names',
      ensemble('backend: ../backends/local.yml\nparameters:\n  backend.timeout: [2h, 3h]\n'),
      {},
      [7200, 10800],
    ],
    [
      'reach the backend config of --backend-config',
      ensemble(
        'backend:\n  type: local\n  timeout: 5h\nparameters:\n  backend.timeout: [2h, 3h]\n',
      ),
      { backendConfig: 'backends/local.yml' },
      [7200, 10800],
    ],
    [
      'leave the backend as it is for members that set none',
      ensemble('backend: ../backends/local.yml\nmembers:\n  - {backend.timeout: 2h}\n  - {}\n'),
      {},
      [7200, 3600],
    ],
  ])('%s', (_, text, given, timeouts) => {
    const { members } = loaded(text, given);
    expect(members.map((m) => m.run.backend.type)).toEqual(timeouts.map(() => 'local'));
    expect(members.map((m) => (m.run.backend as { timeout?: number }).timeout)).toEqual(timeouts);
  });

  it('reach env_vars, and a secret one is masked in the overrides the run records', () => {
    const { members } = loaded(
      ensemble('parameters:\n  backend.env_vars.API_TOKEN: [tok-first-1234, tok-second-5678]\n'),
    );
    expect(members.map((m) => m.run.backend.env_vars)).toEqual([
      { API_TOKEN: 'tok-first-1234' },
      { API_TOKEN: 'tok-second-5678' },
    ]);
    expect(JSON.stringify(members.map((m) => m.run.layers))).not.toContain('tok-');
  });
});

describe('a bad ensemble', () => {
  it.each<[string, string, Given, RegExp[]]>([
    [
      'a member value that makes the backend invalid, at that value, naming the member',
      ensemble('backend:\n  type: local\nparameters:\n  backend.timeout: [2h, soon]\n'),
      {},
      [
        /^member 1: ensemble file study\/ensemble\.yml is not valid \(1 error\)\nstudy\/ensemble\.yml:5:25 {2}backend\.timeout: must be whole seconds .*; got "soon" \(member 1: backend\.timeout="soon"\)\n/,
      ],
    ],
    [
      'a bad value for a backend config the file names, in the ensemble file',
      ensemble('backend: ../backends/local.yml\nmembers:\n  - {}\n  - {backend.timeout: soon}\n'),
      {},
      [
        /^member 1: .*\nstudy\/ensemble\.yml:5:23 {2}timeout: must be whole seconds .*\(member 1: backend\.timeout="soon"\)/,
      ],
    ],
    [
      'two members with one run id, naming both and the run_id: line',
      ensemble(
        'run_id: w{{ member.depth_m }}\nparameters:\n  config.depth_m: [5, 10]\nreplicas: 2\n',
      ),
      {},
      [
        /^members 0 and 1 both get the run id w5\nstudy\/ensemble\.yml:2:9 {2}run_id: gives members 0 and 1 the same run id "w5"\nhint: put a field in run_id: that tells them apart/,
        /^members 2 and 3 both get the run id w10\n/,
      ],
    ],
    [
      'a member field that names nothing, with the name it may have meant',
      ensemble('run_id: w{{ member.depht_m }}\nparameters:\n  config.depth_m: [5]\n'),
      {},
      [
        /^member 0: the run_id: template gives no run id\nstudy\/ensemble\.yml:2:9 {2}run_id: member 0: \{\{ member\.depht_m \}\} names nothing; did you mean \{\{ member\.depth_m \}\}\?\n/,
      ],
    ],
    [
      'a config field that names nothing, with the name it may have meant',
      ensemble('run_id: w{{ config.grid.ny }}\nparameters:\n  config.depth_m: [5]\n'),
      {},
      [
        /run_id: member 0: \{\{ config\.grid\.ny \}\} names nothing; did you mean \{\{ config\.grid\.nx \}\}\?/,
      ],
    ],
    [
      'a short name two paths end in, with the paths and the whole path to write',
      ensemble('run_id: w{{ member.nx }}\nparameters:\n  config.nx: [1]\n  config.grid.nx: [2]\n'),
      {},
      [
        /run_id: member 0: \{\{ member\.nx \}\} could be any of config\.nx, config\.grid\.nx, which all end in nx; write the whole path, such as \{\{ member\.config\.nx \}\}/,
      ],
    ],
    // On the old code member.index stayed the member's index, silently: runs w0 and w1, not w7 and w8.
    [
      "{{ member.index }} where a parameter ends in index, which stays the member's own",
      ensemble('run_id: w{{ member.index }}\nparameters:\n  config.index: [7, 8]\n'),
      {},
      [
        /^\{\{ member\.index \}\} does not name the parameter config\.index\nstudy\/ensemble\.yml:2:9 {2}run_id: \{\{ member\.index \}\} is the member's index, its place in the ensemble, not config\.index, a parameter that ends in index; write \{\{ config\.index \}\} \(or \{\{ member\.config\.index \}\}\) for the parameter's value\nhint: \{\{ member\.index \}\} always names the member's own index/,
      ],
    ],
    // On the old code: "members 0 and 1 both get the run id c0".
    [
      '{{ member.replica }} where a listed member sets a backend path that ends in replica',
      ensemble(
        'run_id: c{{ member.replica }}\nmembers:\n  - {backend.replica: 1}\n  - {backend.replica: 2}\n',
      ),
      {},
      [
        /^\{\{ member\.replica \}\} does not name the parameter backend\.replica\n.*run_id: \{\{ member\.replica \}\} is the member's replica, .*; write \{\{ member\.backend\.replica \}\} for the parameter's value/,
      ],
    ],
    [
      'a run id with a character a run id cannot hold',
      ensemble('run_id: w-{{ member.name }}\nparameters:\n  config.name: [a/b]\n'),
      {},
      [
        /^member 0: the run_id: template gives no run id\nstudy\/ensemble\.yml:2:9 {2}run_id: member 0: the run id "w-a\/b" must use only letters, digits, "\.", "_" and "-"\n/,
      ],
    ],
    // On the old code each was told to use only letters, digits, ".", "_" and "-", which it does.
    ...['.', '..'].map((name): [string, string, Given, RegExp[]] => [
      `a run id "${name}", which names no folder of its own`,
      ensemble(`run_id: "{{ member.name }}"\nparameters:\n  config.name: ["${name}"]\n`),
      {},
      [
        new RegExp(
          `run_id: member 0: the run id "${name.replaceAll('.', '\\.')}" cannot be "\\." or "\\.\\.": it names a folder, and these name the folder it would be in and the one above\n`,
        ),
      ],
    ]),
    [
      'a run id ".MODELRUN", the name of the folder modelrun keeps for itself',
      ensemble('run_id: "{{ member.name }}"\nparameters:\n  config.name: [.MODELRUN]\n'),
      {},
      [
        /run_id: member 0: the run id "\.MODELRUN" cannot be "\.modelrun" \(in any case\), the name of the folder where modelrun keeps its records and locks\n/,
      ],
    ],
    [
      'a run id too long for one',
      ensemble(`run_id: w-{{ member.name }}\nparameters:\n  config.name: [${'x'.repeat(300)}]\n`),
      {},
      [/run_id: member 0: a run id of 302 characters is too long; at most \d+\n/],
    ],
    [
      'a --set of a path the members set',
      ensemble('parameters:\n  config.depth_m: [5, 10]\n'),
      { sets: ['config.depth_m=7'] },
      [
        /^--set config\.depth_m=7 sets config\.depth_m, which the ensemble's members set themselves\nhint: drop the --set/,
      ],
    ],
    [
      "a --set below a path the members set, which a member's value would replace",
      ensemble('parameters:\n  config.grid: [{nx: 5}, {nx: 6}]\n'),
      { sets: ['config.grid.nx=999'] },
      [
        /^--set config\.grid\.nx=999 sets config\.grid, which the ensemble's members set themselves/,
      ],
    ],
    [
      "a run id that is the name of the ensemble's own record",
      ensemble('run_id: "{{ member.name }}"\nparameters:\n  config.name: [ensemble.json]\n'),
      {},
      [/run_id: member 0: the run id "ensemble\.json" is the name of the ensemble's own record/],
    ],
    [
      'a --set of a backend path a listed member sets',
      ensemble('members:\n  - {}\n  - {backend.timeout: 2h}\n'),
      { sets: ['backend.timeout=3h'] },
      [/^--set backend\.timeout=3h sets backend\.timeout, which the ensemble's members set/],
    ],
    [
      'an error every member shares, said once',
      ensemble('parameters:\n  config.depth_m: [5, 10, 20]\n'),
      { sets: ['nothing=1'] },
      [
        /^every member: model file .*wave\.yml is not valid \(1 error\)\n--set nothing=1 {2}nothing: unknown key "nothing"/,
      ],
    ],
    [
      "a run id of a secret's value, once for the ensemble",
      ensemble(
        'run_id: w-{{ member.API_TOKEN }}\nparameters:\n  backend.env_vars.API_TOKEN: [tok-first-1234, tok-second-5678]\n',
      ),
      {},
      [
        /^a run id cannot hold a secret\nstudy\/ensemble\.yml:2:9 {2}run_id: \{\{ member\.API_TOKEN \}\} is backend\.env_vars\.API_TOKEN, a secret; /,
      ],
    ],
    [
      'a run id of a secret-named key of the config',
      ensemble('run_id: w-{{ config.api_key }}\nparameters:\n  config.depth_m: [5]\n'),
      {},
      [/^a run id cannot hold a secret\n.*run_id: \{\{ config\.api_key \}\} names a secret; /],
    ],
    [
      'a template that is not one, in the file as a whole',
      ensemble('run_id: w{{ member.depth_m | upper }}\nparameters:\n  config.depth_m: [5]\n'),
      {},
      [/^ensemble file study\/ensemble\.yml is not valid.*\nstudy\/ensemble\.yml:2:9 {2}run_id: /],
    ],
  ])('%s', (_, text, given, want) => {
    const errors = errorsOf(text, given);
    expect(errors).toHaveLength(want.length);
    for (const [i, pattern] of want.entries()) expect(errors[i]).toMatch(pattern);
  });

  it(`reports ${MAX_MEMBER_ERRORS} invalid members one by one, and counts the rest`, () => {
    const values = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const errors = errorsOf(
      ensemble(`backend:\n  type: local\nparameters:\n  backend.timeout: [${values}]\n`),
    );
    expect(errors).toHaveLength(MAX_MEMBER_ERRORS + 1);
    for (const [i, error] of errors.slice(0, MAX_MEMBER_ERRORS).entries())
      expect(error).toMatch(new RegExp(`^member ${i}: .*\\n.*got "${values[i]}"`));
    expect(errors.at(-1)).toMatch(/^2 more errors left out: 7 of the 7 members are invalid\n/);
  });

  it(`stops checking after ${MAX_INVALID_CHECKED} invalid members, and says so`, () => {
    const values = Array.from({ length: 80 }, (_, i) => `bad${i}`);
    const errors = errorsOf(
      ensemble(`backend:\n  type: local\nparameters:\n  backend.timeout: [${values}]\n`),
    );
    expect(errors).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^the check stopped after ${MAX_INVALID_CHECKED} invalid members; the rest of the 80 were not checked`,
        ),
      ),
    );
  });

  it.each<[string, string, RegExp]>([
    [
      'a parameter of run_id, on its line',
      'parameters:\n  config.depth_m: [5]\n  run_id: [a, b]\n',
      /study\/ensemble\.yml:4:\d+ {2}parameters\.run_id: a member cannot set run_id: each member's run id comes from the ensemble's run_id: template/,
    ],
    [
      'a listed member setting output_dir, on its line',
      'members:\n  - {config.depth_m: 5}\n  - {output_dir: /tmp}\n',
      /study\/ensemble\.yml:4:\d+ {2}members\[1\]\.output_dir: a member cannot set output_dir: members are staged in the ensemble's folder/,
    ],
    [
      'members of several backend types, on the line of the type',
      'members:\n  - {config.depth_m: 5}\n  - {backend.type: docker, backend.image: x}\n',
      /study\/ensemble\.yml:4:\d+ {2}members\[1\]\["backend\.type"\]: a member cannot set backend\.type: an ensemble's members share one backend type/,
    ],
    [
      'a parameter of run_id_subdir, on its line',
      'parameters:\n  run_id_subdir: [false]\n',
      /study\/ensemble\.yml:3:\d+ {2}parameters\.run_id_subdir: a member cannot set run_id_subdir/,
    ],
  ])('refuses %s', (_, rest, pattern) => {
    // Placed on the key's line; the column is the value's, as the schema checks each path there.
    const errors = errorsOf(ensemble(rest));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^ensemble file study\/ensemble\.yml is not valid/);
    expect(errors[0]).toMatch(pattern);
  });

  it('lets config.run_id through: a key of config, not the run id', () => {
    const { members } = loaded(ensemble('parameters:\n  config.run_id: [a]\n'));
    expect(members[0]?.run.model).toMatchObject({ run_id: 'wave-0', config: { run_id: 'a' } });
  });
});

describe('secret values', () => {
  const SECRET = 'tok-secret-4711';
  it.each<[string, string, Given]>([
    [
      'of a member whose backend is invalid',
      `backend:\n  type: local\nparameters:\n  backend.env_vars.API_TOKEN: [${SECRET}]\n  backend.timeout: [soon]\n`,
      {},
    ],
    [
      'in a mapping a member sets, with a bad key beside it',
      `members:\n  - {backend.env_vars: {API_TOKEN: ${SECRET}, BAD: [1]}}\n`,
      {},
    ],
    [
      'in a list where a text belongs',
      `parameters:\n  backend.env_vars.API_TOKEN: [[${SECRET}]]\n`,
      {},
    ],
    [
      'of a --set over a path the members set',
      'parameters:\n  backend.env_vars.API_TOKEN: [tok-other-0000]\n',
      { sets: [`backend.env_vars.API_TOKEN=${SECRET}`] },
    ],
    [
      'of a --set the model refuses',
      'parameters:\n  config.depth_m: [5]\n',
      { sets: [`config_API_KEY=${SECRET}`] },
    ],
    [
      'that two members share, in a run id',
      `run_id: w-{{ member.API_TOKEN }}\nparameters:\n  backend.env_vars.API_TOKEN: [${SECRET}, ${SECRET}]\n`,
      {},
    ],
    [
      'in a run id a run id cannot be',
      `run_id: w-{{ member.API_TOKEN }}\nparameters:\n  backend.env_vars.API_TOKEN: ["${SECRET} !"]\n`,
      {},
    ],
    [
      'under a secret-named key on the way to a short name, in a run id',
      `run_id: w-{{ member.depth }}\nparameters:\n  config.secrets.depth: [${SECRET}]\n`,
      {},
    ],
    [
      'under a secret-named key of the config, in a run id',
      `run_id: w-{{ config.api_key }}\nparameters:\n  config.api_key: ["${SECRET}/x"]\n`,
      {},
    ],
  ])('never appear in an error: %s', (_, rest, given) => {
    const result = load(ensemble(rest), given);
    expect('errors' in result).toBe(true);
    if (!('errors' in result)) return;
    const problems = result.errors.flatMap((error) => error.problems);
    const text = [...result.errors.map(shown), JSON.stringify([problems, result.warnings])];
    expect(text.join('\n')).not.toContain(SECRET);
  });
});

describe('what members share', () => {
  it('says a warning every member has once, naming them all', () => {
    const result = load(ensemble('replicas: 10\nparameters:\n  config.dept: [1]\n'));
    expect(result.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/config has no key "dept".*\(every member: config\.dept=1\)$/),
    ]);
  });

  it.each<[string, string, Given, RegExp]>([
    [
      'inline',
      ensemble('replicas: 2\nbackend:\n  type: slurm\n  output_file: x.out\n'),
      {},
      /study\/ensemble\.yml:5:16 {2}backend\.output_file: an ensemble on Slurm writes/,
    ],
    [
      'in --backend-config',
      ensemble('replicas: 2\n'),
      { backendConfig: 'backends/slurm.yml' },
      /backends\/slurm\.yml:2:13 {2}error_file: an ensemble on Slurm writes/,
    ],
    [
      "in a member's values",
      ensemble('backend:\n  type: slurm\nmembers:\n  - {}\n  - {backend.output_file: y.out}\n'),
      {},
      /output_file: an ensemble on Slurm writes .*\(member 1: backend\.output_file="y\.out"\)/,
    ],
  ])(
    "refuses what the engine's batch cannot run, where it is written: %s",
    (_, text, given, want) => {
      tree.write('backends/slurm.yml', 'type: slurm\nerror_file: e.err\n');
      const errors = errorsOf(text, given);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/cannot be set for an ensemble on slurm/);
      expect(errors[0]).toMatch(want);
    },
  );

  it('says an error a value makes in several members once, naming them', () => {
    const errors = errorsOf(
      ensemble('parameters:\n  config.depth_m: [1, 2]\n  backend.timeout: [soon, 1h]\n'),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/got "soon" \(members 0 and 2: backend\.timeout="soon"\)/);
  });
});

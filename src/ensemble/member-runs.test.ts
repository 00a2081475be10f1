import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { memberRequests, withInputs } from '../api/ensemble-request.js';
import { backendTypes } from '../backends/registry.js';
import { ConfigError, type KnownError } from '../errors.js';
import { parseOverride } from '../load/override-arg.js';
import { ReadOnce } from '../load/read-once.js';
import { readSource } from '../load/read-source.js';
import type { FileContext } from '../load/run-inputs.js';
import { loadSiteConfig, SITE_CONFIG_VARIABLE } from '../load/site-config.js';
import { Redactor } from '../secrets.js';
import { type LoadedEnsemble, loadEnsemble } from './load-ensemble.js';

/**
 * What each member runs: its merged model, backend and postprocessors (by
 * the hash --resume keeps of them), its sources and layers. The hashes were
 * taken from runs that every member held from its check on; each member's
 * run is now made again when it starts, and must come out the same.
 */

const tree = treeForEachTest({
  'study/base.yml': 'command: "true"\nconfig:\n  depth_m: 5\n  grid: {nx: 10}\n',
  'study/model.yml':
    'extends: base.yml\nrun_id: wave\noutput_dir: runs\ntemplate: template\npostprocess:\n  - {type: command, command: "true"}\n',
  'study/template/input.nml': 'depth = {{ config.depth_m }}\n',
  'study/local-base.yml': 'type: local\ntimeout: 2h\n',
  'study/local.yml': 'extends: local-base.yml\nshell: false\n',
  'study/checksum.yml': 'type: checksum\n',
  'study/site.yml': 'backends:\n  local:\n    timeout: 3h\n',
});

interface Case {
  ensemble: string;
  backendConfig?: string;
  postprocessorConfigs?: string[];
  sets?: string[];
  site?: boolean;
  env?: Record<string, string>;
  readOnce?: ReadOnce;
}

function load(given: Case): LoadedEnsemble {
  tree.write('study/ensemble.yml', given.ensemble);
  const env = {
    ...given.env,
    ...(given.site === true ? { [SITE_CONFIG_VARIABLE]: tree.path('study', 'site.yml') } : {}),
  };
  const site = given.site === true ? loadSiteConfig(env, tree.root, backendTypes) : undefined;
  const ctx: FileContext = {
    env,
    cwd: tree.root,
    overrides: (given.sets ?? []).map((set) => parseOverride('--set', set)),
    ...(site === undefined ? {} : { site }),
    ...(given.readOnce === undefined ? {} : { readOnce: given.readOnce }),
  };
  const result = loadEnsemble(
    {
      ensembleFile: 'study/ensemble.yml',
      ...(given.backendConfig === undefined ? {} : { backendConfig: given.backendConfig }),
      postprocessorConfigs: given.postprocessorConfigs ?? [],
    },
    ctx,
  );
  if ('errors' in result)
    throw new Error(result.errors.map((error: KnownError) => error.message).join('\n'));
  return result.ensemble;
}

/** Each member's run as the runner gets it: the hash of what it runs, and where it came from. */
async function runs(ensemble: LoadedEnsemble, env: Record<string, string>) {
  const redactor = new Redactor().addEnv(env);
  const members = await withInputs(memberRequests(ensemble, true, redactor), redactor, [
    ensemble.dir,
    tree.root,
  ]);
  return members.map((member) => {
    const { model, sources, layers } = member.request();
    const staged = model.output_dir === ensemble.dir && model.run_id === member.runId;
    return [
      `${member.runId}${staged ? '' : ' (not staged in the ensemble)'} ${member.inputs}`,
      sources.map((source) => relative(tree.root, source)).join(' '),
      JSON.stringify(layers).replaceAll(tree.root, '<root>'),
    ];
  });
}

describe("a member's run", () => {
  it.each<[string, Case, string[][]]>([
    [
      'a model file with a base, replicas, the default local backend, a --set',
      { ensemble: 'model: model.yml\nreplicas: 2\n', sets: ['config.grid.nx=4'] },
      [
        [
          'wave-0 sha256:3a99f513188813afc78f4325a1ec249c31865c9fc7c17ba351d0cec37777c878',
          'study/ensemble.yml study/model.yml',
          '{"overrides":["--set config.grid.nx=4"],"merged":true}',
        ],
        [
          'wave-1 sha256:3b2f2d3d11c2a8c94caec37bb794c0a0a9e0783b23f48aa324dbd060b5e59e11',
          'study/ensemble.yml study/model.yml',
          '{"overrides":["--set config.grid.nx=4"],"merged":true}',
        ],
      ],
    ],
    [
      'values of the model and of a backend file with a base, a run_id: template',
      {
        ensemble:
          'model: model.yml\nbackend: local.yml\nrun_id: d{{ member.depth_m }}-{{ member.timeout }}\nparameters:\n  config.depth_m: [5, 10]\n  backend.timeout: [1h, 4h]\n',
      },
      [
        [
          'd5-1h sha256:06915d019997ca97f81819fae51fb035db4d506cf4e24e77f0da0cac6bb83200',
          'study/ensemble.yml study/model.yml study/local.yml',
          '{"overrides":["member 0: config.depth_m=5","member 0: backend.timeout=\\"1h\\""],"merged":true}',
        ],
        [
          'd5-4h sha256:e58dd16c9a74eb9c1e1af14468c653838727ca966b53098deeb1b40ab518c9a1',
          'study/ensemble.yml study/model.yml study/local.yml',
          '{"overrides":["member 1: config.depth_m=5","member 1: backend.timeout=\\"4h\\""],"merged":true}',
        ],
        [
          'd10-1h sha256:76da73793523f4d0b2545336fda003ee0567376b67b307254e37746fbefe560e',
          'study/ensemble.yml study/model.yml study/local.yml',
          '{"overrides":["member 2: config.depth_m=10","member 2: backend.timeout=\\"1h\\""],"merged":true}',
        ],
        [
          'd10-4h sha256:3a5e5d1ac4f4a41d7ba1c670c5d27a7d18de1ee331e4e073daf9753b5dd66300',
          'study/ensemble.yml study/model.yml study/local.yml',
          '{"overrides":["member 3: config.depth_m=10","member 3: backend.timeout=\\"4h\\""],"merged":true}',
        ],
      ],
    ],
    [
      'an inline model and backend, listed members, a secret from the environment',
      {
        ensemble:
          'model:\n  run_id: inline\n  output_dir: ./runs\n  command: "true"\n  config: {depth_m: 1}\nbackend:\n  type: local\n  env_vars: {API_TOKEN: "${TOKEN}"}\nmembers:\n  - {config.depth_m: 2}\n  - {backend.timeout: 5h}\n',
        env: { TOKEN: 'tok-secret-4711' },
      },
      [
        [
          'inline-0 sha256:f2c6b54623f0ebc064a78b5149460cbc18ea346b8083651e7aa55feadde65e58',
          'study/ensemble.yml',
          '{"overrides":["member 0: config.depth_m=2"],"merged":true}',
        ],
        [
          'inline-1 sha256:ad6e3721a3afcc15c991bc215a1c5197b54124557f436a8e9f8890d6083f08f7',
          'study/ensemble.yml',
          '{"overrides":["member 1: backend.timeout=\\"5h\\""],"merged":true}',
        ],
      ],
    ],
    [
      'a --backend-config and a --postprocessor-config over the file',
      {
        ensemble:
          'model: model.yml\nbackend: {type: local}\nparameters:\n  config.depth_m: [1, 2]\n',
        backendConfig: 'study/local.yml',
        postprocessorConfigs: ['study/checksum.yml'],
      },
      [
        [
          'wave-0 sha256:b84037a219350f985e3b4adf17652c42231c0f0a0605c238e8f828a22406899a',
          'study/ensemble.yml study/model.yml study/local.yml study/checksum.yml',
          '{"overrides":["member 0: config.depth_m=1"],"merged":true}',
        ],
        [
          'wave-1 sha256:f918eb9a988cb33d9c309aa53a39376002e5d7285e993fcae8e30479862d4319',
          'study/ensemble.yml study/model.yml study/local.yml study/checksum.yml',
          '{"overrides":["member 1: config.depth_m=2"],"merged":true}',
        ],
      ],
    ],
    [
      "the site's local defaults under the default backend, and a member's backend value",
      {
        ensemble: 'model: model.yml\nparameters:\n  backend.timeout: [1h, 6h]\n',
        site: true,
        sets: ['backend.shell=false'],
      },
      [
        [
          'wave-0 sha256:86b22c6f139f2fb7777ceba851152ecd5dfd27ec5789361b0f744751b10e09fb',
          'study/ensemble.yml study/model.yml',
          '{"overrides":["--set backend.shell=false","member 0: backend.timeout=\\"1h\\""],"site":"<root>/study/site.yml","merged":true}',
        ],
        [
          'wave-1 sha256:d1b4d3032b2369a3fbf3bd42bc652ddb4ca0bcf629d242e16297b84d1fdbfefd',
          'study/ensemble.yml study/model.yml',
          '{"overrides":["--set backend.shell=false","member 1: backend.timeout=\\"6h\\""],"site":"<root>/study/site.yml","merged":true}',
        ],
      ],
    ],
  ])('is what it was when members held it: %s', async (_, given, want) => {
    expect(await runs(load(given), given.env ?? {})).toEqual(want);
  });
});

describe('a member waiting its turn', () => {
  it('holds its values and its run id, not its run', () => {
    const { members } = load({
      ensemble: 'model: model.yml\nbackend: local.yml\nparameters:\n  config.depth_m: [1, 2, 3]\n',
    });
    for (const member of members) expect(Object.keys(member)).not.toContain('run');
    // Its run, model, backend and all, would be several times this.
    expect(JSON.stringify(members).length / members.length).toBeLessThan(400);
  });
});

describe("the files members' runs are made of", () => {
  it('are read once for the check and every run made since', async () => {
    const reads = new Map<string, number>();
    const readOnce = new ReadOnce((path) => {
      const name = relative(tree.root, path);
      reads.set(name, (reads.get(name) ?? 0) + 1);
      return readSource(path);
    });
    const given: Case = {
      ensemble: 'model: model.yml\nbackend: local.yml\nreplicas: 3\n',
      postprocessorConfigs: ['study/checksum.yml'],
      readOnce,
    };
    const ensemble = load(given);
    await runs(ensemble, {});
    for (const member of ensemble.members) ensemble.runOf(member);
    expect(Object.fromEntries(reads)).toEqual({
      'study/model.yml': 1,
      'study/base.yml': 1,
      'study/local.yml': 1,
      'study/local-base.yml': 1,
      'study/checksum.yml': 1,
    });
  });

  it('stay as the check read them: a model file edited since changes no run', () => {
    const ensemble = load({ ensemble: 'model: model.yml\nreplicas: 2\n' });
    tree.write('study/base.yml', 'command: "false"\nconfig: {depth_m: 6}\n');
    for (const member of ensemble.members)
      expect(ensemble.runOf(member).model).toMatchObject({
        command: 'true',
        config: { depth_m: 5 },
      });
  });

  it('fail a member alone, saying why, when the disk no longer has what its run names', () => {
    const ensemble = load({ ensemble: 'model: model.yml\nreplicas: 2\n' });
    rmSync(tree.path('study', 'template'), { recursive: true });
    const [first] = ensemble.members;
    if (first === undefined) throw new Error('no member');
    expect(() => ensemble.runOf(first)).toThrow(ConfigError);
    expect(() => ensemble.runOf(first)).toThrow(
      /^member 0 no longer loads as it was checked: model file .* is not valid \(1 error\); .*model\.yml:4:11 {2}template: "template" does not exist/,
    );
  });
});

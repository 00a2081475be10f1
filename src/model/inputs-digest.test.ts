import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asNobody, cannotBecomeNobody } from '../../test/helpers/as-nobody.js';
import { makeTree, type TreeSpec, treeForEachTest } from '../../test/helpers/tree.js';
import { MASK } from '../secrets.js';
import { inputsDigest, templateDigest } from './inputs-digest.js';

const TEMPLATE = 'a'.repeat(64);

const parts = () => ({
  model: {
    run_id: 'wave',
    command: ['python3', 'run.py'],
    config: { depth_m: 5, pulse: { amplitude_m: 0.1, shape: 'gauss' }, levels: [1, 2, 3] },
    env_vars: { MODE: 'fast', API_TOKEN: 'tok-5f0c9e21' },
  },
  backend: { type: 'docker', image: 'wave:1', build_args: { GITHUB_TOKEN: 'ghp_1' } },
  postprocessors: [{ type: 'archive', format: 'tar.gz' }],
});

type Change = (data: ReturnType<typeof parts>) => void;

const setIn = (at: Record<string, unknown>, key: string, value: unknown) => {
  at[key] = value;
};

describe('inputsDigest', () => {
  const digest = (data: Record<string, unknown>, template = TEMPLATE) =>
    inputsDigest(data, template);

  it('is a sha256 in hex, named as such', () => {
    expect(digest(parts())).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('is the same for the same data', () => {
    expect(digest(parts())).toBe(digest(parts()));
  });

  it('is the same with the keys of every mapping in another order', () => {
    const { model, backend } = parts();
    const reordered = {
      postprocessors: [{ format: 'tar.gz', type: 'archive' }],
      backend: { build_args: backend.build_args, image: backend.image, type: backend.type },
      model: {
        env_vars: { API_TOKEN: model.env_vars.API_TOKEN, MODE: model.env_vars.MODE },
        config: {
          levels: model.config.levels,
          pulse: { shape: 'gauss', amplitude_m: 0.1 },
          depth_m: 5,
        },
        command: model.command,
        run_id: model.run_id,
      },
    };
    expect(reordered).toEqual(parts());
    expect(digest(reordered)).toBe(digest(parts()));
  });

  it.each<[string, Change]>([
    ['a number', (d) => (d.model.config.depth_m = 6)],
    [
      'a number for the same number as text',
      (d) => Object.assign(d.model.config, { depth_m: '5' }),
    ],
    ['a nested value', (d) => (d.model.config.pulse.shape = 'box')],
    ['the order of a list', (d) => d.model.config.levels.reverse()],
    ['an item added to a list', (d) => d.model.config.levels.push(4)],
    ['a key added', (d) => Object.assign(d.model.config, { seed: 1 })],
    ['a key removed', (d) => Object.assign(d.model, { config: { depth_m: 5 } })],
    [
      'a value moved to another key',
      (d) => Object.assign(d.model.config, { depth_m: undefined, height_m: 5 }),
    ],
    ['an environment variable that is not secret', (d) => (d.model.env_vars.MODE = 'slow')],
    [
      'the name of a secret variable',
      (d) => Object.assign(d.model, { env_vars: { MODE: 'fast', API_KEY: 'tok-5f0c9e21' } }),
    ],
    ['a secret variable added', (d) => Object.assign(d.model.env_vars, { DB_PASSWORD: 'p' })],
    ['the backend', (d) => (d.backend.image = 'wave:2')],
    ['the postprocessors', (d) => d.postprocessors.pop()],
  ])('changes with %s', (_, change) => {
    const changed = parts();
    change(changed);
    expect(digest(changed)).not.toBe(digest(parts()));
  });

  it('changes with the template digest', () => {
    expect(digest(parts(), 'b'.repeat(64))).not.toBe(digest(parts()));
    expect(digest(parts(), '')).not.toBe(digest(parts()));
  });

  it.each<[string, Change, Change]>([
    ['env_vars.API_TOKEN', () => undefined, (d) => setIn(d.model.env_vars, 'API_TOKEN', 'tok-new')],
    [
      'env_vars.API_TOKEN made empty',
      () => undefined,
      (d) => setIn(d.model.env_vars, 'API_TOKEN', ''),
    ],
    [
      'build_args.GITHUB_TOKEN',
      () => undefined,
      (d) => setIn(d.backend.build_args, 'GITHUB_TOKEN', 'ghp_2'),
    ],
    [
      'a password nested in the config',
      (d) => setIn(d.model.config.pulse, 'db', { password: 'swordfish' }),
      (d) => setIn(d.model.config.pulse, 'db', { password: 'hunter2' }),
    ],
    [
      'a secret-named mapping',
      (d) => setIn(d.model.config, 'credentials', { user: 'u', token: 't' }),
      (d) => setIn(d.model.config, 'credentials', { user: 'v', token: 's' }),
    ],
    [
      'a secret-named key in a list item',
      (d) => setIn(d.postprocessors[0] ?? {}, 'secret_key', 'a'),
      (d) => setIn(d.postprocessors[0] ?? {}, 'secret_key', 'b'),
    ],
    [
      'a key named in lower case',
      (d) => setIn(d.model.env_vars, 'api_key', 'a'),
      (d) => setIn(d.model.env_vars, 'api_key', 'b'),
    ],
  ])('is the same whatever the value of %s, which is masked first', (_, before, after) => {
    const one = parts();
    const other = parts();
    before(one);
    after(other);
    expect(other).not.toEqual(one);
    expect(digest(other)).toBe(digest(one));
  });

  it('counts numbers, booleans and structure under a secret-named key: a secret is text', () => {
    const one = parts();
    const other = parts();
    setIn(one.model.config, 'keyframes', [0, 10]);
    setIn(other.model.config, 'keyframes', [0, 20]);
    expect(digest(other)).not.toBe(digest(one));
  });

  it('is the same as for the data with its secrets already masked', () => {
    const masked = parts();
    masked.model.env_vars.API_TOKEN = MASK;
    masked.backend.build_args.GITHUB_TOKEN = MASK;
    expect(digest(masked)).toBe(digest(parts()));
  });

  it('changes nothing in what it is given', () => {
    const data = parts();
    digest(data);
    expect(data).toEqual(parts());
  });
});

describe('templateDigest', () => {
  const tree = treeForEachTest();

  /** The digest of a template made from `spec` in a folder of its own, which `change` may alter first. */
  const digestOf = async (spec: TreeSpec, change?: (root: string) => void) => {
    const template = makeTree(spec);
    try {
      change?.(template.root);
      return await templateDigest(template.root);
    } finally {
      template.remove();
    }
  };

  const RUN = '#!/bin/sh\necho {{ member.index }}\n';
  const PARAMS = '&params depth=5 /\n';
  const base: TreeSpec = { 'run.sh': RUN, 'input/params.nml': PARAMS, 'input/grid/': '' };

  it('is the same for no template every time', async () => {
    const none = await templateDigest(undefined);
    expect(none).toMatch(/^[0-9a-f]{64}$/);
    expect(await templateDigest(undefined)).toBe(none);
  });

  it('is the same for the same contents in two places', async () => {
    expect(await digestOf(base)).toBe(await digestOf(base));
  });

  it('is not that of no template for a template with a file', async () => {
    expect(await digestOf({ 'a.txt': '' })).not.toBe(await templateDigest(undefined));
  });

  it.each<[string, TreeSpec]>([
    ["a file's content", { ...base, 'input/params.nml': '&params depth=6 /\n' }],
    ["a file's content, kept the same size", { ...base, 'run.sh': RUN.replace('echo', 'ECHO') }],
    ['a file made empty', { ...base, 'run.sh': '' }],
    [
      "a file's name",
      {
        'start.sh': RUN,
        'input/params.nml': PARAMS,
        'input/grid/': '',
      },
    ],
    [
      'a file moved to another folder',
      {
        'run.sh': RUN,
        'params.nml': PARAMS,
        'input/grid/': '',
      },
    ],
    ['an added empty folder', { ...base, 'output/': '' }],
    ['an empty folder removed', { 'run.sh': RUN, 'input/params.nml': PARAMS }],
    ['an added empty file', { ...base, 'input/grid/.keep': '' }],
    [
      'an empty file where an empty folder was',
      {
        'run.sh': RUN,
        'input/params.nml': PARAMS,
        'input/grid': '',
      },
    ],
  ])('changes with %s', async (_, changed) => {
    expect(await digestOf(changed)).not.toBe(await digestOf(base));
  });

  it("changes with a link's target", async () => {
    const linked = (target: string) =>
      digestOf(base, (root) => symlinkSync(target, `${root}/data`));
    expect(await linked('/data/forcing-a')).toBe(await linked('/data/forcing-a'));
    expect(await linked('/data/forcing-b')).not.toBe(await linked('/data/forcing-a'));
  });

  it('tells a link from a file holding its target', async () => {
    const link = await digestOf({}, (root) => symlinkSync('target', `${root}/x`));
    expect(link).not.toBe(await digestOf({ x: 'target' }));
  });

  it('tells the bytes of a file from the entries after it', async () => {
    // The first file's bytes spell out the entry that follows it in the other template, but for its size.
    const modes = (root: string) => {
      for (const name of ['a', 'b'])
        if (existsSync(`${root}/${name}`)) chmodSync(`${root}/${name}`, 0o644);
    };
    expect(await digestOf({ a: 'f b\u0000644\u0000' }, modes)).not.toBe(
      await digestOf({ a: '', b: '' }, modes),
    );
  });

  it('changes when a file is made executable, as it is staged with its mode', async () => {
    const executable = await digestOf(base, (root) => chmodSync(`${root}/run.sh`, 0o755));
    const plain = await digestOf(base, (root) => chmodSync(`${root}/run.sh`, 0o644));
    expect(executable).not.toBe(plain);
  });

  it('does not change when a file is only touched', async () => {
    const template = makeTree(base);
    try {
      const before = await templateDigest(template.root);
      utimesSync(template.path('run.sh'), new Date(2001, 0, 1), new Date(2001, 0, 1));
      utimesSync(template.path('input'), new Date(2002, 0, 1), new Date(2002, 0, 1));
      expect(await templateDigest(template.root)).toBe(before);
      // Written again with the same bytes: a new mtime and inode, the same template.
      rmSync(template.path('run.sh'));
      writeFileSync(template.path('run.sh'), RUN);
      expect(await templateDigest(template.root)).toBe(before);
    } finally {
      template.remove();
    }
  });

  describe('never follows a link', () => {
    const withLink = (to: string) => {
      const root = tree.path('template');
      mkdirSync(root, { recursive: true });
      writeFileSync(`${root}/run.sh`, 'echo\n');
      symlinkSync(to, `${root}/link`);
      return () => templateDigest(root);
    };

    it('to a big file, whose bytes it does not read', async () => {
      const big = tree.write('outside/big.bin', '');
      truncateSync(big, 64 * 1024 ** 3);
      const digest = withLink(big);
      const started = performance.now();
      const before = await digest();
      expect(performance.now() - started).toBeLessThan(2_000);
      truncateSync(big, 1);
      expect(await digest()).toBe(before);
    });

    it.each([
      ['a device that never ends', '/dev/zero'],
      ['a target that is not there', '/nonexistent/forcing'],
      ['its own folder', '.'],
      ['the folder above', '..'],
    ])('to %s', async (_, to) => {
      const digest = withLink(to);
      expect(await digest()).toMatch(/^[0-9a-f]{64}$/);
    });

    it('to a FIFO, which it does not open', { timeout: 5_000 }, async () => {
      const fifo = tree.path('outside.fifo');
      execFileSync('mkfifo', [fifo]);
      expect(await withLink(fifo)()).toMatch(/^[0-9a-f]{64}$/);
    });

    it.skipIf(cannotBecomeNobody())('to a file it may not read', async () => {
      const secret = tree.write('outside/secret.txt', 'secret\n');
      chmodSync(secret, 0o600);
      const digest = withLink(secret);
      chmodSync(tree.root, 0o755);
      const asRoot = await digest();
      expect(await asNobody(digest)).toBe(asRoot);
    });
  });

  it('does not open a FIFO in the template, counting it by its kind', {
    timeout: 5_000,
  }, async () => {
    const root = tree.path('template');
    mkdirSync(root);
    execFileSync('mkfifo', [`${root}/pipe`]);
    const withFifo = await templateDigest(root);
    rmSync(`${root}/pipe`);
    writeFileSync(`${root}/pipe`, '');
    const withFile = await templateDigest(root);
    rmSync(`${root}/pipe`);
    expect(withFifo).not.toBe(withFile);
    expect(withFifo).not.toBe(await templateDigest(root));
  });

  it('does not open a FIFO deeper in the template', { timeout: 5_000 }, async () => {
    const root = tree.path('template');
    mkdirSync(`${root}/a/b`, { recursive: true });
    execFileSync('mkfifo', [`${root}/a/b/pipe`]);
    expect(await templateDigest(root)).toMatch(/^[0-9a-f]{64}$/);
  });

  // The renderer refuses such an entry with a message of its own: the
  // digest, taken first, must not fail the ensemble with a bare fs error.
  it.skipIf(cannotBecomeNobody())('counts a file it may not read without failing', async () => {
    const root = tree.path('template');
    mkdirSync(root);
    writeFileSync(`${root}/run.sh`, 'echo\n');
    writeFileSync(`${root}/secret.nml`, 'x\n');
    chmodSync(tree.root, 0o755);
    chmodSync(`${root}/secret.nml`, 0o600);
    const unreadable = await asNobody(() => templateDigest(root));
    expect(unreadable).toMatch(/^[0-9a-f]{64}$/);
    expect(unreadable).not.toBe(await templateDigest(root));
  });

  it.skipIf(cannotBecomeNobody())('counts a folder it may not list without failing', async () => {
    const root = tree.path('template');
    mkdirSync(`${root}/private`, { recursive: true });
    writeFileSync(`${root}/private/a.nml`, 'x\n');
    chmodSync(tree.root, 0o755);
    chmodSync(`${root}/private`, 0o700);
    expect(await asNobody(() => templateDigest(root))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('counts an entry whose name is not UTF-8 without failing', async () => {
    const root = tree.path('template');
    mkdirSync(root);
    writeFileSync(
      Buffer.concat([Buffer.from(`${root}/bad-`), Buffer.from([0xff]), Buffer.from('.nml')]),
      'x',
    );
    expect(await templateDigest(root)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sees a folder renamed as a change', async () => {
    const template = makeTree(base);
    try {
      const before = await templateDigest(template.root);
      renameSync(template.path('input'), template.path('inputs'));
      expect(await templateDigest(template.root)).not.toBe(before);
    } finally {
      template.remove();
    }
  });
});

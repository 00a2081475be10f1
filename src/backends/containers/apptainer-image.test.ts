import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApptainer, makeFakeApptainer } from '../../../test/helpers/fake-apptainer.js';
import { makeTree, type Tree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { RunFailedError } from '../../errors.js';
import { stringEnv } from '../../exec/env.js';
import { type ApptainerContainerConfig, apptainerContainerSchema } from './apptainer-fields.js';
import {
  builtImagePath,
  cacheDir,
  ensureImage,
  plannedImage,
  pulledImagePath,
} from './apptainer-image.js';

let tree: Tree;
let fake: FakeApptainer;
beforeEach(() => {
  tree = makeTree({ 'images/model.sif': 'SIF', 'images/sandbox/bin/': '' });
  fake = makeFakeApptainer();
});
afterEach(() => {
  tree.remove();
  fake.remove();
});

/** A config as the loader would hand it over, its images cached in the test's own tree. */
function config(fields: Record<string, unknown> = {}): ApptainerContainerConfig {
  return apptainerContainerSchema(diskPathContext(tree.root)).parse({
    type: 'apptainer',
    cache_dir: 'cache',
    ...fields,
  });
}

/** ensureImage with the fake on PATH, keeping the status lines it gives. */
function ensure(
  fields: Record<string, unknown>,
  extraEnv: Record<string, string> = {},
  signal = new AbortController().signal,
) {
  const status: string[] = [];
  const image = ensureImage(config(fields), {
    env: stringEnv(fake.env(extraEnv)),
    status: (line) => status.push(line),
    signal,
  });
  return { image, status };
}

/** The subcommands the fake was asked for: "pull", "build", "exec"… */
const verbs = () => fake.log().map((argv) => argv[1]);

describe('cacheDir', () => {
  it.each<{ name: string; fields: Record<string, unknown>; env: NodeJS.ProcessEnv; want: string }>([
    {
      name: 'cache_dir over everything',
      fields: { cache_dir: '/scratch/sifs' },
      env: { APPTAINER_CACHEDIR: '/ac', XDG_CACHE_HOME: '/xdg', HOME: '/home/me' },
      want: '/scratch/sifs',
    },
    {
      name: 'APPTAINER_CACHEDIR without cache_dir',
      fields: {},
      env: { APPTAINER_CACHEDIR: '/ac', XDG_CACHE_HOME: '/xdg', HOME: '/home/me' },
      want: '/ac/modelrun',
    },
    {
      name: 'XDG_CACHE_HOME without either',
      fields: {},
      env: { XDG_CACHE_HOME: '/xdg', HOME: '/home/me' },
      want: '/xdg/modelrun/apptainer',
    },
    {
      name: 'an empty APPTAINER_CACHEDIR as unset',
      fields: {},
      env: { APPTAINER_CACHEDIR: '', XDG_CACHE_HOME: '/xdg' },
      want: '/xdg/modelrun/apptainer',
    },
    {
      name: 'HOME/.cache without XDG_CACHE_HOME',
      fields: {},
      env: { HOME: '/home/me' },
      want: '/home/me/.cache/modelrun/apptainer',
    },
    {
      name: "the user's home folder without HOME",
      fields: {},
      env: {},
      want: join(homedir(), '.cache', 'modelrun', 'apptainer'),
    },
  ])('takes $name', ({ fields, env, want }) => {
    const parsed = apptainerContainerSchema(diskPathContext(tree.root)).parse({
      type: 'apptainer',
      image: 'docker://busybox',
      ...fields,
    });
    expect(cacheDir(parsed, env)).toBe(want);
  });

  it("resolves a relative cache_dir against the config's folder", () => {
    expect(cacheDir(config({ image: 'docker://busybox' }), {})).toBe(tree.path('cache'));
  });
});

describe('pulledImagePath', () => {
  it('is stable: the same reference gives the same file in the cache', () => {
    const first = pulledImagePath('/cache', 'docker://busybox:1.36');
    expect(first).toBe(pulledImagePath('/cache', 'docker://busybox:1.36'));
    expect(first).toMatch(/^\/cache\/docker_busybox_1\.36-[0-9a-f]{12}\.sif$/);
  });

  it.each([
    ['tags', 'docker://busybox:1.36', 'docker://busybox:1.37'],
    ['schemes', 'docker://busybox:1.36', 'oras://busybox:1.36'],
    ['references that read the same once made safe', 'docker://a/b', 'docker://a_b'],
    [
      'long references that differ after 80 characters',
      `docker://registry.example.org/${'x'.repeat(80)}:1`,
      `docker://registry.example.org/${'x'.repeat(80)}:2`,
    ],
  ])('differs for references that differ in %s', (_what, a, b) => {
    expect(pulledImagePath('/cache', a)).not.toBe(pulledImagePath('/cache', b));
  });
});

describe('builtImagePath', () => {
  it('is named by the content of the .def file, not by its name or place', async () => {
    const a = tree.write('a/model.def', 'Bootstrap: docker\nFrom: busybox:1.36\n');
    const b = tree.write('b/other.def', 'Bootstrap: docker\nFrom: busybox:1.36\n');
    const path = await builtImagePath('/cache', a);
    expect(path).toMatch(/^\/cache\/def-[0-9a-f]{12}\.sif$/);
    expect(await builtImagePath('/cache', b)).toBe(path);
  });

  it('changes with the content of the .def file', async () => {
    const def = tree.write('model.def', 'Bootstrap: docker\nFrom: busybox:1.36\n');
    const before = await builtImagePath('/cache', def);
    tree.write('model.def', 'Bootstrap: docker\nFrom: busybox:1.37\n');
    expect(await builtImagePath('/cache', def)).not.toBe(before);
  });
});

describe('plannedImage', () => {
  it('is a local image itself, a pulled one in the cache, and a built one by content', async () => {
    const def = tree.write('model.def', 'Bootstrap: docker\nFrom: busybox:1.36\n');
    const cache = tree.path('cache');
    expect(await plannedImage(config({ image: 'images/model.sif' }), {})).toBe(
      tree.path('images', 'model.sif'),
    );
    expect(await plannedImage(config({ image: 'images/sandbox' }), {})).toBe(
      tree.path('images', 'sandbox'),
    );
    expect(await plannedImage(config({ image: 'docker://busybox' }), {})).toBe(
      pulledImagePath(cache, 'docker://busybox'),
    );
    expect(await plannedImage(config({ definition: 'model.def' }), {})).toBe(
      await builtImagePath(cache, def),
    );
    expect(existsSync(cache)).toBe(false);
  });
});

describe('ensureImage', () => {
  it.each([
    ['a .sif file', 'images/model.sif'],
    ['a sandbox directory', 'images/sandbox'],
  ])('uses %s as it is, without calling the tool', async (_what, image) => {
    expect(await ensure({ image }).image).toBe(tree.path(image));
    expect(fake.log()).toEqual([]);
    expect(existsSync(tree.path('cache'))).toBe(false);
  });

  it.each(['docker://busybox:1.36', 'oras://ghcr.io/me/model:1', 'library://alpine:3.19'])(
    'pulls %s once into the cache, through a temporary name, then reuses it',
    async (reference) => {
      const target = pulledImagePath(tree.path('cache'), reference);
      const first = ensure({ image: reference });
      expect(await first.image).toBe(target);
      expect(readFileSync(target, 'utf8')).toBe(`fake SIF from ${reference}\n`);
      const [pull] = fake.log();
      expect(pull).toEqual(['apptainer', 'pull', expect.any(String), reference]);
      expect(pull?.[2]).toMatch(new RegExp(`^${target}\\.[0-9a-f]{8}\\.partial$`));
      expect(first.status).toContain(`pulling ${reference}`);
      // The tool's own output is streamed as status lines.
      expect(first.status).toContain('  INFO:    Creating SIF file... done');

      const second = ensure({ image: reference });
      expect(await second.image).toBe(target);
      expect(verbs()).toEqual(['pull']);
      expect(second.status).toEqual([`using ${target}`]);
      // Nothing but the image: no temporary file, no lock.
      expect(readdirSync(tree.path('cache'))).toEqual([target.split('/').pop()]);
    },
  );

  it('pulls with singularity when that is the binary', async () => {
    await ensure({ image: 'docker://busybox', binary: 'singularity' }).image;
    expect(fake.log().map((argv) => argv.slice(0, 2))).toEqual([['singularity', 'pull']]);
  });

  it('pulls once for two concurrent runs of the same reference, and both get the image', async () => {
    const reference = 'docker://busybox:1.36';
    const [a, b] = await Promise.all([
      ensure({ image: reference }, { FAKE_SLEEP: '1' }).image,
      ensure({ image: reference }, { FAKE_SLEEP: '1' }).image,
    ]);
    const target = pulledImagePath(tree.path('cache'), reference);
    expect([a, b]).toEqual([target, target]);
    expect(verbs()).toEqual(['pull']);
    expect(readFileSync(target, 'utf8')).toBe(`fake SIF from ${reference}\n`);
    expect(readdirSync(tree.path('cache'))).toEqual([target.split('/').pop()]);
  }, 20_000);

  it('builds a definition once, reuses it while the .def is unchanged, and rebuilds after a change', async () => {
    const def = tree.write('model.def', 'Bootstrap: docker\nFrom: busybox:1.36\n');
    const first = ensure({ definition: 'model.def' });
    const built = await first.image;
    expect(built).toBe(await builtImagePath(tree.path('cache'), def));
    expect(readFileSync(built, 'utf8')).toBe(`fake SIF from ${def}\n`);
    expect(fake.log()).toEqual([['apptainer', 'build', expect.stringMatching(/\.partial$/), def]]);
    expect(first.status[0]).toBe(`building ${built} from ${def}`);

    expect(await ensure({ definition: 'model.def' }).image).toBe(built);
    expect(verbs()).toEqual(['build']);

    tree.write('model.def', 'Bootstrap: docker\nFrom: busybox:1.36\n%post\n  echo changed\n');
    const rebuilt = await ensure({ definition: 'model.def' }).image;
    expect(rebuilt).not.toBe(built);
    expect(verbs()).toEqual(['build', 'build']);
    expect(existsSync(rebuilt)).toBe(true);
  });

  it.each<{ what: string; fields: Record<string, unknown>; tool: string; hint: RegExp }>([
    {
      what: 'pull',
      fields: { image: 'docker://nosuch/image:0' },
      tool: 'apptainer pull',
      hint: /registry is reachable/,
    },
    {
      what: 'build',
      fields: { definition: 'model.def' },
      tool: 'apptainer build',
      hint: /definition file/,
    },
  ])(
    'fails a failed $what with the tool’s own message, and leaves nothing behind',
    async ({ fields, tool, hint }) => {
      tree.write('model.def', 'Bootstrap: docker\nFrom: nosuch/image:0\n');
      const failing = ensure(fields, { FAKE_FAIL: 'manifest unknown: nosuch/image:0' });
      const error = await failing.image.then(
        () => undefined,
        (thrown: unknown) => thrown as RunFailedError,
      );
      expect(error).toBeInstanceOf(RunFailedError);
      expect(error?.message).toContain(`\`${tool}\` failed (exit code 255)`);
      expect(error?.message).toMatch(/FATAL: +manifest unknown: nosuch\/image:0/);
      expect(error?.hint).toMatch(hint);
      // Neither the image, nor the half-written temporary file, nor the lock.
      expect(readdirSync(tree.path('cache'))).toEqual([]);

      // Nothing left in the way of the next attempt.
      const target = await ensure(fields).image;
      expect(readFileSync(target, 'utf8')).toMatch(/^fake SIF from /);
    },
  );

  it.each([
    { what: 'pull', fields: { image: 'docker://busybox' }, tool: 'apptainer pull' },
    { what: 'build', fields: { definition: 'model.def' }, tool: 'apptainer build' },
  ])('fails a $what that exits 0 without writing the image', async ({ fields, tool }) => {
    tree.write('model.def', 'Bootstrap: docker\nFrom: busybox\n');
    const error = await ensure(fields, { FAKE_NO_IMAGE: '1' }).image.then(
      () => undefined,
      (thrown: unknown) => thrown as RunFailedError,
    );
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error?.message).toMatch(new RegExp(`^\`${tool}\` exited 0 but wrote no image at `));
    expect(error?.hint).toMatch(/cache_dir/);
    expect(readdirSync(tree.path('cache'))).toEqual([]);
  });

  it('stops a pull when the run is aborted, and leaves nothing behind', async () => {
    const stopper = new AbortController();
    const pulling = ensure({ image: 'docker://busybox' }, { FAKE_SLEEP: '30' }, stopper.signal);
    while (!verbs().includes('pull')) await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    stopper.abort();
    await expect(pulling.image).rejects.toThrow(/`apptainer pull` failed \(killed by SIGTERM\)/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readdirSync(tree.path('cache'))).toEqual([]);
  });
});

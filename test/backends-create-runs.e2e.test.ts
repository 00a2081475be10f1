import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runModelrun } from './helpers/cli.js';
import {
  dockerUnavailable,
  ensureTestImages,
  reportMissingEngine,
  slurmUnavailable,
} from './helpers/engines.js';
import { treeForEachTest } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

/**
 * `backends create --with-examples` must write nothing that breaks a run:
 * each file it writes validates, and runs a tiny model as it stands (docker
 * with the local test image in place of the required image, since no
 * registry is reachable here), or for Slurm and Apptainer passes --dry-run.
 */
/** Each test's own folder. */
const tree = treeForEachTest();

const missingDocker = dockerUnavailable();
reportMissingEngine('docker', missingDocker);
const missingSlurm = slurmUnavailable();
reportMissingEngine('slurm', missingSlurm);

/** Writes a --with-examples config for `type` into the tree and returns its name. */
async function create(type: string): Promise<string> {
  const file = `${type}-examples.yml`;
  const result = await runModelrun(
    ['backends', 'create', '--backend-type', type, '--with-examples', '--output', file],
    { cwd: tree.root },
  );
  expect(result.stderr).toContain(`wrote ${file}`);
  expect(result.code).toBe(0);
  const validated = await runModelrun(['backends', 'validate', file], { cwd: tree.root });
  expect(validated.stdout).toContain(`✓ ${file}`);
  expect(validated.stdout).not.toMatch(/warning/i);
  return file;
}

/** A model that says hello from wherever it runs: its staging dir must be where it starts. */
function tinyModel(): { file: string; runId: string } {
  const runId = uniqueId('examples');
  const file = `${runId}.yml`;
  tree.write('template/input.txt', 'staged\n');
  tree.write(file, `run_id: ${runId}\ntemplate: template\ncommand: "cat input.txt; echo hello"\n`);
  return { file, runId };
}

describe('backends create --with-examples writes a config that runs', () => {
  it('local: runs a model as written', async () => {
    const config = await create('local');
    const model = tinyModel();
    const result = await runModelrun(['run', model.file, '--backend-config', config], {
      cwd: tree.root,
    });
    expect(result.stdout).toBe('staged\nhello\n');
    expect(result.code).toBe(0);
  });

  describe.skipIf(missingDocker !== undefined)('docker, against the real engine', () => {
    beforeAll(() => ensureTestImages(), 300_000);

    it('runs a model once the required image names a local one', async () => {
      const config = await create('docker');
      const text = readFileSync(tree.path(config), 'utf8');
      expect(text).toMatch(/^image: ubuntu:22\.04$/m);
      writeFileSync(
        tree.path(config),
        text.replace(/^image: .*$/m, 'image: modelrun-test/busybox'),
      );
      const model = tinyModel();
      const result = await runModelrun(['run', model.file, '--backend-config', config], {
        cwd: tree.root,
      });
      expect(result.stderr).toContain(`✓ ${model.runId} succeeded`);
      expect(result.stdout).toBe('staged\nhello\n');
      expect(result.code).toBe(0);
    }, 120_000);
  });

  it.each(['slurm', 'apptainer'])(
    '%s: plans exactly what the minimal config plans, and the cluster would accept it',
    async (type) => {
      const config = await create(type);
      const minimal = `${type}-minimal.yml`;
      const created = await runModelrun(
        ['backends', 'create', '--backend-type', type, '--output', minimal],
        { cwd: tree.root },
      );
      expect(created.code).toBe(0);
      const model = tinyModel();
      const plan = async (backend: string) => {
        const result = await runModelrun(
          ['run', model.file, '--backend-config', backend, '--dry-run', '--json'],
          { cwd: tree.root },
        );
        expect(result.stderr).not.toMatch(/error|warning/);
        expect(result.code).toBe(0);
        return JSON.parse(result.stdout) as { script?: string };
      };
      const planned = await plan(config);
      expect(planned).toEqual(await plan(minimal));
      if (type === 'slurm' && missingSlurm === undefined) {
        // Asks the controller whether it would take the job, without submitting it.
        const script = tree.write(`${model.runId}.sh`, planned.script ?? '');
        const test = spawnSync('sbatch', ['--test-only', script], { encoding: 'utf8' });
        expect(test.stderr).not.toMatch(/error/);
        expect(test.status).toBe(0);
      }
    },
    // Four CLI starts; on a loaded 2-core machine each can take seconds.
    60_000,
  );
});

import { symlinkSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../test/helpers/tree.js';
import { VERSION } from '../package-info.js';
import { schemaReference } from './schema-reference.js';

const tree = makeTree({
  'clone/schemas/': '',
  'clone/examples/backends/': '',
  'project/node_modules/modelrun/schemas/': '',
  'project/backends/': '',
  'prefix/lib/node_modules/modelrun/schemas/': '',
  'linked/node_modules/': '',
  'linked/cfg/': '',
  'elsewhere/': '',
});
// npm link, pnpm and workspaces: node_modules/modelrun is a symlink to the package.
symlinkSync(tree.path('clone'), tree.path('linked/node_modules/modelrun'));
// A config folder of the project, opened through a symlink from outside it.
symlinkSync(tree.path('project/backends'), tree.path('elsewhere/cfglink'));
symlinkSync(tree.path('project'), tree.path('elsewhere/projlink'));
afterAll(() => tree.remove());

describe('schemaReference', () => {
  it.each([
    [
      'a file in a git clone',
      'clone',
      'clone/examples/backends/hpc.yml',
      '../../schemas/slurm.schema.json',
    ],
    ['a file at the top of a git clone', 'clone', 'clone/hpc.yml', './schemas/slurm.schema.json'],
    [
      'a file in a project with a local install',
      'project/node_modules/modelrun',
      'project/backends/hpc.yml',
      '../node_modules/modelrun/schemas/slurm.schema.json',
    ],
    [
      'a file not written yet, in a folder not made yet',
      'project/node_modules/modelrun',
      'project/new/deeper/hpc.yml',
      '../../node_modules/modelrun/schemas/slurm.schema.json',
    ],
    [
      'a file in a project whose node_modules/modelrun is a symlink',
      'clone',
      'linked/cfg/hpc.yml',
      '../node_modules/modelrun/schemas/slurm.schema.json',
    ],
    [
      'a file in a project reached through a symlink to it',
      'project/node_modules/modelrun',
      'elsewhere/projlink/backends/hpc.yml',
      '../node_modules/modelrun/schemas/slurm.schema.json',
    ],
  ])('%s gets the relative path', (_name, root, file, expected) => {
    expect(schemaReference('slurm', tree.path(file), tree.path(root))).toBe(expected);
  });

  it('a file opened through a symlink from outside the project gets the URL: an editor would resolve a relative path from the link', () => {
    expect(
      schemaReference(
        'local',
        tree.path('elsewhere/cfglink/z.yml'),
        tree.path('project/node_modules/modelrun'),
      ),
    ).toBe(`https://cdn.jsdelivr.net/npm/modelrun@${VERSION}/schemas/local.schema.json`);
  });

  it('a file outside the project of a global install gets the published URL of this version', () => {
    expect(
      schemaReference(
        'slurm',
        tree.path('project/backends/hpc.yml'),
        tree.path('prefix/lib/node_modules/modelrun'),
      ),
    ).toBe(`https://cdn.jsdelivr.net/npm/modelrun@${VERSION}/schemas/slurm.schema.json`);
  });
});

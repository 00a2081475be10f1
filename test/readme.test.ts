import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const quoted = [...readme.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => ({
  file: m[1] ?? '',
  text: m[2] ?? '',
}));

describe('README', () => {
  it('quotes every example backend config, the example model, its pipeline and its ensemble', () => {
    const files = quoted.map((q) => q.file);
    for (const name of readdirSync(join(REPO_ROOT, 'examples', 'backends')))
      expect(files).toContain(`examples/backends/${name}`);
    expect(files).toEqual(
      expect.arrayContaining([
        'examples/wave/model.yml',
        'examples/wave/pipeline.yml',
        'examples/wave/ensemble.yml',
      ]),
    );
  });

  it.each(quoted)('quotes $file as it is', ({ file, text }) => {
    expect(text).toBe(readFileSync(join(REPO_ROOT, file), 'utf8'));
  });
});

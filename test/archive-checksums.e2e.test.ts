import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runModelrun } from './helpers/cli.js';
import { treeForEachTest } from './helpers/tree.js';

/** Each test's own folder. */
const tree = treeForEachTest();

/** A copy of the example wave model and its pipeline, with the archive in `format`. */
function copyExample(format: 'zip' | 'tar.gz'): string {
  const to = tree.path(format);
  cpSync(join(REPO_ROOT, 'examples', 'wave'), to, {
    recursive: true,
    filter: (src) => !src.includes('simulations'),
  });
  const pipeline = join(to, 'pipeline.yml');
  writeFileSync(
    pipeline,
    readFileSync(pipeline, 'utf8').replace('format: zip', `format: ${format}`),
  );
  return to;
}

describe('the example pipeline’s archive', () => {
  it.each(['zip', 'tar.gz'] as const)(
    'passes sha256sum -c once extracted (%s), listing only what it packs',
    async (format) => {
      const example = copyExample(format);
      const result = await runModelrun(['pipeline', 'pipeline.yml'], { cwd: example });
      expect(result.stderr).toMatch(
        /✓ archive: wrote .*; SHA256SUMS packed listing only the \d+ of its \d+ files that the archive holds/,
      );
      expect(result.code).toBe(0);
      const archive = join(example, 'simulations', `wave-demo.${format}`);
      const out = join(example, 'extracted');
      mkdirSync(out);
      if (format === 'zip') execFileSync('unzip', ['-q', archive, '-d', out]);
      else execFileSync('tar', ['-xzf', archive, '-C', out]);
      const checked = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], {
        cwd: out,
        encoding: 'utf8',
      });
      expect(checked).toContain('output/summary.json: OK');
      expect(checked).not.toContain('logs/');
      // The run dir keeps the whole list.
      const whole = readFileSync(join(example, 'simulations', 'wave-demo', 'SHA256SUMS'), 'utf8');
      expect(whole).toContain('logs/stdout.log');
    },
    60_000,
  );
});

import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';
import type { HostileCase, HostilePaths } from './helpers/hostile.js';
import { fillWatched, limiter, runHostile, snapshot } from './helpers/hostile-run.js';

/**
 * The hostile-input table: every row of every test/cases/hostile-*.ts file,
 * run against the built CLI (`npm run build` first). No row may exit 70,
 * print a stack trace or "please report", hang, or change anything in its
 * `outside` and `home` folders or its `keep` paths.
 */
const CASES = join(REPO_ROOT, 'test', 'cases');
const files = readdirSync(CASES)
  .filter((name) => /^hostile-.+\.ts$/.test(name))
  .sort();
const tables = await Promise.all(
  files.map(async (name) => {
    const module = (await import(pathToFileURL(join(CASES, name)).href)) as {
      hostileCases?: HostileCase[];
    };
    return { name, rows: module.hostileCases ?? [] };
  }),
);

/** A JS stack frame: "    at fn (file:///…:1:2)", "    at node:internal/…:3:4". */
const STACK_FRAME = /^ {4}at (?:.+ \()?(?:file:\/\/|node:|\/)\S*:\d+:\d+\)?$/m;
const BUG_EXIT_CODE = 70;
// Rows are processes on a machine with few cores; the deadline per row is
// its own, so a limit here only stops rows from slowing each other.
const runLimited = limiter(4);
const started = Date.now();
afterAll(() => {
  const count = tables.reduce((sum, table) => sum + table.rows.length, 0);
  console.log(`hostile inputs: ${count} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

it('finds the table files', () => {
  expect(files.length).toBeGreaterThan(0);
});

for (const { name, rows } of tables) {
  describe(name, () => {
    for (const row of rows) {
      it.concurrent(row.name, async (ctx) => {
        const skip = row.skip?.();
        if (skip !== undefined) {
          console.log(`skipping hostile row "${row.name}": ${skip}`);
          ctx.skip(skip);
          return;
        }
        await runLimited(() => runRow(row));
      }, 600_000); // A row's own deadline ends it first; this covers the wait for its turn.
    }
  });
}

async function runRow(row: HostileCase): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'modelrun-hostile-'));
  const paths: HostilePaths = {
    dir: join(root, 'dir'),
    outside: join(root, 'outside'),
    home: join(root, 'home'),
  };
  for (const path of Object.values(paths)) mkdirSync(path);
  let teardown: (() => Promise<void> | void) | undefined;
  try {
    fillWatched(paths);
    const run = await row.setup(paths);
    teardown = run.teardown;
    const watched = () => ({
      outside: snapshot(paths.outside),
      home: snapshot(paths.home),
      keep: Object.fromEntries((run.keep ?? []).map((p) => [p, snapshot(join(paths.dir, p))])),
    });
    const before = watched();
    const result = await runHostile(run, paths);
    const output = `${result.stdout}\n${result.stderr}`;
    const shown = `exit ${result.code}${result.signal ? ` (${result.signal})` : ''} after ${result.ms} ms\n--- stdout\n${result.stdout.slice(0, 3000)}\n--- stderr\n${result.stderr.slice(0, 3000)}`;
    expect(result.hung, `hung for ${run.timeoutS ?? 20} s\n${shown}`).toBe(false);
    expect(result.code, shown).not.toBe(BUG_EXIT_CODE);
    expect(run.exit ?? [1, 2], shown).toContain(result.code);
    expect(output, shown).not.toMatch(STACK_FRAME);
    expect(output, shown).not.toMatch(/please report/i);
    if (run.says !== undefined) expect(output, shown).toMatch(run.says);
    expect(watched(), 'the watched files changed').toEqual(before);
  } finally {
    await teardown?.();
    rmSync(root, { recursive: true, force: true });
  }
}

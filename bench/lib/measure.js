// Timing and peak memory of one command at a time, for the benchmarks.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// GNU time's %M is the peak RSS in KiB of the process, or of the largest of
// the children it waited for, whichever is larger. Without GNU time, VmHWM of
// the process itself is polled from /proc instead.
export const gnuTime = (() => {
  if (!existsSync('/usr/bin/time')) return false;
  const probe = join(tmpdir(), `modelrun-bench-time-${process.pid}`);
  const ran = spawnSync('/usr/bin/time', ['-f', '%M', '-o', probe, 'true']);
  const ok = ran.status === 0 && existsSync(probe) && /^\d+\s*$/.test(readFileSync(probe, 'utf8'));
  rmSync(probe, { force: true });
  return ok;
})();

export const rssMethod = gnuTime
  ? '/usr/bin/time -f %M (largest of the process and its children)'
  : 'VmHWM polled from /proc (the process itself)';

/** The process being measured, if any; and whether the bench was interrupted. */
let running;
let stopping = false;

/**
 * Runs argv with its stdout and stderr on /dev/null; returns wall ms, peak
 * RSS in KiB, and with GNU time the CPU ms (user and system) of it and the
 * children it waited for.
 */
export function measure(argv, { cwd, rssFile }) {
  return new Promise((resolve, reject) => {
    const command = gnuTime ? ['/usr/bin/time', '-f', '%M %U %S', '-o', rssFile, ...argv] : argv;
    const started = process.hrtime.bigint();
    // A process group of its own, so an interrupted bench can stop it and all it started.
    const child = spawn(command[0], command.slice(1), { cwd, stdio: 'ignore', detached: true });
    running = child;
    let hwm = 0;
    const sample = () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        hwm = Math.max(hwm, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      } catch {
        // Gone between the last poll and the exit event.
      }
    };
    // spawn returns after the exec, so the first sample is already the new program's.
    if (!gnuTime) sample();
    const poll = gnuTime ? undefined : setInterval(sample, 5);
    poll?.unref();
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      running = undefined;
      // Interrupted: the signal handler cleans up and exits; nothing more to measure.
      if (stopping) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      clearInterval(poll);
      if (code !== 0) {
        reject(new Error(`${argv.join(' ')} exited ${code ?? signal}; run it by hand in ${cwd}`));
        return;
      }
      const [rss, user, system] = gnuTime
        ? readFileSync(rssFile, 'utf8').trim().split(/\s+/).map(Number)
        : [hwm, Number.NaN, Number.NaN];
      resolve({ ms, rssKiB: rss, cpuMs: (user + system) * 1000 });
    });
  });
}

/**
 * Runs each contender `count` times, alternating them run by run so that drift
 * on a shared machine hits each alike. Returns the median time and the highest
 * peak RSS of each. `after` runs after each run of its contender.
 */
export async function compare(contenders, count, options) {
  const samples = contenders.map(() => ({ ms: [], rssKiB: [], cpuMs: [] }));
  for (let i = 0; i < count; i++) {
    for (const [index, contender] of contenders.entries()) {
      const { ms, rssKiB, cpuMs } = await measure(contender.argv, options);
      samples[index].ms.push(ms);
      samples[index].rssKiB.push(rssKiB);
      samples[index].cpuMs.push(cpuMs);
      contender.after?.();
      // Write back what the last run left dirty, so it does not slow the next one down.
      spawnSync('sync');
    }
  }
  return samples.map((s) => ({
    ms: median(s.ms),
    rssKiB: Math.max(...s.rssKiB),
    cpuMs: median(s.cpuMs),
  }));
}

/** Stops the process being measured: SIGTERM to its group, then up to 15 s for all of it to go. */
export async function interrupt() {
  stopping = true;
  const pid = running?.pid;
  if (pid === undefined) return;
  const alive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (alive()) process.kill(-pid, 'SIGTERM');
  for (let waited = 0; alive() && waited < 15_000; waited += 50)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Prints rows as aligned columns: the first left-aligned, the rest right-aligned. */
export function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => String(row[col]).length)));
  for (const row of all) {
    const cells = row.map((cell, col) =>
      col === 0 ? String(cell).padEnd(widths[col]) : String(cell).padStart(widths[col]),
    );
    console.log(`  ${cells.join('  ')}`.trimEnd());
  }
}

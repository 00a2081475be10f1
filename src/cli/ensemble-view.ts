import { escapeDeceptive, withoutControls } from '../exec/visible-name.js';
import type { MemberEntry } from '../model/ensemble-record.js';
import type { Redactor } from '../secrets.js';

/**
 * What an ensemble shows while it runs. On a terminal: a compact view of
 * the members by state, the running ones with how long they have run, and
 * an ETA, redrawn in place; a member that fails also gets a line of its
 * own above it, which stays. Elsewhere (a CI log, a file): one line per
 * change of a member's state, never a redrawing.
 */

export interface ViewSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ViewProgress {
  ended: number;
  of: number;
  /** The members this run is about, as they stand. */
  members: readonly MemberEntry[];
}

/** Running members named in the view; the rest are counted. */
const MAX_NAMED = 4;

/** Redrawn at most this often for a change, and this often to move the clocks on. */
const REDRAW_MS = 250;
const TICK_MS = 1000;

export class EnsembleView {
  private drawn = 0;
  private lastDraw = 0;
  private last: ViewProgress | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly live: boolean;

  constructor(
    private readonly sink: ViewSink,
    private readonly redactor: Redactor,
    private readonly maxParallel: number,
    private readonly now: () => number = Date.now,
  ) {
    this.live = sink.isTTY === true;
  }

  /** A member's state changed. */
  member(entry: MemberEntry, progress: ViewProgress): void {
    this.last = progress;
    if (!this.live) {
      this.line(memberLine(entry, progress));
      return;
    }
    // A failure stays in the scrollback; the rest is the view's to show.
    if (entry.status === 'failed') this.line(memberLine(entry, progress));
    this.ticker ??= setInterval(() => this.redraw(true), TICK_MS).unref();
    this.redraw(entry.status !== 'running');
  }

  /** A line of modelrun's own above the view (a warning), which stays. */
  line(text: string): void {
    this.clear();
    this.sink.write(`${this.shown(text)}\n`);
    if (this.live && this.last !== undefined) this.redraw(true);
  }

  /** The ensemble has ended: the view goes, leaving the lines above it. */
  finish(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.clear();
    this.last = undefined;
  }

  private redraw(force: boolean): void {
    const progress = this.last;
    if (progress === undefined || (!force && this.now() - this.lastDraw < REDRAW_MS)) return;
    this.lastDraw = this.now();
    const lines = viewLines(progress, this.maxParallel, this.now());
    const up = this.drawn > 0 ? `\u001b[${this.drawn}A` : '';
    this.sink.write(`${up}${lines.map((l) => `\u001b[2K${this.shown(l)}\n`).join('')}\u001b[J`);
    this.drawn = lines.length;
  }

  private clear(): void {
    if (this.drawn === 0) return;
    this.sink.write(`\u001b[${this.drawn}A\u001b[J`);
    this.drawn = 0;
  }

  private shown(text: string): string {
    return escapeDeceptive(this.redactor.redact(text));
  }
}

/** The view's lines: counts by state and an ETA, then the running members and how long each has run. */
export function viewLines(progress: ViewProgress, maxParallel: number, now: number): string[] {
  const by = (status: MemberEntry['status']) => progress.members.filter((m) => m.status === status);
  const running = by('running');
  const counts = (['running', 'pending', 'succeeded', 'failed', 'cancelled', 'skipped'] as const)
    .map((status) => [status, by(status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(' · ');
  const eta = etaSeconds(progress.members, maxParallel);
  const head = `[${progress.ended}/${progress.of}] ${counts}${eta === undefined ? '' : ` · about ${formatSpan(eta)} left`}`;
  if (running.length === 0) return [head];
  const named = running
    .slice(0, MAX_NAMED)
    .map((m) => `${m.run_id} ${formatSpan(secondsSince(m.started_at, now))}`);
  const more = running.length > MAX_NAMED ? ` and ${running.length - MAX_NAMED} more` : '';
  return [head, `  running ${named.join(', ')}${more}`];
}

/**
 * How long the members left may take: the mean time of those ended here,
 * by rounds of max_parallel; undefined until one has ended.
 */
function etaSeconds(members: readonly MemberEntry[], maxParallel: number): number | undefined {
  const took = members
    .filter((m) => (m.status === 'succeeded' || m.status === 'failed') && m.duration_s !== null)
    .map((m) => m.duration_s as number);
  if (took.length === 0) return undefined;
  const left = members.filter((m) => m.status === 'running' || m.status === 'pending').length;
  if (left === 0) return undefined;
  const mean = took.reduce((a, b) => a + b, 0) / took.length;
  return Math.ceil(left / Math.max(1, maxParallel)) * mean;
}

function secondsSince(iso: string | null, now: number): number {
  return iso === null ? 0 : Math.max(0, (now - Date.parse(iso)) / 1000);
}

/** "4 s", "2m05s", "1h02m". */
export function formatSpan(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line per change of a member's state, with how many of those run have ended. */
export function memberLine(entry: MemberEntry, progress: { ended: number; of: number }): string {
  // A record a model rewrote may hold escape sequences: none reaches the terminal.
  return withoutControls(memberText(entry, progress));
}

function memberText(entry: MemberEntry, progress: { ended: number; of: number }): string {
  const where = `[${progress.ended}/${progress.of}]`;
  const took = entry.duration_s === null ? '' : ` in ${entry.duration_s} s`;
  const exit = entry.exit_code === null ? '' : ` (exit ${entry.exit_code})`;
  const why = entry.reason === undefined ? '' : `: ${entry.reason}`;
  if (entry.status === 'running') return `${where} ${entry.run_id} running`;
  if (entry.status === 'succeeded') return `${where} ${entry.run_id} succeeded${took}`;
  return `${where} ${entry.run_id} ${entry.status}${exit}${took}${why}`;
}

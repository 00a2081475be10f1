import { describe, expect, it } from 'vitest';
import type { MemberEntry, MemberStatus } from '../model/ensemble-record.js';
import { Redactor } from '../secrets.js';
import { EnsembleView, formatSpan, memberLine, viewLines } from './ensemble-view.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function entry(index: number, status: MemberStatus, more: Partial<MemberEntry> = {}): MemberEntry {
  return {
    index,
    replica: 0,
    run_id: `m-${index}`,
    parameters: {},
    status,
    exit_code: status === 'succeeded' ? 0 : null,
    started_at: status === 'pending' ? null : new Date(NOW - 30_000).toISOString(),
    ended_at: null,
    duration_s: status === 'succeeded' || status === 'failed' ? 20 : null,
    run_dir: `/sims/e/m-${index}`,
    inputs: 'sha256:0',
    ...more,
  };
}

function sink(isTTY: boolean) {
  let text = '';
  return { write: (chunk: string) => (text += chunk), isTTY, text: () => text };
}

describe('the live view of an ensemble', () => {
  it('counts the members by state, names the running ones with their time, and says what is left', () => {
    const members = [
      entry(0, 'succeeded'),
      entry(1, 'failed', { exit_code: 2 }),
      entry(2, 'running'),
      entry(3, 'running', { started_at: new Date(NOW - 125_000).toISOString() }),
      entry(4, 'pending'),
      entry(5, 'pending'),
    ];
    expect(viewLines({ ended: 2, of: 6, members }, 2, NOW)).toEqual([
      // Four left, two at a time, 20 s each.
      '[2/6] 2 running · 2 pending · 1 succeeded · 1 failed · about 40 s left',
      '  running m-2 30 s, m-3 2m05s',
    ]);
  });

  it('gives no time left before a member has ended, and names at most four running', () => {
    const members = Array.from({ length: 6 }, (_, i) => entry(i, 'running'));
    const [head, running] = viewLines({ ended: 0, of: 6, members }, 6, NOW);
    expect(head).toBe('[0/6] 6 running');
    expect(running).toMatch(/m-3 30 s and 2 more$/);
  });

  it.each([
    [4.4, '4 s'],
    [125, '2m05s'],
    [3725, '1h02m'],
  ])('writes %s seconds as %s', (seconds, text) => {
    expect(formatSpan(seconds)).toBe(text);
  });

  it('writes a line per change where it is no terminal, and never an escape', () => {
    const out = sink(false);
    const view = new EnsembleView(out, new Redactor(), 2, () => NOW);
    const members = [entry(0, 'running'), entry(1, 'pending')];
    view.member(members[0] as MemberEntry, { ended: 0, of: 2, members });
    view.member(entry(0, 'failed', { exit_code: 3, reason: 'stderr: boom' }), {
      ended: 1,
      of: 2,
      members,
    });
    view.finish();
    expect(out.text()).toBe('[0/2] m-0 running\n[1/2] m-0 failed (exit 3) in 20 s: stderr: boom\n');
  });

  it('redraws in place on a terminal, keeps a failure above the view, and clears it at the end', () => {
    const out = sink(true);
    const view = new EnsembleView(out, new Redactor(), 2, () => NOW);
    const running = [entry(0, 'running'), entry(1, 'pending')];
    view.member(running[0] as MemberEntry, { ended: 0, of: 2, members: running });
    const failed = entry(0, 'failed', { exit_code: 3, reason: 'stderr: boom' });
    view.member(failed, { ended: 1, of: 2, members: [failed, entry(1, 'pending')] });
    view.finish();
    const text = out.text();
    expect(text).toContain('\u001b[2K[0/2] 1 running · 1 pending\n');
    // The failure is written once the view is cleared, so it stays above it.
    expect(text).toContain('\u001b[2A\u001b[J[1/2] m-0 failed (exit 3) in 20 s: stderr: boom\n');
    expect(text.endsWith('\u001b[1A\u001b[J')).toBe(true);
  });

  it('masks a secret value and escapes a deceptive character in what it writes', () => {
    const out = sink(false);
    const redactor = new Redactor().addEnv({ API_TOKEN: 'tok-very-secret' });
    const view = new EnsembleView(out, redactor, 1, () => NOW);
    const failed = entry(0, 'failed', { reason: 'stderr: tok-very-secret \u202e gnp.exe' });
    view.member(failed, { ended: 1, of: 1, members: [failed] });
    expect(out.text()).not.toContain('tok-very-secret');
    expect(out.text()).not.toContain('\u202e');
  });

  it('says each change of a member in its own words', () => {
    const progress = { ended: 1, of: 3 };
    expect(memberLine(entry(0, 'succeeded'), progress)).toBe('[1/3] m-0 succeeded in 20 s');
    expect(memberLine(entry(1, 'cancelled', { reason: 'cancelled by SIGINT' }), progress)).toBe(
      '[1/3] m-1 cancelled: cancelled by SIGINT',
    );
  });
});

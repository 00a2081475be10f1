import { describe, expect, it } from 'vitest';
import { SharedGuardian } from './shared.js';
import { fakeGuardians } from './test-guardians.js';

describe('one guardian for the runs a process holds at once', () => {
  it('is shared by runs under way together, and told done only when the last ends', () => {
    const { make, made } = fakeGuardians();
    const shared = new SharedGuardian(make);
    const first = shared.lease();
    const second = shared.lease();
    first.prepare();
    second.guard({ kind: 'run-record', path: '/r/.modelrun/run.json' })();
    first.close();
    first.close();
    expect(made).toHaveLength(1);
    expect(made[0]?.told).toEqual(['start', 'add run-record', 'remove run-record']);
    second.close();
    expect(made[0]?.told.at(-1)).toBe('done');
    expect(second.pid).toBe(1001);
  });

  it('gives a run that begins after the shared guardian died a guardian of its own', () => {
    const { make, made } = fakeGuardians();
    const shared = new SharedGuardian(make);
    const first = shared.lease();
    if (made[0] !== undefined) made[0].alive = false;
    const second = shared.lease();
    second.prepare();
    expect(made).toHaveLength(2);
    first.close();
    expect(made[1]?.told).toEqual(['start']);
  });

  it('starts afresh for a run that begins after the last one ended', () => {
    const { make, made } = fakeGuardians();
    const shared = new SharedGuardian(make);
    shared.lease().close();
    const later = shared.lease();
    later.prepare();
    expect(made).toHaveLength(2);
    expect(made[1]?.told).toEqual(['start']);
  });
});

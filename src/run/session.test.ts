import { describe, expect, it } from 'vitest';
import { SharedGuardian } from '../guardian/shared.js';
import { fakeGuardians } from '../guardian/test-guardians.js';
import { Session, STOPPING_THE_RUN } from './session.js';

describe('a session holds many runs at once', () => {
  it('stays busy until the last of its runs ends, in any order', () => {
    const session = new Session();
    expect(session.active).toBe(false);
    const first = session.begin();
    const second = session.begin('stopping the watching; the run goes on in the background');
    first();
    // The run that ended first must not leave an interrupt to exit at once while the other runs.
    expect(session.active).toBe(true);
    expect(session.stopping).toBe('stopping the watching; the run goes on in the background');
    first();
    expect(session.active).toBe(true);
    second();
    expect(session.active).toBe(false);
    expect(session.stopping).toBe(STOPPING_THE_RUN);
  });

  it('says what the newest work under way does on an interrupt', () => {
    const session = new Session();
    const run = session.begin();
    const postprocessing = session.begin('stopping the postprocessing');
    expect(session.stopping).toBe('stopping the postprocessing');
    postprocessing();
    expect(session.stopping).toBe(STOPPING_THE_RUN);
    run();
  });

  it('tells its guardian when it is forced out, so that what is left is recorded cancelled', () => {
    const { make, made } = fakeGuardians();
    const session = new Session(new SharedGuardian(make));
    const run = session.guardian(true);
    session.interrupt('SIGINT');
    session.forcedOut('SIGINT');
    expect(made.map((g) => g.told)).toEqual([['start', 'interrupted SIGINT']]);
    run.close();
  });

  it('gives its runs one guardian, told done only when the last run lets go', () => {
    const { make, made } = fakeGuardians();
    const told = () => made.map((g) => g.told);
    const session = new Session(new SharedGuardian(make));
    const early = session.guardian(true);
    const other = session.guardian();
    other.guard({ kind: 'run-record', path: '/r/.modelrun/run.json' })();
    early.close();
    expect(session.guardianPid).toBe(1001);
    expect(told()).toEqual([['start', 'add run-record', 'remove run-record']]);
    other.close();
    expect(told()).toEqual([['start', 'add run-record', 'remove run-record', 'done']]);
    expect(session.guardianPid).toBeUndefined();
    // A run after that gets a guardian of its own, not one that was told all is done.
    session.guardian(true).close();
    expect(told()[1]).toEqual(['start', 'done']);
  });

  it('stops every run at the first interrupt, and keeps the exit code of that one', () => {
    const session = new Session();
    const runs = [session.begin(), session.begin()];
    expect(session.interrupt('SIGTERM')).toBe(1);
    expect(session.interrupt('SIGINT')).toBe(2);
    expect(session.signal.aborted).toBe(true);
    expect(session.exitCode()).toBe(143);
    for (const done of runs) done();
  });
});

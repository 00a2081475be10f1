import { describe, expect, it } from 'vitest';
import type { ProgressMessage } from './client.js';
import { messageError, PullDisplay } from './progress.js';

const LAYER = 'a1b2c3d4e5f6';
const OTHER = '0f9e8d7c6b5a';
const MIB = 1024 * 1024;
const UP = (lines: number) => `\u001b[${lines}A`;
const CLEAR = '\u001b[2K';

describe('messageError', () => {
  it.each<[string, ProgressMessage, string | undefined]>([
    ['error alone', { error: 'manifest unknown' }, 'manifest unknown'],
    [
      'errorDetail.message over error',
      { error: 'short', errorDetail: { message: 'manifest for x:1 not found' } },
      'manifest for x:1 not found',
    ],
    ['errorDetail.message alone', { errorDetail: { message: 'denied' } }, 'denied'],
    ['error when errorDetail has no message', { error: 'boom', errorDetail: { code: 1 } }, 'boom'],
    ['a progress message', { status: 'Downloading', id: LAYER }, undefined],
    ['a build line', { stream: 'Step 1/3 : FROM busybox\n' }, undefined],
  ])('%s', (_name, message, error) => {
    expect(messageError(message)).toBe(error);
  });
});

/** A sink that keeps what was written, one entry per write. */
function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, write: (text: string) => writes.push(text), text: () => writes.join('') };
}

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const downloading = (id: string, current: number, total = 4 * MIB): ProgressMessage => ({
  status: 'Downloading',
  id,
  progressDetail: { current, total },
});

describe('PullDisplay on a log (not a terminal)', () => {
  it('writes one line each time a layer changes state, none for progress ticks', () => {
    const out = sink(false);
    const display = new PullDisplay(out);
    const messages: ProgressMessage[] = [
      { status: 'Pulling fs layer', id: LAYER },
      { status: 'Waiting', id: LAYER },
      downloading(LAYER, 1 * MIB),
      downloading(LAYER, 2 * MIB),
      downloading(LAYER, 3 * MIB),
      { status: 'Verifying Checksum', id: LAYER },
      { status: 'Download complete', id: LAYER },
      { status: 'Extracting', id: LAYER, progressDetail: { current: 1, total: 4 * MIB } },
      { status: 'Extracting', id: LAYER, progressDetail: { current: 4 * MIB, total: 4 * MIB } },
      { status: 'Pull complete', id: LAYER },
    ];
    for (const message of messages) display.update(message);
    expect(out.text()).toBe(
      [
        `  ${LAYER}: Pulling fs layer`,
        `  ${LAYER}: Waiting`,
        `  ${LAYER}: Downloading`,
        `  ${LAYER}: Verifying Checksum`,
        `  ${LAYER}: Download complete`,
        `  ${LAYER}: Extracting`,
        `  ${LAYER}: Pull complete`,
        '',
      ].join('\n'),
    );
  });

  it('follows each layer on its own', () => {
    const out = sink(false);
    const display = new PullDisplay(out);
    display.update(downloading(LAYER, 1 * MIB));
    display.update(downloading(OTHER, 1 * MIB));
    display.update(downloading(LAYER, 2 * MIB));
    display.update({ status: 'Download complete', id: OTHER });
    display.update(downloading(LAYER, 3 * MIB));
    expect(out.writes).toEqual([
      `  ${LAYER}: Downloading\n`,
      `  ${OTHER}: Downloading\n`,
      `  ${OTHER}: Download complete\n`,
    ]);
  });

  it.each<[string, ProgressMessage, string]>([
    [
      'the tag being pulled',
      { status: 'Pulling from library/busybox', id: '1.36' },
      '1.36: Pulling from library/busybox\n',
    ],
    ['the digest', { status: 'Digest: sha256:abc123' }, 'Digest: sha256:abc123\n'],
    [
      'the result',
      { status: 'Status: Downloaded newer image for busybox:1.36' },
      'Status: Downloaded newer image for busybox:1.36\n',
    ],
  ])('always prints %s', (_name, message, line) => {
    const out = sink(false);
    const display = new PullDisplay(out);
    display.update(message);
    display.update(message);
    expect(out.writes).toEqual([line, line]);
  });

  it('ignores messages without a status', () => {
    const out = sink(false);
    new PullDisplay(out).update({ id: LAYER, progressDetail: { current: 1, total: 2 } });
    expect(out.writes).toEqual([]);
  });
});

describe('PullDisplay on a terminal', () => {
  it('redraws the layer lines in place, with byte counts while downloading', () => {
    const out = sink(true);
    const time = clock();
    const display = new PullDisplay(out, time.now);
    display.update({ status: 'Pulling fs layer', id: LAYER });
    expect(out.writes.at(-1)).toBe(`${CLEAR}  ${LAYER}: Pulling fs layer\n`);

    display.update({ status: 'Pulling fs layer', id: OTHER });
    expect(out.writes.at(-1)).toBe(
      `${UP(1)}${CLEAR}  ${LAYER}: Pulling fs layer\n${CLEAR}  ${OTHER}: Pulling fs layer\n`,
    );

    time.advance(500);
    display.update(downloading(LAYER, 1.5 * MIB, 3 * MIB));
    expect(out.writes.at(-1)).toBe(
      `${UP(2)}${CLEAR}  ${LAYER}: Downloading 1.5 MiB/3.0 MiB\n${CLEAR}  ${OTHER}: Pulling fs layer\n`,
    );
  });

  it('draws byte counts at most every 100 ms, and state changes at once', () => {
    const out = sink(true);
    const time = clock();
    const display = new PullDisplay(out, time.now);
    display.update(downloading(LAYER, 1 * MIB));
    expect(out.writes).toHaveLength(1);

    time.advance(50);
    display.update(downloading(LAYER, 2 * MIB));
    time.advance(49);
    display.update(downloading(LAYER, 3 * MIB));
    expect(out.writes).toHaveLength(1);

    time.advance(1);
    display.update(downloading(LAYER, 3.5 * MIB));
    expect(out.writes).toHaveLength(2);
    expect(out.writes.at(-1)).toContain('Downloading 3.5 MiB/4.0 MiB');

    time.advance(1);
    display.update({ status: 'Download complete', id: LAYER });
    expect(out.writes).toHaveLength(3);
    expect(out.writes.at(-1)).toBe(`${UP(1)}${CLEAR}  ${LAYER}: Download complete\n`);
  });

  it('throttles Extracting ticks like Downloading ones', () => {
    const out = sink(true);
    const time = clock();
    const display = new PullDisplay(out, time.now);
    const extracting = (current: number): ProgressMessage => ({
      status: 'Extracting',
      id: LAYER,
      progressDetail: { current, total: 4 * MIB },
    });
    display.update(extracting(1 * MIB));
    time.advance(10);
    display.update(extracting(2 * MIB));
    expect(out.writes).toEqual([`${CLEAR}  ${LAYER}: Extracting 1.0 MiB/4.0 MiB\n`]);
  });

  it('never draws over a status line: the layers start again below it', () => {
    const out = sink(true);
    const time = clock();
    const display = new PullDisplay(out, time.now);
    display.update({ status: 'Pull complete', id: LAYER });
    display.update({ status: 'Digest: sha256:abc123' });
    display.update({ status: 'Pull complete', id: OTHER });
    expect(out.writes).toEqual([
      `${CLEAR}  ${LAYER}: Pull complete\n`,
      'Digest: sha256:abc123\n',
      `${CLEAR}  ${LAYER}: Pull complete\n${CLEAR}  ${OTHER}: Pull complete\n`,
    ]);
  });
});

// A run directory's worth of outputs to archive: large incompressible fields,
// large compressible series, and many small files.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;

/** Deterministic CSV-like text that compresses about as well as real model output (2.5x). */
export function textOfSize(bytes, seed) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const lines = [];
  let length = 0;
  for (let step = 0; length < bytes; step++) {
    const line = `${step},${(step * 0.25).toFixed(2)},${(next() * 40 - 10).toFixed(4)},${(next() * 1013).toFixed(3)},${Math.floor(next() * 360)}\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join('').slice(0, bytes);
}

/**
 * Writes a tree of about `totalMiB` under `dir`: 60% random data in 4 files,
 * 27.5% text in 2 files, and the rest in small files of 1 to 16 KiB, a
 * quarter of them random. Returns its size in bytes and its file count.
 */
export function makeTree(dir, totalMiB) {
  const total = totalMiB * MiB;
  let bytes = 0;
  let files = 0;
  const put = (path, content) => {
    writeFileSync(join(dir, path), content);
    bytes += content.length;
    files += 1;
  };
  mkdirSync(join(dir, 'fields'), { recursive: true });
  for (let i = 0; i < 4; i++) put(`fields/random-${i}.bin`, randomBytes(Math.floor(total * 0.15)));
  for (let i = 0; i < 2; i++) put(`series-${i}.csv`, textOfSize(Math.floor(total * 0.1375), 7 + i));
  for (let i = 0; bytes < total; i++) {
    const folder = `steps/${String(Math.floor(i / 100)).padStart(3, '0')}`;
    if (i % 100 === 0) mkdirSync(join(dir, folder), { recursive: true });
    const size = 1024 + ((i * 7919) % (15 * 1024));
    const random = i % 4 === 0;
    put(
      `${folder}/step-${i}.${random ? 'bin' : 'txt'}`,
      random ? randomBytes(size) : textOfSize(size, i),
    );
  }
  return { bytes, files };
}

// Aggregate step of ensemble.yml: the highest water each member saw at the
// tide gauge, as a table and a plot. modelrun runs it in the ensemble's
// folder once every member has ended.
// Usage: node aggregate.mjs  ->  members.csv, max-height.svg (in the current folder)
// Node's standard library only, like the model.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The plot's axes: depth along x, one line per hump amplitude.
const X_PATH = 'config.depth_m';
const SERIES_PATH = 'config.pulse.amplitude_m';

const fail = (message) => {
  process.stderr.write(`aggregate: ${message}\n`);
  process.exit(1);
};

let ensemble;
try {
  ensemble = JSON.parse(readFileSync('ensemble.json', 'utf8'));
} catch (err) {
  const why = err.code === 'ENOENT' ? 'there is none' : err.message;
  fail(`cannot read ensemble.json in ${process.cwd()} (${why}); run this in an ensemble's folder`);
}
if (!Array.isArray(ensemble.members)) fail('ensemble.json lists no members');

// Each member's folder is beside ensemble.json, named by its run id. run_dir
// says the same as an absolute path, which a copy of the ensemble's folder
// (one fetched from a cluster, say) no longer matches.
const folderOf = (member) => (existsSync(member.run_id) ? member.run_id : member.run_dir);

// ensemble.json is rewritten at most once a second, so the aggregate step can
// start before the last members' ends are in it. A member it still lists as
// pending or running has its own record in its run folder, which is final.
const ENDED = new Set(['succeeded', 'failed', 'cancelled', 'skipped']);
function statusOf(member) {
  if (ENDED.has(member.status)) return member.status;
  try {
    return JSON.parse(readFileSync(join(folderOf(member), '.modelrun', 'run.json'), 'utf8')).status;
  } catch {
    return member.status;
  }
}

// "Height" here is the largest |surface elevation| above still water that the
// gauge (probe_u_m) recorded: the crest's height, or a trough's depth below
// the still level, whichever is larger; not crest-to-trough as on a buoy.
function maxProbeHeight(runDir) {
  const [header, ...rows] = readFileSync(join(runDir, 'output', 'timeseries.csv'), 'utf8')
    .trim()
    .split('\n');
  const column = header.split(',').indexOf('probe_u_m');
  if (column < 0) throw new Error('timeseries.csv has no probe_u_m column');
  const height = rows.reduce((max, row) => Math.max(max, Math.abs(row.split(',')[column])), 0);
  if (!Number.isFinite(height)) throw new Error('timeseries.csv has a probe_u_m that is no number');
  return height;
}

const members = ensemble.members.map((member) => {
  const status = statusOf(member);
  let height;
  // skipped: it succeeded before with the same inputs (--resume); its outputs are still there.
  if (status === 'succeeded' || status === 'skipped') {
    try {
      height = maxProbeHeight(folderOf(member));
    } catch (err) {
      process.stderr.write(`aggregate: ${member.run_id}: ${err.message}; left out\n`);
    }
  }
  return { runId: member.run_id, status, parameters: member.parameters ?? {}, height };
});
const measured = members.filter((m) => Number.isFinite(m.height));
if (measured.length === 0) {
  fail(`none of the ${members.length} members succeeded with a time series: nothing to plot`);
}

// members.csv: one row per member, each parameter path a column of its own.
const paths = [...new Set(members.flatMap((m) => Object.keys(m.parameters)))];
const cell = (value) => {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};
const csv = [
  ['run_id', 'status', ...paths, 'max_probe_height_m'].map(cell).join(','),
  ...members.map((m) =>
    [m.runId, m.status, ...paths.map((p) => m.parameters[p]), m.height].map(cell).join(','),
  ),
];
writeFileSync('members.csv', `${csv.join('\n')}\n`);

// Axis ticks from 0 at a round step (1, 2, 2.5 or 5 times a power of ten), about `count` of them.
function ticks(max, count = 5) {
  const top = max > 0 ? max : 1;
  const raw = top / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= raw);
  const out = [];
  for (let i = 0; i * step < top + step * 0.999; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}
const xml = (text) =>
  String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

// Points by amplitude; a member without both values (listed under members:
// with other paths) has no place on these axes.
const series = new Map();
for (const m of measured) {
  const x = m.parameters[X_PATH];
  const key = m.parameters[SERIES_PATH];
  if (typeof x !== 'number' || key === undefined) continue;
  if (!series.has(key)) series.set(key, []);
  series.get(key).push({ x, y: m.height, runId: m.runId });
}
const all = [...series.values()].flat();
if (all.length === 0) fail(`no member sets both ${X_PATH} and ${SERIES_PATH}; nothing to plot`);

const W = 640;
const H = 420;
const box = { left: 80, right: W - 150, top: 50, bottom: H - 60 };
const xTicks = ticks(Math.max(...all.map((p) => p.x)));
// A tenth above the highest point, so that no line runs along the frame's top.
const yTicks = ticks(1.1 * Math.max(...all.map((p) => p.y)));
const sx = (x) => box.left + (x / xTicks.at(-1)) * (box.right - box.left);
const sy = (y) => box.bottom - (y / yTicks.at(-1)) * (box.bottom - box.top);
// Okabe-Ito colours: told apart with the common kinds of colour blindness too.
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  `<title>Highest water at the tide gauge, ensemble ${xml(ensemble.ensemble_id)}</title>`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">Highest water at the tide gauge (${xml(ensemble.ensemble_id)})</text>`,
];
for (const t of yTicks) {
  const y = sy(t).toFixed(1);
  svg.push(
    `<line x1="${box.left}" y1="${y}" x2="${box.right}" y2="${y}" stroke="#ddd"/>`,
    `<text x="${box.left - 8}" y="${y}" text-anchor="end" dy="0.35em">${t}</text>`,
  );
}
for (const t of xTicks) {
  const x = sx(t).toFixed(1);
  svg.push(
    `<line x1="${x}" y1="${box.bottom}" x2="${x}" y2="${box.bottom + 5}" stroke="black"/>`,
    `<text x="${x}" y="${box.bottom + 20}" text-anchor="middle">${t}</text>`,
  );
}
svg.push(
  `<polyline class="axes" points="${box.left},${box.top} ${box.left},${box.bottom} ${box.right},${box.bottom}" fill="none" stroke="black"/>`,
  `<text x="${(box.left + box.right) / 2}" y="${H - 18}" text-anchor="middle">still-water depth (m)</text>`,
  `<text transform="translate(22 ${(box.top + box.bottom) / 2}) rotate(-90)" text-anchor="middle">max |elevation| at the gauge (m)</text>`,
  `<text x="${box.right + 20}" y="${box.top + 4}" font-weight="bold">hump amplitude</text>`,
);
[...series.entries()]
  .sort(([a], [b]) => Number(a) - Number(b))
  .forEach(([amplitude, points], i) => {
    const colour = COLOURS[i % COLOURS.length];
    points.sort((a, b) => a.x - b.x);
    const line = points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    svg.push(
      `<polyline class="series" points="${line}" fill="none" stroke="${colour}" stroke-width="2"/>`,
    );
    for (const p of points)
      svg.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="4" fill="${colour}"><title>${xml(p.runId)}: ${p.y} m</title></circle>`,
      );
    const y = box.top + 24 + i * 20;
    svg.push(
      `<line x1="${box.right + 20}" y1="${y}" x2="${box.right + 44}" y2="${y}" stroke="${colour}" stroke-width="2"/>`,
      `<circle cx="${box.right + 32}" cy="${y}" r="4" fill="${colour}"/>`,
      `<text x="${box.right + 52}" y="${y}" dy="0.35em">${xml(amplitude)} m</text>`,
    );
  });
svg.push('</svg>');
writeFileSync('max-height.svg', `${svg.join('\n')}\n`);

const failed = members.length - measured.length;
const note = failed === 0 ? '' : `; ${failed} without a height (failed or no outputs)`;
console.log(`aggregate: ${measured.length} of ${members.length} members measured${note}`);
console.log('aggregate: wrote members.csv and max-height.svg');

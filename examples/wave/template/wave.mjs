// 1-D linear wave model: u_tt = c^2 u_xx with c = sqrt(g*h), the speed of long
// waves in shallow water; u is the surface elevation in metres.
// Usage: node wave.mjs input.json  ->  output/timeseries.csv, output/summary.json
// Node's standard library only, so it runs on Node 18+ with no npm packages.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const wallStart = performance.now();
const fail = (message) => {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
};

if (process.argv.length !== 3) fail('usage: node wave.mjs input.json');
let input;
try {
  input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
} catch (err) {
  fail(`cannot read ${process.argv[2]}: ${err.message}`);
}
const { gravity_m_s2: g, depth_m: depth, length_m: length, nx, courant, boundary } = input;
const { pulse, probe_m: probe, period } = input;
const interval = period.interval_seconds;
const positive = { gravity_m_s2: g, depth_m: depth, length_m: length, courant, interval };
for (const [name, value] of Object.entries({ ...positive, width_m: pulse.width_m })) {
  if (!(typeof value === 'number' && value > 0))
    fail(`${name} must be a positive number, got ${JSON.stringify(value)}`);
}
if (!(Number.isInteger(nx) && nx >= 3)) fail(`nx must be an integer >= 3, got ${nx}`);
if (boundary !== 'reflecting' && boundary !== 'absorbing') {
  fail(`boundary must be "reflecting" or "absorbing", got ${JSON.stringify(boundary)}`);
}
if (!(probe >= 0 && probe <= length)) fail(`probe_m must lie in [0, ${length}], got ${probe}`);
// CFL condition: a wave must not cross more than one cell per step, or the
// explicit scheme amplifies the shortest waves without bound.
if (courant > 1) fail(`courant = ${courant} > 1 breaks the CFL condition c*dt/dx <= 1`);

const c = Math.sqrt(g * depth);
const dx = length / (nx - 1);
// The largest stable step, shortened so a whole number of steps fits in one
// output interval: every record then falls exactly on a period time step.
const substeps = Math.ceil(interval / ((courant * dx) / c));
const dt = interval / substeps;
const C2 = ((c * dt) / dx) ** 2;
const mur = (c * dt - dx) / (c * dt + dx);

// Second difference. At a wall the mirror point u[-1] = u[1] makes du/dx = 0, so
// the wave reflects without changing sign, as water does at a vertical wall.
const laplacian = (u, i) => {
  if (i === 0) return 2 * (u[1] - u[0]);
  if (i === nx - 1) return 2 * (u[nx - 2] - u[nx - 1]);
  return u[i + 1] - 2 * u[i] + u[i - 1];
};

// Initial state: a Gaussian hump at rest. With zero initial velocity, Taylor
// gives u(-dt) = u(0) + (dt^2/2) c^2 u_xx, so the first step is a normal one.
let cur = new Float64Array(nx);
let prev = new Float64Array(nx);
let next = new Float64Array(nx);
for (let i = 0; i < nx; i++) {
  cur[i] = pulse.amplitude_m * Math.exp(-0.5 * ((i * dx - pulse.center_m) / pulse.width_m) ** 2);
}
for (let i = 0; i < nx; i++) prev[i] = cur[i] + 0.5 * C2 * laplacian(cur, i);

// Leapfrog: u(t+dt) = 2u(t) - u(t-dt) + (c dt/dx)^2 * second difference.
function step() {
  for (let i = 1; i < nx - 1; i++) next[i] = 2 * cur[i] - prev[i] + C2 * laplacian(cur, i);
  if (boundary === 'reflecting') {
    next[0] = 2 * cur[0] - prev[0] + C2 * laplacian(cur, 0);
    next[nx - 1] = 2 * cur[nx - 1] - prev[nx - 1] + C2 * laplacian(cur, nx - 1);
  } else {
    // Mur's first-order absorbing condition lets a wave leave the domain
    // instead of bouncing back (exactly so when c*dt = dx).
    next[0] = cur[1] + mur * (next[1] - cur[0]);
    next[nx - 1] = cur[nx - 2] + mur * (next[nx - 2] - cur[nx - 1]);
  }
  [prev, cur, next] = [cur, next, prev];
}

// E = 1/2 * integral(u_t^2 + c^2 u_x^2) dx, in m^3/s^2. This staggered form
// (velocity between prev and cur, gradient as a product of both) is what the
// leapfrog scheme conserves exactly between walls, so any drift is round-off.
function energy() {
  let e = 0;
  for (let i = 0; i < nx; i++) {
    const weight = i === 0 || i === nx - 1 ? 0.5 : 1; // trapezoid rule, as the wall update
    e += 0.5 * weight * ((cur[i] - prev[i]) / dt) ** 2 * dx;
    if (i < nx - 1) e += (0.5 * c * c * (cur[i + 1] - cur[i]) * (prev[i + 1] - prev[i])) / dx;
  }
  return e;
}

// Surface elevation at the probe, interpolated linearly between grid points.
function probeValue() {
  const j = Math.min(Math.floor(probe / dx), nx - 2);
  const f = probe / dx - j;
  return (1 - f) * cur[j] + f * cur[j + 1];
}

const maxAbs = () => cur.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
// Metres to the micrometre; tiny values print as 0 rather than -0.000000.
const metres = (x) => (Math.abs(x) < 5e-7 ? 0 : x).toFixed(6);

if (boundary === 'absorbing') {
  process.stderr.write('note: absorbing boundaries let waves leave, so energy decays by design\n');
}
console.log(`wave: c = ${c.toFixed(3)} m/s, dx = ${dx} m, dt = ${dt.toFixed(4)} s`);

const { steps } = period;
const rows = ['time,elapsed_s,max_abs_u_m,energy_m3_s2,probe_u_m'];
const initialEnergy = energy();
let finalEnergy = initialEnergy;
let maxAmplitude = maxAbs();
for (let k = 0; k < steps.length; k++) {
  for (let n = 0; k > 0 && n < substeps; n++) {
    step();
    maxAmplitude = Math.max(maxAmplitude, maxAbs());
  }
  const elapsed = k * interval;
  finalEnergy = energy();
  rows.push(
    `${steps[k]},${elapsed},${metres(maxAbs())},${finalEnergy.toExponential(9)},${metres(probeValue())}`,
  );
  const e = finalEnergy.toExponential(6);
  console.log(`${steps[k]}  t = ${elapsed} s  max|u| = ${maxAbs().toFixed(4)} m  E = ${e} m^3/s^2`);
}
mkdirSync('output', { recursive: true });
writeFileSync('output/timeseries.csv', `${rows.join('\n')}\n`);

const drift = initialEnergy > 0 ? (finalEnergy - initialEnergy) / initialEnergy : 0;
const last = steps[steps.length - 1];
const summary = {
  run_id: input.run_id,
  boundary,
  steps: (steps.length - 1) * substeps,
  output_records: steps.length,
  dt_s: dt,
  courant_effective: (c * dt) / dx,
  wave_speed_m_s: c,
  grid: { nx, length_m: length, dx_m: dx },
  simulated: { start: steps[0], end: last, seconds: (steps.length - 1) * interval },
  max_amplitude_m: maxAmplitude,
  initial_energy_m3_s2: initialEnergy,
  final_energy_m3_s2: finalEnergy,
  relative_energy_drift: drift,
  wall_time_s: Number(((performance.now() - wallStart) / 1000).toFixed(3)),
};
writeFileSync('output/summary.json', `${JSON.stringify(summary, null, 2)}\n`);

if (Date.parse(last) !== Date.parse(period.end)) {
  const gap = `the period end ${period.end} is not a whole number of intervals after the start`;
  process.stderr.write(`note: ${gap}; stopped at ${last}\n`);
}
const why =
  boundary === 'reflecting'
    ? 'walls conserve energy: round-off only'
    : 'energy left through the open ends';
process.stderr.write(`note: relative energy drift ${drift.toExponential(2)} (${why})\n`);
console.log(`wave: done, ${summary.steps} steps in ${summary.wall_time_s} s, results in output/`);

// Whether a command ever reads one of modelrun's vendored packages
// (dist/vendor-<name>.cjs). The CLI opens such a bundle itself, to run it
// from the code cache (src/cli/code-cache.ts), or requires it through Node's
// loader (--verbose, NODE_DISABLE_COMPILE_CACHE): a preload watches both,
// and reports at exit. Before it is trusted, it is shown a load, so that its
// "no" means no.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A function that runs `node ...args` (in `cwd`) and says whether it loaded
 * the package `name`; the preload is written into `dir`. `root` is the
 * checkout, whose dist/ holds the bundle.
 */
export function loadProbe(dir, root, name) {
  const probe = join(dir, `probe-${name}.cjs`);
  const pattern = `vendor-${name}\\.cjs$|node_modules\\/${name}\\/`;
  writeFileSync(
    probe,
    `const fs = require('node:fs');
const Module = require('node:module');
const watched = new RegExp(${JSON.stringify(pattern)});
let seen = false;
const openSync = fs.openSync;
fs.openSync = function (path, ...rest) {
  if (watched.test(String(path))) seen = true;
  return openSync.call(this, path, ...rest);
};
const load = Module._load;
Module._load = function (request, ...rest) {
  if (watched.test(request)) seen = true;
  return load.call(this, request, ...rest);
};
process.on('exit', () => { if (seen) fs.writeSync(2, 'package-loaded=true\\n'); });
`,
  );
  const probed = (args, cwd) =>
    /package-loaded=true/.test(
      spawnSync(process.execPath, ['-r', probe, ...args], { encoding: 'utf8', cwd }).stderr,
    );
  const bundle = join(root, 'dist', `vendor-${name}.cjs`);
  if (!probed(['-e', `require(${JSON.stringify(bundle)})`]))
    throw new Error(`the probe does not see ${name} load: fix it before trusting its "no"`);
  return probed;
}

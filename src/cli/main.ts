import { VERSION } from '../package-info.js';

/**
 * The CLI's entry. `modelrun --version` alone is answered here, as commander
 * would answer it, without loading commander and the command table: it is
 * the call scripts and installers make most, and the rest of modelrun is
 * more than half of its start-up. Everything else goes to process-main.ts.
 */
const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // As process-main.ts does: a reader that went away (`modelrun --version | true`) is no error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error;
  });
  process.stdout.write(`${VERSION}\n`);
} else {
  await import('./process-main.js');
}

import { shellQuote } from '../../exec/shell.js';
import { secretFilePath } from '../../secret-files.js';
import type { RunWideFields } from './settings.js';

/** Where the run's environment file is written: under .modelrun/, mode 0600, never on the command line. */
export function envFilePath(stagingDir: string): string {
  return secretFilePath(stagingDir, 'apptainer');
}

/**
 * The environment the model gets inside the container. PYTHONNOUSERSITE
 * keeps the user's ~/.local site-packages on the host from leaking into the
 * container's Python, a classic source of broken runs on clusters.
 */
export function containerEnv(config: RunWideFields): Record<string, string> {
  return { PYTHONNOUSERSITE: '1', ...config.env_vars };
}

/** The env file's text: one `NAME='value'` per line, quoted so that any value arrives as written. */
export function envFileText(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `${name}=${shellQuote(value)}\n`)
    .join('');
}

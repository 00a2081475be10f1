import type { Availability, ProbeRequest } from '../contract.js';
import type { ApptainerConfig } from './config.js';

const BINARIES = ['apptainer', 'singularity'] as const;

const INSTALL = 'https://apptainer.org/docs/admin/main/installation.html';

/** The binary's version, or why it could not be run: the first line of what went wrong. */
async function versionOf(
  binary: string,
  { env, timeoutMs, signal }: ProbeRequest<unknown>,
): Promise<{ version: string } | { failure: string }> {
  // Loaded here, as the process runner does: `backends validate` never runs a binary.
  const { execa } = await import('execa');
  const result = await execa(binary, ['--version'], {
    env,
    extendEnv: false,
    timeout: timeoutMs,
    reject: false,
    stdin: 'ignore',
    ...(signal === undefined ? {} : { cancelSignal: signal }),
  });
  if (!result.failed) return { version: result.stdout.trim() };
  const message: string = result.originalMessage || result.shortMessage || '';
  return { failure: message.split('\n')[0] ?? '' };
}

/**
 * Apptainer or SingularityCE: for `backends list`, whichever of the two is
 * on PATH; for a run, the config's `binary`, which the run will use.
 */
export async function probeApptainer(
  request: ProbeRequest<Pick<ApptainerConfig, 'binary'>>,
): Promise<Availability> {
  if (request.config !== undefined) {
    const { binary } = request.config;
    const found = await versionOf(binary, request);
    if ('version' in found) return { available: true, detail: `${binary}: ${found.version}` };
    return {
      available: false,
      detail: `${binary} is not usable here: ${found.failure}`,
      hint: `on a cluster, try \`module load ${binary}\`; elsewhere see ${INSTALL}`,
    };
  }
  const versions = await Promise.all(BINARIES.map((binary) => versionOf(binary, request)));
  const found = BINARIES.flatMap((binary, i) => {
    const probed = versions[i];
    return probed !== undefined && 'version' in probed ? [`${binary}: ${probed.version}`] : [];
  });
  if (found.length > 0) return { available: true, detail: found.join('; ') };
  return {
    available: false,
    detail: 'neither apptainer nor singularity is on PATH',
    hint: `on a cluster, try \`module load apptainer\`; elsewhere see ${INSTALL}`,
  };
}

import { availableParallelism } from 'node:os';
import type { LoadedEnsemble, LoadedMember } from '../ensemble/load-ensemble.js';
import { UsageError } from '../errors.js';
import { inputsDigest, templateDigest } from '../model/inputs-digest.js';
import { stagingDirOf } from '../model/staging-dir.js';
import type { EnsembleMemberRequest } from '../run/ensemble.js';
import type { RunRequest } from '../run/pipeline.js';
import { assertApartFromTemplate } from '../run/staging.js';
import type { Redactor } from '../secrets.js';

/**
 * A loaded ensemble as the runner takes it, for the CLI's `ensemble` and
 * the library's runEnsemble alike: each member's run request, with the
 * hash of its inputs; which members to run; how many at once.
 */

/** A member without the hash of its inputs: what a dry run needs. */
export type PlannedMember = Omit<EnsembleMemberRequest, 'inputs'>;

/**
 * Every member's run request, made when it is asked for; `postprocess:
 * false` skips each member's postprocessing. What it records of a member's
 * values (its parameters and overrides) is masked by `redactor`: a secret's
 * value that `${NAME}` put under an ordinary key is known to it, though no
 * key says so.
 */
export function memberRequests(
  ensemble: LoadedEnsemble,
  postprocess: boolean,
  redactor: Redactor,
): PlannedMember[] {
  return ensemble.members.map((member) => memberRequest(member, ensemble, postprocess, redactor));
}

function memberRequest(
  member: LoadedMember,
  ensemble: LoadedEnsemble,
  postprocess: boolean,
  redactor: Redactor,
): PlannedMember {
  const values = redactor.redactData(member.values);
  const request = (): RunRequest => {
    const run = ensemble.runOf(member);
    const { layers } = run;
    return {
      ...run,
      ...(layers === undefined
        ? {}
        : {
            layers: { ...layers, overrides: layers.overrides.map((arg) => redactor.redact(arg)) },
          }),
      dryRun: false,
      skipGenerate: false,
      postprocess,
      cleanupOnFailure: false,
      member: {
        scope: member.scope,
        record: {
          ensemble_dir: ensemble.dir,
          index: member.index,
          replica: member.replica,
          parameters: values,
        },
      },
    };
  };
  return { index: member.index, replica: member.replica, runId: member.runId, values, request };
}

/** Each member with the hash of what it runs; a template shared by members is read once. */
export async function withInputs(
  members: PlannedMember[],
  redactor: Redactor,
  roots: readonly string[] = [],
): Promise<EnsembleMemberRequest[]> {
  const templates = new Map<string | undefined, Promise<string>>();
  const digestOf = (model: RunRequest['model']) => {
    let digest = templates.get(model.template);
    if (digest === undefined) {
      // Refused before it is read: a template that holds the ensemble (`/`)
      // would be read whole, file system and all, before any member's staging refused it.
      digest = assertApartFromTemplate(stagingDirOf(model), model).then(() =>
        templateDigest(model.template),
      );
      templates.set(model.template, digest);
    }
    return digest;
  };
  const out: EnsembleMemberRequest[] = [];
  for (const member of members) {
    // Made for its hash and let go: it is made again when the member starts.
    const request = member.request();
    const { model, backend, postprocessors, postprocess } = request;
    // What the member's templates see of it counts too: a seed of {{ member.index }}.
    const scope = request.member?.scope;
    const inputs = inputsDigest(
      // No secret's value reaches disk, even hashed.
      redactor.redactData({
        model,
        backend,
        postprocessors: postprocess ? postprocessors : [],
        member: scope,
      }),
      await digestOf(model),
      roots,
    );
    // Written out, not spread: a spread of an object holding a closure gives each member a
    // hidden class of its own in V8, which thousands of members pay for while they wait.
    const { index, replica, runId, values } = member;
    out.push({ index, replica, runId, values, inputs, request: member.request });
  }
  return out;
}

/** Members named by index or run id (`--only 1,wave-d5`); undefined for none named: every member. */
export function selectedMembers(
  given: readonly (string | number)[],
  ensemble: LoadedEnsemble,
  flag = '--only',
): ReadonlySet<number> | undefined {
  if (given.length === 0) return undefined;
  const words = given.flatMap((text) => String(text).split(',')).map((word) => word.trim());
  return new Set(words.map((word) => memberByName(word, ensemble, flag)));
}

/** A member's index, from its index or its run id as a flag gives it. */
export function memberByName(word: string, ensemble: LoadedEnsemble, flag: string): number {
  const count = ensemble.members.length;
  // A run id that reads as a number names its member, not the member of that index.
  const index =
    ensemble.members.find((m) => m.runId === word)?.index ??
    (/^\d+$/.test(word) ? Number(word) : undefined);
  if (index === undefined || index >= count)
    throw new UsageError(
      `${flag} ${word}: the ensemble has no such member (${count} members, 0 to ${count - 1})`,
      { hint: 'give a member by its index or its run id; --dry-run lists them' },
    );
  return index;
}

/** Members at once when neither the caller nor the file says: a core each here; a few containers or jobs elsewhere. */
export function defaultParallel(backendType: string): number {
  return backendType === 'local' ? availableParallelism() : 4;
}

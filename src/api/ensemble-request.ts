import { availableParallelism } from 'node:os';
import type { LoadedEnsemble, LoadedMember } from '../ensemble/load-ensemble.js';
import { UsageError } from '../errors.js';
import { inputsDigest, templateDigest } from '../model/inputs-digest.js';
import type { EnsembleMemberRequest } from '../run/ensemble.js';
import type { RunRequest } from '../run/pipeline.js';

/**
 * A loaded ensemble as the runner takes it, for the CLI's `ensemble` and
 * the library's runEnsemble alike: each member's run request, with the
 * hash of its inputs; which members to run; how many at once.
 */

/** A member without the hash of its inputs: what a dry run needs. */
export type PlannedMember = Omit<EnsembleMemberRequest, 'inputs'>;

/** Every member's run request; `postprocess: false` skips each member's postprocessing. */
export function memberRequests(ensemble: LoadedEnsemble, postprocess: boolean): PlannedMember[] {
  return ensemble.members.map((member) => memberRequest(member, ensemble, postprocess));
}

function memberRequest(
  member: LoadedMember,
  ensemble: LoadedEnsemble,
  postprocess: boolean,
): PlannedMember {
  const request: RunRequest = {
    ...member.run,
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
        parameters: member.values,
      },
    },
  };
  return {
    index: member.index,
    replica: member.replica,
    runId: member.run.model.run_id,
    values: member.values,
    request,
  };
}

/** Each member with the hash of what it runs; a template shared by members is read once. */
export async function withInputs(members: PlannedMember[]): Promise<EnsembleMemberRequest[]> {
  const templates = new Map<string | undefined, Promise<string>>();
  const digestOf = (template: string | undefined) => {
    let digest = templates.get(template);
    if (digest === undefined) {
      digest = templateDigest(template);
      templates.set(template, digest);
    }
    return digest;
  };
  const out: EnsembleMemberRequest[] = [];
  for (const member of members) {
    const { model, backend, postprocessors, postprocess } = member.request;
    const inputs = inputsDigest(
      { model, backend, postprocessors: postprocess ? postprocessors : [] },
      await digestOf(model.template),
    );
    out.push({ ...member, inputs });
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
  const index = /^\d+$/.test(word)
    ? Number(word)
    : ensemble.members.find((m) => m.run.model.run_id === word)?.index;
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

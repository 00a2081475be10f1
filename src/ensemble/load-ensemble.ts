import { dirname, join } from 'node:path';
import { closestMatch } from '../config/did-you-mean.js';
import { parseRunIdTemplate, type RunIdTemplate, renderRunId } from '../config/run-id-template.js';
import { ConfigError, isKnownError, type KnownError, UsageError } from '../errors.js';
import {
  type EnsembleConfig,
  validateEnsembleMemberParsed,
  validateEnsembleParsed,
} from '../load/ensemble-file.js';
import { fileInput } from '../load/file-input.js';
import type { Override } from '../load/override-arg.js';
import { parseYaml } from '../load/parse-yaml.js';
import { ReadOnce } from '../load/read-once.js';
import { type FileContext, type Placed, requirePlaced } from '../load/run-inputs.js';
import type { LoadedRun } from '../load/run-request.js';
import { readForValidation, type ValidationResult } from '../load/validate.js';
import { ENSEMBLE_RECORD } from '../model/ensemble-record.js';
import { RUN_ID_MAX_LENGTH, RUN_ID_PATTERN, runIdRefusal } from '../model/model-config.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { formatPath, type Problem } from '../problems.js';
import { isSecretName, Redactor } from '../secrets.js';
import { MAX_MEMBER_ERRORS, MemberErrors, MemberWarnings } from './member-problems.js';
import { memberRunLoader, remadeRun } from './member-runs.js';
import { type MemberNames, type MemberScope, memberNames, memberScope } from './member-scope.js';
import { expandMembers, type Member } from './members.js';
import { hiddenField, hiddenWarnings, OWN_MEANING, wholeField } from './own-names.js';

/**
 * Loading an ensemble: its file, checked as a whole, then every member's
 * run, each the file's model and backend with the member's values set over
 * them as `--set` values are, and its run id. All of it is checked before
 * anything runs: one bad member is an error of the ensemble. A member's run
 * is made again when it starts (ensemble/member-runs.ts), from the files as
 * the check read them.
 */

export interface LoadedMember {
  index: number;
  replica: number;
  /** Its values by path as written, as ensemble.json records them (secret values masked there). */
  values: Record<string, unknown>;
  /** What templates see as `member`. */
  scope: MemberScope;
  runId: string;
  /** Its values as overrides, which its run is made of. */
  overrides: Override[];
}

export interface LoadedEnsemble {
  /** The ensemble file, as the user named it. */
  file: string;
  /** The folder it is in (for standard input, the current folder), which its relative paths start from. */
  fileDir: string;
  /** Its name, and its folder: output_dir/ensemble_id. */
  id: string;
  dir: string;
  /** From the file; the command line may override it. */
  maxParallel?: number;
  failFast: boolean;
  aggregate: PostprocessorConfig[];
  /** The backend every member runs on: members cannot vary its type. */
  backendType: string;
  members: LoadedMember[];
  /**
   * A member's run, made as it was checked: its model staged in the
   * ensemble's folder under its own run id. A ConfigError when what the
   * disk says has changed since (a template folder removed).
   */
  runOf(member: LoadedMember): LoadedRun;
  /** The command line's overrides (secret values masked), applied to every member. */
  overrides: string[];
}

export type EnsembleLoad =
  | { ensemble: LoadedEnsemble; warnings: Problem[] }
  | { errors: KnownError[]; warnings: Problem[] };

export interface EnsembleFiles {
  ensembleFile: string;
  backendConfig?: string;
  postprocessorConfigs: string[];
}

export { MAX_MEMBER_ERRORS };

/** Loads an ensemble at once: for a caller with nothing else to do meanwhile. */
export function loadEnsemble(files: EnsembleFiles, ctx: FileContext): EnsembleLoad {
  const steps = loadSteps(files, ctx);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/**
 * Loads an ensemble, giving the event loop a turn every few members: ten
 * thousand members take seconds to check, and a Ctrl-C meanwhile must be
 * heard, not queued behind them.
 */
export async function loadEnsembleInTurns(
  files: EnsembleFiles,
  ctx: FileContext,
): Promise<EnsembleLoad> {
  const steps = loadSteps(files, ctx);
  for (let i = 1; ; i++) {
    const step = steps.next();
    if (step.done === true) return step.value;
    if (i % MEMBERS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Members checked between two turns of the event loop. */
const MEMBERS_PER_TURN = 10;

/** Invalid members checked before the check stops: past them, the rest likely share their errors. */
export const MAX_INVALID_CHECKED = 50;

/** Each member loaded is a step: the loading yields after it. */
function* loadSteps(files: EnsembleFiles, given: FileContext): Generator<void, EnsembleLoad> {
  // Every member is made of the files as first read, and of the environment as it was then:
  // its run is made again when it starts, the same as it was checked. A model file edited
  // meanwhile changes no member: an ensemble runs one model, which the check saw.
  const ctx: FileContext = {
    ...given,
    env: { ...given.env },
    readOnce: given.readOnce ?? new ReadOnce(),
  };
  const input = fileInput(files.ensembleFile, ctx.cwd, ctx.stdin);
  const read = readForValidation(input.path, input.display, input.source);
  const parsed = read.ok ? parseYaml(read.text) : undefined;
  const backendReplaced = files.backendConfig !== undefined;
  const checked = <T>(
    check: (...args: Parameters<typeof validateEnsembleParsed>) => ValidationResult<T>,
    overrides: readonly Override[],
  ): Placed<T> => {
    if (!read.ok || parsed === undefined)
      return requirePlaced(read.ok ? never() : read.failed, 'ensemble file');
    return requirePlaced(
      check(input.path, input.display, parsed, ctx.env, { ...ctx, overrides, backendReplaced }),
      'ensemble file',
    );
  };
  const validate = (overrides: readonly Override[]): Placed<EnsembleConfig> =>
    checked(validateEnsembleParsed, overrides);
  const global = ctx.overrides ?? [];
  let whole: Placed<EnsembleConfig>;
  let members: Member[];
  try {
    whole = validate(global);
    members = expandMembers({
      ...whole.value,
      members: whole.value.members ?? [],
      writtenAt: (path) => {
        const { file, line, column } = whole.place(path, '');
        return { file, line, column };
      },
    });
    refuseOverlap(global, members);
  } catch (error) {
    if (!isKnownError(error)) throw error;
    return { errors: [error], warnings: [] };
  }
  const config = whole.value;
  const names = memberNames(members);
  const template =
    config.run_id === undefined ? undefined : (parseRunIdTemplate(config.run_id) as ParsedTemplate);
  const runIdAt = (message: string) => whole.place(['run_id'], message);
  const secret = template === undefined ? undefined : secretField(template, names);
  if (secret !== undefined)
    return {
      errors: [
        new ConfigError('a run id cannot hold a secret', {
          hint: 'name the members by other values, or by {{ member.index }}',
          problems: [
            runIdAt(
              `{{ ${secret.field} }} ${secret.path === undefined ? 'names a secret' : `is ${secret.path}, a secret`}; a run id names the member's folder and is shown and recorded everywhere`,
            ),
          ],
        }),
      ],
      warnings: whole.warnings ?? [],
    };

  const hidden = template === undefined ? undefined : hiddenField(template.template, names);
  if (hidden !== undefined)
    return {
      errors: [
        new ConfigError(`{{ ${hidden.field} }} does not name the parameter ${hidden.path}`, {
          hint: `{{ member.${hidden.name} }} always names the member's own ${hidden.name}, whatever the parameters`,
          problems: [
            runIdAt(
              `{{ ${hidden.field} }} is ${OWN_MEANING[hidden.name]}, not ${hidden.path}, a parameter that ends in ${hidden.name}; write ${wholeField(hidden.path)} for the parameter's value`,
            ),
          ],
        }),
      ],
      warnings: whole.warnings ?? [],
    };

  const loaded: LoadedMember[] = [];
  const errors = new MemberErrors();
  const warnings = [...(whole.warnings ?? []), ...hiddenWarnings(config, names, whole.place)];
  const byRunId = new Map<string, number>();
  // Of the first member loaded: the ensemble's name, folder and backend when the file says none.
  let model: { runId: string; outputDir: string; backendType: string } | undefined;
  const memberWarnings = new MemberWarnings();
  const secrets = new Redactor().addEnv(ctx.env);
  const loadRun = memberRunLoader({
    ensembleFile: files.ensembleFile,
    files,
    ctx,
    whole,
    validate: (overrides) => checked(validateEnsembleMemberParsed, overrides),
  });
  for (const member of members) {
    yield;
    if (errors.invalidCount >= MAX_INVALID_CHECKED) {
      errors.stopped(members.length);
      break;
    }
    const load = loadRun(member.overrides);
    // The file's own warnings are the same for every member: each is said once.
    memberWarnings.add(member.index, load.warnings);
    if ('errors' in load) {
      errors.add(member.index, load.errors);
      continue;
    }
    model ??= {
      runId: load.run.model.run_id,
      outputDir: load.run.model.output_dir,
      backendType: load.run.backend.type,
    };
    const scope = memberScope(member, names);
    const rendered = memberRunId(member, scope, load.run, template, names.shared);
    // A secret's value that `${NAME}` put under an ordinary key is no name for a folder either.
    const runId =
      rendered.ok && secrets.redact(rendered.runId) !== rendered.runId
        ? {
            ok: false as const,
            message:
              "the run id would hold the value of a secret from the environment, and a run id names the member's folder and is shown and recorded everywhere; name the members by other values, or by {{ member.index }}",
          }
        : rendered;
    if (!runId.ok) {
      errors.add(
        member.index,
        [
          new ConfigError('the run_id: template gives no run id', {
            hint: 'fix the run_id: template of the ensemble file',
            problems: [runIdAt(runId.message)],
          }),
        ],
        { named: true },
      );
      continue;
    }
    const twin = byRunId.get(runId.runId);
    if (twin !== undefined) {
      errors.add(
        member.index,
        [
          new ConfigError(
            `members ${twin} and ${member.index} both get the run id ${runId.runId}`,
            {
              hint: 'put a field in run_id: that tells them apart, such as {{ member.index }}',
              problems: [
                runIdAt(
                  `gives members ${twin} and ${member.index} the same run id "${runId.runId}"`,
                ),
              ],
            },
          ),
        ],
        { own: true },
      );
      continue;
    }
    byRunId.set(runId.runId, member.index);
    loaded.push({
      index: member.index,
      replica: member.replica,
      values: member.values,
      scope,
      runId: runId.runId,
      overrides: member.overrides,
    });
  }
  warnings.push(...memberWarnings.said(members.length));
  if (errors.any) return { errors: errors.said(members.length), warnings };
  // Without errors, every member loaded: the first loaded is the first member.
  if (model === undefined) return never();
  const id = config.ensemble_id ?? model.runId;
  const dir = join(config.output_dir ?? model.outputDir, id);
  return {
    ensemble: {
      file: input.display,
      fileDir: dirname(input.path),
      id,
      dir,
      ...(config.max_parallel === undefined ? {} : { maxParallel: config.max_parallel }),
      failFast: config.fail_fast,
      aggregate: config.aggregate,
      backendType: model.backendType,
      members: loaded,
      runOf: (member) => remadeRun(loadRun, member, dir),
      overrides: global.map((override) => override.arg),
    },
    warnings,
  };
}

type ParsedTemplate = { ok: true; template: RunIdTemplate };

/** A member's run id: from the template, or the model's run_id and its index. */
function memberRunId(
  member: Member,
  scope: MemberScope,
  run: LoadedRun,
  template: ParsedTemplate | undefined,
  shared: Map<string, string[]>,
): { ok: true; runId: string } | { ok: false; message: string } {
  if (template === undefined) return checkRunId(`${run.model.run_id}-${member.index}`);
  const rendered = renderRunId(template.template, { member: scope, config: run.model.config });
  if (!rendered.ok) {
    const field = template.template.find(
      (part) =>
        typeof part !== 'string' &&
        part.path[0] === 'member' &&
        part.path.length === 2 &&
        shared.has(part.path[1] as string),
    );
    if (typeof field === 'object') {
      const paths = shared.get(field.path[1] as string) ?? [];
      return {
        ok: false,
        message: `{{ ${field.field} }} could be any of ${paths.join(', ')}, which all end in ${field.path[1]}; write the whole path, such as {{ member.${paths[0]} }}`,
      };
    }
    return {
      ok: false,
      message: `${rendered.message}${guess(template, scope, run)}`,
    };
  }
  return checkRunId(rendered.runId);
}

/** The first field of the template whose value is a secret's: a secret-named key on its way, or a short name for such a path. */
function secretField(
  template: ParsedTemplate,
  names: MemberNames,
): { field: string; path?: string } | undefined {
  const byName = new Map([...names.short].map(([path, name]) => [name, path]));
  for (const part of template.template) {
    if (typeof part === 'string') continue;
    const short = part.path[0] === 'member' && part.path.length === 2;
    const path = short ? byName.get(part.path[1] as string) : undefined;
    if (path !== undefined && isSecretName(path)) return { field: part.field, path };
    if (part.path.some(isSecretName)) return { field: part.field };
  }
  return undefined;
}

/** "did you mean" for the first field that names nothing, among the names its root has. */
function guess(template: ParsedTemplate, scope: MemberScope, run: LoadedRun): string {
  const roots: Record<string, unknown> = { member: scope, config: run.model.config };
  for (const part of template.template) {
    if (typeof part === 'string') continue;
    let at: unknown = roots;
    for (const [i, key] of part.path.entries()) {
      if (at === null || typeof at !== 'object') break;
      if (!Object.hasOwn(at, key)) {
        const match = closestMatch(key, Object.keys(at));
        const known = part.path.slice(0, i).join('.');
        return match === undefined ? '' : `; did you mean {{ ${known}.${match} }}?`;
      }
      at = (at as Record<string, unknown>)[key];
    }
  }
  return '';
}

function checkRunId(runId: string): { ok: true; runId: string } | { ok: false; message: string } {
  if (runId.length > RUN_ID_MAX_LENGTH)
    return {
      ok: false,
      message: `a run id of ${runId.length} characters is too long; at most ${RUN_ID_MAX_LENGTH}`,
    };
  if (runId === ENSEMBLE_RECORD)
    return {
      ok: false,
      message: `the run id "${ENSEMBLE_RECORD}" is the name of the ensemble's own record in its folder`,
    };
  if (!RUN_ID_PATTERN.test(runId))
    return { ok: false, message: `the run id ${JSON.stringify(runId)} ${runIdRefusal(runId)}` };
  return { ok: true, runId };
}

/** A --set of a path that members set: which should win is the user's to say. */
function refuseOverlap(global: readonly Override[], members: readonly Member[]): void {
  // A --set below a member's path is one too: the member's value, set after it, would replace it.
  const within = (outer: Override, inner: Override) =>
    outer.target === inner.target && outer.path.every((segment, i) => inner.path[i] === segment);
  for (const member of members)
    for (const override of member.overrides) {
      const clash = global.find((o) => within(override, o));
      if (clash !== undefined)
        throw new UsageError(
          `${clash.arg} sets ${formatPath(override.target === 'backend' ? ['backend', ...override.path] : override.path)}, which the ensemble's members set themselves`,
          {
            hint: 'drop the --set, or change the value in the ensemble file; --only runs some members alone',
          },
        );
    }
}

/** An error loading a member, saying which member. */
function never(): never {
  throw new Error('an ensemble was loaded without its file');
}

import type { RunIdTemplate } from '../config/run-id-template.js';
import type { EnsembleConfig } from '../load/ensemble-file.js';
import type { Placed } from '../load/run-inputs.js';
import type { Problem } from '../problems.js';
import type { MemberNames } from './member-scope.js';

/**
 * `member`'s own keys (index, replica, parameters) always name the
 * member's own: a parameter whose path ends in one keeps only its whole
 * name. A run_id: that writes the short one beside it is refused, and the
 * parameter is a warning, as a template elsewhere may mean it.
 */

/** The first field of the template that is `member`'s own key (index, replica) that a parameter's path ends in too. */
export function hiddenField(
  template: RunIdTemplate,
  names: MemberNames,
): { field: string; name: string; path: string } | undefined {
  for (const part of template) {
    if (typeof part === 'string' || part.path[0] !== 'member' || part.path.length !== 2) continue;
    const name = part.path[1] as string;
    // member.parameters is a mapping, which no run id holds: that error says so.
    const path = name === 'parameters' ? undefined : names.hidden.get(name)?.[0];
    if (path !== undefined) return { field: part.field, name, path };
  }
  return undefined;
}

/** What `member`'s own keys name. */
export const OWN_MEANING: Record<string, string> = {
  index: "the member's index, its place in the ensemble",
  replica: "the member's replica, which run of the same values it is",
  parameters: "the member's values by path as written",
};

/** A template field that names a parameter's value by its whole path. */
export function wholeField(path: string): string {
  return path.startsWith('config.')
    ? `{{ ${path} }} (or {{ member.${path} }})`
    : `{{ member.${path} }}`;
}

/**
 * A warning at each parameter whose path ends in a key `member` has of its
 * own: a template's `{{ member.index }}` stays the member's index, which
 * the user may have meant as the parameter.
 */
export function hiddenWarnings(
  config: EnsembleConfig,
  names: MemberNames,
  place: Placed<EnsembleConfig>['place'],
): Problem[] {
  const at = (path: string): (string | number)[] => {
    if (Object.hasOwn(config.parameters, path)) return ['parameters', path];
    const m = (config.members ?? []).findIndex((member) => Object.hasOwn(member, path));
    return ['members', m, path];
  };
  return [...names.hidden].flatMap(([name, paths]) =>
    paths.map((path) =>
      place(
        at(path),
        `ends in ${name}, a name member keeps for its own: {{ member.${name} }} in a template is ${OWN_MEANING[name]}, not this value; write ${wholeField(path)}`,
      ),
    ),
  );
}

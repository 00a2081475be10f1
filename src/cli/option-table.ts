import { Argument, Option } from 'commander';

/**
 * The pieces a command's row in the table is made of: each option and
 * argument is declared once, with commander's flags and description and how
 * its parsed value reads, and the type a command's run function takes is
 * inferred from them, so no action retypes its options by hand.
 */

/** One option: how to make commander's Option, and its value as the command receives it. */
export interface OptionDef<V> {
  readonly make: () => Option;
  readonly read: (parsed: unknown) => V;
  /**
   * Choices known only once a heavy module is loaded (the backend types,
   * from the registry and zod): set on the option when the command is
   * reached, so that `--help` and `--version` never load that module.
   */
  readonly lateChoices?: () => Promise<readonly string[]>;
}

/** One positional argument, in the order the command takes them. */
export interface ArgumentDef<V> {
  readonly make: () => Argument;
  readonly read: (parsed: unknown) => V;
}

type AnyDef = OptionDef<unknown> | ArgumentDef<unknown>;
type ValueOf<D> = D extends OptionDef<infer V> ? V : D extends ArgumentDef<infer V> ? V : never;

/** The values of a record of definitions: optional where a value may be missing. */
export type ValuesOf<T extends Record<string, AnyDef>> = {
  [K in keyof T as undefined extends ValueOf<T[K]> ? never : K]: ValueOf<T[K]>;
} & {
  [K in keyof T as undefined extends ValueOf<T[K]> ? K : never]?: ValueOf<T[K]>;
};

/** A command's arguments and options, as its row declares them. */
export interface CommandSpec {
  readonly args: Record<string, ArgumentDef<unknown>>;
  readonly options: Record<string, OptionDef<unknown>>;
}

/** What a command's run function takes: its arguments and options by the names the spec gives them. */
export type InputOf<S extends CommandSpec> = ValuesOf<S['args']> & ValuesOf<S['options']>;

const text = (parsed: unknown): string | undefined =>
  typeof parsed === 'string' ? parsed : undefined;

/** A flag without a value: true when given. */
export function flag(flags: string, description: string): OptionDef<boolean> {
  return { make: () => new Option(flags, description), read: (parsed) => parsed === true };
}

/** A `--no-x` flag: true unless given. */
export function negatable(flags: `--no-${string}`, description: string): OptionDef<boolean> {
  return { make: () => new Option(flags, description), read: (parsed) => parsed !== false };
}

/** An option that takes a value (a file name, most often). */
export function value(flags: string, description: string): OptionDef<string | undefined> {
  return { make: () => new Option(flags, description), read: text };
}

/** An option that takes one of a few words, with or without a default. */
export function choice<const C extends readonly string[]>(
  flags: string,
  description: string,
  choices: C,
): OptionDef<C[number] | undefined>;
export function choice<const C extends readonly string[]>(
  flags: string,
  description: string,
  choices: C,
  fallback: C[number],
): OptionDef<C[number]>;
export function choice<const C extends readonly string[]>(
  flags: string,
  description: string,
  choices: C,
  fallback?: C[number],
): OptionDef<C[number] | undefined> {
  const isChoice = (parsed: unknown): parsed is C[number] =>
    typeof parsed === 'string' && choices.includes(parsed);
  return {
    make: () => {
      const option = new Option(flags, description).choices(choices);
      return fallback === undefined ? option : option.default(fallback);
    },
    read: (parsed) => (isChoice(parsed) ? parsed : fallback),
  };
}

/** An option whose choices come from a module loaded only when the command runs. */
export function lateChoice(
  flags: string,
  description: string,
  choices: () => Promise<readonly string[]>,
): OptionDef<string | undefined> {
  return { make: () => new Option(flags, description), read: text, lateChoices: choices };
}

/** The same option, which the command cannot do without. */
export function mandatory(def: OptionDef<string | undefined>): OptionDef<string> {
  return {
    ...def,
    make: () => def.make().makeOptionMandatory(),
    read: (parsed) => def.read(parsed) ?? '',
  };
}

/** An option given any number of times, its values in order. */
export function repeatable(
  flags: string,
  description: string,
  defaultDescription: string,
): OptionDef<string[]> {
  const collect = (given: string, previous: string[]) => [...previous, given];
  return {
    make: () => new Option(flags, description).argParser(collect).default([], defaultDescription),
    read: (parsed) => (Array.isArray(parsed) ? parsed.filter((v) => typeof v === 'string') : []),
  };
}

/** A positional argument: `<name>` required, `[name]` with a default. */
export function argument(
  name: string,
  description: string,
  fallback?: string,
): ArgumentDef<string> {
  return {
    make: () => {
      const made = new Argument(name, description);
      return fallback === undefined ? made : made.default(fallback);
    },
    read: (parsed) => text(parsed) ?? fallback ?? '',
  };
}

/** A variadic argument, `<name...>`. */
export function argumentList(name: `<${string}...>`, description: string): ArgumentDef<string[]> {
  return {
    make: () => new Argument(name, description),
    read: (parsed) => (Array.isArray(parsed) ? parsed.filter((v) => typeof v === 'string') : []),
  };
}

/** An optional variadic argument, `[name...]`: empty when none is given. */
export function optionalList(name: `[${string}...]`, description: string): ArgumentDef<string[]> {
  return {
    make: () => new Argument(name, description),
    read: (parsed) => (Array.isArray(parsed) ? parsed.filter((v) => typeof v === 'string') : []),
  };
}

/** A positional argument that is one of a few words. */
export function choiceArgument<const C extends readonly string[]>(
  name: string,
  description: string,
  choices: C,
): ArgumentDef<C[number]> {
  const first = choices[0] as C[number];
  return {
    make: () => new Argument(name, description).choices(choices),
    read: (parsed) =>
      typeof parsed === 'string' && choices.includes(parsed) ? (parsed as C[number]) : first,
  };
}

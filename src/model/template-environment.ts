import type { Environment } from 'nunjucks';
import { addTime, FilterError, strftime } from './date-filters.js';

/** Filters that exist to handle a missing value. */
const TAKES_UNDEFINED = new Set(['default', 'd']);

/**
 * What modelrun adds to a Nunjucks environment, in the render worker and in
 * this thread alike: the date filters, and strictness about undefined
 * values. throwOnUndefined only checks what is printed, so `{{ confg.x |
 * upper }}` would print nothing; every built-in filter but `default` refuses
 * an undefined input instead.
 */
export function configureEnvironment(nunjucks: unknown, env: Environment): Environment {
  placeFilterErrors(nunjucks);
  printNullAsEmpty(nunjucks);
  refuseUndefinedLoops(nunjucks);
  for (const [name, filter] of Object.entries(filtersOf(env))) {
    if (TAKES_UNDEFINED.has(name) || typeof filter !== 'function') continue;
    // A function, not an arrow: some filters read the render context from `this`.
    env.addFilter(name, function (this: unknown, value: unknown, ...args: unknown[]) {
      if (value === undefined) throw new FilterError(name, UNDEFINED_INPUT);
      return filter.apply(this, [value, ...args]);
    });
  }
  env.addFilter('strftime', strftime);
  env.addFilter('add_days', addTime('days'));
  env.addFilter('add_hours', addTime('hours'));
  env.addFilter('add_minutes', addTime('minutes'));
  env.addFilter('add_seconds', addTime('seconds'));
  return env;
}

export const UNDEFINED_INPUT = 'its input is not defined';

/** The environment's filters by name, which @types/nunjucks does not declare. */
function filtersOf(env: Environment): object {
  const filters = 'filters' in env ? env.filters : undefined;
  return typeof filters === 'object' && filters !== null ? filters : {};
}

type Runtime = { ensureDefined(value: unknown, line: number, column: number): unknown };

/**
 * throwOnUndefined refuses null too, so a key that the model file holds
 * with a null value (`key:` left blank, `key: null`) would be reported as
 * "not defined", though `is defined` says it is and `default` leaves it
 * alone. Only undefined is refused here; null prints as Nunjucks prints it
 * without that flag: as nothing.
 */
function printNullAsEmpty(nunjucks: unknown): void {
  const module = nunjucks as { runtime?: unknown; default?: { runtime?: unknown } };
  const runtime = (module.runtime ?? module.default?.runtime) as
    | (Runtime & { modelrunNull?: true })
    | undefined;
  if (runtime === undefined || runtime.modelrunNull) return;
  const ensureDefined = runtime.ensureDefined;
  runtime.ensureDefined = (value, line, column) =>
    value === null ? '' : ensureDefined(value, line, column);
  runtime.modelrunNull = true;
}

type CompilerProto = {
  compileFilter(this: CompilerProto, node: Positioned, frame: unknown): void;
  compileFor(this: CompilerProto, node: { arr: Positioned }, frame: unknown): void;
  _compileExpression(this: CompilerProto, node: unknown, frame: unknown): void;
  _emit(code: string): void;
  modelrunPlaced?: true;
  modelrunLoops?: true;
};
type Positioned = { lineno: number; colno: number };

/**
 * Nunjucks records the line and column of a function call for its error
 * message, but not of a filter: a filter's error would name no line. Its
 * compiler is patched once to do for a filter what it does for a call.
 * Positions are 0-based there and shown 1-based, as for undefined values.
 */
function placeFilterErrors(nunjucks: unknown): void {
  const proto = compilerOf(nunjucks);
  if (proto === undefined || proto.modelrunPlaced) return;
  const compileFilter = proto.compileFilter;
  proto.compileFilter = function (node, frame) {
    this._emit(`(lineno = ${node.lineno + 1}, colno = ${node.colno + 1}, `);
    compileFilter.call(this, node, frame);
    this._emit(')');
  };
  proto.modelrunPlaced = true;
}

/**
 * A loop over an undefined value renders nothing, in silence: `{% for s in
 * config.stattions %}` would leave an empty namelist. The compiler is
 * patched once to check a loop's list as it checks a printed value, so the
 * typo is the same error, naming the variable, the file and the line.
 */
function refuseUndefinedLoops(nunjucks: unknown): void {
  const proto = compilerOf(nunjucks);
  if (proto === undefined || proto.modelrunLoops) return;
  const compileFor = proto.compileFor;
  const compileExpression = proto._compileExpression;
  proto.compileFor = function (node, frame) {
    // The loop's list is the first expression compileFor compiles.
    this._compileExpression = function (expression, inner) {
      if (expression !== node.arr) return compileExpression.call(this, expression, inner);
      this._emit('runtime.ensureDefined(');
      compileExpression.call(this, expression, inner);
      this._emit(`, ${node.arr.lineno}, ${node.arr.colno})`);
    };
    try {
      compileFor.call(this, node, frame);
    } finally {
      delete (this as Partial<CompilerProto>)._compileExpression;
    }
  };
  proto.modelrunLoops = true;
}

function compilerOf(nunjucks: unknown): CompilerProto | undefined {
  const module = nunjucks as { compiler?: unknown; default?: { compiler?: unknown } };
  const compiler = (module.compiler ?? module.default?.compiler) as
    | { Compiler?: { prototype: CompilerProto } }
    | undefined;
  return compiler?.Compiler?.prototype;
}

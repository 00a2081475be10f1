import { ConfigError, type KnownError } from '../errors.js';
import { count } from '../plural.js';
import type { Problem } from '../problems.js';

/**
 * What an ensemble's members got wrong, said once for all the members that
 * share it: one bad value spoils every member that has it, and an invalid
 * file every member.
 */

/** Errors said one by one; the rest are counted, as one bad value can spoil thousands of members. */
export const MAX_MEMBER_ERRORS = 5;

/**
 * The members' errors, each said once with the members it is of: one bad
 * value spoils every member that has it, and a shared file's error every
 * member. At most MAX_MEMBER_ERRORS of them are said, and the rest counted.
 */
export class MemberErrors {
  private readonly groups = new ByMembers<{ error: KnownError; named?: boolean; own?: boolean }>();
  private readonly invalid = new Set<number>();

  private stoppedAt: number | undefined;

  get any(): boolean {
    return this.invalid.size > 0;
  }

  get invalidCount(): number {
    return this.invalid.size;
  }

  /** The check stopped here: the members after it were not checked. */
  stopped(total: number): void {
    this.stoppedAt = total;
  }

  /**
   * `named`: its problems do not say whose they are, so they are told;
   * `own`: its message names the members itself.
   */
  add(
    member: number,
    errors: readonly KnownError[],
    options: { named?: boolean; own?: boolean } = {},
  ): void {
    this.invalid.add(member);
    for (const error of errors)
      this.groups.add(JSON.stringify([error.message, error.problems.map(anyMember)]), member, {
        error,
        ...options,
      });
  }

  said(total: number): KnownError[] {
    const entries = this.groups.all();
    const out = entries
      .slice(0, MAX_MEMBER_ERRORS)
      .map(({ item: { error, named, own }, members }) => {
        const who = whom(members, total);
        if (own !== true) error.message = `${who}: ${error.message}`;
        for (const problem of error.problems)
          problem.message =
            named === true ? `${who}: ${problem.message}` : ofMembers(problem.message, who);
        return error;
      });
    if (this.stoppedAt !== undefined)
      out.push(
        new ConfigError(
          `the check stopped after ${this.invalid.size} invalid members; the rest of the ${this.stoppedAt} were not checked`,
          { hint: 'fix the errors above, which the others likely share, then check again' },
        ),
      );
    if (entries.length > MAX_MEMBER_ERRORS)
      out.push(
        new ConfigError(
          `${count(entries.length - MAX_MEMBER_ERRORS, 'more error')} left out: ${this.invalid.size} of the ${total} members are invalid`,
          { hint: 'fix the errors above, then check again to see the rest' },
        ),
      );
    return out;
  }
}

/**
 * A problem placed at a member's value names the member after it,
 * `(member 3: config.x=5)`; the same value makes the same problem in every
 * member that has it, which is said once.
 */
const MEMBER_NAMED = /\(member \d+: /g;

function anyMember(problem: Problem): Problem {
  return { ...problem, message: problem.message.replace(MEMBER_NAMED, '(member #: ') };
}

function ofMembers(message: string, who: string): string {
  return message.replace(MEMBER_NAMED, `(${who}: `);
}

/**
 * The members' warnings, each said once with the members it is of, as
 * their errors are: one unknown key in a parameter list is every member's.
 */
export class MemberWarnings {
  private readonly groups = new ByMembers<Problem>();

  add(member: number, warnings: readonly Problem[]): void {
    for (const warning of warnings)
      this.groups.add(JSON.stringify(anyMember(warning)), member, warning);
  }

  said(total: number): Problem[] {
    return this.groups.all().map(({ item: warning, members }) => ({
      ...warning,
      message: ofMembers(warning.message, whom(members, total)),
    }));
  }
}

/** Items by a key, each with the members it came from: the first item of a key stands for all. */
class ByMembers<T> {
  private readonly byKey = new Map<string, { item: T; members: number[] }>();

  add(key: string, member: number, item: T): void {
    const known = this.byKey.get(key);
    if (known === undefined) this.byKey.set(key, { item, members: [member] });
    else known.members.push(member);
  }

  all(): { item: T; members: number[] }[] {
    return [...this.byKey.values()];
  }
}

/** "member 3", "every member", "members 0, 1 and 2", "members 0, 1, 2 and 5 more". */
function whom(members: readonly number[], total: number): string {
  if (members.length === 1) return `member ${members[0]}`;
  if (members.length === total) return 'every member';
  if (members.length <= 3)
    return `members ${members.slice(0, -1).join(', ')} and ${members[members.length - 1]}`;
  return `members ${members.slice(0, 3).join(', ')} and ${members.length - 3} more`;
}

// Problem lists the CLI prints (a batch file's bad lines, a gateway's field-named issues): the same
// problem on many lines is printed once, with its count and the first line numbers.

/** One problem: where (a line number or request index; null when it is about the whole file) and what. */
export type Problem = { at: number | null; what: string };

/** Line numbers shown per grouped problem before "...". */
const SHOWN_AT = 5;

/**
 * Groups problems by text in order of first appearance: `line 3: x` for one, and
 * `lines 1, 2, 3, 4, 5, ... (50 lines): x` for many. `noun` names what `at` counts (line, request).
 */
export function groupProblems(problems: Problem[], noun: string): string[] {
  const groups = new Map<string, Array<number | null>>();
  for (const p of problems) groups.set(p.what, [...(groups.get(p.what) ?? []), p.at]);
  return [...groups.entries()].map(([what, ats]) => {
    const numbered = ats.filter((a): a is number => a !== null);
    if (numbered.length === 0) return ats.length === 1 ? what : `${what} (${ats.length} times)`;
    if (numbered.length === 1) return `${noun} ${numbered[0]}: ${what}`;
    const shown = numbered.slice(0, SHOWN_AT).join(', ');
    const more = numbered.length > SHOWN_AT ? ', ...' : '';
    return `${noun}s ${shown}${more} (${numbered.length} ${noun}s): ${what}`;
  });
}

/** Indented lines for an error message, at most `max` of them plus a count of the rest. */
export function listed(lines: string[], max = 20): string {
  const shown = lines
    .slice(0, max)
    .map((l) => `\n  ${l}`)
    .join('');
  return lines.length > max ? `${shown}\n  ... ${lines.length - max} more problems` : shown;
}

/** A gateway issue as a problem: `requests[7].params.n` is request 7's `params.n`. */
export function issueProblem(issue: { field: string; reason: string }): Problem {
  const m = /^requests\[(\d+)\]\.?(.*)$/.exec(issue.field);
  if (!m) return { at: null, what: `${issue.field}: ${issue.reason}` };
  return { at: Number(m[1]), what: `${m[2] || 'request'}: ${issue.reason}` };
}

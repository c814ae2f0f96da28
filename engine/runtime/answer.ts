// Answer extraction from a thread's text, majority vote over threads, and stop-string handling.
// Default answer: the text after the last "A:" up to the end or the next ";" (the suite's format).

/** The answer in a text: first capture group of `pattern` (or the whole match), else the default rule. */
export function extractAnswer(text: string, pattern?: string): string | null {
  if (pattern !== undefined && pattern !== '') {
    const m = new RegExp(pattern).exec(text);
    if (!m) return null;
    return (m.length > 1 ? m[1] : m[0]) ?? null;
  }
  const at = text.lastIndexOf('A:');
  if (at < 0) return null;
  const rest = text.slice(at + 2);
  const semi = rest.indexOf(';');
  const ans = (semi >= 0 ? rest.slice(0, semi) : rest).trim();
  return ans === '' ? null : ans;
}

/** The most frequent non-null answer; ties go to the answer given by the earliest thread. */
export function majorityVote(answers: (string | null)[]): string | null {
  const counts = new Map<string, number>(); // insertion order = order of first appearance
  for (const a of answers) if (a !== null) counts.set(a, (counts.get(a) ?? 0) + 1);
  let best: string | null = null;
  let bestCount = 0;
  for (const [a, c] of counts) {
    if (c > bestCount) {
      best = a;
      bestCount = c;
    }
  }
  return best;
}

/** Index of the earliest occurrence of any stop string in text, or -1. */
export function findStop(text: string, stops: string[]): number {
  let at = -1;
  for (const s of stops) {
    if (s === '') continue;
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

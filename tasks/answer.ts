// Answer extraction and verification: the answer is the text after the last "A:" of a generation.
// Verification is exact match of that text against the generator's answer.

const MARKER = 'A:';

/** Text after the last "A:" up to the first whitespace; null when the text has no "A:". */
export function extractAnswer(text: string): string | null {
  const at = text.lastIndexOf(MARKER);
  if (at < 0) return null;
  const rest = text.slice(at + MARKER.length).trimStart();
  const match = /^\S*/.exec(rest);
  return match ? match[0] : '';
}

/** True when the generation's extracted answer equals the expected one exactly. */
export function verifyAnswer(generation: string, expected: string): boolean {
  const got = extractAnswer(generation);
  return got !== null && got === expected;
}

/** Majority vote over extracted answers (ties go to the answer seen first); null when none parse. */
export function majorityAnswer(generations: readonly string[]): string | null {
  const counts = new Map<string, number>();
  let best: string | null = null;
  let bestCount = 0;
  for (const g of generations) {
    const a = extractAnswer(g);
    if (a === null || a === '') continue;
    const c = (counts.get(a) ?? 0) + 1;
    counts.set(a, c);
    if (c > bestCount) {
      best = a;
      bestCount = c;
    }
  }
  return best;
}

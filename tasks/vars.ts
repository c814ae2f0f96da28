// Family "vars": follow a chain of variable assignments to its digit (RULER-style variable tracking).
// Each assignment is written as <lower lhs><UPPER rhs | digit> so that every lookup is single-hop:
// a lowercase letter occurs once in the prompt, right before its value (as chain's labels do).
//
// Prompt   @:zY qZ yX wQ x5 ?Z=   (shuffled assignments; distractor chains end elsewhere)
// Solution zY yX x5 A:5           step = lowercase of the previous rhs (local), then the token
//                                 right after that lowercase letter in the prompt (the lookup).
import { makeRng } from './rng.js';
import { checkDifficulty, type Family, type Problem, type Role } from './types.js';

/** Variable names; 'a' is excluded so that the answer marker "A:" never looks like a value. */
const VARS = 'bcdefghijklmnopqrstuvwxyz';
const SALT = 0x7a25;

/** Hops of the queried chain per difficulty 1..10. */
const HOPS = [1, 2, 3, 4, 6, 8, 10, 12, 15, 18];

export function generateVars(seed: number, difficulty: number): Problem {
  checkDifficulty(varsFamily, difficulty);
  const rng = makeRng(seed, SALT);
  const hops = HOPS[difficulty - 1];
  const numVars = Math.min(VARS.length, hops + Math.max(4, hops));
  const names = rng.shuffle(VARS.split('')).slice(0, numVars);

  // The queried chain: names[0] -> names[1] -> ... -> names[hops-1] -> digit.
  // rhs values are written in uppercase (a variable) or as a digit.
  const rhs = new Map<string, string>();
  const chain = names.slice(0, hops);
  for (let i = 0; i < hops; i++) rhs.set(chain[i], i + 1 < hops ? chain[i + 1].toUpperCase() : String(rng.int(0, 9)));

  // Distractor chains over the remaining names: each ends in a digit or merges into the queried
  // chain (a distractor may point into it, never out of it, so the answer stays unique).
  const rest = names.slice(hops);
  while (rest.length > 0) {
    const len = Math.min(rest.length, rng.int(1, Math.max(1, hops)));
    const part = rest.splice(0, len);
    for (let i = 0; i < len; i++) {
      if (i + 1 < len) rhs.set(part[i], part[i + 1].toUpperCase());
      else rhs.set(part[i], rng.next() < 0.3 && hops > 1 ? rng.pick(chain.slice(1)).toUpperCase() : String(rng.int(0, 9)));
    }
  }

  const order = rng.shuffle(names);
  const prompt = `@:${order.map((v) => v + rhs.get(v)).join(' ')} ?${chain[0].toUpperCase()}=`;

  let solution = '';
  const roles: Role[] = [];
  const emit = (text: string, role: Role): void => {
    solution += text;
    for (let i = 0; i < text.length; i++) roles.push(role);
  };
  for (const v of chain) {
    emit(v, 'label');
    emit(rhs.get(v) as string, 'copy');
    emit(' ', 'sep');
  }
  const answer = rhs.get(chain[hops - 1]) as string;
  emit('A:', 'sep');
  emit(answer, 'answer');
  return { family: 'vars', seed, difficulty, prompt, solution, answer, roles };
}

export const varsFamily: Family = {
  name: 'vars',
  minDifficulty: 1,
  maxDifficulty: HOPS.length,
  generate: generateVars,
};

// Family "chain": running sum mod 10 over a list of labelled digits, applied for several rounds.
// Every lookup is single-hop (the payload sits right after its label); all other steps are local.
//
// Prompt   C<R>:c1e.a3d4b7=     K labels a.. (and the terminator, the label after the last one,
//                               followed by '.') in SHUFFLED order, so a payload can only be found
//                               by matching its label's content, never by position; R = rounds.
// Solution 2a3:3;2b7:0;2c1:1;2d4:5;2e.:5;1a3:8;1b7:5;1c1:6;1d4:0;1e.:0;A:0
//   step = <round><label><payload>:<value>;   value = previous value + payload mod 10 (start 0);
//   round counts down from R; the terminator step keeps the value and ends the round.
import { makeRng } from './rng.js';
import { checkDifficulty, type Family, type Problem, type Role } from './types.js';

const LABELS = 'abcdefghijklmnopqrstuvwxyz';
const SALT = 0xc4a1;

/** (number of labels K, rounds R) per difficulty 1..10; K is jittered by +-1 per problem. */
const SHAPES: ReadonlyArray<readonly [number, number]> = [
  [3, 1],
  [5, 1],
  [8, 1],
  [6, 2],
  [10, 2],
  [10, 3],
  [14, 3],
  [15, 4],
  [21, 4],
  [24, 4],
];

/** Number of labels and rounds of a problem at this difficulty for this seed. */
export function chainShape(seed: number, difficulty: number): { numLabels: number; numRounds: number } {
  const [k, r] = SHAPES[difficulty - 1];
  const rng = makeRng(seed, SALT + 1);
  const numLabels = Math.max(2, Math.min(LABELS.length - 1, k + rng.int(-1, 1)));
  return { numLabels, numRounds: r };
}

export function generateChain(seed: number, difficulty: number): Problem {
  checkDifficulty(chainFamily, difficulty);
  const { numLabels, numRounds } = chainShape(seed, difficulty);
  const rng = makeRng(seed, SALT);
  const payloads = Array.from({ length: numLabels }, () => rng.int(0, 9));
  const terminator = LABELS[numLabels];

  const items = payloads.map((p, i) => LABELS[i] + String(p));
  items.push(`${terminator}.`);
  const prompt = `C${numRounds}:${rng.shuffle(items).join('')}=`;

  let solution = '';
  const roles: Role[] = [];
  const emit = (text: string, role: Role): void => {
    solution += text;
    for (let i = 0; i < text.length; i++) roles.push(role);
  };
  let value = 0;
  for (let round = numRounds; round >= 1; round--) {
    for (let i = 0; i <= numLabels; i++) {
      // The very first round digit is read from the prompt (after 'C'); later ones are local.
      emit(String(round), round === numRounds && i === 0 ? 'copy' : 'label');
      emit(i < numLabels ? LABELS[i] : terminator, 'label');
      if (i < numLabels) {
        emit(String(payloads[i]), 'copy');
        value = (value + payloads[i]) % 10;
      } else {
        emit('.', 'copy');
      }
      emit(':', 'sep');
      emit(String(value), 'value');
      emit(';', 'sep');
    }
  }
  emit('A:', 'sep');
  emit(String(value), 'answer');
  return { family: 'chain', seed, difficulty, prompt, solution, answer: String(value), roles };
}

export const chainFamily: Family = {
  name: 'chain',
  minDifficulty: 1,
  maxDifficulty: SHAPES.length,
  generate: generateChain,
};

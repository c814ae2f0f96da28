// Public entry of the reasoning suite: generators, seed ranges, mix, answers and JSONL export.
// Other parts (bench, cli, engine/train) import from here only.
export * from './types.js';
export * from './seeds.js';
export { chainFamily, generateChain, chainShape } from './chain.js';
export { varsFamily, generateVars } from './vars.js';
export * from './mix.js';
export * from './answer.js';
export * from './export.js';

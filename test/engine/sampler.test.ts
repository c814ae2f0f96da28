import { describe, expect, it } from 'vitest';
import { Rng, argmax, sampleToken, threadSeed } from '../../engine/runtime/sampler.js';
import { extractAnswer, findStop, majorityVote } from '../../engine/runtime/answer.js';

const logits = new Float32Array([0.1, 2.0, 1.9, -1, 0.5]);

describe('sampler', () => {
  it('greedy is argmax with ties to the lower id', () => {
    expect(argmax(new Float32Array([1, 3, 3, 2]), 0, 4)).toBe(1);
    expect(sampleToken(logits, 0, 5, { temperature: 0, topK: 0, topP: 1 }, new Rng(1))).toBe(1);
  });
  it('top-k 1 is greedy; top-k 2 and top-p only draw from the head; frequencies follow the softmax', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 50; i++) expect(sampleToken(logits, 0, 5, { temperature: 1, topK: 1, topP: 1 }, rng)).toBe(1);
    for (let i = 0; i < 200; i++) expect([1, 2]).toContain(sampleToken(logits, 0, 5, { temperature: 1, topK: 2, topP: 1 }, rng));
    for (let i = 0; i < 200; i++) expect([1, 2]).toContain(sampleToken(logits, 0, 5, { temperature: 1, topK: 0, topP: 0.6 }, rng));
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 20000; i++) counts[sampleToken(logits, 0, 5, { temperature: 1, topK: 0, topP: 1 }, rng)]++;
    const z = [...logits].reduce((a, b) => a + Math.exp(b), 0);
    for (const [v, c] of counts.entries()) expect(Math.abs(c / 20000 - Math.exp(logits[v]) / z)).toBeLessThan(0.015);
  });
  it('seeded streams are reproducible and distinct per thread', () => {
    const a = new Rng(threadSeed(7, 0)),
      b = new Rng(threadSeed(7, 0)),
      c = new Rng(threadSeed(7, 1));
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
    for (const x of xa) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('answers', () => {
  it('extracts the default and pattern answers, votes, finds stops', () => {
    expect(extractAnswer('a+2:8=0;A:6')).toBe('6');
    expect(extractAnswer('A:1;b A: 42 ;x')).toBe('42');
    expect(extractAnswer('no answer')).toBeNull();
    expect(extractAnswer('result=17!', 'result=(\\d+)')).toBe('17');
    expect(extractAnswer('xyz', '\\d+')).toBeNull();
    expect(majorityVote(['3', '4', '4', null, '3'])).toBe('3'); // tie: the earliest thread's answer
    expect(majorityVote(['3', '4', '4'])).toBe('4');
    expect(majorityVote([null, null])).toBeNull();
    expect(findStop('abc;def\n', ['\n', ';'])).toBe(3);
    expect(findStop('abc', ['x'])).toBe(-1);
  });
});

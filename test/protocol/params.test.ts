// Parameter resolution (system defaults <- job defaults <- request params), field-path
// formatting of zod issues, and the byte-level prompt length estimate.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { estimatePromptTokens, formatPath, resolveParams, SubmitJobSchema, SYSTEM_DEFAULTS, zodIssues } from '../../protocol/index.js';

describe('resolveParams', () => {
  it('uses the system defaults when nothing is given', () => {
    expect(resolveParams(undefined, undefined)).toEqual(SYSTEM_DEFAULTS);
  });

  it('lets the request override the job defaults field by field', () => {
    const out = resolveParams({ max_tokens: 100, temperature: 0.2, stop: '\n', compression: { method: 'dms', ratio: 4 } }, { temperature: 0.9, n: 8 });
    expect(out).toEqual({ ...SYSTEM_DEFAULTS, max_tokens: 100, temperature: 0.9, n: 8, stop: ['\n'], compression: { method: 'dms', ratio: 4 } });
  });

  it('takes the request compression as a whole and fills ratio 1 for none', () => {
    expect(resolveParams({ compression: { method: 'dms', ratio: 4 } }, { compression: { method: 'none' } }).compression).toEqual({ method: 'none', ratio: 1 });
  });

  it('does not share the stop array with its input', () => {
    const stop = ['A:'];
    const out = resolveParams(undefined, { stop });
    out.stop.push('x');
    expect(stop).toEqual(['A:']);
  });
});

describe('zod issues', () => {
  it('formats paths with indices and names unknown keys one by one', () => {
    expect(formatPath(['requests', 3, 'params', 'top_p'])).toBe('requests[3].params.top_p');
    expect(formatPath([])).toBe('body');
    const parsed = SubmitJobSchema.safeParse({ requests: [{ custom_id: 'a', prompt: 'x', params: { top_p: 2, foo: 1, bar: 2 } }], extra: true });
    expect(parsed.success).toBe(false);
    const issues = zodIssues((parsed as { error: z.ZodError }).error);
    expect(issues.map((i) => i.field).sort()).toEqual(['extra', 'requests[0].params.bar', 'requests[0].params.foo', 'requests[0].params.top_p']);
    expect(issues.find((i) => i.field === 'extra')?.reason).toBe('unknown field');
  });
});

describe('estimatePromptTokens', () => {
  it('counts UTF-8 bytes plus one BOS token', () => {
    expect(estimatePromptTokens('Q:7+5=')).toBe(7);
    expect(estimatePromptTokens('é你')).toBe(2 + 3 + 1);
  });
});

// fast-check generators of adversarial HTTP requests for every gateway endpoint: near-valid and
// random JSON, deep nesting, huge bodies, invalid UTF-8, lone surrogates, odd headers and ids.
import fc from 'fast-check';
import { COMPRESSION_LABELS, USAGE_FIELDS } from '../../protocol/usage-fields.js';

/** What the generators may aim at: real keys, job ids and lease tokens of the fuzzed store. */
export interface FuzzWorld {
  keys: string[];
  runnerToken: string;
  jobIds: string[];
  leaseTokens: string[];
  contextLength: number;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | FormData;
}

/** Percent-encodes any string (lone surrogates become U+FFFD's bytes, as a browser would send). */
function urlPart(s: string): string {
  return Array.from(new TextEncoder().encode(s), (b) =>
    /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`,
  ).join('');
}

/** Header-safe text (a ByteString without control characters). */
const headerText = (maxLength: number) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

const loneSurrogates = fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 4 });
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  loneSurrogates,
  fc.constantFrom('', ' ', '\u0000', '\\', '"', '%', '../..', 'null'),
);
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, 5e-324, 0.5, 65, 64, 10_001));
const anyValue = fc.oneof(text, number, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));

/** Usually absent (undefined is dropped by JSON.stringify), sometimes an unknown field's value. */
const rarely = (value: fc.Arbitrary<unknown>) => fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });

/** Mostly a plausible value, sometimes a hostile one: gets requests past the first check. */
const mostly = <T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: hostile });

const params = fc.record(
  {
    max_tokens: mostly(fc.integer({ min: 1, max: 300 }), fc.oneof(number, anyValue)),
    temperature: mostly(fc.double({ min: 0, max: 2, noNaN: true }), fc.oneof(number, anyValue)),
    top_p: mostly(fc.double({ min: 0, max: 1, noNaN: true }), fc.oneof(number, anyValue)),
    top_k: mostly(fc.nat(100), fc.oneof(number, anyValue)),
    seed: mostly(fc.nat(), fc.oneof(number, anyValue)),
    n: mostly(fc.integer({ min: 1, max: 70 }), fc.oneof(number, anyValue)),
    stop: mostly(fc.oneof(text, fc.array(text, { maxLength: 12 })), anyValue),
    compression: mostly(
      fc.record(
        {
          method: fc.oneof(fc.constantFrom('none', 'dms', 'tova', 'h2o', 'quest', 'window', 'dms-w0'), text),
          ratio: mostly(fc.constantFrom(1, 2, 3, 4, 8), fc.oneof(number, anyValue)),
        },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
    answer_pattern: fc.oneof(fc.constantFrom('A:(\\d+)', '(', '(a+)+$', '[', '\\'), text),
    bogus: rarely(anyValue),
  },
  { requiredKeys: [] },
);

/** Near-valid job bodies: the right shape with hostile values, prompts up to twice the context. */
function jobBody(world: FuzzWorld) {
  const prompt = fc.oneof(text, fc.string({ minLength: world.contextLength - 8, maxLength: world.contextLength * 2 }), fc.constant('Q:1+1='));
  const request = fc.record({ custom_id: fc.oneof(text, fc.constantFrom('a', 'a')), prompt, params }, { requiredKeys: ['custom_id', 'prompt'] });
  return fc.record(
    {
      model: mostly(fc.constant('reasoner'), text),
      requests: mostly(
        fc.oneof(fc.uniqueArray(request, { minLength: 1, maxLength: 6, selector: (r) => r.custom_id }), fc.array(request, { maxLength: 6 })),
        anyValue,
      ),
      defaults: fc.oneof(params, anyValue),
      metadata: fc.oneof(fc.dictionary(text, text, { maxKeys: 20 }), anyValue),
      extra: rarely(anyValue),
    },
    { requiredKeys: ['requests'] },
  );
}

/** Valid jobs whose strings are hostile (lone surrogates, NUL, quotes): they must be stored and read back. */
export function validJobBody() {
  const request = fc.record({ custom_id: text.filter((t) => t.length > 0), prompt: text, params: fc.record({ max_tokens: fc.integer({ min: 1, max: 64 }) }) });
  return fc.record(
    { requests: fc.uniqueArray(request, { minLength: 1, maxLength: 5, selector: (r) => r.custom_id }), metadata: fc.dictionary(text, text, { maxKeys: 4 }) },
    { requiredKeys: ['requests'] },
  );
}

/** Runner bodies: lease tokens (real ones sometimes), results with hostile usage and statuses. */
function runnerBody(world: FuzzWorld) {
  const lease = fc.oneof(fc.constantFrom(...world.leaseTokens, 'lease_x'), text);
  const result = fc.record(
    {
      custom_id: fc.oneof(fc.constantFrom('a', 'b', 'zz'), text),
      status: fc.oneof(fc.constantFrom('succeeded', 'failed', 'canceled', 'pending'), text),
      answer: fc.oneof(text, fc.constant(null)),
      threads: fc.oneof(
        fc.array(fc.record({ text, answer: text, finish_reason: fc.constantFrom('stop', 'length', 'x'), completion_tokens: number }), { maxLength: 3 }),
        anyValue,
      ),
      usage: fc.oneof(fc.dictionary(fc.constantFrom(...USAGE_FIELDS.map((f) => f.wire), ...COMPRESSION_LABELS.map((l) => l.wire)), number), anyValue),
      timings: anyValue,
      backend: anyValue,
      error: anyValue,
    },
    { requiredKeys: [] },
  );
  return fc.record(
    { lease_token: lease, results: fc.oneof(fc.array(result, { maxLength: 4 }), anyValue), reason: text, runner_id: text, models: anyValue, backend: anyValue },
    { requiredKeys: [] },
  );
}

/** Bodies that attack the parser rather than the schema. */
function hostileBody(maxBodyBytes: number) {
  const depth = fc.integer({ min: 100, max: 200_000 });
  return fc.oneof(
    depth.map((d) => '['.repeat(d) + ']'.repeat(d)),
    depth.map((d) => `${'{"requests":'.repeat(d)}1${'}'.repeat(d)}`),
    depth.map((d) => '['.repeat(d)),
    fc.integer({ min: 1, max: 20_000 }).map((n) => JSON.stringify({ requests: Array.from({ length: n }, (_, i) => ({ custom_id: `${i}`, prompt: 'x' })) })),
    fc
      .constantFrom(maxBodyBytes - 1, maxBodyBytes, maxBodyBytes + 1, maxBodyBytes * 4)
      .map((n) => `{"requests":[{"custom_id":"a","prompt":"${'x'.repeat(Math.max(0, n - 40))}"}]}`),
    fc.uint8Array({ maxLength: 512 }),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.nat(30)).map(([bad, at]) => {
      // Valid JSON text with invalid UTF-8 bytes (lone continuation, truncated or overlong) in a string.
      const pre = new TextEncoder().encode(`{"requests":[{"custom_id":"a","prompt":"${'y'.repeat(at)}`);
      const post = new TextEncoder().encode('"}]}');
      const bytes = new Uint8Array(pre.length + bad.length + 3 + post.length);
      bytes.set(pre);
      bytes.set(bad, pre.length);
      bytes.set([0xc0, 0xaf, 0xff], pre.length + bad.length);
      bytes.set(post, pre.length + bad.length + 3);
      return bytes;
    }),
    fc.constantFrom(
      '"\\ud800"',
      '{"requests":[{"custom_id":"\\udfff","prompt":"\\ud83d"}]}',
      '1e999999',
      '-',
      '{"__proto__":{"x":1},"requests":[]}',
      '{"constructor":{"prototype":{}}}',
      '',
    ),
    fc.json({ maxDepth: 4 }),
  );
}

/** Any body: near-valid ones for the endpoint, random JSON values, or a parser attack. */
const bodyFor = (shaped: fc.Arbitrary<unknown>, maxBodyBytes: number) =>
  fc.oneof(
    { weight: 4, arbitrary: shaped.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: anyValue.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: hostileBody(maxBodyBytes) },
  );

function idFor(world: FuzzWorld) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...world.jobIds) },
    { weight: 2, arbitrary: text.map(urlPart) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%ZZ', '..%2F..', 'x'.repeat(5000), '%00', 'job_%ff') },
  );
}

/** Multipart uploads for /v1/files: random JSONL-ish text or raw bytes, any purpose. */
const formBody = fc
  .tuple(
    fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => `${JSON.stringify(v)}\n`),
      fc.uint8Array({ maxLength: 256 }),
    ),
    fc.oneof(fc.constant('batch'), text),
  )
  .map(([content, purpose]) => {
    const form = new FormData();
    form.set('purpose', purpose);
    form.set('file', new Blob([content as BlobPart]), 'input.jsonl');
    return form;
  });

/** One adversarial request against any endpoint, with a credential of the right, wrong or no kind. */
export function adversarialRequest(world: FuzzWorld, maxBodyBytes: number): fc.Arbitrary<FuzzRequest> {
  const id = idFor(world);
  const client = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...world.keys) },
    { weight: 1, arbitrary: fc.constant(world.runnerToken) },
    { weight: 1, arbitrary: headerText(600) },
  );
  const runner = fc.oneof(
    { weight: 12, arbitrary: fc.constant(world.runnerToken) },
    { weight: 1, arbitrary: fc.constantFrom(...world.keys) },
    { weight: 1, arbitrary: headerText(80) },
  );
  const query = fc.dictionary(fc.constantFrom('limit', 'after', 'x', 'order'), text.map(urlPart), { maxKeys: 3 }).map((q) =>
    Object.entries(q)
      .map(([k, v]) => `${k}=${v}`)
      .join('&'),
  );
  type Route = [method: string, path: string, body: FuzzRequest['body'], token: string];
  const routes: fc.Arbitrary<Route> = fc.oneof(
    fc.tuple(fc.constant('POST'), fc.constant('/v1/jobs'), bodyFor(jobBody(world), maxBodyBytes), client),
    fc.tuple(
      fc.constant('POST'),
      fc.constant('/v1/jobs'),
      validJobBody().map((b) => JSON.stringify(b)),
      client,
    ),
    fc.tuple(
      fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
      fc.oneof(
        id.map((i) => `/v1/jobs/${i}`),
        id.map((i) => `/v1/jobs/${i}/results`),
        id.map((i) => `/v1/jobs/${i}/cancel`),
        query.map((q) => `/v1/jobs?${q}`),
      ),
      fc.constant(undefined),
      client,
    ),
    fc.tuple(fc.constant('POST'), fc.constant('/v1/files'), fc.oneof(formBody, hostileBody(maxBodyBytes)), client),
    fc.tuple(
      fc.constantFrom('GET', 'POST'),
      fc.oneof(
        id.map((i) => `/v1/files/${i}`),
        id.map((i) => `/v1/files/${i}/content`),
        id.map((i) => `/v1/batches/${i}`),
        id.map((i) => `/v1/batches/${i}/cancel`),
        query.map((q) => `/v1/batches?${q}`),
        query.map((q) => `/v1/files?${q}`),
        fc.constant('/v1/models'),
      ),
      fc.constant(undefined),
      client,
    ),
    fc.tuple(
      fc.constant('POST'),
      fc.constant('/v1/batches'),
      bodyFor(
        fc.record(
          {
            input_file_id: text,
            endpoint: fc.oneof(fc.constant('/v1/chat/completions'), text),
            completion_window: fc.oneof(fc.constant('24h'), text),
            metadata: anyValue,
          },
          { requiredKeys: [] },
        ),
        maxBodyBytes,
      ),
      client,
    ),
    fc.tuple(
      fc.constant('POST'),
      fc.oneof(
        fc.constant('/v1/runner/claim'),
        fc.tuple(id, fc.constantFrom('heartbeat', 'results', 'complete', 'fail', 'release')).map(([i, verb]) => `/v1/runner/jobs/${i}/${verb}`),
      ),
      bodyFor(runnerBody(world), maxBodyBytes),
      runner,
    ),
    fc.tuple(
      fc.constantFrom('GET', 'POST', 'OPTIONS'),
      fc.oneof(
        fc.constantFrom('/healthz', '/openapi.json', '/', '/v2', '/v1/runner'),
        text.map((s) => `/${urlPart(s)}`),
      ),
      fc.constant(undefined),
      client,
    ),
  );
  const contentType = fc.oneof(
    fc.constant('application/json'),
    fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'multipart/form-data', ''),
    headerText(60),
  );
  const extraHeaders = fc.record({ 'idempotency-key': headerText(300), 'x-request-id': headerText(40) }, { requiredKeys: [] });
  const scheme = fc.oneof({ weight: 20, arbitrary: fc.constant('Bearer ') }, { weight: 1, arbitrary: fc.constantFrom('bearer  ', 'Basic ', '', 'Bearer') });
  return fc.tuple(routes, contentType, extraHeaders, scheme, fc.nat(19)).map(([[method, path, body, token], type, extra, prefix, dice]) => {
    const headers: Record<string, string> = { ...extra };
    if (dice > 0) headers.authorization = `${prefix}${token}`;
    if (body !== undefined && !(body instanceof FormData) && type) headers['content-type'] = type;
    return { method, path, headers, body: method === 'GET' || method === 'OPTIONS' ? undefined : body };
  });
}

// Raw HTTP fuzzing of the Node gateway process: bytes a well-behaved client library would never
// send (invalid UTF-8 in the request line and headers, broken chunked framing, short bodies, huge
// headers, random garbage) over TCP. No 5xx may come back and the process must keep serving.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GatewayProcess, writeCatalogModels } from './gateway-process.js';

export interface RawFuzzReport {
  requests: number;
  server_errors: number;
  /** Status of each answer, or "closed" when the server dropped the connection without one. */
  statuses: Record<string, number>;
  alive_after: boolean;
}

const enc = (s: string) => Buffer.from(s, 'latin1');

/** Generates raw request bytes; `key` is a valid client key so that some requests get past auth. */
function rawRequest(key: string): fc.Arbitrary<Buffer> {
  const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));
  const json = '{"requests":[{"custom_id":"a","prompt":"Q:1+1="}]}';
  const head = (lines: string[]) => enc(`${lines.join('\r\n')}\r\n\r\n`);
  return fc.oneof(
    bytes(600),
    // A request line or path with invalid UTF-8 and percent-escapes.
    fc
      .tuple(bytes(40), fc.constantFrom('GET', 'POST', 'PATCH', 'G\u00ffT'))
      .map(([b, m]) =>
        Buffer.concat([enc(`${m} /v1/jobs/`), b.filter((x) => x > 0x20 && x !== 0x7f), enc(` HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\n\r\n`)]),
      ),
    // Header values with raw high bytes (invalid UTF-8) and a valid JSON body.
    fc
      .tuple(bytes(60))
      .map(([b]) =>
        Buffer.concat([
          enc(`POST /v1/jobs HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\nidempotency-key: `),
          Buffer.from(b.filter((x) => x >= 0x20 && x !== 0x7f)),
          enc(`\r\ncontent-length: ${json.length}\r\n\r\n${json}`),
        ]),
      ),
    // A body with invalid UTF-8 inside a JSON string.
    fc.tuple(bytes(30)).map(([b]) => {
      const body = Buffer.concat([enc('{"requests":[{"custom_id":"a","prompt":"'), b.filter((x) => x !== 0x22 && x !== 0x5c), enc('"}]}')]);
      return Buffer.concat([head(['POST /v1/jobs HTTP/1.1', 'host: x', `authorization: Bearer ${key}`, `content-length: ${body.length}`]), body]);
    }),
    // Broken framing: bad chunk sizes, content-length larger than the body, both headers at once.
    fc.constantFrom(
      Buffer.concat([head(['POST /v1/jobs HTTP/1.1', 'host: x', `authorization: Bearer ${key}`, 'transfer-encoding: chunked']), enc('zz\r\nabc\r\n0\r\n\r\n')]),
      Buffer.concat([head(['POST /v1/jobs HTTP/1.1', 'host: x', `authorization: Bearer ${key}`, 'content-length: 5000']), enc(json)]),
      Buffer.concat([
        head(['POST /v1/jobs HTTP/1.1', 'host: x', `authorization: Bearer ${key}`, 'content-length: 10', 'transfer-encoding: chunked']),
        enc('5\r\nhello\r\n0\r\n\r\n'),
      ]),
      Buffer.concat([head(['POST /v1/jobs HTTP/1.1', 'host: x', `authorization: Bearer ${key}`, 'content-length: -1']), enc(json)]),
      head(['GET /v1/jobs HTTP/1.1', 'host: x', `authorization: Bearer ${key}`, `x-big: ${'a'.repeat(70_000)}`]),
      head(['GET /v1/jobs HTTP/9.9', 'host: x']),
      head(['GET http://evil.example/v1/jobs HTTP/1.1', 'host: x', `authorization: Bearer ${key}`]),
      head(['GET /v1/jobs/%E0%A4%A HTTP/1.1', 'host: x', `authorization: Bearer ${key}`]),
      head(['GET //// HTTP/1.1', 'host: x']),
      head(['GET /healthz HTTP/1.1', 'host: \u00ff\u00fe']),
      head(['GET /v1/jobs HTTP/1.1', 'host: x', `authorization: Bearer ${key}`, `authorization: Bearer other`]),
    ),
  );
}

/** Sends bytes, half-closes, and reads until the server closes (or a short timeout). */
function exchange(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(finish, 2_000);
    socket.on('data', (d) => {
      out += d.toString('latin1');
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(payload, () => socket.end());
  });
}

export async function runRawHttpFuzz(numRuns = 300, seed = 7, log: (m: string) => void = console.log): Promise<RawFuzzReport> {
  const dir = mkdtempSync(join(tmpdir(), 'dms-rawfuzz-'));
  const apiKey = `dms_raw_${crypto.randomUUID()}`;
  writeCatalogModels(join(dir, 'models'));
  const gateway = new GatewayProcess({
    dataDir: join(dir, 'data'),
    modelsDir: join(dir, 'models'),
    port: await freePort(),
    apiKey,
    env: { DMS_RATE_LIMIT_RPS: '0' },
  });
  const statuses: Record<string, number> = {};
  let serverErrors = 0;
  let requests = 0;
  try {
    await gateway.start();
    const samples = fc.sample(rawRequest(apiKey), { numRuns, seed });
    for (const payload of samples) {
      const answer = await exchange(gateway.config.port, payload);
      requests++;
      // Every status line in the answer (keep-alive may carry more than one).
      const codes = [...answer.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => m[1]);
      for (const code of codes.length ? codes : ['closed']) statuses[code] = (statuses[code] ?? 0) + 1;
      serverErrors += codes.filter((c) => c.startsWith('5')).length;
    }
    const health = await fetch(`${gateway.url}/healthz`)
      .then((r) => r.status)
      .catch(() => 0);
    const report: RawFuzzReport = { requests, server_errors: serverErrors, statuses, alive_after: gateway.alive && health === 200 };
    log(`raw HTTP fuzz: ${requests} requests, ${serverErrors} 5xx, statuses ${JSON.stringify(statuses)}, alive after: ${report.alive_after}`);
    return report;
  } finally {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runRawHttpFuzz(Number(process.argv[2] ?? 300)).then((r) => console.log(JSON.stringify(r, null, 2)));
}

// What `npm ci --omit=dev` installs is enough to run the service: every module reachable from the
// entries (npm start, the remote runner, the dms CLI) imports only dependencies and Node built-ins.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const runtime = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
const ENTRIES = ['gateway/node.ts', 'gpu-runner/main.ts', 'cli/bin.mjs'];

/** Static and dynamic import specifiers of a source file. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)];
  const sideEffect = [...text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)];
  return [...found, ...sideEffect].map((m) => m[1]);
}

/** A relative specifier as a file: `./x.js` is `./x.ts` in this tree. */
function fileOf(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')])
    if (existsSync(candidate) && candidate.match(/\.(ts|mjs|js)$/)) return candidate;
  throw new Error(`${relative(ROOT, from)}: cannot resolve ${spec}`);
}

const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

describe('the service on a production install', () => {
  it('reaches no devDependency from npm start, the runner or the CLI', () => {
    const seen = new Set<string>();
    const outside: string[] = [];
    const queue = ENTRIES.map((e) => join(ROOT, e));
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const spec of specifiers(file)) {
        if (spec.startsWith('.')) queue.push(fileOf(file, spec));
        else if (!spec.startsWith('node:') && !builtinModules.includes(spec) && !runtime.has(packageOf(spec)))
          outside.push(`${relative(ROOT, file)} imports ${spec}`);
      }
    }
    expect(seen.size).toBeGreaterThan(50); // the walk really covered the engine and the gateway
    expect(outside).toEqual([]);
  });
});

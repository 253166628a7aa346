import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * A clone must test green with nothing beside it (issue 16): no source, test, benchmark or CI
 * script may read `../shared` or any other path outside the repository. Exempt: the optional
 * end-to-end suite (test/e2e/, which finds the Kubernetes binaries through an environment
 * variable) and the `.ci/run` lines that pass that kube-assets path to it.
 */
const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');
const SCANNED = ['src', 'test', 'bench', 'tools', 'support', '.ci'];
const SKIPPED_DIRS = new Set(['node_modules', '.build', 'results', 'e2e']);
/** Compiled code runs from another folder than its source: `..` counts from there. */
const RUNS_FROM: Array<[string, (dir: string) => string]> = [
  ['bench', (dir) => join(ROOT, 'bench', '.build', relative(ROOT, dir))],
  ['tools', (dir) => join(ROOT, 'tools', '.build', relative(ROOT, dir))],
  ['src', (dir) => join(ROOT, 'dist', relative(join(ROOT, 'src'), dir))],
];

const OUTSIDE = [
  { pattern: /\.\.[/\\]+shared\b/, what: '../shared' },
  { pattern: /['"`]\.\.['"`]\s*,\s*['"`]shared['"`]/, what: "'..', 'shared'" },
  { pattern: /(?<![\w.])\/(?:work|home|Users|root)\/[\w.-]/, what: 'an absolute path on a developer machine' },
];

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name) || (entry.name === 'e2e' && dirname(path) !== join(ROOT, 'test'))) out.push(...filesUnder(path));
    } else if (entry.isFile() && statSync(path).size < 2_000_000) out.push(path);
  }
  return out;
}

/** The `..` steps of a relative literal or of consecutive `'..'` path arguments, and what follows. */
function parentSteps(line: string): number[] {
  const steps: number[] = [];
  for (const m of line.matchAll(/['"`]((?:\.\.\/)+)/g)) steps.push(m[1]!.length / 3);
  for (const m of line.matchAll(/(?:['"`]\.\.['"`]\s*,\s*)+/g)) steps.push((m[0].match(/\.\./g) ?? []).length);
  return steps;
}

function escapesRepository(file: string, steps: number): boolean {
  const dir = dirname(file);
  const top = relative(ROOT, file).split(sep)[0]!;
  const from = RUNS_FROM.find(([root]) => root === top)?.[1](dir) ?? dir;
  const target = resolve(from, ...Array<string>(steps).fill('..'));
  return target !== ROOT && !target.startsWith(ROOT + sep);
}

/** Where a file's text reaches outside the repository: `path:line: what`. */
function outsideReferences(files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    if (file === SELF) continue; // its own examples below
    const rel = relative(ROOT, file);
    const text = readFileSync(file, 'utf8');
    if (text.includes('\u0000')) continue;
    text.split('\n').forEach((line, i) => {
      if (rel === join('.ci', 'run') && /kube-assets|KUBE_ASSETS|KUBEBUILDER_ASSETS/i.test(line)) return;
      for (const { pattern, what } of OUTSIDE) if (pattern.test(line)) found.push(`${rel}:${i + 1}: ${what}`);
      if (rel.startsWith(`test${sep}fixtures${sep}`)) return;
      for (const steps of parentSteps(line)) if (escapesRepository(file, steps)) found.push(`${rel}:${i + 1}: ${steps} parent steps leave the repository`);
    });
  }
  return found;
}

describe('the repository is self-contained', () => {
  it('no source, test, benchmark or CI file references ../shared or a path outside the repository', () => {
    const files = SCANNED.flatMap((top) => filesUnder(join(ROOT, top)));
    expect(files.length).toBeGreaterThan(50);
    expect(outsideReferences(files)).toEqual([]);
  });

  it('the check catches what issue 16 found', () => {
    const fake = join(ROOT, 'test', 'support', 'http.ts');
    expect(parentSteps(`join(here, '..', '..', '..', 'shared')`)).toEqual([3]);
    expect(escapesRepository(fake, 3)).toBe(true);
    expect(escapesRepository(fake, 2)).toBe(false);
    // bench/run.ts runs from bench/.build/bench, tools/fuzz.ts from tools/.build/tools: three steps up is the repository.
    expect(escapesRepository(join(ROOT, 'bench', 'run.ts'), 3)).toBe(false);
    expect(escapesRepository(join(ROOT, 'bench', 'run.ts'), 4)).toBe(true);
    expect(escapesRepository(join(ROOT, 'tools', 'fuzz.ts'), 3)).toBe(false);
    expect(escapesRepository(join(ROOT, 'tools', 'fuzz.ts'), 4)).toBe(true);
    for (const line of ["readFileSync('../shared/fixtures/x.json')", "join(dir, '..', 'shared', 'fixtures')", "const dir = '/work/shared/fixtures';"]) {
      expect(OUTSIDE.some(({ pattern }) => pattern.test(line)), line).toBe(true);
    }
  });
});

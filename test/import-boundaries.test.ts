import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Which top-level folder may import which (issue 17): src/ imports only itself; test/ (the
 * product's tests), bench/ (the benchmarks) and tools/ (soak, fuzz) share code only through
 * support/, which imports only src/ and itself. So a benchmark's helper cannot quietly become a
 * test's dependency, or the other way round.
 */
const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');
const TOPS = ['src', 'test', 'bench', 'tools', 'support'] as const;
type Top = (typeof TOPS)[number];
const SKIPPED_DIRS = new Set(['node_modules', '.build', 'results', 'fixtures']);

const MAY_IMPORT: Record<Top, readonly Top[]> = {
  src: ['src'],
  support: ['support', 'src'],
  test: ['test', 'support', 'src'],
  bench: ['bench', 'support', 'src'],
  // The soak reuses the bench's option and /proc readers (bench/cli-args.ts, bench/proc-status.ts).
  tools: ['tools', 'support', 'bench', 'src'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : sourceFiles(path);
    return /\.(m?ts|tsx)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative module specifiers of `import ... from`, `export ... from`, `import '...'` and `import('...')`. */
function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\s;])import\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    found.push((m[1] ?? m[2] ?? m[3])!);
  }
  return found;
}

function topOf(path: string): string {
  return relative(ROOT, path).split(sep)[0]!;
}

/** Every import that crosses a boundary it may not: `importer -> imported`, repository-relative. */
function crossings(files: ReadonlyArray<{ path: string; text: string }>): string[] {
  const out: string[] = [];
  for (const { path, text } of files) {
    const from = topOf(path) as Top;
    for (const spec of relativeImports(text)) {
      const target = resolve(dirname(path), spec);
      const to = topOf(target);
      if (!(MAY_IMPORT[from] as readonly string[]).includes(to)) out.push(`${relative(ROOT, path)} -> ${relative(ROOT, target)}`);
    }
  }
  return out;
}

describe('import boundaries between src/, test/, bench/, tools/ and support/', () => {
  // This file's own examples below are not imports.
  const files = TOPS.flatMap((top) => sourceFiles(join(ROOT, top)))
    .filter((path) => path !== SELF)
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));

  it('no file imports across a boundary, but through support/', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(crossings(files)).toEqual([]);
  });

  it('the check catches each kind of import and each forbidden direction', () => {
    const at = (rel: string, text: string) => ({ path: join(ROOT, rel), text });
    expect(relativeImports(`import { a } from '../bench/x.js';\nexport { b } from "./y.js";\nimport './z.js';\nconst m = await import('../test/w.js');\nimport type {\n  T,\n} from '../q.js';`)).toEqual([
      '../bench/x.js',
      './y.js',
      './z.js',
      '../test/w.js',
      '../q.js',
    ]);
    expect(relativeImports(`import { x } from 'vitest'; // '../bench/x.js' in a comment is no import`)).toEqual([]);
    expect(
      crossings([
        at('test/a.test.ts', "import { generateCluster } from '../bench/cluster-generator.js';"),
        at('bench/b.ts', "import { fixture } from '../test/support/http.js';"),
        at('src/c.ts', "import { Prng } from '../support/prng.js';"),
        at('support/d.ts', "import { x } from '../bench/x.js';"),
        at('tools/e.ts', "import { y } from '../test/support/y.js';"),
        at('test/f.test.ts', "import { Prng } from '../support/prng.js';"),
        at('bench/g.ts', "import { Prng } from '../support/prng.js';"),
        at('test/deploy/h.ts', `import { x } from '${'../'.repeat(2)}src/x.js';`), // two steps up: the repository's src/
      ]),
    ).toEqual([
      'test/a.test.ts -> bench/cluster-generator.js',
      'bench/b.ts -> test/support/http.js',
      'src/c.ts -> support/prng.js',
      'support/d.ts -> bench/x.js',
      'tools/e.ts -> test/support/y.js',
    ]);
  });
});

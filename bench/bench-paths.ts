/**
 * Where the bench reads and writes. The bench runs compiled (bench/tsconfig.json emits
 * bench/.build/bench/*.js and bench/.build/src/*.js), so paths are found from this module.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** bench/, whether this module runs as bench/.build/bench/bench-paths.js or from source. */
export const BENCH_DIR = basename(dirname(here)) === '.build' ? dirname(dirname(here)) : here;
export const RESULTS_DIR = join(BENCH_DIR, 'results');
/** Snapshots, CPU profiles and CI reports: large or per-run, gitignored. */
export const TMP_DIR = join(RESULTS_DIR, 'tmp');
/** The extender's own entry point, compiled beside the bench. */
export const EXTENDER_MAIN = join(BENCH_DIR, '.build', 'src', 'main.js');

/**
 * Where the tools read and write. They run compiled (tools/tsconfig.json emits
 * tools/.build/tools/*.js beside tools/.build/src/*.js), so paths are found from this module.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** tools/, whether this module runs as tools/.build/tools/paths.js or from source. */
export const TOOLS_DIR = basename(dirname(here)) === '.build' ? dirname(dirname(here)) : here;
export const ROOT = dirname(TOOLS_DIR);
/** The soak's last result (committed); the fuzzer's failing requests and summary go to tmp/. */
export const RESULTS_DIR = join(TOOLS_DIR, 'results');
export const TMP_DIR = join(RESULTS_DIR, 'tmp');
/** The extender's own entry point, compiled beside the tools. */
export const EXTENDER_MAIN = join(TOOLS_DIR, '.build', 'src', 'main.js');
/** The repository's captured kube-scheduler bodies. */
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'kube-scheduler');

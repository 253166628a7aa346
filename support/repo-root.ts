/**
 * The repository's root, found from this module: support/ runs from source under vitest and
 * compiled under bench/.build/support/ or tools/.build/support/.
 */
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = basename(dirname(here)) === '.build' ? dirname(dirname(dirname(here))) : dirname(here);

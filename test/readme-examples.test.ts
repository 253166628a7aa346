/**
 * The README's demo section shows curl calls and their answers: replayed here against the demo
 * cluster, so the documentation says what the extender really answers.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCluster } from '../src/demo/demo-cluster.js';
import { post, startExtender, type RunningExtender } from './support/http.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SHOWN = [...README.matchAll(/```sh\ncurl -s localhost:8888\/(filter|prioritize) -d @(examples\/[\w-]+\.json)\n```\n```json\n([^]*?)\n```/g)].map(
  ([, verb, file, answer]) => ({ verb: verb!, file: file!, answer: answer! }),
);

let server: RunningExtender;
beforeAll(async () => {
  server = await startExtender(demoCluster());
});
afterAll(() => server.close());

describe('README demo answers', () => {
  it('shows answers for the filter and prioritize curls', () => {
    expect(SHOWN.map((s) => `${s.verb} ${s.file}`)).toEqual(expect.arrayContaining(['filter examples/c-unsafe-filter.json', 'prioritize examples/c-unsafe-filter.json', 'filter examples/g-tcp-rmem-filter.json']));
  });

  it.each(SHOWN)('$verb $file answers what the README shows', async ({ verb, file, answer }) => {
    const got = await post(`${server.url}/${verb}`, readFileSync(join(ROOT, file), 'utf8'));
    expect(got.status).toBe(200);
    expect(got.body).toEqual(JSON.parse(answer));
  });
});

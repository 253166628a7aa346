import { describe, expect, it } from 'vitest';
import { copiesOf, dockerignored, execForm, instructions, labelsOf, parseDockerfile, workdirOf } from './dockerfile.js';

describe('the Dockerfile reader', () => {
  it('has teeth: continuations, stages, WORKDIR, COPY targets, the shell form, labels, ignore patterns', () => {
    const text = ['# c', 'FROM node:20 AS b', 'WORKDIR /src', 'FROM node:20', 'ARG V=1.2.3', 'WORKDIR /app', 'WORKDIR sub', 'COPY . .', 'COPY --from=b /src/dist ./', 'COPY a b /x/', 'ENTRYPOINT node dist/main.js', 'LABEL a=1 \\', '  # inside', '  b="two words" v=${V}'].join('\n');
    const parsed = parseDockerfile(text);
    expect(parsed.map((stage) => `${stage.base} ${stage.name}`)).toEqual(['node:20 b', 'node:20 undefined']);
    const last = parsed[1]!;
    expect(workdirOf(last)).toBe('/app/sub');
    expect(copiesOf(last)).toEqual([
      { from: undefined, files: [{ source: '.', target: '/app/sub' }] },
      { from: 'b', files: [{ source: '/src/dist', target: '/app/sub/dist' }] },
      { from: undefined, files: [{ source: 'a', target: '/x/a' }, { source: 'b', target: '/x/b' }] },
    ]);
    expect(execForm(instructions(last, 'ENTRYPOINT')[0])).toBeUndefined();
    expect(labelsOf(last)).toEqual({ a: '1', b: 'two words', v: '1.2.3' });
    expect(dockerignored(['*.cpuprofile', 'dist'], 'x.cpuprofile')).toBe(true);
    expect(dockerignored(['*.cpuprofile', 'dist'], 'distance')).toBe(false);
    expect(dockerignored(['bench/results'], 'bench/run.ts')).toBe(false);
  });
});

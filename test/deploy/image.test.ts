/**
 * The image (the top-level Dockerfile) and the Deployment that runs it: Node of the engines'
 * major, a build stage, only dist/ and production dependencies shipped, package.json's bin as
 * the entrypoint, the pod's user, package.json's version.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { commandsOf, copiesOf, dockerignored, execForm, instructions, labelsOf, parseDockerfile, workdirOf } from './dockerfile.js';
import { ROOT, type Json } from './manifests.js';
import { extenderContainer, packageJson, podSpec } from './objects.js';

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

/** Whether a package.json engines range admits every release of a Node major (`^M.m.p`, `>=M...`, joined by ||). */
function enginesAllow(range: string, major: number): boolean {
  return range.split('||').some((alternative) => {
    const caret = /^\s*\^(\d+)\.\d+\.\d+\s*$/.exec(alternative);
    const atLeast = /^\s*>=\s*(\d+)(\.\d+){0,2}\s*$/.exec(alternative);
    return (caret !== null && Number(caret[1]) === major) || (atLeast !== null && major >= Number(atLeast[1]));
  });
}

/** The tsconfig files `npm run build` reads: the one its `tsc -p` names, and those it extends. */
function buildTsconfigs(): { files: string[]; outDir: string } {
  const files: string[] = [];
  let next: string | undefined = /-p\s+(\S+)/.exec(packageJson.scripts.build ?? '')?.[1] ?? 'tsconfig.json';
  while (next !== undefined) {
    files.push(posix.normalize(next));
    const { config } = ts.readConfigFile(join(ROOT, next), (path) => ts.sys.readFile(path)) as { config?: { extends?: string } };
    next = config?.extends;
  }
  const { options } = ts.parseJsonConfigFileContent(ts.readConfigFile(join(ROOT, files[0]!), (path) => ts.sys.readFile(path)).config, ts.sys, ROOT);
  return { files, outDir: posix.relative(ROOT, options.outDir ?? ROOT) };
}

describe('the image (the top-level Dockerfile) and the Deployment that runs it', () => {
  const stages = parseDockerfile(DOCKERFILE);
  const final = stages.at(-1)!;
  const workdir = workdirOf(final);
  const buildStageName = copiesOf(final).find((c) => c.from !== undefined)?.from;
  const build = stages.find((stage, i) => stage !== final && (stage.name === buildStageName || String(i) === buildStageName));
  const entrypoint = execForm(instructions(final, 'ENTRYPOINT').at(-1));

  it("is Node of a major that package.json's engines admit, the same in every stage", () => {
    const majors = stages.map((stage) => /^node:(\d+)[\w.-]*(@sha256:[0-9a-f]{64})?$/.exec(stage.base)?.[1]);
    expect(majors.filter((m) => m === undefined)).toEqual([]);
    expect(new Set(majors).size).toBe(1);
    expect(enginesAllow(packageJson.engines.node, Number(majors[0]))).toBe(true);
    // The range reader itself.
    expect([18, 20, 21, 22, 24].map((m) => enginesAllow('^20.11.0 || >=22.0.0', m))).toEqual([false, true, false, true, true]);
  });

  it('builds in a stage of its own: npm ci, the build script, then the dev dependencies pruned', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build, `the final stage copies from a build stage (${buildStageName})`).toBeDefined();
    const commands = commandsOf(build!);
    const ci = commands.findIndex((c) => /^npm ci\b/.test(c) && !c.includes('--omit=dev'));
    const compile = commands.indexOf('npm run build');
    const prune = commands.findIndex((c) => /^npm prune\b.*--omit=dev/.test(c));
    expect(ci, commands.join('\n')).toBeGreaterThanOrEqual(0);
    expect(compile, commands.join('\n')).toBeGreaterThan(ci);
    expect(prune, commands.join('\n')).toBeGreaterThan(compile);
    // Everything the build reads is copied from the context to where it runs.
    const buildDir = workdirOf(build!);
    const copied = copiesOf(build!).filter((c) => c.from === undefined).flatMap((c) => c.files);
    const needed = ['package.json', 'package-lock.json', ...buildTsconfigs().files, 'src'];
    const missing = needed.filter((f) => !copied.some((c) => posix.normalize(c.source).replace(/\/$/, '') === f && c.target === posix.join(buildDir, f)));
    expect(missing).toEqual([]);
  });

  it('ships only dist/, node_modules and the package files (package.json makes dist/ ES modules), from the build stage into WORKDIR', () => {
    expect(workdir).not.toBe('/');
    expect(instructions(final, 'ADD')).toEqual([]);
    // Nothing from the build context: no sources, no tests, no development dependencies.
    expect(copiesOf(final).filter((c) => c.from !== buildStageName)).toEqual([]);
    const buildDir = workdirOf(build!);
    const shipped = copiesOf(final)
      .flatMap((c) => c.files)
      .map((f) => `${posix.resolve('/', f.source)} -> ${f.target}`); // --from sources are relative to the stage's root
    const expected = [buildTsconfigs().outDir, 'node_modules', 'package.json', 'package-lock.json'].map((f) => `${posix.join(buildDir, f)} -> ${posix.join(workdir, f)}`);
    expect(shipped.sort()).toEqual(expected.sort());
  });

  it("runs package.json's bin with node, in exec form (node is PID 1 and gets the kubelet's SIGTERM itself), from the shipped dist/", () => {
    expect(entrypoint).toEqual(['node', packageJson.bin['sysctl-extender']]);
    expect(posix.resolve(workdir, entrypoint![1]!).startsWith(`${posix.join(workdir, buildTsconfigs().outDir)}/`)).toBe(true);
    // No CMD: the flags are the Deployment's args.
    expect(instructions(final, 'CMD')).toEqual([]);
  });

  it("the Deployment's extender runs that entrypoint as is: no command, no workingDir, flags only as args", () => {
    expect(extenderContainer.command).toBeUndefined();
    expect(extenderContainer.workingDir ?? workdir).toBe(workdir);
    expect(extenderContainer.args.length).toBeGreaterThan(0);
    expect((extenderContainer.args as string[]).filter((a) => !/^--[a-z-]+=\S/.test(a))).toEqual([]);
  });

  it("runs as the numeric non-root user and group that the pod's securityContext names", () => {
    const user = instructions(final, 'USER').at(-1);
    const [, uid, gid] = /^(\d+)(?::(\d+))?$/.exec(user ?? '') ?? [];
    // Numeric, so that the kubelet can check runAsNonRoot against the image.
    expect(uid, `USER ${user}`).toBeDefined();
    expect(Number(uid)).toBeGreaterThan(0);
    const effective: Json = { ...podSpec.securityContext, ...extenderContainer.securityContext };
    expect(effective).toMatchObject({ runAsNonRoot: true, runAsUser: Number(uid) });
    if (gid !== undefined) expect(effective.runAsGroup).toBe(Number(gid));
  });

  it("is labelled with package.json's version, the tag the Deployment pulls", () => {
    expect(labelsOf(final)).toMatchObject({ 'org.opencontainers.image.version': packageJson.version, 'org.opencontainers.image.title': 'sysctl-extender' });
    expect(/:([\w.-]+)$/.exec(extenderContainer.image as string)?.[1]).toBe(packageJson.version);
  });

  it('.dockerignore keeps node_modules, dist, .git, test and bench/results out of the build context, and nothing the build copies', () => {
    for (const path of ['node_modules', 'node_modules/express/package.json', 'dist', 'dist/main.js', '.git', 'test', 'test/cli.test.ts', 'bench/results']) {
      expect(dockerignored(dockerignore, path), path).toBe(true);
    }
    const copied = stages.flatMap((stage) => copiesOf(stage).filter((c) => c.from === undefined).flatMap((c) => c.files.map((f) => f.source)));
    expect(copied.length).toBeGreaterThan(0);
    expect(copied.filter((path) => dockerignored(dockerignore, path))).toEqual([]);
  });

});

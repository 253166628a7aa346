/**
 * The top-level Dockerfile, read with a few regexes (no Docker engine runs here): its stages,
 * WORKDIR, COPY targets, RUN commands, labels, and .dockerignore patterns.
 */
import { posix } from 'node:path';

export interface DockerInstruction {
  /** Upper case: FROM, RUN, COPY... */
  readonly keyword: string;
  readonly args: string;
}

export interface DockerStage {
  readonly base: string;
  readonly name?: string;
  readonly instructions: DockerInstruction[];
}

/** The stages of a Dockerfile: continuation lines joined, comments and parser directives dropped. */
export function parseDockerfile(text: string): DockerStage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    // A comment or a blank line, also inside a continuation (Docker skips both there).
    if (/^\s*#/.test(raw) || raw.trim() === '') continue;
    const line = raw.trimEnd();
    if (line.endsWith('\\')) pending += `${line.slice(0, -1)} `;
    else {
      lines.push(`${pending}${line}`.trim());
      pending = '';
    }
  }
  if (pending.trim() !== '') lines.push(pending.trim());
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/s.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile: cannot read FROM ${args}`);
      stages.push({ base: from[1]!, name: from[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args });
    } else if (keyword.toUpperCase() !== 'ARG') {
      throw new Error(`Dockerfile: ${keyword} before the first FROM`);
    }
  }
  return stages;
}

export function instructions(stage: DockerStage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The exec (JSON) form's argv; undefined for the shell form, which runs under /bin/sh -c. */
export function execForm(args: string | undefined): string[] | undefined {
  if (!args?.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
}

/** The stage's working directory after its WORKDIRs (each relative one resolved on the last). */
export function workdirOf(stage: DockerStage): string {
  return instructions(stage, 'WORKDIR').reduce((dir, next) => posix.resolve(dir, next), '/');
}

/** The stage's ARG defaults, and `$NAME`/`${NAME}` replaced by them. */
export function substitute(stage: DockerStage, text: string): string {
  const defaults = new Map<string, string>();
  for (const arg of instructions(stage, 'ARG')) {
    const [, name, value] = /^([^=\s]+)=(.*)$/.exec(arg) ?? [];
    if (name !== undefined && value !== undefined) defaults.set(name, value);
  }
  return text.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => defaults.get(name) ?? whole);
}

/** LABEL key=value pairs, quotes removed. */
export function labelsOf(stage: DockerStage): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const args of instructions(stage, 'LABEL')) {
    for (const m of args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) labels[m[1]!] = substitute(stage, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return labels;
}

export interface DockerCopy {
  /** The stage copied from (--from), or undefined for the build context. */
  readonly from?: string;
  /** Each source with the absolute path it lands at. */
  readonly files: Array<{ source: string; target: string }>;
}

/** The stage's COPY and ADD instructions, destinations resolved against its WORKDIR at that point. */
export function copiesOf(stage: DockerStage): DockerCopy[] {
  const copies: DockerCopy[] = [];
  let workdir = '/';
  for (const { keyword, args } of stage.instructions) {
    if (keyword === 'WORKDIR') workdir = posix.resolve(workdir, args);
    if (keyword !== 'COPY' && keyword !== 'ADD') continue;
    const words = args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = execForm(words.filter((w) => !w.startsWith('--')).join(' ')) ?? words.filter((w) => !w.startsWith('--'));
    const dest = posix.resolve(workdir, paths.at(-1)!);
    const sources = paths.slice(0, -1);
    const intoDirectory = sources.length > 1 || paths.at(-1)!.endsWith('/');
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    copies.push({
      from: keyword === 'ADD' ? undefined : from,
      files: sources.map((source) => ({ source, target: intoDirectory ? posix.join(dest, posix.basename(source)) : dest })),
    });
  }
  return copies;
}

/** The shell commands of the stage's RUN instructions, split at &&, in order. */
export function commandsOf(stage: DockerStage): string[] {
  return instructions(stage, 'RUN').flatMap((run) => run.split('&&').map((c) => c.trim().replace(/\s+/g, ' ')));
}

/** A .dockerignore pattern matches a path or one of its parents (`*` within one path segment). */
export function dockerignored(patterns: readonly string[], path: string): boolean {
  const clean = posix.normalize(path).replace(/^\.\/|\/$/g, '');
  return patterns.some((pattern) => {
    const glob = posix.normalize(pattern).replace(/^\/|\/$/g, '');
    const regex = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}(/.*)?$`);
    return regex.test(clean);
  });
}

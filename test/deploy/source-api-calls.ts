/**
 * The API calls src/ makes, derived from the source with the TypeScript type checker, and the
 * request each makes, asked of client-node itself against a recording server.
 */
import { readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import ts from 'typescript';
import { kubeConfigFor } from '../../support/fake-api-server.js';
import { ROOT, SRC } from './manifests.js';
import { requestAttributes, type RequestAttributes } from './rbac-authorizer.js';

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** A call in src/ of a client-node API class's method, e.g. CoreV1Api.listNode. */
export interface ApiMethodCall {
  /** The class as declared in client-node (e.g. ObjectCoreV1Api, exported as CoreV1Api). */
  className: string;
  method: string;
  where: string;
}

export interface SourceScan {
  apiMethodCalls: ApiMethodCall[];
  /** String and template literals that are API paths: what Watch.watch is given, or KubeHttp.request. */
  apiPaths: Array<{ path: string; where: string }>;
  /**
   * Per file, the methods its calls of src/cluster/kube-http.ts KubeHttp.request name (a string
   * literal first argument): that file's API paths are requests of those methods, not watches.
   */
  requestMethods: Map<string, Set<string>>;
  /** Calls into client-node whose API requests this test cannot derive. */
  unaccounted: string[];
}

/**
 * Client-node calls that make no request of their own (KubeConfig) or whose requests are
 * derived otherwise (Watch.watch: from the API path literals).
 */
export function accountedWithoutDerivation(className: string | undefined, method: string): boolean {
  return className === 'KubeConfig' || (className === 'Watch' && method === 'watch');
}

/**
 * Every call from src/ into @kubernetes/client-node, resolved by the type checker (so that
 * `index.deleteNode()` is not mistaken for CoreV1Api.deleteNode), and every API path literal.
 */
export function scanSource(): SourceScan {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const files = sourceFiles(SRC);
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const scan: SourceScan = { apiMethodCalls: [], apiPaths: [], requestMethods: new Map(), unaccounted: [] };
  for (const file of files) {
    const where = file.slice(ROOT.length + 1);
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`${where} is not in the program`);
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) || ts.isNewExpression(n)) {
        const declaration = checker.getResolvedSignature(n)?.getDeclaration();
        const owner = declaration?.parent;
        if (
          ts.isCallExpression(n) &&
          declaration?.getSourceFile().fileName === join(SRC, 'cluster', 'kube-http.ts') &&
          owner && ts.isClassDeclaration(owner) && owner.name?.text === 'KubeHttp' &&
          declaration.name?.getText() === 'request'
        ) {
          const method = n.arguments[0];
          if (!method || !ts.isStringLiteral(method)) scan.unaccounted.push(`${where}: KubeHttp.request with a method that is not a literal`);
          else scan.requestMethods.set(where, (scan.requestMethods.get(where) ?? new Set()).add(method.text));
        }
        if (declaration && declaration.getSourceFile().fileName.includes('/node_modules/@kubernetes/client-node/')) {
          const owner = declaration.parent;
          const className = owner && ts.isClassDeclaration(owner) ? owner.name?.text : undefined;
          const method = ts.isConstructorDeclaration(declaration) ? 'constructor' : declaration.name?.getText() ?? '?';
          if (className?.endsWith('Api') && !ts.isConstructorDeclaration(declaration)) scan.apiMethodCalls.push({ className, method, where });
          else if (!accountedWithoutDerivation(className, method) && !ts.isNewExpression(n)) {
            scan.unaccounted.push(`${where}: ${className ?? '(function)'}.${method}`);
          }
        }
      }
      let text: string | undefined;
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) text = n.text;
      if (ts.isTemplateExpression(n)) text = n.head.text + n.templateSpans.map((s) => `{x}${s.literal.text}`).join('');
      if (text !== undefined && /^\/apis?\/[a-z0-9]/.test(text)) scan.apiPaths.push({ path: text, where });
      ts.forEachChild(n, visit);
    };
    visit(source);
  }
  return scan;
}

/** A loopback server that records the requests made to it and answers `{}`. */
export async function recordingServer(): Promise<{ url: string; requests: Array<{ method: string; url: string }>; close(): Promise<void> }> {
  const requests: Array<{ method: string; url: string }> = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface DerivedCall {
  readonly call: string;
  readonly where: string;
  readonly attributes: RequestAttributes;
}

/** The exported client-node class whose runtime name is `className` (ObjectCoreV1Api is CoreV1Api). */
export function clientNodeClass(className: string): (new (...args: never[]) => object) | undefined {
  return Object.values(k8s as unknown as Record<string, unknown>).find(
    (value): value is new (...args: never[]) => object => typeof value === 'function' && value.name === className,
  );
}

/**
 * The request of each API call in src/: each method is called against a recording server, so
 * client-node itself says which method and URL it is. Each API path literal is a watch.
 */
export async function derivedCalls(scan: SourceScan): Promise<DerivedCall[]> {
  const recorder = await recordingServer();
  const calls: DerivedCall[] = [];
  try {
    const kubeConfig = kubeConfigFor(recorder.url);
    const done = new Set<string>();
    for (const { className, method, where } of scan.apiMethodCalls) {
      if (done.has(`${className}.${method}`)) continue;
      done.add(`${className}.${method}`);
      const ApiClass = clientNodeClass(className);
      if (!ApiClass) throw new Error(`${where}: no client-node export for class ${className}`);
      const client = kubeConfig.makeApiClient(ApiClass as unknown as new (config: k8s.Configuration) => Record<string, unknown>);
      const before = recorder.requests.length;
      try {
        await (client[method] as (params: object) => Promise<unknown>)({ name: 'x', namespace: 'ns', body: {}, path: 'p' });
      } catch {
        // Only the request matters, not what the library makes of the answer.
      }
      const made = recorder.requests.slice(before);
      if (made.length !== 1) throw new Error(`${className}.${method} (${where}) made ${made.length} requests; cannot derive its permission`);
      const attributes = requestAttributes(made[0]!.method, made[0]!.url);
      if (!attributes) throw new Error(`${className}.${method} (${where}): ${made[0]!.method} ${made[0]!.url} is not a resource request`);
      calls.push({ call: `${className}.${method}`, where, attributes });
    }
  } finally {
    await recorder.close();
  }
  for (const { path, where } of scan.apiPaths) {
    const methods = scan.requestMethods.get(where);
    for (const method of methods ?? []) {
      const attributes = requestAttributes(method, path.replaceAll('{x}', 'x'));
      if (!attributes) throw new Error(`${where}: cannot derive the permission of ${method} ${path}`);
      calls.push({ call: `${method} ${path}`, where, attributes });
    }
    if (methods) continue;
    const attributes = requestAttributes('GET', `${path}?watch=true`);
    if (!attributes) throw new Error(`${where}: cannot derive the permission of watch ${path}`);
    calls.push({ call: `watch ${path}`, where, attributes });
  }
  return calls;
}

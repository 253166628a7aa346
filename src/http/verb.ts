import type { Generation } from './generation.js';

/**
 * One `POST /<name>` of the extender protocol: decode the body, run the rules, return the answer
 * (a WrittenJson or a value to stringify). A RequestError thrown becomes its status and message.
 */
export interface Verb {
  readonly name: string;
  readonly handle: (body: Buffer, generation: Generation) => unknown | Promise<unknown>;
}

import type { Rejection } from '../filter/reasons.js';
import { jsonStringBytes } from './json-writer.js';

/*
 * Each reason's text as a JSON string literal in UTF-8, encoded once per Rejection rather than
 * once per rejected node: a filter answer at 5,000 nodes carries thousands of them. Kept here,
 * beside the encoder, so that the rules' Rejection stays free of wire bytes.
 */
const encoded = new WeakMap<Rejection, Uint8Array>();

export function reasonJson(rejection: Rejection): Uint8Array {
  let json = encoded.get(rejection);
  if (json === undefined) {
    json = jsonStringBytes(rejection.reason);
    encoded.set(rejection, json);
  }
  return json;
}

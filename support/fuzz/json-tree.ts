/**
 * A JSON tree that can hold what JSON.parse cannot give back: raw tokens, duplicate keys. The
 * fuzzer mutates real bodies in this form and serializes them byte for byte.
 */
/** Text spliced into the body as is: `1e309`, `-0`, `NaN`, 10,000 nested brackets, ... */
export class Raw {
  constructor(readonly text: string) {}
}

/** An object as an ordered list of entries, so that keys may repeat and `__proto__` is a plain key. */
export class Obj {
  constructor(public entries: Array<[string, Tree]>) {}
}

export type Tree = null | boolean | number | string | Raw | Obj | Tree[];

export function toTree(value: unknown): Tree {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(toTree);
  // JSON.parse makes `__proto__` an own key, so Object.entries sees it like any other.
  return new Obj(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toTree(v)]));
}

export function serialize(tree: Tree): string {
  const out: string[] = [];
  write(tree, out);
  return out.join('');
}

function write(tree: Tree, out: string[]): void {
  if (tree instanceof Raw) out.push(tree.text);
  else if (tree instanceof Obj) {
    out.push('{');
    tree.entries.forEach(([key, value], i) => {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(key), ':');
      write(value, out);
    });
    out.push('}');
  } else if (Array.isArray(tree)) {
    out.push('[');
    tree.forEach((value, i) => {
      if (i > 0) out.push(',');
      write(value, out);
    });
    out.push(']');
  } else out.push(JSON.stringify(tree));
}

/** A place in the tree that a mutation can overwrite or remove. */
export interface Slot {
  readonly key: string;
  readonly depth: number;
  get(): Tree;
  set(value: Tree): void;
  remove(): void;
}

export function slotsOf(root: Tree): { slots: Slot[]; objects: Obj[]; arrays: Tree[][] } {
  const slots: Slot[] = [];
  const objects: Obj[] = [];
  const arrays: Tree[][] = [];
  const visit = (tree: Tree, depth: number): void => {
    if (tree instanceof Obj) {
      objects.push(tree);
      for (const entry of tree.entries) {
        slots.push({
          key: entry[0],
          depth,
          get: () => entry[1],
          set: (v) => (entry[1] = v),
          remove: () => {
            const at = tree.entries.indexOf(entry);
            if (at >= 0) tree.entries.splice(at, 1);
          },
        });
        visit(entry[1], depth + 1);
      }
    } else if (Array.isArray(tree)) {
      arrays.push(tree);
      // Huge arrays: a sample of their elements is enough.
      const step = Math.max(1, Math.floor(tree.length / 64));
      for (let i = 0; i < tree.length; i += step) {
        const index = i;
        slots.push({
          key: String(index),
          depth,
          get: () => tree[index] ?? null,
          set: (v) => (tree[index] = v),
          remove: () => tree.splice(index, 1),
        });
        visit(tree[index]!, depth + 1);
      }
    }
  };
  visit(root, 0);
  return { slots, objects, arrays };
}

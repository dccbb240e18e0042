import { HttpError } from "../errors.ts";
import type { Segment } from "./pattern.ts";

/**
 * Segment radix tree. Hot path: `find` runs for every request. It walks the path in place
 * with `indexOf("/")` (no `split`, no array per request), tries static > param > catch-all at
 * each level and backtracks, so priority never depends on registration order. Purely static
 * patterns also sit in a whole-path Map, answered with one lookup.
 */
export class RouteNode<R> {
  statics: Map<string, RouteNode<R>> | null = null;
  /** The static children again as parallel arrays, scanned in place with `startsWith` (no substring) while there are few. */
  labels: string[] = [];
  children: RouteNode<R>[] = [];
  /**
   * With many static children: their indexes in {@link labels} by {@link labelKey} (length and
   * first character), so a lookup is one integer-keyed Map probe and a `startsWith` or two,
   * with no substring to allocate and hash.
   */
  buckets: Map<number, number[]> | null = null;
  param: RouteNode<R> | null = null;
  catchAll: RouteNode<R> | null = null;
  /** Routes ending at this node, by method; `"*"` holds an `any` route. */
  routes: Map<string, R> | null = null;
}

export class RouteTree<R> {
  readonly root = new RouteNode<R>();
  readonly #staticPaths = new Map<string, RouteNode<R>>();
  /**
   * Parameter values of the last successful `find`, in pattern order (valid until the next
   * call). A reused array with a count: truncating with `length = 0` is a slow builtin in V8.
   */
  readonly values: string[] = [];
  #count = 0;

  /** Returns the node for `segments`, creating it; `path` is the literal path for static patterns. */
  insert(segments: readonly Segment[], path: string | null): RouteNode<R> {
    let node = this.root;
    for (const seg of segments) {
      if (seg.kind === "static") {
        node.statics ??= new Map();
        let next = node.statics.get(seg.value);
        if (next === undefined) {
          node.statics.set(seg.value, (next = new RouteNode()));
          node.labels.push(seg.value);
          node.children.push(next);
          if (node.buckets !== null) addToBucket(node.buckets, node.labels.length - 1, seg.value);
          else if (node.labels.length > SCAN_LIMIT) {
            const buckets = (node.buckets = new Map());
            for (let i = 0; i < node.labels.length; i++) addToBucket(buckets, i, node.labels[i]!);
          }
        }
        node = next;
      } else if (seg.kind === "param") {
        node = node.param ??= new RouteNode();
      } else {
        node = node.catchAll ??= new RouteNode();
      }
    }
    if (path !== null) this.#staticPaths.set(path, node);
    return node;
  }

  /**
   * Finds the route for `method` at `path`, static > param > catch-all with backtracking; an
   * `any` route (stored under `"*"`) answers when the method has none. Parameter values land in
   * {@link values}. Throws `HttpError(400)` on malformed percent-encoding.
   */
  find(method: string, path: string): R | null {
    this.#count = 0;
    const hit = this.#staticPaths.get(path);
    if (hit !== undefined) {
      const routes = hit.routes!;
      const route = routes.get(method) ?? routes.get("*");
      if (route !== undefined) return route;
    }
    this.#method = method;
    return this.#search(path) === null ? null : this.#hit;
  }

  /** The node at `path` holding any route at all (to build `Allow` for 405), or `null`. */
  findNode(path: string): RouteNode<R> | null {
    this.#count = 0;
    this.#method = null;
    return this.#search(path);
  }

  // Search state, valid during one synchronous call: kept on the tree rather than passed down
  // the recursion on every level.
  #method: string | null = null;
  #decode = false;
  #hit: R | null = null;

  #search(path: string): RouteNode<R> | null {
    this.#decode = path.includes("%");
    if (this.#decode) decodeSegment(path); // validates the whole path once: malformed → 400 even on a miss
    // "/" is the root itself; otherwise walk from the leading slash.
    if (path.length <= 1) return this.#accepts(this.root) ? this.root : this.#rest(this.root, path, 0);
    return this.#walk(this.root, path, 0);
  }

  #walk(node: RouteNode<R>, path: string, start: number): RouteNode<R> | null {
    if (start >= path.length) return this.#accepts(node) ? node : null;
    let end = path.indexOf("/", start + 1);
    if (end === -1) end = path.length;
    const child = this.#staticChild(node, path, start, end);
    if (child !== null) {
      const found = this.#walk(child, path, end);
      if (found !== null) return found;
    }
    const param = node.param;
    if (param !== null && end > start + 1) {
      const raw = path.slice(start + 1, end);
      this.values[this.#count++] = this.#decode ? decodeSegment(raw) : raw;
      const found = this.#walk(param, path, end);
      if (found !== null) return found;
      this.#count--;
    }
    return this.#rest(node, path, start);
  }

  /** The static child for the segment `path[start+1..end)`, or `null`. */
  #staticChild(node: RouteNode<R>, path: string, start: number, end: number): RouteNode<R> | null {
    const labels = node.labels;
    const count = labels.length;
    if (count === 0) return null;
    if (this.#decode) return node.statics!.get(decodeSegment(path.slice(start + 1, end))) ?? null;
    const length = end - start - 1;
    const buckets = node.buckets;
    if (buckets !== null) {
      const bucket = buckets.get(labelKey(length, length === 0 ? 0 : path.charCodeAt(start + 1)));
      if (bucket === undefined) return null;
      for (let j = 0; j < bucket.length; j++) {
        const i = bucket[j]!;
        if (path.startsWith(labels[i]!, start + 1)) return node.children[i]!;
      }
      return null;
    }
    for (let i = 0; i < count; i++) {
      const label = labels[i]!;
      if (label.length === length && path.startsWith(label, start + 1)) return node.children[i]!;
    }
    return null;
  }

  #rest(node: RouteNode<R>, path: string, start: number): RouteNode<R> | null {
    const tail = node.catchAll;
    if (tail === null || !this.#accepts(tail)) return null;
    const raw = path.slice(start + 1);
    this.values[this.#count++] = this.#decode ? decodeSegment(raw) : raw;
    return tail;
  }

  /** True when `node` ends a route for the searched method; remembers that route. */
  #accepts(node: RouteNode<R>): boolean {
    const routes = node.routes;
    if (routes === null) return false;
    const method = this.#method;
    if (method === null) return true;
    const route = routes.get(method) ?? routes.get("*");
    if (route === undefined) return false;
    this.#hit = route;
    return true;
  }
}

/** Static children scanned one by one up to this many; more are bucketed. */
const SCAN_LIMIT = 8;

/** A static child's bucket: its length and first UTF-16 unit (0 for an empty label: `"".charCodeAt(0)` is NaN). */
function labelKey(length: number, first: number): number {
  return length * 65536 + (first | 0);
}

/** Files the static child at index `i` (label `label`) under its bucket. */
function addToBucket(buckets: Map<number, number[]>, i: number, label: string): void {
  const key = labelKey(label.length, label.charCodeAt(0));
  const bucket = buckets.get(key);
  if (bucket === undefined) buckets.set(key, [i]);
  else bucket.push(i);
}

/** Percent-decodes one path segment; malformed encoding is the client's fault: 400. */
export function decodeSegment(raw: string): string {
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, "malformed percent-encoding in request path");
  }
}

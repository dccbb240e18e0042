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
  param: RouteNode<R> | null = null;
  catchAll: RouteNode<R> | null = null;
  /** Routes ending at this node, by method; `"*"` holds an `any` route. */
  routes: Map<string, R> | null = null;
}

export class RouteTree<R> {
  readonly root = new RouteNode<R>();
  readonly #staticPaths = new Map<string, RouteNode<R>>();
  /** Parameter values of the last successful `find`, in pattern order (valid until the next call). */
  readonly values: string[] = [];

  /** Returns the node for `segments`, creating it; `path` is the literal path for static patterns. */
  insert(segments: readonly Segment[], path: string | null): RouteNode<R> {
    let node = this.root;
    for (const seg of segments) {
      if (seg.kind === "static") {
        node.statics ??= new Map();
        let next = node.statics.get(seg.value);
        if (next === undefined) node.statics.set(seg.value, (next = new RouteNode()));
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
   * Finds the best node for `path` holding a route for `method` (`null`: any route at all,
   * used to build `Allow` for 405). Throws `HttpError(400)` on malformed percent-encoding.
   */
  find(method: string | null, path: string): RouteNode<R> | null {
    this.values.length = 0;
    const hit = this.#staticPaths.get(path);
    if (hit !== undefined && accepts(hit, method)) return hit;
    const decode = path.includes("%");
    if (decode) decodeSegment(path); // validates the whole path once: malformed → 400 even on a miss
    // "/" is the root itself; otherwise walk from the leading slash.
    if (path.length <= 1) return accepts(this.root, method) ? this.root : this.#rest(this.root, path, 0, method, decode);
    return this.#walk(this.root, path, 0, method, decode);
  }

  #walk(node: RouteNode<R>, path: string, start: number, method: string | null, decode: boolean): RouteNode<R> | null {
    if (start >= path.length) return accepts(node, method) ? node : null;
    let end = path.indexOf("/", start + 1);
    if (end === -1) end = path.length;
    if (node.statics !== null) {
      const raw = path.slice(start + 1, end);
      const child = node.statics.get(decode ? decodeSegment(raw) : raw);
      if (child !== undefined) {
        const found = this.#walk(child, path, end, method, decode);
        if (found !== null) return found;
      }
    }
    if (node.param !== null && end > start + 1) {
      const raw = path.slice(start + 1, end);
      this.values.push(decode ? decodeSegment(raw) : raw);
      const found = this.#walk(node.param, path, end, method, decode);
      if (found !== null) return found;
      this.values.pop();
    }
    return this.#rest(node, path, start, method, decode);
  }

  #rest(node: RouteNode<R>, path: string, start: number, method: string | null, decode: boolean): RouteNode<R> | null {
    const tail = node.catchAll;
    if (tail === null || !accepts(tail, method)) return null;
    const raw = path.slice(start + 1);
    this.values.push(decode ? decodeSegment(raw) : raw);
    return tail;
  }
}

function accepts<R>(node: RouteNode<R>, method: string | null): boolean {
  const routes = node.routes;
  if (routes === null) return false;
  return method === null || routes.has(method) || routes.has("*");
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

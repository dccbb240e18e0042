import { HttpError } from "../errors.ts";
import { METHODS } from "../method.ts";
import type { Segment } from "./pattern.ts";

/**
 * Method slots: one per known method, in {@link METHODS} order, then one for every other
 * method name (only an `any` route answers those).
 */
const SLOTS = METHODS.length + 1;
const OTHER = METHODS.length;
const SLOT_OF = new Map<string, number>(METHODS.map((m, i) => [m, i]));
/** A mask with every method's bit: what an `any` route sets, and what {@link RouteTree.findNode} looks for. */
const ALL = (1 << SLOTS) - 1;

/** The slot of `method`. GET first: one comparison of (usually interned) strings instead of a Map probe. */
function slotOf(method: string): number {
  return method === "GET" ? 0 : (SLOT_OF.get(method) ?? OTHER);
}

export class RouteNode<R> {
  statics: Map<string, RouteNode<R>> | null = null;
  /** The static children again as parallel arrays, scanned in place with `startsWith` (no substring) while there are few. */
  labels: string[] = [];
  children: RouteNode<R>[] = [];
  /**
   * With many static children: their indexes in {@link labels} by the first character's code
   * ({@link firstKey}), so a lookup is one array load and a `startsWith` or two, with no
   * substring to allocate and hash.
   */
  byFirst: (number[] | undefined)[] | null = null;
  param: RouteNode<R> | null = null;
  catchAll: RouteNode<R> | null = null;
  /** Routes ending at this node, by method; `"*"` holds an `any` route. */
  routes: Map<string, R> | null = null;
  /** The route answering each method slot here (its own, else the `any` route), from {@link routes}. */
  slots: (R | undefined)[] | null = null;
  /**
   * One bit per method slot that has a route at this node or below: a lookup skips a subtree
   * with nothing for its method (a `DELETE` miss does not walk the `GET` routes).
   */
  mask = 0;
}

/**
 * Segment radix tree. Hot path: `find` runs for every request. It walks the path in place
 * with `indexOf("/")` (no `split`, no array per request), tries static > param > catch-all at
 * each level and backtracks, so priority never depends on registration order. Purely static
 * patterns also sit in a whole-path Map, answered with one lookup.
 */
export class RouteTree<R> {
  readonly root = new RouteNode<R>();
  readonly #staticPaths = new Map<string, RouteNode<R>>();
  /**
   * Parameter values of the last successful `find`, in pattern order (valid until the next
   * call). A reused array with a count: truncating with `length = 0` is a slow builtin in V8.
   */
  readonly values: string[] = [];
  #count = 0;

  /**
   * Stores `route` for `method` (`"*"`: any) at the node for `segments`, creating it; `path` is
   * the literal path of a static pattern. Returns the node.
   */
  add(segments: readonly Segment[], path: string | null, method: string, route: R): RouteNode<R> {
    const bit = method === "*" ? ALL : 1 << slotOf(method);
    let node = this.root;
    node.mask |= bit;
    for (const seg of segments) {
      if (seg.kind === "static") node = staticChildFor(node, seg.value);
      else if (seg.kind === "param") node = node.param ??= new RouteNode();
      else node = node.catchAll ??= new RouteNode();
      node.mask |= bit;
    }
    const routes = (node.routes ??= new Map());
    routes.set(method, route);
    const slots: (R | undefined)[] = (node.slots = []);
    for (let i = 0; i < SLOTS; i++) slots.push((i === OTHER ? undefined : routes.get(METHODS[i]!)) ?? routes.get("*"));
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
    const slot = slotOf(method);
    const hit = this.#staticPaths.get(path);
    if (hit !== undefined) {
      const route = hit.slots![slot];
      if (route !== undefined) return route;
    }
    this.#slot = slot;
    this.#bit = 1 << slot;
    return this.#search(path) === null ? null : this.#hit;
  }

  /** The node at `path` holding any route at all (to build `Allow` for 405), or `null`. */
  findNode(path: string): RouteNode<R> | null {
    this.#count = 0;
    this.#slot = -1;
    this.#bit = ALL;
    return this.#search(path);
  }

  // Search state, valid during one synchronous call: kept on the tree rather than passed down
  // the recursion on every level. `#slot` -1: any route at all will do.
  #slot = 0;
  #bit = 0;
  #decode = false;
  #hit: R | null = null;

  #search(path: string): RouteNode<R> | null {
    const decode = (this.#decode = path.includes("%"));
    // "/" is the root itself; otherwise walk from the leading slash.
    const found = path.length <= 1 ? (this.#accepts(this.root) ? this.root : this.#rest(this.root, path, 0)) : this.#walk(this.root, path, 0);
    // Malformed encoding is a 400 even on a miss. A hit has decoded every segment after the
    // first character on its way (static, param and catch-all alike) and would have thrown, so
    // only a miss, or a path not starting with "/", still needs the whole-path check.
    if (decode && (found === null || path.charCodeAt(0) !== 47)) decodeSegment(path);
    return found;
  }

  #walk(node: RouteNode<R>, path: string, start: number): RouteNode<R> | null {
    if (start >= path.length) return this.#accepts(node) ? node : null;
    let end = path.indexOf("/", start + 1);
    if (end === -1) end = path.length;
    const bit = this.#bit;
    // The decoded segment, when the path has escapes: decoded once for the static lookup and the param.
    let segment: string | null = null;
    if (node.labels.length !== 0) {
      let child: RouteNode<R> | null | undefined;
      if (this.#decode) child = node.statics!.get((segment = decodeSegment(path.slice(start + 1, end))));
      else child = staticChild(node, path, start, end);
      if (child != null && (child.mask & bit) !== 0) {
        const found = this.#walk(child, path, end);
        if (found !== null) return found;
      }
    }
    const param = node.param;
    if (param !== null && end > start + 1 && (param.mask & bit) !== 0) {
      this.values[this.#count++] = segment ?? (this.#decode ? decodeSegment(path.slice(start + 1, end)) : path.slice(start + 1, end));
      const found = this.#walk(param, path, end);
      if (found !== null) return found;
      this.#count--;
    }
    return this.#rest(node, path, start);
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
    const slots = node.slots;
    if (slots === null) return false;
    const slot = this.#slot;
    if (slot === -1) return true;
    const route = slots[slot];
    if (route === undefined) return false;
    this.#hit = route;
    return true;
  }
}

/** Static children scanned one by one up to this many; more are looked up by first character. */
const SCAN_LIMIT = 8;

/** The {@link RouteNode.byFirst} index of a label starting with UTF-16 unit `code` (NaN for an empty label): ASCII, else one shared slot. */
function firstKey(code: number): number {
  return code < 128 ? code : code >= 128 ? 128 : 0;
}

/** The static child of `node` labelled `label`, created when missing. */
function staticChildFor<R>(node: RouteNode<R>, label: string): RouteNode<R> {
  const statics = (node.statics ??= new Map());
  let child = statics.get(label);
  if (child !== undefined) return child;
  statics.set(label, (child = new RouteNode()));
  node.labels.push(label);
  node.children.push(child);
  if (node.byFirst !== null) addFirst(node.byFirst, node.labels.length - 1, label);
  else if (node.labels.length > SCAN_LIMIT) {
    const byFirst: (number[] | undefined)[] = (node.byFirst = new Array<number[] | undefined>(129).fill(undefined));
    for (let i = 0; i < node.labels.length; i++) addFirst(byFirst, i, node.labels[i]!);
  }
  return child;
}

function addFirst(byFirst: (number[] | undefined)[], i: number, label: string): void {
  const key = firstKey(label.charCodeAt(0));
  const list = byFirst[key];
  if (list === undefined) byFirst[key] = [i];
  else list.push(i);
}

/** The static child of `node` for the segment `path[start+1..end)`, or `null`. */
function staticChild<R>(node: RouteNode<R>, path: string, start: number, end: number): RouteNode<R> | null {
  const labels = node.labels;
  const length = end - start - 1;
  const byFirst = node.byFirst;
  if (byFirst !== null) {
    const list = byFirst[firstKey(length === 0 ? Number.NaN : path.charCodeAt(start + 1))];
    if (list === undefined) return null;
    for (let j = 0; j < list.length; j++) {
      const i = list[j]!;
      const label = labels[i]!;
      if (label.length === length && path.startsWith(label, start + 1)) return node.children[i]!;
    }
    return null;
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label.length === length && path.startsWith(label, start + 1)) return node.children[i]!;
  }
  return null;
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

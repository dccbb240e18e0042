import { HttpError } from "../errors.ts";
import { METHODS } from "../method.ts";
import type { Segment } from "./pattern.ts";

/**
 * Method slots: one per known method, in {@link METHODS} order, then one for every other
 * method name (only an `any` route answers those).
 */
const OTHER = METHODS.length;
const SLOT_OF = new Map<string, number>(METHODS.map((m, i) => [m, i]));

const GET = SLOT_OF.get("GET")!;

/** The slot of `method`. GET first: one comparison of (usually interned) strings instead of a Map probe. */
function slotOf(method: string): number {
  return method === "GET" ? GET : (SLOT_OF.get(method) ?? OTHER);
}

/** A node of a {@link PathTree}: the children by segment kind, and what a path ending here gets. */
export class RouteNode<V> {
  statics: Map<string, RouteNode<V>> | null = null;
  /** The static children again as parallel arrays, scanned in place with `startsWith` (no substring) while there are few. */
  labels: string[] = [];
  children: RouteNode<V>[] = [];
  /**
   * With many static children: their indexes in {@link labels} by the first character's code
   * ({@link firstKey}), so a lookup is one array load and a `startsWith` or two, with no
   * substring to allocate and hash.
   */
  byFirst: (number[] | undefined)[] | null = null;
  param: RouteNode<V> | null = null;
  catchAll: RouteNode<V> | null = null;
  /** Has a static or param child: a walk through it needs the segment's end. */
  branches = false;
  value: V | undefined = undefined;
}

/**
 * Segment radix tree. Hot path: `search` runs for every request that is not a static route.
 * It walks the path in place with `indexOf("/")` (no `split`, no array per request), tries
 * static > param > catch-all at each level and backtracks, so priority never depends on
 * registration order.
 */
class PathTree<V> {
  readonly root = new RouteNode<V>();
  /** The values of purely static patterns by their literal path: answered with one lookup, before any walk. */
  readonly statics = new Map<string, V>();
  /** Parameter values of the last successful search, in pattern order; shared by the trees of one {@link RouteTree}. */
  readonly #values: string[];
  #count = 0;
  // Search state, valid during one synchronous call: kept on the tree rather than passed down
  // the recursion on every level.
  #decode = false;

  constructor(values: string[]) {
    this.#values = values;
  }

  /** The node for `segments`, created when missing. */
  node(segments: readonly Segment[]): RouteNode<V> {
    let node = this.root;
    for (const seg of segments) {
      if (seg.kind === "static") node = staticChildFor(node, seg.value);
      else if (seg.kind === "param") {
        node.branches = true;
        node = node.param ??= new RouteNode();
      } else node = node.catchAll ??= new RouteNode();
    }
    return node;
  }

  /**
   * The node with a value at `path`, static > param > catch-all with backtracking, or `null`.
   * Throws `HttpError(400)` on malformed percent-encoding.
   */
  search(path: string): RouteNode<V> | null {
    this.#count = 0;
    const decode = (this.#decode = path.includes("%"));
    // "/" is the root itself; otherwise walk from the leading slash.
    const found = path.length <= 1 ? (this.root.value !== undefined ? this.root : this.#rest(this.root, path, 0)) : this.#walk(this.root, path, 0);
    // Malformed encoding is a 400 even on a miss. A hit has decoded every segment after the
    // first character on its way (static, param and catch-all alike) and would have thrown, so
    // only a miss, or a path not starting with "/", still needs the whole-path check.
    if (decode && (found === null || path.charCodeAt(0) !== 47)) decodeSegment(path);
    return found;
  }

  #walk(node: RouteNode<V>, path: string, start: number): RouteNode<V> | null {
    if (start >= path.length) return node.value !== undefined ? node : null;
    // A level with only a catch-all (`/static/{*rest}`) needs no segment end.
    if (!node.branches) return this.#rest(node, path, start);
    let end = path.indexOf("/", start + 1);
    if (end === -1) end = path.length;
    // The decoded segment, when the path has escapes: decoded once for the static lookup and the param.
    let segment: string | null = null;
    if (node.labels.length !== 0) {
      let child: RouteNode<V> | null | undefined;
      if (this.#decode) child = node.statics!.get((segment = decodeSegment(path.slice(start + 1, end))));
      else child = staticChild(node, path, start, end);
      if (child != null) {
        const found = this.#walk(child, path, end);
        if (found !== null) return found;
      }
    }
    const param = node.param;
    if (param !== null && end > start + 1) {
      this.#values[this.#count++] = segment ?? (this.#decode ? decodeSegment(path.slice(start + 1, end)) : path.slice(start + 1, end));
      const found = this.#walk(param, path, end);
      if (found !== null) return found;
      this.#count--;
    }
    return this.#rest(node, path, start);
  }

  #rest(node: RouteNode<V>, path: string, start: number): RouteNode<V> | null {
    const tail = node.catchAll;
    if (tail === null || tail.value === undefined) return null;
    const raw = path.slice(start + 1);
    this.#values[this.#count++] = this.#decode ? decodeSegment(raw) : raw;
    return tail;
  }
}

/**
 * The routes of a router: one {@link PathTree} per method slot, holding that method's routes
 * and the `any` ones (where the method has none), so a lookup walks only routes it can match (a
 * `DELETE` miss does not walk the `GET` routes); and one tree of every route by method, for
 * `Allow` and for visiting them all.
 */
export class RouteTree<R> {
  /**
   * Parameter values of the last successful `find`, in pattern order (valid until the next
   * call). A reused array with a count: truncating with `length = 0` is a slow builtin in V8.
   */
  readonly values: string[] = [];
  readonly #all = new PathTree<Map<string, R>>(this.values);
  readonly #bySlot: PathTree<R>[] = Array.from({ length: OTHER + 1 }, () => new PathTree<R>(this.values));

  /** The root of the tree of every route, by method (`"*"`: an `any` route). */
  get root(): RouteNode<Map<string, R>> {
    return this.#all.root;
  }

  /** Stores `route` for `method` (`"*"`: any) at `segments`; `path` is the literal path of a static pattern. */
  add(segments: readonly Segment[], path: string | null, method: string, route: R): void {
    const node = this.#all.node(segments);
    (node.value ??= new Map()).set(method, route);
    const any = method === "*";
    for (let slot = 0; slot <= OTHER; slot++) {
      if (!any && slot !== slotOf(method)) continue;
      const tree = this.#bySlot[slot]!;
      const own = tree.node(segments);
      // A method's own route wins over an `any` route at the same node, whichever came first.
      if (any && own.value !== undefined) continue;
      own.value = route;
      if (path !== null) tree.statics.set(path, route);
    }
  }

  /**
   * Finds the route for `method` at `path`, static > param > catch-all with backtracking; an
   * `any` route answers when the method has none at that node. Parameter values land in
   * {@link values}. Throws `HttpError(400)` on malformed percent-encoding.
   */
  find(method: string, path: string): R | null {
    const tree = this.#bySlot[slotOf(method)]!;
    const hit = tree.statics.get(path);
    if (hit !== undefined) return hit;
    const node = tree.search(path);
    return node === null ? null : node.value!;
  }

  /** The node at `path` holding any route at all (to build `Allow` for 405), or `null`. */
  findNode(path: string): RouteNode<Map<string, R>> | null {
    return this.#all.search(path);
  }
}

/** Static children scanned one by one up to this many; more are looked up by first character. */
const SCAN_LIMIT = 8;

/** The {@link RouteNode.byFirst} index of a label starting with UTF-16 unit `code` (NaN for an empty label): ASCII, else one shared slot. */
function firstKey(code: number): number {
  return code < 128 ? code : code >= 128 ? 128 : 0;
}

/** The static child of `node` labelled `label`, created when missing. */
function staticChildFor<V>(node: RouteNode<V>, label: string): RouteNode<V> {
  const statics = (node.statics ??= new Map());
  let child = statics.get(label);
  if (child !== undefined) return child;
  statics.set(label, (child = new RouteNode()));
  node.branches = true;
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
function staticChild<V>(node: RouteNode<V>, path: string, start: number, end: number): RouteNode<V> | null {
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

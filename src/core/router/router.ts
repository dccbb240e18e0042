import { IN_PROCESS_CONN, type ConnInfo } from "../conn-info.ts";
import { DEFAULT_BODY_LIMIT } from "../body.ts";
import { HttpError, TakoError } from "../errors.ts";
import { FetchRequest } from "../fetch-request.ts";
import { isKnownMethod, Method, METHODS } from "../method.ts";
import { errorReply, type HandlerResult } from "../responder.ts";
import { Reply } from "../response.ts";
import { compose, recoverError } from "./compose.ts";
import { joinPrefix, parsePattern, patternShape, type Params } from "./pattern.ts";
import { RouteTree, type RouteNode } from "./tree.ts";
import { respondFetch } from "./fetch.ts";
import { type HealthOptions, liveReply, readyReply, resolveHealth } from "./health.ts";
import type { AnyRequest, Dispatcher, ErrorHook, FetchObserver, Handler, Middleware } from "./types.ts";
import { timeoutProblem } from "../config.ts";
import { withTimeout } from "./timeout.ts";
import { resolveWsOptions, type WsHandlers, type WsOptions, wsRoute } from "../websocket/index.ts";

type Fn = (req: AnyRequest) => HandlerResult | Promise<HandlerResult>;

/** What {@link Router.match} finds. */
export interface RouteMatch {
  /** The pattern the route was registered with (prefix included for nested routes). */
  readonly pattern: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Options of a {@link Router}. */
export interface RouterOptions<S> {
  /** Shared application state, reachable from every handler as `req.state`. */
  state?: S;
  /** Request body limit in bytes (default 1 MiB); larger bodies are answered 413. */
  bodyLimit?: number;
}

/** What a route handle sets, shared by the methods it was registered for and by nested copies. */
class RouteOptions {
  /** The route's own handler timeout (ms, `null`: none); `undefined`: the server's `handlerTimeout`. */
  timeout: number | null | undefined = undefined;
}

/** One registered route; nested routers copy these with their prefix. */
class RouteDef {
  readonly method: string;
  readonly pattern: string;
  readonly handler: Fn;
  /** Middleware layers outside the route's own, innermost last (a nested router's globals). */
  readonly layers: readonly (readonly Middleware<unknown>[])[];
  readonly own: Middleware<unknown>[];
  readonly options: RouteOptions;
  constructor(method: string, pattern: string, handler: Fn, layers: readonly (readonly Middleware<unknown>[])[], own: Middleware<unknown>[], options: RouteOptions) {
    this.method = method;
    this.pattern = pattern;
    this.handler = handler;
    this.layers = layers;
    this.own = own;
    this.options = options;
  }
}

/** What the tree stores per method: the compiled chain and the names of its parameters. */
class RouteEntry {
  readonly def: RouteDef;
  readonly names: readonly string[];
  run: Fn;
  constructor(def: RouteDef, names: readonly string[]) {
    this.def = def;
    this.names = names;
    this.run = def.handler;
  }
}

/** Returned by route registration, to attach middleware to that route only. */
export class RouteHandle<S> {
  readonly #def: RouteDef;
  readonly #changed: () => void;
  /** @internal */
  constructor(def: RouteDef, changed: () => void) {
    this.#def = def;
    this.#changed = changed;
  }
  /** Adds middleware that runs for this route only, inside the router's global middleware. */
  middleware(mw: Middleware<S>): this {
    this.#def.own.push(mw as Middleware<unknown>);
    this.#changed();
    return this;
  }
  /**
   * This route's handler timeout in milliseconds, overriding the server's `handlerTimeout`
   * (`null`: none for this route, e.g. a long poll under a server-wide timeout). Past it the
   * client gets 503 and `req.signal` aborts with `TAKO_ERR_HANDLER_TIMEOUT`; see
   * `ServerConfig.handlerTimeout` for what it covers. Throws `TAKO_ERR_CONFIG` for a bad value.
   */
  timeout(ms: number | null): this {
    const problem = timeoutProblem(ms);
    if (problem !== null) throw new TakoError("TAKO_ERR_CONFIG", `timeout() of route "${this.#def.pattern}" must be ${problem}; got ${String(ms)}`);
    this.#def.options.timeout = ms;
    return this;
  }
}

const ANY = "*";
const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Routes requests to handlers by method and path. Patterns are static segments, `{name}`
 * (one segment) and `{*rest}` (the rest of the path, last only); static beats param beats
 * catch-all whatever the registration order. Lookup walks a segment tree, so its cost does not
 * grow with the number of routes.
 *
 * ```ts
 * const router = new Router();
 * router.get("/users/{id}", (req) => ({ id: req.params.id }));
 * ```
 */
export class Router<S = undefined> implements Dispatcher {
  readonly #state: S;
  readonly #bodyLimit: number;
  readonly #defs: RouteDef[] = [];
  readonly #shapes = new Map<string, string>();
  readonly #global: Middleware<unknown>[] = [];
  #tree = new RouteTree<RouteEntry>();
  #fallback: Fn | null = null;
  #onError: ErrorHook<S> = (error) => {
    console.error("tako: unhandled error in handler:", error);
  };
  #miss: Fn = () => null;
  #ready = false;
  /** A server serving this router has begun its shutdown (readiness fails from then on). */
  #draining = false;
  /** Has WebSocket routes. */
  #upgrades = false;
  readonly #healthPaths = new Set<string>();

  constructor(options: RouterOptions<S> = {}) {
    this.#state = options.state as S;
    const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new TakoError("TAKO_ERR_CONFIG", `bodyLimit must be a non-negative integer number of bytes, got ${String(limit)}`);
    }
    this.#bodyLimit = limit;
  }

  /** Registers `handler` for `method` (or several methods) at `pattern`. */
  route<P extends string>(method: Method | readonly Method[], pattern: P, handler: Handler<Params<P>, S>): RouteHandle<S> {
    const methods = typeof method === "string" ? [method] : method;
    const own: Middleware<unknown>[] = [];
    const options = new RouteOptions();
    let def: RouteDef | null = null;
    for (const m of methods) {
      if (!isKnownMethod(m)) throw new TakoError("TAKO_ERR_ROUTE_PATTERN", `unknown method "${String(m)}" for route "${pattern}"`);
      def = this.#add(new RouteDef(m, pattern, handler as unknown as Fn, [], own, options));
    }
    if (def === null) throw new TakoError("TAKO_ERR_ROUTE_PATTERN", `no method given for route "${pattern}"`);
    return new RouteHandle<S>(def, () => (this.#ready = false));
  }

  get<P extends string>(pattern: P, handler: Handler<Params<P>, S>): RouteHandle<S> {
    return this.route(Method.GET, pattern, handler);
  }
  post<P extends string>(pattern: P, handler: Handler<Params<P>, S>): RouteHandle<S> {
    return this.route(Method.POST, pattern, handler);
  }
  put<P extends string>(pattern: P, handler: Handler<Params<P>, S>): RouteHandle<S> {
    return this.route(Method.PUT, pattern, handler);
  }
  patch<P extends string>(pattern: P, handler: Handler<Params<P>, S>): RouteHandle<S> {
    return this.route(Method.PATCH, pattern, handler);
  }
  delete<P extends string>(pattern: P, handler: Handler<Params<P>, S>): RouteHandle<S> {
    return this.route(Method.DELETE, pattern, handler);
  }
  head<P extends string>(pattern: P, handler: Handler<Params<P>, S>): RouteHandle<S> {
    return this.route(Method.HEAD, pattern, handler);
  }
  options<P extends string>(pattern: P, handler: Handler<Params<P>, S>): RouteHandle<S> {
    return this.route(Method.OPTIONS, pattern, handler);
  }
  /** Registers `handler` for every method at `pattern`; a method-specific route still wins. */
  any<P extends string>(pattern: P, handler: Handler<Params<P>, S>): RouteHandle<S> {
    const def = this.#add(new RouteDef(ANY, pattern, handler as unknown as Fn, [], [], new RouteOptions()));
    return new RouteHandle<S>(def, () => (this.#ready = false));
  }

  /**
   * Registers a WebSocket route (RFC 6455) at `pattern`, for `GET` upgrade requests over
   * HTTP/1.1. The router's and the route's middleware run before the upgrade, so they can answer
   * (401, 403 …) with an ordinary response; then the handshake is checked (426/400), the origin
   * (`allowedOrigins`, 403), and the connection is handed to the runtime's WebSocket. `options`
   * are checked here: a bad one throws a `TakoError` naming the field.
   *
   * ```ts
   * router.ws("/chat/{room}", {
   *   open: (ws) => ws.send(`joined ${ws.req.params.room}`),
   *   message: (ws, data) => ws.send(data),
   * }, { maxPayload: 64 * 1024 });
   * ```
   */
  ws<P extends string>(pattern: P, handlers: WsHandlers<Params<P>, S>, options?: WsOptions): RouteHandle<S> {
    const route = wsRoute(handlers as WsHandlers<unknown, unknown>, resolveWsOptions(options));
    this.#upgrades = true;
    return this.route(Method.GET, pattern, route as unknown as Handler<Params<P>, S>);
  }

  /** Adds middleware around every route of this router, including 404/405 answers. */
  middleware(mw: Middleware<S>): this {
    this.#global.push(mw as Middleware<unknown>);
    this.#ready = false;
    return this;
  }

  /** Mounts the routes `child` has now under `prefix`; the child's middleware stays on them. */
  nest(prefix: string, child: Router<S>): this {
    if (child.#upgrades) this.#upgrades = true;
    for (const def of child.#defs) {
      this.#add(new RouteDef(def.method, joinPrefix(prefix, def.pattern), def.handler, [child.#global, ...def.layers], def.own, def.options));
    }
    return this;
  }

  /** Registers routes under `prefix` through a child router: `router.scope("/api", (r) => r.get(...))`. */
  scope(prefix: string, build: (router: Router<S>) => void): this {
    const child = new Router<S>({ state: this.#state, bodyLimit: this.#bodyLimit });
    build(child);
    return this.nest(prefix, child);
  }

  /**
   * Health endpoints for load balancers and orchestrators: `GET`/`HEAD` `live` (default
   * `/livez`) answers 200 while the process serves; `ready` (default `/readyz`) answers 503 with
   * `Retry-After` from the moment a server serving this router is triggered (`trigger()`,
   * `shutdown()`, a signal), through its `shutdownDelay`, and while any registered check fails
   * or times out; 200 otherwise. Bodies are JSON naming each check's outcome.
   *
   * ```ts
   * router.health({ checks: { db: () => pool.ping() } });
   * ```
   */
  health(options: HealthOptions = {}): this {
    const health = resolveHealth(options);
    this.get(health.live, liveReply);
    this.get(health.ready, () => readyReply(health, this.#draining));
    this.#healthPaths.add(health.live).add(health.ready);
    return this;
  }

  /** @internal The health paths are served even while a server sheds load (`maxEventLoopDelay`). */
  shedExempt(req: AnyRequest): boolean {
    return this.#healthPaths.has(req.path);
  }

  /** @internal A server serving this router has begun its shutdown: readiness fails from now on. */
  serverDraining(): void {
    this.#draining = true;
  }

  /** @internal True once a WebSocket route was registered here or in a nested router. */
  hasUpgrades(): boolean {
    return this.#upgrades;
  }

  /** Answers requests no route matches (default: 404 Not Found). */
  fallback(handler: Handler<Readonly<Record<string, string>>, S>): this {
    this.#fallback = handler as unknown as Fn;
    this.#ready = false;
    return this;
  }

  /** Receives unexpected handler errors (default: `console.error`); may return a custom response. */
  onError(hook: ErrorHook<S>): this {
    this.#onError = hook;
    this.#ready = false;
    return this;
  }

  #add(def: RouteDef): RouteDef {
    const segments = parsePattern(def.pattern);
    const key = `${def.method} ${patternShape(segments)}`;
    const previous = this.#shapes.get(key);
    if (previous !== undefined) {
      throw new TakoError("TAKO_ERR_ROUTE_CONFLICT", `route ${def.method === ANY ? "ANY" : def.method} "${def.pattern}" conflicts with "${previous}", already registered`);
    }
    this.#shapes.set(key, def.pattern);
    const isStatic = segments.every((s) => s.kind === "static");
    const names = segments.flatMap((s) => (s.kind === "static" ? [] : [s.name]));
    this.#tree.add(segments, isStatic ? def.pattern : null, def.method, new RouteEntry(def, names));
    this.#defs.push(def);
    this.#ready = false;
    return def;
  }

  /** Composes every chain once; runs again only after the router changed. */
  #prepare(): void {
    const report = this.#onError as (error: unknown, req: AnyRequest) => HandlerResult | void;
    const visit = (node: RouteNode<Map<string, RouteEntry>>): void => {
      if (node.value !== undefined) {
        for (const entry of node.value.values()) {
          const layers = [this.#global, ...entry.def.layers, entry.def.own].flat();
          entry.run = compose(layers, entry.def.handler, report);
        }
      }
      if (node.statics !== null) for (const child of node.statics.values()) visit(child);
      if (node.param !== null) visit(node.param);
      if (node.catchAll !== null) visit(node.catchAll);
    };
    visit(this.#tree.root);
    this.#miss = compose(this.#global, (req) => this.#answerMiss(req), report);
    this.#ready = true;
  }

  /**
   * Runs the request through the router and returns the handler's result as is: a Promise only
   * when the handler is async. Never throws; a returned Promise may reject, and the engine then
   * answers `recover(error, req)`. The hot path: engines attach one `then(ok, fail)` and write
   * the result in their cheapest native way.
   */
  dispatch(req: AnyRequest): HandlerResult | Promise<HandlerResult> {
    if (!this.#ready) this.#prepare();
    const r = req;
    r.state = this.#state;
    r.bodyLimit = this.#bodyLimit;
    let entry: RouteEntry | null;
    try {
      entry = this.#lookup(r);
    } catch (error) {
      return errorReply(error);
    }
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = (entry === null ? this.#miss : entry.run)(r);
    } catch (error) {
      return this.recover(error, r);
    }
    // Only a pending result can be timed out: a synchronous handler has already answered.
    if (!(result instanceof Promise)) return result;
    const own = entry === null ? undefined : entry.def.options.timeout;
    const ms = own === undefined ? r.handlerTimeout() : own;
    return ms === null ? result : withTimeout(result, ms, r, (error) => this.recover(error, r));
  }

  /** {@link dispatch}, with a rejection turned into its error response. Never rejects. */
  handle(req: AnyRequest): HandlerResult | Promise<HandlerResult> {
    const result = this.dispatch(req);
    return result instanceof Promise ? result.catch((error: unknown) => this.recover(error, req)) : result;
  }

  /** Hot path: the route for this request (`null`: none); sets `req.params`. Throws `HttpError(400)` on a bad path. */
  #lookup(req: AnyRequest): RouteEntry | null {
    const method = req.method;
    const path = req.path;
    const tree = this.#tree;
    let entry = tree.find(method, path);
    if (entry === null && method === "HEAD") entry = tree.find("GET", path);
    if (entry === null) return null;
    const names = entry.names;
    if (names.length !== 0) {
      const values = tree.values;
      const params: Record<string, string> = {};
      for (let i = 0; i < names.length; i++) params[names[i]!] = values[i]!;
      req.params = params;
    }
    return entry;
  }

  /** The pattern of the route `req` matches, `null` for none (or a malformed path): for diagnostics, never on the untraced path. */
  routeOf(req: AnyRequest): string | null {
    const method = req.method;
    try {
      const path = req.path;
      // The lookup alone: no params object (dispatch builds them again anyway).
      let entry = this.#tree.find(method, path);
      if (entry === null && method === "HEAD") entry = this.#tree.find("GET", path);
      return entry === null ? null : entry.def.pattern;
    } catch {
      return null;
    }
  }

  /**
   * Looks a method and path (a query string is ignored) up without running anything: the route
   * pattern and decoded params,
   * or `null` when no route matches (HEAD falls back to GET, as in dispatch). Throws
   * `HttpError(400)` for malformed percent-encoding.
   */
  match(method: string, path: string): RouteMatch | null {
    const query = path.indexOf("?");
    if (query !== -1) path = path.slice(0, query);
    const tree = this.#tree;
    let entry = tree.find(method, path);
    if (entry === null && method === "HEAD") entry = tree.find("GET", path);
    if (entry === null) return null;
    const params: Record<string, string> = {};
    const names = entry.names;
    for (let i = 0; i < names.length; i++) params[names[i]!] = tree.values[i]!;
    return { pattern: entry.def.pattern, params };
  }

  /** 404, 405 with `Allow`, 204 for OPTIONS, 501 for unknown methods: what a miss answers. */
  #answerMiss(req: AnyRequest): HandlerResult | Promise<HandlerResult> {
    const method = req.method;
    if (!isKnownMethod(method)) throw new HttpError(501, `method ${method.slice(0, 32)} is not implemented`);
    const node = this.#tree.findNode(req.path);
    if (node === null) {
      req.params = EMPTY;
      if (this.#fallback !== null) return this.#fallback(req);
      throw new HttpError(404);
    }
    const allow = allowOf(node.value!);
    if (method === "OPTIONS") return new Reply(null, 204, { allow });
    throw new HttpError(405, undefined, { allow });
  }

  /** The result for an error raised while serving `req` (hook first, then the standard error reply). Engines call it for errors in writing a result. */
  recover(error: unknown, req: AnyRequest): HandlerResult {
    return recoverError(error, req, this.#onError as (error: unknown, req: AnyRequest) => HandlerResult | void);
  }

  /**
   * Dispatches a Fetch `Request` in process and resolves to a Fetch `Response`: the test client,
   * and the way to mount the router in any fetch-style host. `conn` defaults to empty addresses.
   */
  async fetch(request: Request, conn: ConnInfo = IN_PROCESS_CONN): Promise<Response> {
    return this.handleFetch(new FetchRequest(request, conn));
  }

  /**
   * {@link dispatch} for fetch-style engines: the result as a Fetch `Response` (a Promise only
   * when the handler is async; it never rejects). HEAD responses lose their body here.
   */
  handleFetch(req: AnyRequest, observer?: FetchObserver): Response | Promise<Response> {
    return respondFetch(this, req, observer);
  }
}

function allowOf(routes: Map<string, unknown>): string {
  if (routes.has(ANY)) return METHODS.join(", ");
  const allowed = new Set(routes.keys());
  if (allowed.has("GET")) allowed.add("HEAD");
  allowed.add("OPTIONS");
  return METHODS.filter((m) => allowed.has(m)).join(", ");
}

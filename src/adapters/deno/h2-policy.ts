import type { BodyDeadline } from "../../core/body.ts";
import type { ServerConfig } from "../../core/config.ts";
import type { H2ConnectionOptions } from "../../core/http2/index.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { H2ServerFacts } from "../wire/h2-conn.ts";
import { dateFields, h2Limits } from "../wire/h2-facts.ts";

/**
 * What the HTTP/2 connections on tako's codec read of their Deno listener: the router, the
 * `h2*` limits and deadlines of the config, the date fields (refreshed by the listener's sweep,
 * {@link tick}), and the drain's state (`closing`, then `forced` at its deadline).
 */
export class H2Policy implements H2ServerFacts {
  readonly router: Dispatcher;
  dateHeader: readonly string[];
  textHeaders: readonly string[];
  jsonHeaders: readonly string[];
  readonly bodyDeadline: BodyDeadline | null;
  readonly handlerTimeout: number | null;
  forced = false;
  closing = false;
  readonly h2Options: H2ConnectionOptions;
  readonly h2FirstHead: number;
  readonly h2Idle: number;
  readonly h2Ping: number;
  #second: number;

  constructor(router: Dispatcher, config: ServerConfig, body: BodyDeadline | null) {
    this.router = router;
    this.bodyDeadline = body;
    this.handlerTimeout = config.handlerTimeout;
    ({ h2Options: this.h2Options, h2FirstHead: this.h2FirstHead, h2Idle: this.h2Idle, h2Ping: this.h2Ping } = h2Limits(config));
    const now = Date.now();
    this.#second = Math.floor(now / 1000);
    ({ dateHeader: this.dateHeader, textHeaders: this.textHeaders, jsonHeaders: this.jsonHeaders } = dateFields(now));
  }

  /** The sweep's clock: the date fields follow it to the second. */
  tick(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.#second) return;
    this.#second = second;
    ({ dateHeader: this.dateHeader, textHeaders: this.textHeaders, jsonHeaders: this.jsonHeaders } = dateFields(now));
  }

  /** The deadlines that are on (ms), for the sweep's interval. */
  get deadlines(): number[] {
    return [this.h2FirstHead, this.h2Idle, this.h2Ping].filter((d) => d !== Infinity);
  }
}

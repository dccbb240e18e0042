// A fake engine for the lifecycle kernel and ServerHandle: hooks that record what the kernel
// asks, connections that are plain objects, a listener that closes when told. No I/O, no clock.
import type { EngineListener, ServeSpec, Serving, SocketAddr } from "../../src/adapters/engine.ts";
import { Lifecycle, type LifecycleHooks } from "../../src/adapters/shared/lifecycle.ts";

export interface FakeConn {
  readonly id: number;
  destroyed: boolean;
  drained: boolean;
}

/** A transport on a fake listener: records every hook call in order. */
export class FakeTransport implements LifecycleHooks {
  readonly calls: string[] = [];
  readonly lifecycle: Lifecycle<FakeConn>;
  #listening = true;
  #next = 0;

  constructor(lifecycle: Lifecycle<FakeConn> = new Lifecycle()) {
    this.lifecycle = lifecycle;
  }

  /** A client connects: tracked, or refused over the cap (`null`). Refused once the listener is closed. */
  connect(): FakeConn | null {
    if (!this.#listening) return null;
    const conn: FakeConn = { id: this.#next++, destroyed: false, drained: false };
    return this.lifecycle.admit(conn) ? conn : null;
  }

  /** A connection ends (its last response went out, or the peer left). */
  hangUp(conn: FakeConn): void {
    this.lifecycle.release(conn);
  }

  stopAccepting(): void {
    this.calls.push("stopAccepting");
    if (!this.#listening) return;
    this.#listening = false;
    this.lifecycle.listenerClosed();
  }

  drainConnections(): void {
    this.calls.push("drainConnections");
    this.lifecycle.forEach((conn) => {
      conn.drained = true;
    });
  }

  destroyConnections(): void {
    this.calls.push("destroyConnections");
    this.lifecycle.forEach((conn) => {
      conn.destroyed = true;
      this.lifecycle.release(conn);
    });
  }

  released(): void {
    this.calls.push("released");
  }
}

/** An `EngineListener` whose `serve` starts a {@link FakeTransport} on the kernel. */
export class FakeListener implements EngineListener {
  readonly transport = new FakeTransport();
  served: ServeSpec | null = null;

  localAddr(): SocketAddr {
    return { address: "127.0.0.1", port: 4242, family: "IPv4" };
  }

  serve(spec: ServeSpec): Serving {
    this.served = spec;
    this.transport.lifecycle.start(this.transport, spec.config.maxConnections);
    return this.transport.lifecycle;
  }

  close(): Promise<void> {
    this.transport.lifecycle.forceClose();
    return this.transport.lifecycle.closed;
  }
}

/** True once `promise` has settled, checked after the pending microtasks ran. */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

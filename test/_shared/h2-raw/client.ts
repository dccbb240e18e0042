// The connection: a raw HTTP/2 client over a real socket that writes frames exactly as given and
// parses, counts and HPACK-decodes every frame that comes back.
import { connect as netConnect, type Socket } from "node:net";
import { EMPTY } from "./bytes.ts";
import { errorName, Flag, FrameType, frameTypeName, PREFACE } from "./constants.ts";
import { parseGoaway, parseRstStream, parseSettings, ping, settings, settingsAck, unpad, windowUpdate, type Frame, type GoawayInfo } from "./frames.ts";
import { HpackDecoder } from "./hpack-decoder.ts";

/** Options of {@link H2RawConn.connect}. */
export interface H2RawConnectOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Write PREFACE and an empty SETTINGS right after connecting (default true). */
  sendPreface?: boolean;
  /** Answer each non-ACK SETTINGS with a SETTINGS ACK (default true). */
  autoAckSettings?: boolean;
  /** Answer each non-ACK PING with a PING ACK carrying the same payload (default true). */
  autoAckPing?: boolean;
  /** Connect timeout in ms (default 5000). */
  timeoutMs?: number;
  /** Keep every received frame in `frames` (default true); false for floods (counters are kept). */
  keepFrames?: boolean;
}

/** A complete response as returned by {@link H2RawConn.response}. */
export interface H2Response {
  /** Value of :status (0 if the header block had none). */
  status: number;
  /** The response header block (final, non-1xx), pseudo-headers included, in wire order. */
  headers: [string, string][];
  body: Buffer;
}

type Waiter = (frame: Frame | undefined, index: number) => void;

interface PendingBlock {
  streamId: number;
  kind: "headers" | "push";
  endStream: boolean;
  promisedId: number;
  chunks: Buffer[];
}

/**
 * One raw HTTP/2 client connection. Frames are written exactly as given; received frames are
 * parsed and recorded. Flow control is manual: nothing is sent for received DATA unless the test
 * calls {@link H2RawConn.ackData} (so it can play a peer that never reads).
 */
export class H2RawConn {
  /** The TCP socket (e.g. `socket.pause()` to stop reading entirely). */
  readonly socket: Socket;
  /** Every frame received, in order (empty when connected with `keepFrames: false`). */
  readonly frames: Frame[] = [];
  /** Number of frames received; also the index the next received frame will get. */
  frameCount = 0;
  /** Frames received per type. */
  readonly typeCounts = new Map<number, number>();
  /** Octets received on the socket. */
  bytesReceived = 0;
  /** Flow-controlled octets received (sum of DATA frame lengths, padding included). */
  dataBytesReceived = 0;
  /** Parameters of the first non-ACK SETTINGS frame received; undefined until then. */
  serverSettings: Map<number, number> | undefined;
  /** SETTINGS frames received with the ACK flag. */
  settingsAcks = 0;
  /** GOAWAY frames received, parsed, in order. */
  readonly goaways: GoawayInfo[] = [];
  /** Stream id → error code of the RST_STREAM received for it (the last one wins). */
  readonly resets = new Map<number, number>();
  /** Stream id → the final (non-1xx) response header block. */
  readonly responseHeaders = new Map<number, [string, string][]>();
  /** Stream id → 1xx header blocks received before the final one. */
  readonly informational = new Map<number, [string, string][][]>();
  /** Stream id → trailer block (a header block after the response headers). */
  readonly trailers = new Map<number, [string, string][]>();
  /** Promised stream id → request headers of a PUSH_PROMISE. */
  readonly pushPromises = new Map<number, [string, string][]>();
  /** Stream id → DATA payloads received (padding stripped). */
  readonly bodies = new Map<number, Buffer[]>();
  /** Streams for which a frame with END_STREAM was received (after its header block completed). */
  readonly endedStreams = new Set<number>();
  /** Decoder for the server's header blocks (inspect `hpack.stats` / `hpack.dynamicTable`). */
  readonly hpack = new HpackDecoder();
  /** Socket errors (EPIPE, ECONNRESET, …); they are recorded, never thrown. */
  readonly errors: Error[] = [];
  /** Frames this client could not make sense of (bad padding, HPACK errors, stray CONTINUATION…). */
  readonly protocolErrors: string[] = [];
  /** Resolves when the socket closes. */
  readonly closed: Promise<{ at: number; hadError: boolean }>;

  #opts: Required<Omit<H2RawConnectOptions, "host" | "timeoutMs">>;
  #pending: Buffer = EMPTY;
  #block: PendingBlock | undefined;
  #waiters = new Set<Waiter>();
  #isClosed = false;
  #closeInfo: { at: number; hadError: boolean } | undefined;
  #nextStreamId = 1;

  private constructor(socket: Socket, opts: H2RawConnectOptions) {
    this.socket = socket;
    this.#opts = {
      sendPreface: opts.sendPreface ?? true,
      autoAckSettings: opts.autoAckSettings ?? true,
      autoAckPing: opts.autoAckPing ?? true,
      keepFrames: opts.keepFrames ?? true,
    };
    socket.on("error", (err: Error) => this.errors.push(err));
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    this.closed = new Promise((resolve) => {
      socket.once("close", (hadError: boolean) => {
        this.#isClosed = true;
        this.#closeInfo = { at: Date.now(), hadError };
        resolve(this.#closeInfo);
        for (const w of [...this.#waiters]) w(undefined, -1);
      });
    });
  }

  /** Connects to `host:port` (TCP_NODELAY on) and, by default, sends the preface and an empty SETTINGS. */
  static connect(port: number, opts: H2RawConnectOptions = {}): Promise<H2RawConn> {
    const host = opts.host ?? "127.0.0.1";
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`h2-raw: connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once("error", onError);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", onError);
        socket.setNoDelay(true);
        const conn = new H2RawConn(socket, opts);
        if (conn.#opts.sendPreface) conn.write(Buffer.concat([PREFACE, settings()]));
        resolve(conn);
      });
    });
  }

  /** True once the socket has closed (or been destroyed). */
  get isClosed(): boolean {
    return this.#isClosed || this.socket.destroyed;
  }

  /** Returns the next client stream id (1, 3, 5, …) and advances it. */
  nextStreamId(): number {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    return id;
  }

  /**
   * Writes bytes. Returns false (never throws) if the socket is closed or no longer writable;
   * otherwise true, even if the bytes were only buffered (see {@link writeAll} for backpressure).
   * Write errors such as EPIPE/ECONNRESET arrive asynchronously and are recorded in `errors`.
   */
  write(buf: Buffer): boolean {
    if (this.isClosed || !this.socket.writable) return false;
    try {
      this.socket.write(buf);
      return true;
    } catch (err) {
      this.errors.push(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  /**
   * Writes buffers in order, waiting for 'drain' whenever the socket's buffer is full. Resolves
   * true once everything was handed to the socket, false if the connection closed meanwhile.
   */
  async writeAll(bufs: Buffer[]): Promise<boolean> {
    for (const buf of bufs) {
      if (this.isClosed || !this.socket.writable) return false;
      let ok: boolean;
      try {
        ok = this.socket.write(buf);
      } catch (err) {
        this.errors.push(err instanceof Error ? err : new Error(String(err)));
        return false;
      }
      if (!ok && !(await this.#drainOrClose())) return false;
    }
    return !this.isClosed;
  }

  #drainOrClose(): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        this.socket.off("drain", onDrain);
        this.socket.off("close", onClose);
        resolve(ok);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(false);
      this.socket.on("drain", onDrain);
      this.socket.on("close", onClose);
    });
  }

  /** Opens `n` more octets of flow-control window on the connection and on `streamId`. */
  ackData(streamId: number, n: number): boolean {
    const parts = [windowUpdate(0, n)];
    if (streamId !== 0) parts.push(windowUpdate(streamId, n));
    return this.write(Buffer.concat(parts));
  }

  /** Destroys the socket (no GOAWAY). */
  close(): void {
    this.socket.destroy();
  }

  /** Frames received of one type. */
  count(type: number): number {
    return this.typeCounts.get(type) ?? 0;
  }

  /** DATA octets received on one stream (padding excluded). */
  bodyLength(streamId: number): number {
    let n = 0;
    for (const b of this.bodies.get(streamId) ?? []) n += b.length;
    return n;
  }

  /** A one-line account of what was received, for error messages. */
  summary(): string {
    const types = [...this.typeCounts].map(([t, n]) => `${frameTypeName(t)}×${n}`).join(", ") || "none";
    const parts = [`frames received: ${types}`];
    if (this.goaways.length) parts.push(`goaways: ${this.goaways.map((g) => `${errorName(g.errorCode)}(last=${g.lastStreamId}${g.debug ? `, "${g.debug}"` : ""})`).join(", ")}`);
    if (this.resets.size) parts.push(`resets: ${[...this.resets].map(([s, c]) => `${s}:${errorName(c)}`).join(", ")}`);
    parts.push(this.isClosed ? `socket closed${this.#closeInfo?.hadError ? " with error" : ""}` : "socket open");
    if (this.errors.length) parts.push(`socket errors: ${this.errors.map((e) => (e as NodeJS.ErrnoException).code ?? e.message).join(", ")}`);
    if (this.protocolErrors.length) parts.push(`protocol errors: ${this.protocolErrors.join("; ")}`);
    return parts.join("; ");
  }

  /**
   * Resolves with the first frame matching `pred` among those received at index ≥ `fromIndex`
   * (already received or future; pass `conn.frameCount` to only consider frames not yet
   * received). With `keepFrames: false` only future frames can match. Rejects on timeout or when
   * the socket closes without a match, with a summary of what was received.
   */
  nextFrame(pred: (f: Frame) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<Frame> {
    for (let i = fromIndex; i < this.frames.length; i++) {
      const f = this.frames[i];
      if (f && pred(f)) return Promise.resolve(f);
    }
    return new Promise((resolve, reject) => {
      const settle = (err: Error | undefined, f?: Frame): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (err) reject(err);
        else if (f) resolve(f);
      };
      const waiter: Waiter = (f, index) => {
        if (f === undefined) {
          settle(new Error(`h2-raw: connection closed before the awaited frame arrived (${this.summary()})`));
          return;
        }
        if (index < fromIndex) return;
        let match: boolean;
        try {
          match = pred(f);
        } catch (err) {
          settle(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (match) settle(undefined, f);
      };
      const timer = setTimeout(() => settle(new Error(`h2-raw: no matching frame within ${timeoutMs} ms (${this.summary()})`)), timeoutMs);
      if (this.isClosed) {
        settle(new Error(`h2-raw: connection already closed, no matching frame (${this.summary()})`));
        return;
      }
      this.#waiters.add(waiter);
    });
  }

  /**
   * Resolves with the first truthy value `cond` returns; it is evaluated now and after every
   * received frame and at close. Rejects if `cond` throws, on timeout, or when the connection
   * closes while `cond` is still falsy. `what` names the wait in error messages.
   */
  until<T>(cond: () => T | undefined | null | false, timeoutMs = 5000, what = "condition"): Promise<T> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (err: Error | undefined, value?: T): void => {
        if (timer) clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (err) reject(err);
        else resolve(value as T);
      };
      const check = (): boolean => {
        let v: T | undefined | null | false;
        try {
          v = cond();
        } catch (err) {
          settle(err instanceof Error ? err : new Error(String(err)));
          return true;
        }
        if (v !== undefined && v !== null && v !== false) {
          settle(undefined, v);
          return true;
        }
        if (this.isClosed) {
          settle(new Error(`h2-raw: connection closed while waiting for ${what} (${this.summary()})`));
          return true;
        }
        return false;
      };
      const waiter: Waiter = () => {
        check();
      };
      if (check()) return;
      timer = setTimeout(() => settle(new Error(`h2-raw: timed out after ${timeoutMs} ms waiting for ${what} (${this.summary()})`)), timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /**
   * Waits for the response on `streamId` to end (END_STREAM), then returns status, headers and
   * body. Rejects if the stream is reset (message names the error code), if a GOAWAY says the
   * stream was not processed, on close, or on timeout.
   */
  response(streamId: number, timeoutMs = 5000): Promise<H2Response> {
    return this.until<H2Response>(
      () => {
        if (this.endedStreams.has(streamId)) {
          const headers = this.responseHeaders.get(streamId) ?? [];
          const status = Number(headers.find(([n]) => n === ":status")?.[1] ?? 0);
          return { status, headers, body: Buffer.concat(this.bodies.get(streamId) ?? []) };
        }
        const code = this.resets.get(streamId);
        if (code !== undefined) throw new Error(`h2-raw: stream ${streamId} was reset: ${errorName(code)} (${code})`);
        const ga = this.goaways.find((g) => g.lastStreamId < streamId);
        if (ga)
          throw new Error(
            `h2-raw: stream ${streamId} was not processed: GOAWAY ${errorName(ga.errorCode)} with last-stream-id ${ga.lastStreamId}${ga.debug ? ` ("${ga.debug}")` : ""}`,
          );
        return undefined;
      },
      timeoutMs,
      `the response on stream ${streamId}`,
    );
  }

  // --- receiving ------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 9) {
      const length = buf.readUIntBE(off, 3);
      if (buf.length - off < 9 + length) break;
      const f: Frame = {
        type: buf[off + 3] ?? 0,
        flags: buf[off + 4] ?? 0,
        streamId: buf.readUInt32BE(off + 5) & 0x7fffffff,
        length,
        payload: buf.subarray(off + 9, off + 9 + length),
      };
      off += 9 + length;
      this.#receive(f);
    }
    // Copy the incomplete tail so a large chunk is not kept alive by a few leftover bytes.
    this.#pending = off < buf.length ? Buffer.from(buf.subarray(off)) : EMPTY;
  }

  #receive(f: Frame): void {
    const index = this.frameCount++;
    this.typeCounts.set(f.type, (this.typeCounts.get(f.type) ?? 0) + 1);
    if (this.#opts.keepFrames) this.frames.push(f);
    try {
      this.#interpret(f);
    } catch (err) {
      this.protocolErrors.push(`${frameTypeName(f.type)} on stream ${f.streamId}: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const w of [...this.#waiters]) w(f, index);
  }

  #interpret(f: Frame): void {
    if (this.#block && f.type !== FrameType.CONTINUATION) {
      this.protocolErrors.push(`${frameTypeName(f.type)} interrupted the header block of stream ${this.#block.streamId}`);
    }
    switch (f.type) {
      case FrameType.DATA: {
        this.dataBytesReceived += f.length;
        const body = unpad(f);
        let list = this.bodies.get(f.streamId);
        if (!list) this.bodies.set(f.streamId, (list = []));
        list.push(body);
        if (f.flags & Flag.END_STREAM) this.endedStreams.add(f.streamId);
        break;
      }
      case FrameType.HEADERS: {
        let frag = unpad(f);
        if (f.flags & Flag.PRIORITY) frag = frag.subarray(5);
        this.#startBlock({ streamId: f.streamId, kind: "headers", endStream: (f.flags & Flag.END_STREAM) !== 0, promisedId: 0, chunks: [frag] }, f.flags);
        break;
      }
      case FrameType.PUSH_PROMISE: {
        const body = unpad(f);
        if (body.length < 4) throw new RangeError("PUSH_PROMISE shorter than 4 octets");
        const promisedId = body.readUInt32BE(0) & 0x7fffffff;
        this.#startBlock({ streamId: f.streamId, kind: "push", endStream: false, promisedId, chunks: [body.subarray(4)] }, f.flags);
        break;
      }
      case FrameType.CONTINUATION: {
        const block = this.#block;
        if (!block || block.streamId !== f.streamId) throw new Error("CONTINUATION without a header block in progress on this stream");
        block.chunks.push(f.payload);
        if (f.flags & Flag.END_HEADERS) this.#finishBlock(block);
        break;
      }
      case FrameType.RST_STREAM:
        this.resets.set(f.streamId, parseRstStream(f.payload));
        break;
      case FrameType.SETTINGS:
        if (f.flags & Flag.ACK) {
          this.settingsAcks++;
        } else {
          const parsed = parseSettings(f.payload);
          this.serverSettings ??= parsed;
          if (this.#opts.autoAckSettings) this.write(settingsAck());
        }
        break;
      case FrameType.PING:
        if (!(f.flags & Flag.ACK) && this.#opts.autoAckPing) this.write(ping(f.payload, true));
        break;
      case FrameType.GOAWAY:
        this.goaways.push(parseGoaway(f.payload));
        break;
      default:
        break;
    }
  }

  #startBlock(block: PendingBlock, flags: number): void {
    this.#block = undefined;
    if (flags & Flag.END_HEADERS) this.#finishBlock(block);
    else this.#block = block;
  }

  #finishBlock(block: PendingBlock): void {
    this.#block = undefined;
    const list = this.hpack.decode(Buffer.concat(block.chunks));
    if (block.kind === "push") {
      this.pushPromises.set(block.promisedId, list);
      return;
    }
    const id = block.streamId;
    const status = list.find(([n]) => n === ":status")?.[1];
    if (status !== undefined && /^1\d\d$/.test(status)) {
      let infos = this.informational.get(id);
      if (!infos) this.informational.set(id, (infos = []));
      infos.push(list);
    } else if (!this.responseHeaders.has(id)) {
      this.responseHeaders.set(id, list);
    } else {
      this.trailers.set(id, list);
    }
    if (block.endStream) this.endedStreams.add(id);
  }
}

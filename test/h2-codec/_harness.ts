// The test harness of H2ServerConnection without sockets: a handler that records every event,
// and a parser of the frames the connection wrote.
import { PREFACE, settings } from "../_shared/h2-raw/index.ts";
import { FrameType, type H2ConnectionOptions, type H2Error, type H2Handler, type H2RequestHead, H2ServerConnection } from "../../src/core/http2/index.ts";

/** A frame the server wrote. */
export interface OutFrame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

/** A connection with a handler that records everything, and a parser of what it wrote. */
export function harness(options: H2ConnectionOptions = {}, react: (c: H2ServerConnection, id: number, head: H2RequestHead) => void = () => {}) {
  const events: string[] = [];
  let out = Buffer.alloc(0);
  let closed: H2Error | null | undefined;
  const handler: H2Handler = {
    write: (b) => {
      out = Buffer.concat([out, b]);
    },
    onRequest: (id, head, end) => {
      events.push(`request ${id} ${head.method} ${head.path}${end ? " end" : ""}`);
      react(conn, id, head);
    },
    onData: (id, b) => events.push(`data ${id} ${b.length}`),
    onEnd: (id, trailers) => events.push(`end ${id}${trailers ? ` ${trailers.join(",")}` : ""}`),
    onReset: (id, code) => events.push(`reset ${id} ${code}`),
    onDrain: (id) => events.push(`drain ${id}`),
    onClose: (e) => {
      closed = e;
      events.push(`close ${e === null ? "ok" : e.code}`);
    },
  };
  const conn = new H2ServerConnection(handler, options);
  conn.start();
  /** Frames written since the last call. */
  const frames = (): OutFrame[] => {
    const list: OutFrame[] = [];
    let p = 0;
    while (p + 9 <= out.length) {
      const len = out.readUIntBE(p, 3);
      list.push({ type: out[p + 3]!, flags: out[p + 4]!, id: out.readUInt32BE(p + 5) & 0x7fffffff, payload: out.subarray(p + 9, p + 9 + len) });
      p += 9 + len;
    }
    out = Buffer.alloc(0);
    return list;
  };
  const open = (): void => {
    conn.receive(Buffer.concat([PREFACE, settings()]));
    frames();
  };
  return { conn, events, frames, open, closed: () => closed };
}

/** DATA octets written on stream `id`. */
export const dataBytes = (frames: OutFrame[], id: number): number => frames.filter((f) => f.type === FrameType.DATA && f.id === id).reduce((n, f) => n + f.payload.length, 0);

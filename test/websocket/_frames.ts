// A raw-socket WebSocket client for protocol violations: the handshake by hand, frames written
// byte by byte (test-only; the server never uses a hand-written codec), and the server's close
// code read back.
import { connect, type Socket } from "node:net";

export interface FrameOptions {
  fin?: boolean;
  /** Client frames must be masked (RFC 6455 §5.3); `false` sends an unmasked one. */
  mask?: boolean;
}

/** One frame: opcode, payload, FIN and mask as asked (7-bit or 16-bit length). */
export function frame(opcode: number, payload: Buffer, opts: FrameOptions = {}): Buffer {
  const fin = opts.fin ?? true;
  const mask = opts.mask ?? true;
  const len = payload.length;
  const head =
    len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | 126, len >> 8, len & 0xff]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, body]);
}

export interface RawWs {
  readonly socket: Socket;
  /** Resolves with the status code of the server's close frame (or null when the connection ended without one). */
  closeCode(timeoutMs?: number): Promise<number | null>;
}

/** Opens `path` with a hand-made handshake; resolves once the 101 is read. */
export function rawWs(port: number, path: string): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let onFrames: (() => void) | null = null;
    socket.on("error", () => {});
    const timer = setTimeout(() => reject(new Error("no 101 in 5 s")), 5000);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end === -1) return;
        const head = buf.subarray(0, end).toString("latin1");
        buf = buf.subarray(end + 4);
        clearTimeout(timer);
        if (!head.startsWith("HTTP/1.1 101")) return reject(new Error(`no 101: ${head.split("\r\n")[0]}`));
        upgraded = true;
        resolve({
          socket,
          closeCode(timeoutMs = 5000) {
            return new Promise((done, fail) => {
              const t = setTimeout(() => fail(new Error(`no close frame in ${timeoutMs} ms`)), timeoutMs);
              const check = (): void => {
                // Skip frames until a close frame (opcode 8); server frames are unmasked.
                let at = 0;
                while (buf.length - at >= 2) {
                  const op = buf[at]! & 0x0f;
                  const len7 = buf[at + 1]! & 0x7f;
                  const [len, off] = len7 === 126 ? [buf.readUInt16BE(at + 2), 4] : [len7, 2];
                  if (buf.length - at < off + len) return;
                  if (op === 8) {
                    clearTimeout(t);
                    return done(len >= 2 ? buf.readUInt16BE(at + off) : null);
                  }
                  at += off + len;
                }
              };
              onFrames = check;
              socket.once("close", () => {
                check();
                clearTimeout(t);
                done(null);
              });
              check();
            });
          },
        });
      }
      onFrames?.();
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

import { type BodyDeadline, bodyAborted, declaredLength, shortBody } from "../../core/body.ts";
import type { TakoError } from "../../core/errors.ts";
import { H2Request } from "./h2-request.ts";
import type { AddonStream } from "./h3-addon.ts";
import { goneReason } from "./request.ts";

/**
 * The request view over an HTTP/3 request stream: the HTTP/2 view (the same pseudo-headers,
 * `Host` from `:authority`, bodies read from the Duplex), with what the addon's stream does not
 * report (the status sent, the reset code) kept here.
 */
export class H3Request extends H2Request<AddonStream> {
  /** The status sent, 0 until the response headers went out (set by the write path). */
  status = 0;

  /**
   * A whole body is checked against its Content-Length: the addon does not (a streamed read is
   * checked in core/body.ts). A request whose DATA does not add up to it is malformed (RFC 9114
   * §4.1.2): 400, never a truncated body handed to the handler as if complete. Seen on Deno: a
   * 1 MiB upload's stream ended with none of its data (2 of 3 full-suite runs, never alone).
   */
  protected override readWhole<T>(limit: number, deadline: BodyDeadline | null, finish: (bytes: Uint8Array) => T): Promise<T> {
    const declared = declaredLength(this.header("content-length"));
    if (declared === null) return super.readWhole(limit, deadline, finish);
    return super.readWhole(limit, deadline, (bytes) => {
      if (bytes.byteLength < declared) throw shortBody(bytes.byteLength, declared);
      if (bytes.byteLength > declared) throw bodyAborted(new Error(`the body carried ${bytes.byteLength} bytes, more than its ${declared} declared`));
      return finish(bytes);
    });
  }

  /**
   * The client is gone when the stream closes before the whole response was handed to the
   * addon: the client reset it, or its connection closed (idle timeout, the drain deadline).
   */
  protected override watchClient(abort: (reason: TakoError) => void): void {
    const stream = this.native;
    const gone = (): void => {
      if (!this.isAnswered) abort(goneReason(this.facts.served, "the HTTP/3 stream closed before the response was complete"));
    };
    if (stream.closed || stream.destroyed) return gone();
    stream.once("close", gone);
  }

  /** Complete when the stream closes after the whole response was handed over. */
  override watchResponse(done: (status: number, complete: boolean) => void): void {
    const stream = this.native;
    const end = (): void => done(this.status, this.isAnswered);
    if (stream.closed || stream.destroyed) return end();
    stream.once("close", end);
  }
}

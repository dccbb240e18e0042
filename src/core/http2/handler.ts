/** What a connection is configured with, and what it reports to the code that owns the socket. */

import type { H2Error } from "./errors.ts";
import type { H2RequestHead } from "./request.ts";

/** Limits and windows of a connection; the `max*` ones are tako's `h2*` config fields. */
export interface H2ConnectionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS; a stream beyond it gets RST_STREAM REFUSED_STREAM. Default 100. */
  maxConcurrentStreams?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE; a request over it is answered 431. Default 16 KiB. */
  maxHeaderListSize?: number;
  /** Queued response octets per stream past which `sendData` says "wait for onDrain". Default 1 MiB. */
  maxSendBufSize?: number;
  /** Streams the peer may reset before their response, net of responses completed. Default 50. */
  maxPendingAcceptResetStreams?: number;
  /**
   * SETTINGS_INITIAL_WINDOW_SIZE: what the peer may send on a stream before the application
   * reads it. Default 256 KiB; at least 65,535 (the window a peer may use before it has our
   * SETTINGS), smaller values are raised to it.
   */
  initialWindowSize?: number;
  /** The connection's receive window, over all streams. Default 1 MiB. */
  connectionWindowSize?: number;
  /** Huffman-code response header literals where shorter. Default false. */
  huffman?: boolean;
  /**
   * How long (ms) the peer has to acknowledge our SETTINGS before {@link H2ServerConnection.sweep}
   * ends the connection with GOAWAY SETTINGS_TIMEOUT (RFC 9113 §6.5.3). Default 10 s;
   * `Infinity` turns it off.
   */
  settingsTimeout?: number;
  /** Clock of the abuse budgets and the SETTINGS deadline (ms). Default `Date.now`. */
  now?: () => number;
}

/** What the connection reports to the code that owns the socket and the application. */
export interface H2Handler {
  /** Bytes to send, in order. The connection does not touch them again. */
  write(bytes: Uint8Array): void;
  /** A request head. With `endStream`, no body follows and {@link onEnd} is not called. */
  onRequest(streamId: number, head: H2RequestHead, endStream: boolean): void;
  /** Body bytes: a view of the input, valid during this call only. Call `consume` when done with them. */
  onData(streamId: number, bytes: Uint8Array): void;
  /** The request body ended; `trailers` is the trailer section (`[name, value, …]`) or null. */
  onEnd(streamId: number, trailers: readonly string[] | null): void;
  /**
   * The stream ended early: reset by the peer or refused by a stream error before its response
   * was complete, the connection ended, or (code NO_ERROR) the response completed while the
   * request body was still arriving, which the client is then told to stop sending.
   */
  onReset(streamId: number, code: number): void;
  /** `sendData` returned false on this stream earlier; it has room again. */
  onDrain(streamId: number): void;
  /** The connection is over: `null` after a graceful GOAWAY once the streams finished, else the error GOAWAY carried. Close the socket after the last write. */
  onClose(error: H2Error | null): void;
  /** A PING this side sent was answered. */
  onPingAck?(payload: Uint8Array): void;
}

/** One HTTP/2 stream's state as {@link H2ServerConnection} keeps it. */

/** No response header block sent yet. */
export const SEND_IDLE = 0;
/** Response headers sent; DATA may follow. */
export const SEND_OPEN = 1;
/** END_STREAM queued (`end` given): no more DATA from the application. */
export const SEND_ENDING = 2;
/** END_STREAM written. */
export const SEND_DONE = 3;

/** Stream state; fields are assigned in the constructor so every stream has one shape. */
export class H2Stream {
  readonly id: number;
  /** The peer may still send (no END_STREAM yet): open or half-closed (local). */
  recvOpen = true;
  /** One of SEND_IDLE … SEND_DONE. */
  send = SEND_IDLE;
  /** The application knows the stream (onRequest was called). */
  delivered = false;
  /** Flow-control window the peer may still fill on this stream. */
  recvWindow: number;
  /** Octets the application consumed and not yet returned with WINDOW_UPDATE. */
  unacked = 0;
  /** Octets handed to the application and not yet consumed. */
  outstanding = 0;
  /** Flow-control window we may still send into. */
  sendWindow: number;
  /** Declared content-length, or -1. */
  contentLength = -1;
  /** DATA octets received (padding excluded). */
  received = 0;
  /** Queued response bytes waiting for a window or the socket: chunks, the offset into the first, the total. */
  backlog: Uint8Array[] = [];
  backlogOffset = 0;
  backlogBytes = 0;
  /** Trailers to send after the last DATA, or null. */
  trailers: readonly string[] | null = null;
  /** `sendData` said "full": call onDrain once the backlog is below the limit. */
  wantDrain = false;
  /** Counted in the rapid-reset budget until its response completes. */
  pendingAccept = true;

  constructor(id: number, recvWindow: number, sendWindow: number) {
    this.id = id;
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }
}

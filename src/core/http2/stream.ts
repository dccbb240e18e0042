/** One HTTP/2 stream's state as {@link H2ServerConnection} keeps it. */

/**
 * What a send window has handed out and had back: `unreturned` DATA octets sent on it that no
 * WINDOW_UPDATE has returned yet, and whether the peer already `granted` window beyond them.
 */
export interface SendCredit {
  unreturned: number;
  granted: boolean;
}

/** A WINDOW_UPDATE smaller than this does no work (honest peers return half a window at a time). */
export const MIN_INCREMENT = 1024;

/**
 * A WINDOW_UPDATE of `increment` on window `w`: true when it does no work, that is when it
 * returns fewer than {@link MIN_INCREMENT} octets, or returns none of the octets we sent and
 * is not the window's first such grant. Peers return window as they consume what we sent, so
 * honest updates return octets; a flood of them on a window we do not use, or of 1-octet
 * increments, does not.
 */
export function idleWindowUpdate(w: SendCredit, increment: number): boolean {
  const returned = Math.min(increment, w.unreturned);
  w.unreturned -= returned;
  if (returned === 0) {
    if (w.granted) return true;
    w.granted = true;
  }
  return increment < MIN_INCREMENT;
}

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
  /** DATA octets sent on the stream and not yet returned by a WINDOW_UPDATE (see {@link SendCredit}). */
  unreturned = 0;
  /** The peer granted window beyond what we sent once already. */
  granted = false;
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

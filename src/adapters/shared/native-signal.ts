import { FetchRequest } from "../../core/fetch-request.ts";
import { clientGone, drainDeadline, type TakoError } from "../../core/errors.ts";

/**
 * The requests of one server whose runtime aborts the Fetch request's own signal when the client
 * is gone (Bun's HTTP/3, Deno's server), and the drain deadline that gives them all up at once.
 */
export class WatchedRequests {
  readonly handlerTimeout: number | null;
  /** Set at the drain deadline. */
  forced = false;
  /** Requests whose signal is read and whose response is not complete yet. */
  readonly watched = new Set<NativeSignalRequest>();

  constructor(handlerTimeout: number | null) {
    this.handlerTimeout = handlerTimeout;
  }

  /** The drain deadline: every watched request is given up. */
  force(): void {
    this.forced = true;
    for (const r of this.watched) r.abortSignal(drainDeadline());
    this.watched.clear();
  }
}

/**
 * A Fetch request whose runtime aborts its native signal when the client leaves, and may also
 * abort it after a complete response (Deno's "legacy abort" on success): once the engine calls
 * {@link finished}, a later abort is not the client leaving and is ignored.
 */
export class NativeSignalRequest extends FetchRequest {
  readonly #requests: WatchedRequests;
  #finished = false;

  constructor(native: Request, requests: WatchedRequests) {
    super(native, null);
    this.#requests = requests;
  }

  override handlerTimeout(): number | null {
    return this.#requests.handlerTimeout;
  }

  /** Whether {@link finished} was called. */
  protected get isFinished(): boolean {
    return this.#finished;
  }

  /** The response is complete: the runtime's later abort of the native signal is ignored. */
  finished(): void {
    this.#finished = true;
    this.#requests.watched.delete(this);
  }

  /** The client leaving (the runtime aborts the native signal) or the drain deadline. */
  protected override watchClient(abort: (reason: TakoError) => void): void {
    if (this.#finished) return;
    const requests = this.#requests;
    if (requests.forced) return abort(drainDeadline());
    const native = this.raw.signal;
    const gone = (): void => {
      if (this.#finished) return;
      requests.watched.delete(this);
      abort(requests.forced ? drainDeadline() : clientGone());
    };
    if (native.aborted) return gone();
    requests.watched.add(this);
    native.addEventListener("abort", gone, { once: true });
  }
}

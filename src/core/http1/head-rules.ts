import type { HttpError } from "../errors.ts";
import { absoluteAuthority, absoluteFormProblem, HEAD_PROBLEMS, isValidHost, refuseHead } from "../request-rules.ts";
import type { Http1RequestHead } from "./parser.ts";

/**
 * The head rules of core/request-rules.ts that sit above the parser (Host and the authority of
 * an absolute-form target), for a head the HTTP/1.1 codec read: the refusal to answer, or
 * null. The version and Transfer-Encoding rules are the parser's own. The same checks as the
 * node:http path applies to `IncomingMessage` (adapters/node/request.ts), on the codec's raw
 * header list.
 */
export function headProblem(head: Http1RequestHead): HttpError | null {
  const raw = head.headers;
  let host: string | undefined;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && (name === "Host" || name === "host" || name.toLowerCase() === "host")) {
      host = raw[i + 1]!;
      hosts++;
    }
  }
  if (host === undefined) {
    if (head.versionMinor !== 0) return refuseHead(400, HEAD_PROBLEMS.missingHost);
  } else {
    if (hosts > 1) return refuseHead(400, HEAD_PROBLEMS.duplicateHost);
    if (!isValidHost(host)) return refuseHead(400, HEAD_PROBLEMS.invalidHost);
  }
  const target = head.target;
  if (target.charCodeAt(0) !== 47 && absoluteAuthority(target) !== null) {
    const problem = absoluteFormProblem(target);
    if (problem !== null) return refuseHead(400, problem);
  }
  return null;
}

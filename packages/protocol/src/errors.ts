/**
 * Errors raised by the protocol package. Each carries a stable `code` so callers can branch on
 * it without string matching on messages.
 */

/** A frame that is not a msgpack map with a string `op` and an integer `seq_number`. */
export class ProtocolError extends Error {
  readonly code: string = 'PROTOCOL_ERROR';
  override name = 'ProtocolError';
}

/**
 * The peer answered a request with `is_exception: true`. `message` is the peer's result text,
 * unchanged (Buildbot sends `str(exception)`).
 */
export class RemoteError extends Error {
  readonly code: string = 'REMOTE_ERROR';
  override name = 'RemoteError';
}

/** The connection closed (or the peer was closed) while a request was waiting for its response. */
export class ConnectionClosedError extends Error {
  readonly code: string = 'CONNECTION_CLOSED';
  override name = 'ConnectionClosedError';
}

/** A request got no response within the peer's `requestTimeoutMs`. */
export class RequestTimeoutError extends Error {
  readonly code: string = 'REQUEST_TIMEOUT';
  override name = 'RequestTimeoutError';
}

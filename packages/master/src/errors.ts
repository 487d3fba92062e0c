/**
 * The one error base class of the master. Every error a user can see carries a stable
 * `code` (for REST bodies and logs) and a message that says what failed, names the object
 * and ends with a way forward.
 */
export class YardmasterError extends Error {
  readonly code: string;
  /** HTTP status to use when this error reaches the REST API. */
  readonly httpStatus: number;

  constructor(code: string, message: string, options?: { cause?: unknown; httpStatus?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = options?.httpStatus ?? 500;
  }
}

/** A request named something that does not exist (REST 404). */
export class NotFoundError extends YardmasterError {
  constructor(message: string) {
    super('not_found', message, { httpStatus: 404 });
  }
}

/** A request was malformed or asked for something impossible (REST 400). */
export class BadRequestError extends YardmasterError {
  constructor(message: string, code = 'bad_request') {
    super(code, message, { httpStatus: 400 });
  }
}

/** The few typed errors routes and lib raise; lib/error-handler maps them to status + Akkeris JSON body. */
export class HttpError extends Error {
  constructor(public status: number, public id: string, message: string) {
    super(message);
    this.name = new.target.name;
  }
}
export class BadRequest extends HttpError {
  constructor(message: string) {
    super(400, 'bad_request', message);
  }
}
export class Unauthorized extends HttpError {
  constructor(message = 'Unauthorized') {
    super(401, 'unauthorized', message);
  }
}
export class Forbidden extends HttpError {
  constructor(message = 'Forbidden') {
    super(403, 'forbidden', message);
  }
}
export class NotFound extends HttpError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}
export class Conflict extends HttpError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}
export class Unprocessable extends HttpError {
  constructor(message: string) {
    super(422, 'unprocessable_entity', message);
  }
}
/** A limit of this node was reached (open streams, Kafka read-backs): retry after `retryAfterSeconds` (the raiser sets `Retry-After`). */
export class TooManyRequests extends HttpError {
  constructor(message: string, public retryAfterSeconds = 5) {
    super(429, 'rate_limited', message);
  }
}
/** A backend (Kafka, InfluxDB, PostgreSQL, upstream) is down: the message names it. */
export class Unavailable extends HttpError {
  constructor(public dependency: string, detail?: string) {
    super(503, 'service_unavailable', `${dependency} is unavailable${detail ? `: ${detail}` : ''}.`);
  }
}

export const appNotFound = (app: string) => new NotFound(`The specified application ${app} does not exist.`);

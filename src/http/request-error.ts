/** A client error with the HTTP status to answer; its message goes back to the caller as is. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * @module errors/aws-error
 * The base of every error a client can see. Only `protocol/serialize-error.ts` knows how it is
 * written on the wire.
 */
export class AwsError extends Error {
  /** The error code sent as `__type` and `X-Amzn-ErrorType`, e.g. `ResourceNotFoundException`. */
  readonly code: string
  readonly statusCode: number

  constructor(code: string, message: string, statusCode = 400) {
    super(message)
    this.name = code
    this.code = code
    this.statusCode = statusCode
  }

  /** Client errors are the caller's fault (4xx); only 5xx errors are Junction's. */
  get senderFault(): boolean {
    return this.statusCode < 500
  }
}

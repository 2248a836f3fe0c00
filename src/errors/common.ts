/**
 * @module errors/common
 * Errors that are not in the service models: protocol, authentication and throttling errors that
 * every AWS JSON service answers with (spec §1).
 */
import { AwsError } from './aws-error.js'

/** An error class with a fixed code and HTTP status. */
export const defineError = (code: string, status: number) =>
  class extends AwsError {
    constructor(message: string) {
      super(code, message, status)
    }
  }

export const UnknownOperationException = defineError('UnknownOperationException', 400)
export const MissingAction = defineError('MissingAction', 400)
export const SerializationException = defineError('SerializationException', 400)
export const ValidationException = defineError('ValidationException', 400)
export const MissingAuthenticationTokenException = defineError(
  'MissingAuthenticationTokenException',
  403,
)
export const IncompleteSignatureException = defineError('IncompleteSignatureException', 400)
export const InvalidSignatureException = defineError('InvalidSignatureException', 403)
export const UnrecognizedClientException = defineError('UnrecognizedClientException', 403)
export const ExpiredTokenException = defineError('ExpiredTokenException', 403)
export const RequestEntityTooLargeException = defineError('RequestEntityTooLargeException', 413)
export const NotFoundException = defineError('NotFoundException', 404)
export const MethodNotAllowedException = defineError('MethodNotAllowedException', 405)
export const InternalFailure = defineError('InternalFailure', 500)

/**
 * @module errors/common
 * Errors that are not in the service models: protocol, authentication and throttling errors that
 * every AWS JSON service answers with (spec §1).
 */
import { AwsError } from './aws-error.js'

const define = (code: string, status: number) =>
  class extends AwsError {
    constructor(message: string) {
      super(code, message, status)
    }
  }

export const UnknownOperationException = define('UnknownOperationException', 400)
export const MissingAction = define('MissingAction', 400)
export const SerializationException = define('SerializationException', 400)
export const ValidationException = define('ValidationException', 400)
export const MissingAuthenticationTokenException = define(
  'MissingAuthenticationTokenException',
  403,
)
export const IncompleteSignatureException = define('IncompleteSignatureException', 400)
export const InvalidSignatureException = define('InvalidSignatureException', 403)
export const UnrecognizedClientException = define('UnrecognizedClientException', 403)
export const ExpiredTokenException = define('ExpiredTokenException', 403)
export const RequestEntityTooLargeException = define('RequestEntityTooLargeException', 413)
export const NotFoundException = define('NotFoundException', 404)
export const MethodNotAllowedException = define('MethodNotAllowedException', 405)
export const InternalFailure = define('InternalFailure', 500)

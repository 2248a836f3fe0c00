/**
 * @module iam/api/errors
 * The IAM and STS errors with AWS's codes and HTTP statuses.
 */
import { AwsError } from '../../errors/aws-error.js'

const define = (code: string, status: number) =>
  class extends AwsError {
    constructor(message: string) {
      super(code, message, status)
    }
  }

export const NoSuchEntity = define('NoSuchEntity', 404)
export const EntityAlreadyExists = define('EntityAlreadyExists', 409)
export const MalformedPolicyDocument = define('MalformedPolicyDocument', 400)
export const LimitExceeded = define('LimitExceeded', 409)
export const DeleteConflict = define('DeleteConflict', 409)
export const InvalidInput = define('InvalidInput', 400)
export const PackedPolicyTooLarge = define('PackedPolicyTooLarge', 400)

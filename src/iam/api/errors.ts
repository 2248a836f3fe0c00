/**
 * @module iam/api/errors
 * The IAM and STS errors with AWS's codes and HTTP statuses.
 */
import { defineError as define } from '../../errors/common.js'

export const NoSuchEntity = define('NoSuchEntity', 404)
export const EntityAlreadyExists = define('EntityAlreadyExists', 409)
export const MalformedPolicyDocument = define('MalformedPolicyDocument', 400)
export const LimitExceeded = define('LimitExceeded', 409)
export const DeleteConflict = define('DeleteConflict', 409)
export const InvalidInput = define('InvalidInput', 400)
export const PackedPolicyTooLarge = define('PackedPolicyTooLarge', 400)

/**
 * @module iam/api
 * Every IAM and STS call Junction serves, by action name.
 */
import type { IamOperation } from './context.js'
import { policyOperations } from './policies.js'
import { roleOperations } from './roles.js'
import { simulateOperations } from './simulate.js'
import { stsOperations } from './sts.js'
import { userOperations } from './users.js'

export const iamOperations: Record<string, IamOperation> = {
  ...userOperations,
  ...roleOperations,
  ...policyOperations,
  ...simulateOperations,
  ...stsOperations,
}

export { iamValidation } from './validation.js'
export { IAM_LIMITS, type IamCallContext, type IamLimits } from './context.js'

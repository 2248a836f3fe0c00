/**
 * @module iam/api/context
 * What an IAM or STS handler receives, and how handlers are declared.
 */
import type { MasterKey } from '../../crypto/master-key.js'
import type { XmlObject } from '../../protocol/query/xml.js'
import type { Store } from '../../store/store.js'
import type { Authorizer } from '../authorizer.js'
import type { CredentialResolver } from '../credentials.js'
import type { Principal } from '../principal.js'

export interface IamLimits {
  users: number
  roles: number
  policies: number
  accessKeysPerUser: number
  attachedPoliciesPerPrincipal: number
  /** Non-whitespace characters of all inline policies of a user / role, and of a managed policy. */
  userInlineBytes: number
  roleInlineBytes: number
  managedPolicyBytes: number
}

export const IAM_LIMITS: IamLimits = {
  users: 5000,
  roles: 1000,
  policies: 1500,
  accessKeysPerUser: 2,
  attachedPoliciesPerPrincipal: 10,
  userInlineBytes: 2048,
  roleInlineBytes: 10240,
  managedPolicyBytes: 6144,
}

export interface IamCallContext {
  store: Store
  principal: Principal
  partition: string
  region: string
  masterKey: MasterKey
  authorizer: Authorizer
  credentials: CredentialResolver
  limits: IamLimits
  sourceIp: string | undefined
  now(): number
}

export type Input = Record<string, unknown>

export interface AuthorizeOn {
  action: string
  resource: string
}

export interface IamOperation {
  service: 'iam' | 'sts'
  /**
   * The IAM action and the resource's real ARN (path included, looked up when the resource
   * exists) to authorize before `handle`; undefined for calls every principal may make. It never
   * throws for a resource that does not exist: that is `handle`'s to say, once authorized.
   */
  authorize?(
    input: Input,
    ctx: IamCallContext,
  ): AuthorizeOn | undefined | Promise<AuthorizeOn | undefined>
  handle(input: Input, ctx: IamCallContext): Promise<XmlObject | undefined>
}

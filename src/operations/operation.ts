/**
 * @module operations/operation
 * What every operation file exports: a handler from the generated input type to the generated
 * output type. Handlers receive input that is already authenticated, validated against the model
 * and authorized; they never see HTTP.
 */
import type { OperationMap, OperationName } from '../generated/operations.js'
import type { ArnService } from '../domain/arn.js'
import type { PageTokens } from '../domain/pagination.js'
import type { Store } from '../store/store.js'
import { UnsupportedOperationException } from '../generated/errors.js'

export interface Limits {
  /** Connections per account (AWS: 250). */
  connections: number
  /** Hosts per account (AWS: 50). */
  hosts: number
  /** Tags per resource (AWS norm: 50). */
  tagsPerResource: number
}

export interface OperationContext {
  store: Store
  accountId: string
  region: string
  partition: string
  /** The ARN service prefix of the endpoint called; new resources get ARNs with it. */
  service: ArnService
  /** The caller, e.g. `arn:aws:iam::000000000000:root`. */
  principalArn: string
  limits: Limits
  /** How long a host with a VPC configuration stays `VPC_CONFIG_INITIALIZING`. */
  vpcInitDelayMs: number
  pageTokens: PageTokens
  now(): number
  /** Told after a connection is deleted (the pipelines engine stops its webhooks). */
  onConnectionDeleted: (() => void) | undefined
}

export type Input<K extends OperationName> = OperationMap[K]['input']
export type Output<K extends OperationName> = OperationMap[K]['output']

export interface Operation<K extends OperationName> {
  readonly name: K
  /** False for operations Junction does not implement yet: they answer UnsupportedOperation. */
  readonly supported: boolean
  handle(input: Input<K>, ctx: OperationContext): Promise<Output<K>>
}

export function defineOperation<K extends OperationName>(
  name: K,
  handle: (input: Input<K>, ctx: OperationContext) => Promise<Output<K>>,
): Operation<K> {
  return { name, supported: true, handle }
}

/** An operation of the models that Junction does not implement yet. */
export function notSupported<K extends OperationName>(name: K): Operation<K> {
  return {
    name,
    supported: false,
    handle: () => Promise.reject(notSupportedError(name)),
  }
}

export function notSupportedError(name: string): UnsupportedOperationException {
  return new UnsupportedOperationException(
    `${name} is not supported by Junction yet. Supported operations: CreateConnection, GetConnection, ListConnections, DeleteConnection, CreateHost, GetHost, ListHosts, UpdateHost, DeleteHost, TagResource, UntagResource, ListTagsForResource.`,
  )
}

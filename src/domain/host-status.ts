/**
 * @module domain/host-status
 * Host lifecycle. A host created or updated with a VPC configuration is `VPC_CONFIG_INITIALIZING`
 * until `statusSettlesAt`, then `PENDING` (Junction provisions no real VPC). The settled status is
 * derived on read, so it needs no timer and survives restarts.
 */
import type { HostRecord } from '../store/store.js'

export const TRANSITIONAL_HOST_STATUSES = [
  'VPC_CONFIG_INITIALIZING',
  'VPC_CONFIG_DELETING',
] as const

export function effectiveHostStatus(h: HostRecord, now: number): string {
  if (
    h.statusSettlesAt !== null &&
    now >= h.statusSettlesAt &&
    h.status === 'VPC_CONFIG_INITIALIZING'
  )
    return 'PENDING'
  return h.status
}

export function isTransitional(status: string): boolean {
  return (TRANSITIONAL_HOST_STATUSES as readonly string[]).includes(status)
}

export function isVpcStatus(status: string): boolean {
  return status.startsWith('VPC_CONFIG_')
}

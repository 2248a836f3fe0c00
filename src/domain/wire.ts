/**
 * @module domain/wire
 * Store records to the generated wire shapes. Members without a value are left out (never null).
 */
import type { Connection, Host, ProviderType, VpcConfiguration } from '../generated/shapes.js'
import type { ConnectionRecord, HostRecord, VpcConfigurationRecord } from '../store/store.js'
import { effectiveHostStatus } from './host-status.js'

/**
 * A connection as the API answers it. `OwnerAccountId` is the 12-digit account that owns the
 * connection, as AWS answers it (the model's `AccountId`); the provider-side owner (a Bitbucket
 * workspace) is shown by Junction's own `DescribeConnection` and the console.
 */
export function connectionToWire(c: ConnectionRecord): Connection {
  const out: Connection = {
    ConnectionName: c.name,
    ConnectionArn: c.arn,
    ProviderType: c.providerType as ProviderType,
    OwnerAccountId: c.accountId,
    ConnectionStatus: c.status as Connection['ConnectionStatus'],
  }
  if (c.hostArn) out.HostArn = c.hostArn
  return out
}

function vpcToWire(v: VpcConfigurationRecord): VpcConfiguration {
  const out: VpcConfiguration = {
    VpcId: v.VpcId,
    SubnetIds: [...v.SubnetIds],
    SecurityGroupIds: [...v.SecurityGroupIds],
  }
  if (v.TlsCertificate !== undefined) out.TlsCertificate = v.TlsCertificate
  return out
}

export function vpcFromWire(v: VpcConfiguration): VpcConfigurationRecord {
  const out: VpcConfigurationRecord = {
    VpcId: v.VpcId,
    SubnetIds: [...v.SubnetIds],
    SecurityGroupIds: [...v.SecurityGroupIds],
  }
  if (v.TlsCertificate !== undefined) out.TlsCertificate = v.TlsCertificate
  return out
}

/** The ListHosts form: every member, HostArn and StatusMessage included. */
export function hostToWire(h: HostRecord, now: number): Host {
  const out: Host = {
    Name: h.name,
    HostArn: h.arn,
    ProviderType: h.providerType as ProviderType,
    ProviderEndpoint: h.providerEndpoint,
    Status: effectiveHostStatus(h, now),
  }
  if (h.vpcConfiguration) out.VpcConfiguration = vpcToWire(h.vpcConfiguration)
  if (h.statusMessage) out.StatusMessage = h.statusMessage
  return out
}

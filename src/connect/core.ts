/**
 * @module connect/core
 * What every part of the connect service shares: its dependencies, who is calling, the
 * permission check, the provider of a connection, and making or attaching an installation. The
 * handshake (`handshake.ts`), completion without a browser (`complete.ts`) and the uses of a
 * connection (`service.ts`) are built on it.
 */
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import {
  InvalidInputException,
  ResourceNotFoundException,
  ResourceUnavailableException,
  UnsupportedProviderTypeException,
} from '../generated/errors.js'
import type { Authorizer } from '../iam/authorizer.js'
import { checkPermission, type PermissionOnlyAction } from '../iam/permissions.js'
import type { Principal } from '../iam/principal.js'
import {
  ProviderAuthFailed,
  ProviderError,
  ProviderNotFound,
  ProviderUnavailable,
} from '../providers/errors.js'
import type {
  CredentialReach,
  GitProvider,
  InstallationTarget,
  ProviderCredentials,
} from '../providers/provider.js'
import { ProviderRegistry, SUPPORTED_PROVIDERS } from '../providers/registry.js'
import type { ConnectionRecord, InstallationRecord, Store } from '../store/store.js'
import type { CredentialKeeper } from './credentials.js'
import type { Signer } from './signed.js'

export interface ConnectDeps {
  store: Store
  keeper: CredentialKeeper
  providers: ProviderRegistry
  authorizer: Authorizer
  signer: Signer
  /** The principal behind an access key (the handshake's later steps act as its starter). */
  principalOf(accessKeyId: string): Promise<Principal | undefined>
  /** The URL users and providers reach Junction at (known once the server listens). */
  publicUrl(): string
  region: string
  logger: Logger
  now(): number
}

/** Who asks, from where: every public method takes one. */
export interface Caller {
  principal: Principal
  sourceIp?: string
  /** The endpoint's IAM prefix for `*` resources. */
  service: 'codestar-connections' | 'codeconnections'
}

/**
 * The installation id for a reach: the workspace's own id for the whole workspace (shared by
 * every credential that reaches all of it), a distinct one for a project or a repository, so a
 * narrower credential never replaces the workspace's.
 */
export function installationIdFor(targetId: string, reach: CredentialReach | undefined): string {
  if (reach?.repository) return `${targetId}:repository:${reach.repository.toLowerCase()}`
  if (reach?.project) return `${targetId}:project:${reach.project}`
  return targetId
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** Maps adapter errors to AWS-shaped ones; never a 5xx for a provider's trouble. */
export function providerErrorToAws(err: unknown, what: string): unknown {
  if (!(err instanceof ProviderError)) return err
  if (err instanceof ProviderNotFound)
    return new ResourceNotFoundException(`${what}: ${err.message}`)
  if (err instanceof ProviderAuthFailed)
    return new ResourceUnavailableException(
      `${what}: the provider refused the credential (${err.message})`,
    )
  if (err instanceof ProviderUnavailable)
    return new ResourceUnavailableException(`${what}: ${err.message}; try again later`)
  return new InvalidInputException(`${what}: ${err.message}`)
}

/** The shared steps; one instance serves the handshake, completion and the uses. */
export class ConnectCore {
  constructor(readonly d: ConnectDeps) {}

  async check(
    caller: Caller,
    action: PermissionOnlyAction,
    resource: string,
    keys?: Record<string, string | undefined>,
  ): Promise<void> {
    const check: Parameters<typeof checkPermission>[1] = {
      principal: caller.principal,
      action,
      resource,
      service: caller.service,
      region: this.d.region,
      store: this.d.store,
    }
    if (keys) check.keys = keys
    if (caller.sourceIp) check.sourceIp = caller.sourceIp
    await checkPermission(this.d.authorizer, check)
  }

  async connection(caller: Caller, arn: string): Promise<ConnectionRecord> {
    const c = await this.d.store.connections.get(caller.principal.accountId, arn)
    if (!c) throw new ResourceNotFoundException(`Connection ${arn} does not exist`)
    return c
  }

  provider(type: string): GitProvider {
    const p = this.d.providers.get(type)
    if (!p)
      throw new UnsupportedProviderTypeException(
        `Junction cannot complete ${type} connections yet (providers with an adapter: ${SUPPORTED_PROVIDERS.join(', ')})`,
      )
    return p
  }

  /**
   * The adapter of a connection: its host's (`ProviderRegistry.forHost`: the host's endpoints,
   * app and TLS certificate) when it names a host, else its provider type's.
   */
  async providerOf(
    conn: Pick<ConnectionRecord, 'accountId' | 'providerType' | 'hostArn'>,
  ): Promise<GitProvider> {
    if (!conn.hostArn || !ProviderRegistry.hosted(conn.providerType))
      return this.provider(conn.providerType)
    const host = await this.d.store.hosts.get(conn.accountId, conn.hostArn)
    if (!host)
      throw new ResourceNotFoundException(`Host ${conn.hostArn} of the connection does not exist`)
    return this.d.keeper.forHost(host)
  }

  newInstallation(
    accountId: string,
    providerType: string,
    target: InstallationTarget,
    c: ProviderCredentials,
    installedBy: string,
    kind?: string,
    /** The host it is made on (a connection's HostArn), if any. */
    hostArn?: string | null,
  ): InstallationRecord {
    const now = this.d.now()
    return {
      ...(hostArn ? { hostArn } : {}),
      accountId,
      id: installationIdFor(target.id, c.reach),
      providerType,
      target: target.slug,
      targetName: target.name,
      credentialKind: kind ?? c.kind,
      credentialCiphertext: this.d.keeper.seal(c),
      credentialVersion: 1,
      expiresAt: c.expiresAt ?? null,
      status: 'AVAILABLE',
      statusReason: null,
      installedBy,
      createdAt: now,
      updatedAt: now,
    }
  }

  /** Saves (or replaces) the installation's credential and completes the connection with it. */
  async install(conn: ConnectionRecord, inst: InstallationRecord): Promise<void> {
    await this.d.store.installations.upsert(inst)
    // A new credential heals every connection already sharing the installation.
    await this.d.store.installations.setStatus(
      inst.accountId,
      inst.id,
      'AVAILABLE',
      null,
      this.d.now(),
    )
    await this.attach(conn, inst)
  }

  async attach(conn: ConnectionRecord, inst: InstallationRecord): Promise<void> {
    const ok = await this.d.store.connections.attachInstallation(conn.accountId, conn.arn, inst)
    if (!ok) throw new ResourceNotFoundException(`Connection ${conn.arn} does not exist`)
    this.d.logger.info(
      { connection: conn.arn, installation: inst.id, target: inst.target, status: inst.status },
      'connection completed',
    )
  }

  async run<T>(
    inst: InstallationRecord,
    what: string,
    fn: (c: ProviderCredentials) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.d.keeper.use(inst, fn)
    } catch (err) {
      throw providerErrorToAws(err, what)
    }
  }

  /** What the installation's credential may reach within its target (absent: all of it). */
  reachOf(inst: InstallationRecord): CredentialReach | undefined {
    return this.d.keeper.unseal(inst.credentialCiphertext).reach
  }
}

/**
 * @module connect/complete
 * Completing a connection without a browser: with a provider credential the caller hands over
 * (read by the provider's descriptor, verified against the provider), or with an installation
 * Junction already has. Both are authorized with UpdateConnectionInstallation, on the ARN as
 * named before anything is read and again with the installation once it is known.
 */
import { AwsError } from '../errors/aws-error.js'
import { AccessDeniedException, ResourceNotFoundException } from '../generated/errors.js'
import type { CompletionSpec } from '../providers/descriptor.js'
import type { InstallationTarget } from '../providers/provider.js'
import { SUPPORTED_PROVIDERS } from '../providers/registry.js'
import type { ConnectionRecord, InstallationRecord } from '../store/store.js'
import { installationIdFor, providerErrorToAws, type Caller, type ConnectCore } from './core.js'

export type Completed = { connection: ConnectionRecord; installation: InstallationRecord }

export class Completion {
  constructor(private readonly c: ConnectCore) {}

  /**
   * Verifies the credential `input` carries (the `CompleteConnection` members the connection's
   * provider reads: providers/<name>/completion.ts) against the provider and completes the
   * connection with it. A user's credential that reaches the whole target needs its
   * administrator, as the browser handshake does.
   */
  async complete(
    caller: Caller,
    connectionArn: string,
    input: Record<string, unknown>,
    /** Checks the input against the connection's provider's own members (its patterns, enums). */
    check?: (fields: CompletionSpec['fields']) => void,
  ): Promise<Completed> {
    // Authorized on the ARN as named before anything is read or sent to the provider: an
    // unauthorized caller learns neither whether the connection exists nor whether the token is
    // valid. The installation is not known yet (the provider names it), so InstallationId is
    // absent here and checked below once the provider has verified the token.
    await this.c.check(caller, 'UpdateConnectionInstallation', connectionArn)
    const conn = await this.c.connection(caller, connectionArn)
    const provider = await this.c.providerOf(conn)
    const descriptor = this.c.d.providers.descriptor(conn.providerType)!
    check?.(descriptor.completion.fields)
    const r = descriptor.completion.parse(input, this.c.d.now())
    let target: InstallationTarget
    try {
      target = await provider.verifyTarget(r.credentials, r.target)
    } catch (err) {
      if (err instanceof AwsError) throw err
      throw providerErrorToAws(err, `Verifying the token against ${conn.providerType}`)
    }
    if (r.administratorRequired !== undefined && !target.administrator)
      throw new AccessDeniedException(r.administratorRequired)
    await this.c.check(caller, 'UpdateConnectionInstallation', conn.arn, {
      InstallationId: installationIdFor(target.id, r.credentials.reach),
    })
    const inst = this.c.newInstallation(
      conn.accountId,
      conn.providerType,
      target,
      r.credentials,
      caller.principal.arn,
      r.credentialKind,
      conn.hostArn,
    )
    await this.c.install(conn, inst)
    return { connection: await this.c.connection(caller, conn.arn), installation: inst }
  }

  /** Completes a connection with an installation Junction already has (no provider token needed). */
  async useInstallation(
    caller: Caller,
    connectionArn: string,
    installationId: string,
  ): Promise<Completed> {
    // Authorized first: an unauthorized caller learns nothing of the connection or installation.
    await this.c.check(caller, 'UpdateConnectionInstallation', connectionArn, {
      InstallationId: installationId,
    })
    const conn = await this.c.connection(caller, connectionArn)
    await this.c.providerOf(conn)
    const inst = await this.c.d.store.installations.get(conn.accountId, installationId)
    if (!inst || inst.providerType !== conn.providerType || (inst.hostArn || null) !== conn.hostArn)
      throw new ResourceNotFoundException(
        `No ${conn.providerType} installation ${installationId} in this account`,
      )
    await this.c.attach(conn, inst)
    return { connection: await this.c.connection(caller, conn.arn), installation: inst }
  }

  /** The account's installations of one provider, or of every provider with an adapter. */
  async listInstallations(caller: Caller, providerType?: string): Promise<InstallationRecord[]> {
    await this.c.check(caller, 'ListInstallationTargets', '*')
    const types = providerType ? [providerType] : SUPPORTED_PROVIDERS
    const out: InstallationRecord[] = []
    for (const t of types)
      out.push(...(await this.c.d.store.installations.list(caller.principal.accountId, t)))
    return out
  }
}

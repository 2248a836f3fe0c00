/**
 * @module connect/host-setup
 * "Set up host" for servers that register Junction's OAuth application from an administrator's
 * token (GitLab self-managed, as AWS's console does it): the token is used for one call, which
 * creates an instance-level OAuth application on the server, and is then dropped — never stored,
 * logged or answered. Only the application's client id and secret are kept, sealed under the
 * master key as the host's own application; the host moves from PENDING to AVAILABLE.
 *
 * GitHub Enterprise Server hosts are set up by GitHub's manifest flow instead
 * (connect/github-manifest.ts). Both are reached from `junction hosts setup` and the console's
 * host page, which dispatch on the host's provider type.
 */
import type { Logger } from 'pino'
import { effectiveHostStatus, isVpcStatus } from '../domain/host-status.js'
import {
  AccessDeniedException,
  InvalidInputException,
  ResourceNotFoundException,
  ResourceUnavailableException,
} from '../generated/errors.js'
import type { Principal } from '../iam/principal.js'
import { ProviderError } from '../providers/errors.js'
import { hostSetupOf } from '../providers/registry.js'
import type { ExtensionOperation } from '../server/extension.js'
import type { Store } from '../store/store.js'
import type { ProviderApps } from './apps.js'
import { fetchTrusting } from './host-fetch.js'

export interface HostSetupDeps {
  apps: ProviderApps
  store: Store
  publicUrl: () => string
  now: () => number
  logger: Logger
}

/** The most a token may be (GitLab's are 20–60 characters; anything longer is not one). */
const MAX_TOKEN = 1024

export class HostSetup {
  constructor(private readonly d: HostSetupDeps) {}

  /** Whether hosts of this provider type are set up with an administrator's token. */
  static byAdminToken(providerType: string): boolean {
    return !!hostSetupOf(providerType)
  }

  /**
   * Registers Junction's OAuth application on the host's server with an administrator's token,
   * stores it sealed for the host and makes the host AVAILABLE. Setting a host up again replaces
   * its application (connections made before keep working until their tokens must refresh).
   */
  async setUp(
    principal: Principal,
    hostArn: string,
    token: string,
  ): Promise<{ HostArn: string; Status: 'AVAILABLE'; ClientId: string }> {
    if (!principal.isRoot)
      throw new AccessDeniedException(
        `User: ${principal.arn} is not authorized to set up hosts: only the account root (the operator) manages provider applications`,
      )
    const host = await this.d.store.hosts.get(principal.accountId, hostArn)
    if (!host) throw new ResourceNotFoundException(`Host ${hostArn} does not exist`)
    const setup = hostSetupOf(host.providerType)
    if (!setup)
      throw new InvalidInputException(
        `Host ${hostArn} is a ${host.providerType} host, which is set up in the browser: junction hosts setup --host-arn <arn> prints its link`,
      )
    const status = effectiveHostStatus(host, this.d.now())
    if (isVpcStatus(status))
      throw new ResourceUnavailableException(
        `Host ${hostArn} is ${status}; set it up once its VPC configuration has settled`,
      )
    const t = token.trim()
    if (!t || t.length > MAX_TOKEN || !/^[\x21-\x7e]+$/.test(t))
      throw new InvalidInputException(
        `AdminToken must be a ${setup.tokenNoun} (${setup.tokenScopes})`,
      )
    const base = this.d.publicUrl().replace(/\/+$/, '')
    let app: { clientId: string; clientSecret: string }
    try {
      app = await setup.registerApplication({
        endpoint: host.providerEndpoint,
        token: t,
        name: `Junction (${host.name})`.slice(0, 255),
        redirectUri: `${base}/oauth/${setup.path}/callback`,
        fetch: fetchTrusting(host.vpcConfiguration?.TlsCertificate ?? null),
      })
    } catch (err) {
      // The provider's own words are kept short and never carry the token (the adapter's errors
      // name the scope or role that is missing); anything unexpected is a generic refusal.
      if (err instanceof ProviderError)
        throw new InvalidInputException(
          `${host.providerEndpoint} refused to register Junction's application: ${err.message.slice(0, 300)}. Nothing was stored; the token was not kept.`,
        )
      this.d.logger.warn(
        { host: hostArn, error: (err as Error).name },
        'host setup failed before the server answered',
      )
      throw new InvalidInputException(
        `Junction could not reach ${host.providerEndpoint} to register its application. Nothing was stored; the token was not kept.`,
      )
    }
    await this.d.apps.setHostApp(host.providerType, host.arn, app, principal.arn, this.d.now())
    const ok = await this.d.store.hosts.update(principal.accountId, host.arn, {
      status: 'AVAILABLE',
      statusMessage: null,
    })
    if (!ok) {
      await this.d.apps.forgetHost(host.arn)
      throw new ResourceNotFoundException(`Host ${hostArn} does not exist`)
    }
    this.d.logger.info(
      { host: host.arn, clientId: app.clientId, by: principal.arn },
      'host set up: OAuth application registered with an administrator token (not kept)',
    )
    return { HostArn: host.arn, Status: 'AVAILABLE', ClientId: app.clientId }
  }
}

/** Junction's own `SetUpHost` (beside server/extension.ts's operations; `junction hosts setup`). */
export const hostSetupOperations: Record<string, ExtensionOperation> = {
  SetUpHost: {
    fields: {
      HostArn: {
        type: 'string',
        required: true,
        max: 256,
        pattern: /^arn:aws(-[\w]+)*:.+:.+:[0-9]{12}:host\/.+$/,
      },
      AdminToken: { type: 'string', required: true, max: MAX_TOKEN },
    },
    handle: async (caller, input, deps) => {
      if (!deps.hostSetup) throw new InvalidInputException('This server does not set up hosts')
      return deps.hostSetup.setUp(
        caller.principal,
        input['HostArn'] as string,
        input['AdminToken'] as string,
      )
    },
  },
}

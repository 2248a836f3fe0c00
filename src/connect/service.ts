/**
 * @module connect/service
 * Everything that makes a connection reach its provider: the browser handshake (start → provider
 * consent → callback → choose an installation → AVAILABLE), completion without a browser, and the
 * uses pipelines make of an AVAILABLE connection (repositories, branches, commits, changed files,
 * archives, clone credentials). Every step is authorized through the one IAM evaluator with the
 * permission-only actions of spec §6.3, and every use stays inside the connection's workspace.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { AwsError } from '../errors/aws-error.js'
import {
  AccessDeniedException,
  InvalidInputException,
  ResourceNotFoundException,
  ResourceUnavailableException,
  UnsupportedProviderTypeException,
} from '../generated/errors.js'
import type { Authorizer } from '../iam/authorizer.js'
import { checkPermission, type PermissionOnlyAction } from '../iam/permissions.js'
import { actionPrefix } from '../iam/authorize.js'
import { addResourceTags } from '../iam/connections-context.js'
import type { Principal } from '../iam/principal.js'
import {
  ProviderAuthFailed,
  ProviderError,
  ProviderNotFound,
  ProviderUnavailable,
} from '../providers/errors.js'
import type {
  ArchiveOptions,
  CredentialReach,
  GitProvider,
  InstallationTarget,
  ProviderCredentials,
} from '../providers/provider.js'
import type { ProviderRegistry } from '../providers/registry.js'
import type {
  ConnectionRecord,
  HandshakeRecord,
  InstallationRecord,
  Store,
} from '../store/store.js'
import type { CredentialKeeper } from './credentials.js'
import type { Signer } from './signed.js'

export const HANDSHAKE_TTL_MS = 10 * 60 * 1000
export const ARCHIVE_LINK_TTL_MS = 5 * 60 * 1000
const PAGE_TTL_MS = 60 * 60 * 1000

/** What a browser other than the starter's sees (a forwarded or leaked link); nothing changes. */
export const OTHER_BROWSER =
  'This handshake is bound to the browser that first opened the link Junction gave the principal who started it, so it cannot be completed in this browser. Nothing was changed. If you started it, continue in the browser where you opened the link; otherwise start a handshake of your own.'

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

export interface InstallationChoice {
  /** Targets the user administers, each with whether Junction already has an installation there. */
  targets: (InstallationTarget & { installed: boolean })[]
  /** Installations of the account for this provider that the user can reach. */
  installations: InstallationRecord[]
}

/**
 * The credentials `complete` takes (README "Completing without a browser" has the plans and
 * scopes): Bitbucket's repository, project and workspace access tokens (Bearer for the REST API,
 * `x-token-auth` for Git), a user's Atlassian API token with scopes (Basic `email:token` for the
 * REST API, `x-bitbucket-api-token-auth` for Git), and a user's OAuth token. App passwords are
 * not taken: Bitbucket stopped creating them on 9 Sep 2025 and removed them on 28 Jul 2026.
 */
export type TokenType =
  'WorkspaceAccessToken' | 'ProjectAccessToken' | 'RepositoryAccessToken' | 'ApiToken' | 'OAuth'

/** The installation's `credentialKind` for each token type (stored; shown as `CredentialType`). */
export const CREDENTIAL_KINDS: Record<TokenType, string> = {
  WorkspaceAccessToken: 'access-token',
  ProjectAccessToken: 'project-access-token',
  RepositoryAccessToken: 'repository-access-token',
  ApiToken: 'api-token',
  OAuth: 'oauth',
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

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

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

export class ConnectService {
  constructor(private readonly d: ConnectDeps) {}

  // ---- shared ---------------------------------------------------------------------------------

  async #check(
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

  async #connection(caller: Caller, arn: string): Promise<ConnectionRecord> {
    const c = await this.d.store.connections.get(caller.principal.accountId, arn)
    if (!c) throw new ResourceNotFoundException(`Connection ${arn} does not exist`)
    return c
  }

  #provider(type: string): GitProvider {
    const p = this.d.providers.get(type)
    if (!p)
      throw new UnsupportedProviderTypeException(
        `Junction cannot complete ${type} connections yet (providers with an adapter: Bitbucket)`,
      )
    return p
  }

  #newInstallation(
    accountId: string,
    providerType: string,
    target: InstallationTarget,
    c: ProviderCredentials,
    installedBy: string,
    kind?: string,
  ): InstallationRecord {
    const now = this.d.now()
    return {
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
  async #install(conn: ConnectionRecord, inst: InstallationRecord): Promise<void> {
    await this.d.store.installations.upsert(inst)
    // A new credential heals every connection already sharing the installation.
    await this.d.store.installations.setStatus(
      inst.accountId,
      inst.id,
      'AVAILABLE',
      null,
      this.d.now(),
    )
    await this.#attach(conn, inst)
  }

  async #attach(conn: ConnectionRecord, inst: InstallationRecord): Promise<void> {
    const ok = await this.d.store.connections.attachInstallation(conn.accountId, conn.arn, inst)
    if (!ok) throw new ResourceNotFoundException(`Connection ${conn.arn} does not exist`)
    this.d.logger.info(
      { connection: conn.arn, installation: inst.id, target: inst.target, status: inst.status },
      'connection completed',
    )
  }

  // ---- browser handshake ----------------------------------------------------------------------

  /**
   * Step 1: a link to Junction's own begin page (not the provider's consent yet), signed and
   * single-use: the first browser that opens it is bound to the handshake (see beginHandshake).
   */
  async startHandshake(
    caller: Caller,
    connectionArn: string,
    /** A console page to return to when the handshake ends (only `/console/…`). */
    returnTo?: string,
  ): Promise<{ AuthorizationUrl: string; ExpiresAt: number }> {
    // Authorized before the caller learns anything of the connection (whether it exists included).
    const found = await this.d.store.connections.get(caller.principal.accountId, connectionArn)
    await this.#check(caller, 'StartOAuthHandshake', '*', { ProviderType: found?.providerType })
    const conn = found ?? (await this.#connection(caller, connectionArn))
    const provider = this.#provider(conn.providerType)
    if (conn.status === 'AVAILABLE')
      throw new InvalidInputException(
        `Connection ${conn.arn} is already AVAILABLE; only PENDING or ERROR connections are (re)authorized`,
      )
    const id = randomBytes(18).toString('base64url')
    const expiresAt = this.d.now() + HANDSHAKE_TTL_MS
    try {
      // Fails now, not in the browser, when the provider's application is not configured.
      provider.authorizationUrl('check')
    } catch (err) {
      throw providerErrorToAws(err, 'Starting the handshake')
    }
    await this.d.store.handshakes.create({
      id,
      accountId: conn.accountId,
      connectionArn: conn.arn,
      accessKeyId: caller.principal.accessKeyId,
      principalArn: caller.principal.arn,
      providerType: conn.providerType,
      stage: 'started',
      browserHash: null,
      userTokenCiphertext: null,
      expiresAt,
    })
    const back = returnTo && /^\/console(\/|\?|$)/.test(returnTo) ? returnTo : undefined
    const link = this.d.signer.sign(
      'handshake-begin',
      { h: id, c: conn.arn, ...(back ? { r: back } : {}) },
      HANDSHAKE_TTL_MS,
    )
    const url = `${this.d.publicUrl()}/oauth/${conn.providerType.toLowerCase()}/begin?t=${link}`
    return { AuthorizationUrl: url, ExpiresAt: Math.floor(expiresAt / 1000) }
  }

  /**
   * Step 1b: the starter opens the link in their browser. The first opening binds the handshake
   * to that browser (a new secret for an HttpOnly cookie, only its hash stored) and sends it on to
   * the provider's consent with a signed `state`; the callback then needs the cookie. Opening it
   * again works only in the bound browser; another browser (a forwarded or leaked link) is refused
   * and changes nothing.
   */
  async beginHandshake(
    providerType: string,
    token: string,
    /** The browser's cookie for a handshake id ('' when it has none). */
    cookieOf: (handshakeId: string) => string,
  ): Promise<{ handshakeId: string; cookie?: string; consentUrl: string }> {
    const v = this.d.signer.open<{ h: string; c: string; r?: string }>('handshake-begin', token)
    if (!v)
      throw new InvalidInputException(
        'The handshake link is not valid or has expired; start the handshake again',
      )
    let h = await this.d.store.handshakes.get(v.h)
    const live = (x: HandshakeRecord | undefined): x is HandshakeRecord =>
      !!x &&
      x.connectionArn === v.c &&
      x.providerType === providerType &&
      x.stage !== 'done' &&
      x.expiresAt > this.d.now()
    if (!live(h))
      throw new InvalidInputException('This handshake was already used or has expired; start again')
    const provider = this.#provider(providerType)
    const consentUrl = () => {
      const state = this.d.signer.sign(
        'handshake',
        { h: v.h, c: v.c, ...(v.r ? { r: v.r } : {}) },
        Math.max(1000, h!.expiresAt - this.d.now()),
      )
      try {
        return provider.authorizationUrl(state).toString()
      } catch (err) {
        throw providerErrorToAws(err, 'Starting the handshake')
      }
    }
    if (h.stage === 'started') {
      const cookie = randomBytes(24).toString('base64url')
      const bound = await this.d.store.handshakes.advance(
        h.id,
        'started',
        'bound',
        { browserHash: sha256(cookie) },
        this.d.now(),
      )
      if (bound) {
        this.d.logger.info(
          { connection: h.connectionArn, handshake: h.id.slice(0, 6) },
          'handshake bound to a browser',
        )
        return { handshakeId: h.id, cookie, consentUrl: consentUrl() }
      }
      h = await this.d.store.handshakes.get(v.h)
      if (!live(h))
        throw new InvalidInputException(
          'This handshake was already used or has expired; start again',
        )
    }
    const held = cookieOf(h.id)
    if (held && h.browserHash === sha256(held)) {
      if (h.stage === 'bound') return { handshakeId: h.id, consentUrl: consentUrl() }
      throw new InvalidInputException('This handshake was already used or has expired; start again')
    }
    this.d.logger.warn(
      { connection: h.connectionArn, handshake: h.id.slice(0, 6) },
      'handshake link opened in a second browser; refused',
    )
    throw new AccessDeniedException(OTHER_BROWSER)
  }

  /**
   * Step 2 (the provider's redirect back): only in the browser the handshake is bound to (its
   * cookie) — checked before the code is exchanged, so another browser changes nothing — then
   * exchanges the code and lists what the user may install into or reuse.
   */
  async handshakeCallback(
    providerType: string,
    state: string,
    code: string,
    /** The browser's cookie for a handshake id ('' when it has none). */
    cookieOf: (handshakeId: string) => string,
  ): Promise<{
    handshake: HandshakeRecord
    choice: InstallationChoice
    connectionName: string
    /** Where the console wants the browser back (from the signed state). */
    returnTo?: string
  }> {
    const signed = this.d.signer.open<{ h: string; c: string; r?: string }>('handshake', state)
    if (!signed)
      throw new InvalidInputException(
        'The handshake state is not valid or has expired; start again',
      )
    const h = await this.d.store.handshakes.get(signed.h)
    if (
      !h ||
      h.connectionArn !== signed.c ||
      h.providerType !== providerType ||
      (h.stage !== 'started' && h.stage !== 'bound') ||
      h.expiresAt <= this.d.now()
    )
      throw new InvalidInputException('This handshake was already used or has expired; start again')
    const held = cookieOf(h.id)
    if (h.stage !== 'bound' || !held || h.browserHash !== sha256(held)) {
      this.d.logger.warn(
        { connection: h.connectionArn, handshake: h.id.slice(0, 6) },
        'handshake consent returned to another browser; refused',
      )
      throw new AccessDeniedException(OTHER_BROWSER)
    }
    // The starter's key must still be good before the provider is asked anything (a deactivation
    // after this deletes the handshake, so the advance below fails).
    const caller = await this.#handshakeCaller(h)
    const provider = this.#provider(providerType)
    let user: ProviderCredentials
    try {
      user = await provider.exchangeCode(code)
    } catch (err) {
      throw providerErrorToAws(err, 'Exchanging the authorization code')
    }
    const advanced = await this.d.store.handshakes.advance(
      h.id,
      'bound',
      'authorized',
      { userTokenCiphertext: this.d.keeper.seal(user) },
      this.d.now(),
    )
    if (!advanced)
      throw new InvalidInputException('This handshake was already used or has expired; start again')
    await this.#check(caller, 'ListInstallationTargets', '*')
    const conn = await this.#connection(caller, h.connectionArn)
    return {
      handshake: advanced,
      choice: await this.#choice(caller, provider, user),
      connectionName: conn.name,
      ...(signed.r ? { returnTo: signed.r } : {}),
    }
  }

  /** The same choice again (a reload of the page), for the browser that holds the cookie. */
  async handshakeChoice(
    handshakeId: string,
    cookie: string,
  ): Promise<{ handshake: HandshakeRecord; choice: InstallationChoice; connectionName: string }> {
    const h = await this.#boundHandshake(handshakeId, cookie)
    const caller = await this.#handshakeCaller(h)
    await this.#check(caller, 'ListInstallationTargets', '*')
    const conn = await this.#connection(caller, h.connectionArn)
    const user = this.d.keeper.unseal(h.userTokenCiphertext!)
    return {
      handshake: h,
      choice: await this.#choice(caller, this.#provider(h.providerType), user),
      connectionName: conn.name,
    }
  }

  async #boundHandshake(handshakeId: string, cookie: string): Promise<HandshakeRecord> {
    const h = await this.d.store.handshakes.get(handshakeId)
    if (!h || h.stage !== 'authorized' || h.expiresAt <= this.d.now() || !h.userTokenCiphertext)
      throw new InvalidInputException('This handshake was already used or has expired; start again')
    if (!cookie || h.browserHash !== sha256(cookie))
      throw new AccessDeniedException(
        'This handshake belongs to another browser session; start again',
      )
    return h
  }

  async #handshakeCaller(h: HandshakeRecord): Promise<Caller> {
    const principal = await this.d.principalOf(h.accessKeyId)
    if (!principal || principal.arn !== h.principalArn)
      throw new AccessDeniedException(
        'The credentials that started this handshake are no longer valid',
      )
    const service =
      h.connectionArn.split(':')[2] === 'codeconnections'
        ? 'codeconnections'
        : 'codestar-connections'
    return { principal, service }
  }

  async #choice(
    caller: Caller,
    provider: GitProvider,
    user: ProviderCredentials,
  ): Promise<InstallationChoice> {
    let targets: InstallationTarget[]
    try {
      targets = await provider.listInstallationTargets(user)
    } catch (err) {
      throw providerErrorToAws(err, 'Listing your workspaces')
    }
    const existing = await this.d.store.installations.list(
      caller.principal.accountId,
      provider.type,
    )
    const ids = new Set(targets.map((t) => t.id))
    const installed = new Set(existing.map((i) => i.id))
    return {
      targets: targets
        .filter((t) => t.administrator)
        .map((t) => ({ ...t, installed: installed.has(t.id) })),
      installations: existing.filter((i) => ids.has(i.id)),
    }
  }

  /**
   * Step 3: completes the connection with the chosen installation target (a new installation
   * made with the user's token; the user must administer it) or an installation Junction already
   * has for a workspace the user belongs to. Single-use: the handshake ends here.
   */
  async finishHandshake(
    handshakeId: string,
    cookie: string,
    choice: { installationId?: string; target?: string },
  ): Promise<{ connection: ConnectionRecord; installation: InstallationRecord }> {
    const h = await this.#boundHandshake(handshakeId, cookie)
    const caller = await this.#handshakeCaller(h)
    const conn = await this.#connection(caller, h.connectionArn)
    const provider = this.#provider(h.providerType)
    const user = this.d.keeper.unseal(h.userTokenCiphertext!)
    let targets: InstallationTarget[]
    try {
      targets = await provider.listInstallationTargets(user)
    } catch (err) {
      throw providerErrorToAws(err, 'Listing your workspaces')
    }
    let inst: InstallationRecord
    let fresh = false
    if (choice.installationId) {
      const found = await this.d.store.installations.get(conn.accountId, choice.installationId)
      if (
        !found ||
        found.providerType !== conn.providerType ||
        !targets.some((t) => t.id === found.id)
      )
        throw new InvalidInputException('Choose an installation for a workspace you belong to')
      inst = found
    } else {
      const target = targets.find((t) => t.slug === choice.target)
      if (!target) throw new InvalidInputException('Choose a workspace you belong to')
      if (!target.administrator)
        throw new AccessDeniedException(
          `Installing into workspace ${target.slug} needs its administrator; you are a member only`,
        )
      inst = this.#newInstallation(
        conn.accountId,
        conn.providerType,
        target,
        user,
        caller.principal.arn,
      )
      fresh = true
    }
    await this.#check(caller, 'UpdateConnectionInstallation', conn.arn, { InstallationId: inst.id })
    if (!(await this.d.store.handshakes.advance(h.id, 'authorized', 'done', {}, this.d.now())))
      throw new InvalidInputException('This handshake was already used or has expired; start again')
    if (fresh) await this.#install(conn, inst)
    else await this.#attach(conn, inst)
    return { connection: await this.#connection(caller, conn.arn), installation: inst }
  }

  // ---- completion without a browser -----------------------------------------------------------

  /**
   * Verifies a provider token against the provider and completes the connection with it: a
   * workspace, project or repository access token, a user's API token (with the account email),
   * or a user's OAuth access token (with its refresh token). `project`/`repository` narrow what
   * the connection reaches within the workspace (a project or repository access token must name
   * its own); a user's token reaching the whole workspace needs its administrator, as the
   * browser handshake does.
   */
  async complete(
    caller: Caller,
    input: {
      connectionArn: string
      workspace: string
      tokenType: TokenType
      accessToken: string
      refreshToken?: string
      expiresIn?: number
      /** A project key within the workspace. */
      project?: string
      /** A repository slug (or `workspace/slug`) within the workspace. */
      repository?: string
      /** The Atlassian account email an API token is used with. */
      email?: string
    },
  ): Promise<{ connection: ConnectionRecord; installation: InstallationRecord }> {
    // Authorized on the ARN as named before anything is read or sent to the provider: an
    // unauthorized caller learns neither whether the connection exists nor whether the token is
    // valid. The installation is not known yet (the provider names it), so InstallationId is
    // absent here and checked below once the provider has verified the token.
    await this.#check(caller, 'UpdateConnectionInstallation', input.connectionArn)
    const conn = await this.#connection(caller, input.connectionArn)
    const provider = this.#provider(conn.providerType)
    const c = this.#credential(input)
    let target: InstallationTarget
    try {
      target = await provider.verifyTarget(c, input.workspace)
    } catch (err) {
      if (err instanceof AwsError) throw err
      throw providerErrorToAws(err, `Verifying the token against ${conn.providerType}`)
    }
    if ((c.kind === 'oauth' || c.kind === 'api-token') && !c.reach && !target.administrator)
      throw new AccessDeniedException(
        `Completing with all of workspace ${input.workspace} needs its administrator; the token's user is a member only (name a Project or Repository to reach only that)`,
      )
    await this.#check(caller, 'UpdateConnectionInstallation', conn.arn, {
      InstallationId: installationIdFor(target.id, c.reach),
    })
    const inst = this.#newInstallation(
      conn.accountId,
      conn.providerType,
      target,
      c,
      caller.principal.arn,
      CREDENTIAL_KINDS[input.tokenType],
    )
    await this.#install(conn, inst)
    return { connection: await this.#connection(caller, conn.arn), installation: inst }
  }

  /** The credential `complete` was given, its kind, reach and inputs checked (nothing sent yet). */
  #credential(input: Parameters<ConnectService['complete']>[1]): ProviderCredentials {
    const t = input.tokenType
    if (!(t in CREDENTIAL_KINDS))
      throw new InvalidInputException(
        `TokenType must be one of ${Object.keys(CREDENTIAL_KINDS).join(', ')}`,
      )
    const reach: CredentialReach = {}
    if (input.project !== undefined) {
      if (!/^[A-Za-z0-9_]{1,64}$/.test(input.project))
        throw new InvalidInputException('Project must be a project key (letters, digits, _)')
      reach.project = input.project
    }
    if (input.repository !== undefined) {
      const parts = input.repository.split('/')
      const slug = parts.length === 2 ? parts[1]! : parts[0]!
      if (parts.length > 2 || (parts.length === 2 && parts[0] !== input.workspace))
        throw new InvalidInputException(
          `Repository must be a repository of workspace ${input.workspace} (slug or ${input.workspace}/slug)`,
        )
      if (!/^[A-Za-z0-9_.-]{1,128}$/.test(slug))
        throw new InvalidInputException('Repository must be a repository slug')
      reach.repository = slug.toLowerCase()
    }
    if (t === 'RepositoryAccessToken' && !reach.repository)
      throw new InvalidInputException(
        'A repository access token reaches only its repository: give Repository',
      )
    if (t === 'ProjectAccessToken' && !reach.project)
      throw new InvalidInputException(
        'A project access token reaches only its project: give Project',
      )
    if (t === 'RepositoryAccessToken' && reach.project)
      throw new InvalidInputException('A repository access token takes Repository, not Project')
    if (t === 'ApiToken') {
      if (!input.email || !/^[^@\s]+@[^@\s]+$/.test(input.email))
        throw new InvalidInputException(
          'An API token is used with its Atlassian account email: give Email',
        )
    } else if (input.email !== undefined)
      throw new InvalidInputException('Email is only for TokenType ApiToken')
    if (t !== 'OAuth' && (input.refreshToken !== undefined || input.expiresIn !== undefined))
      throw new InvalidInputException('RefreshToken and ExpiresIn are only for TokenType OAuth')
    const c: ProviderCredentials =
      t === 'OAuth'
        ? { kind: 'oauth', accessToken: input.accessToken }
        : t === 'ApiToken'
          ? { kind: 'api-token', accessToken: input.accessToken, email: input.email! }
          : {
              kind: 'access-token',
              level:
                t === 'RepositoryAccessToken'
                  ? 'repository'
                  : t === 'ProjectAccessToken'
                    ? 'project'
                    : 'workspace',
              accessToken: input.accessToken,
            }
    if (reach.project || reach.repository) c.reach = reach
    if (input.refreshToken) c.refreshToken = input.refreshToken
    if (input.expiresIn !== undefined) c.expiresAt = this.d.now() + input.expiresIn * 1000
    return c
  }

  /** What the installation's credential may reach within its workspace (absent: all of it). */
  reachOf(inst: InstallationRecord): CredentialReach | undefined {
    return this.d.keeper.unseal(inst.credentialCiphertext).reach
  }

  /** Completes a connection with an installation Junction already has (no provider token needed). */
  async useInstallation(caller: Caller, connectionArn: string, installationId: string) {
    // Authorized first: an unauthorized caller learns nothing of the connection or installation.
    await this.#check(caller, 'UpdateConnectionInstallation', connectionArn, {
      InstallationId: installationId,
    })
    const conn = await this.#connection(caller, connectionArn)
    this.#provider(conn.providerType)
    const inst = await this.d.store.installations.get(conn.accountId, installationId)
    if (!inst || inst.providerType !== conn.providerType)
      throw new ResourceNotFoundException(
        `No ${conn.providerType} installation ${installationId} in this account`,
      )
    await this.#attach(conn, inst)
    return { connection: await this.#connection(caller, conn.arn), installation: inst }
  }

  async listInstallations(caller: Caller, providerType?: string): Promise<InstallationRecord[]> {
    await this.#check(caller, 'ListInstallationTargets', '*')
    const types = providerType ? [providerType] : ['Bitbucket']
    const out: InstallationRecord[] = []
    for (const t of types)
      out.push(...(await this.d.store.installations.list(caller.principal.accountId, t)))
    return out
  }

  /**
   * The connection with its installation and why it is in ERROR, authorized as GetConnection
   * (the same facts, plus what the AWS shape has no field for).
   */
  async describe(
    caller: Caller,
    arn: string,
  ): Promise<{ connection: ConnectionRecord; installation?: InstallationRecord }> {
    if (!caller.principal.isRoot) {
      const compiled = await this.d.authorizer.compiled(caller.principal)
      const context = this.d.authorizer.baseContext(caller.principal, compiled, {
        region: this.d.region,
        ...(caller.sourceIp ? { sourceIp: caller.sourceIp } : {}),
      })
      if (compiled.readsResourceTags)
        await addResourceTags(context, this.d.store, caller.principal.accountId, arn)
      const decision = this.d.authorizer.decide(caller.principal, compiled, {
        action: `${actionPrefix(arn, caller.service)}:GetConnection`,
        resource: arn,
        context,
      })
      if (decision.message) throw new AccessDeniedException(decision.message)
    }
    const connection = await this.#connection(caller, arn)
    const installation = connection.installationId
      ? await this.d.store.installations.get(connection.accountId, connection.installationId)
      : undefined
    return installation ? { connection, installation } : { connection }
  }

  // ---- using a connection ---------------------------------------------------------------------

  /**
   * The connection's installation, after checking UseConnection with the request's keys, that the
   * connection is AVAILABLE, and that the repository (if any) is in its workspace.
   */
  async #forUse(
    caller: Caller,
    connectionArn: string,
    providerAction: string,
    repo?: string,
    branch?: string,
    /** A further permission the use needs (checked before anything is read, too). */
    also?: PermissionOnlyAction,
  ): Promise<{ conn: ConnectionRecord; inst: InstallationRecord; provider: GitProvider }> {
    // Authorized on the ARN as named before the connection is read: an unauthorized caller gets
    // AccessDeniedException whether or not the connection exists.
    const [owner, name] = repo ? repo.split('/') : []
    await this.#check(caller, 'UseConnection', connectionArn, {
      ProviderAction: providerAction,
      FullRepositoryId: repo,
      OwnerId: owner,
      RepositoryName: name,
      BranchName: branch,
    })
    if (also) await this.#check(caller, also, connectionArn)
    const conn = await this.#connection(caller, connectionArn)
    if (conn.status !== 'AVAILABLE')
      throw new ResourceUnavailableException(
        conn.status === 'PENDING'
          ? `Connection ${conn.arn} is PENDING: complete it first (update the pending connection, or junction connections complete)`
          : `Connection ${conn.arn} is in ERROR: ${conn.statusReason ?? 'its credential stopped working'}`,
      )
    const inst = conn.installationId
      ? await this.d.store.installations.get(conn.accountId, conn.installationId)
      : undefined
    if (!inst)
      throw new ResourceUnavailableException(
        `Connection ${conn.arn} has no installation; complete it again`,
      )
    if (repo !== undefined && owner?.toLowerCase() !== inst.target.toLowerCase())
      throw new AccessDeniedException(
        `Connection ${conn.arn} reaches only repositories of the ${conn.providerType} workspace ${inst.target}; ${repo.slice(0, 200)} is outside it`,
      )
    const provider = this.#provider(conn.providerType)
    const reach = this.reachOf(inst)
    if (repo !== undefined && reach?.repository && name?.toLowerCase() !== reach.repository)
      throw new AccessDeniedException(
        `Connection ${conn.arn} reaches only the repository ${inst.target}/${reach.repository}; ${repo.slice(0, 200)} is outside it`,
      )
    if (repo !== undefined && reach?.project) {
      const r = await this.#run(inst, `Reading ${repo.slice(0, 200)}`, async (c) => {
        try {
          return await provider.getRepository(c, repo)
        } catch (err) {
          if (err instanceof ProviderNotFound) return undefined
          throw err
        }
      })
      if (r?.project !== reach.project)
        throw new AccessDeniedException(
          `Connection ${conn.arn} reaches only repositories of project ${reach.project} in workspace ${inst.target}; ${repo.slice(0, 200)} is outside it`,
        )
    }
    return { conn, inst, provider }
  }

  async #run<T>(
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

  #pageToken(scope: string, next: string | undefined): string | undefined {
    return next && this.d.signer.sign('provider-page', { s: scope, n: next }, PAGE_TTL_MS)
  }

  #openPage(scope: string, token: string | undefined): string | undefined {
    if (token === undefined) return undefined
    const v = this.d.signer.open<{ s: string; n: string }>('provider-page', token)
    if (!v || v.s !== scope)
      throw new InvalidInputException('The NextToken is not valid for this listing')
    return v.n
  }

  async listRepositories(caller: Caller, arn: string, nextToken?: string) {
    const { inst, provider } = await this.#forUse(caller, arn, 'ListRepositories')
    const scope = `repos|${arn}`
    const page = await this.#run(inst, 'Listing repositories', (c) =>
      provider.listRepositories(c, inst.target, this.#openPage(scope, nextToken)),
    )
    // A workspace's listing holds only its own repositories; filter anyway (defence in depth),
    // and to the reach: a listing also holds the public repositories any token sees.
    const reach = this.reachOf(inst)
    const items = page.items.filter(
      (r) =>
        r.owner.toLowerCase() === inst.target.toLowerCase() &&
        (!reach?.repository || r.name.toLowerCase() === reach.repository) &&
        (!reach?.project || r.project === reach.project),
    )
    return { items, nextToken: this.#pageToken(scope, page.next) }
  }

  async listBranches(caller: Caller, arn: string, repo: string, nextToken?: string) {
    const { inst, provider } = await this.#forUse(caller, arn, 'ListBranches', repo)
    const scope = `branches|${arn}|${repo}`
    const page = await this.#run(inst, `Listing branches of ${repo}`, (c) =>
      provider.listBranches(c, repo, this.#openPage(scope, nextToken)),
    )
    return { items: page.items, nextToken: this.#pageToken(scope, page.next) }
  }

  async getBranch(caller: Caller, arn: string, repo: string, branch: string) {
    const { inst, provider } = await this.#forUse(caller, arn, 'GetBranch', repo, branch)
    return this.#run(inst, `Reading branch ${branch} of ${repo}`, (c) =>
      provider.getBranch(c, repo, branch),
    )
  }

  async getCommit(caller: Caller, arn: string, repo: string, commit: string) {
    const { inst, provider } = await this.#forUse(caller, arn, 'GetCommit', repo)
    return this.#run(inst, `Reading commit ${commit} of ${repo}`, (c) =>
      provider.getCommit(c, repo, commit),
    )
  }

  async changedFiles(caller: Caller, arn: string, repo: string, commit: string, base?: string) {
    const { inst, provider } = await this.#forUse(caller, arn, 'GetCommitDiffs', repo)
    return this.#run(inst, `Listing files changed by ${commit}`, (c) =>
      provider.changedFiles(c, repo, commit, base),
    )
  }

  /**
   * A link to download the tree at a commit as a zip, valid for five minutes; the permission is
   * checked now (UseConnection with ProviderAction StartUploadArchiveToS3, as the source action).
   */
  async archiveLink(caller: Caller, arn: string, repo: string, commit: string) {
    const { inst, provider } = await this.#forUse(caller, arn, 'StartUploadArchiveToS3', repo)
    const resolved = await this.#run(inst, `Resolving commit ${commit}`, (c) =>
      provider.getCommit(c, repo, commit),
    )
    const token = this.d.signer.sign(
      'archive',
      { a: inst.accountId, c: arn, r: repo, x: resolved.id },
      ARCHIVE_LINK_TTL_MS,
    )
    return {
      url: `${this.d.publicUrl()}/connections/archive/${token}`,
      commitId: resolved.id,
      expiresAt: Math.floor((this.d.now() + ARCHIVE_LINK_TTL_MS) / 1000),
    }
  }

  /** Opens an archive link: the stream of the zip, or an error when the link is not valid. */
  async openArchive(
    token: string,
  ): Promise<{ stream: ReadableStream<Uint8Array>; fileName: string }> {
    const v = this.d.signer.open<{ a: string; c: string; r: string; x: string }>('archive', token)
    if (!v) throw new AccessDeniedException('The archive link is not valid or has expired')
    const conn = await this.d.store.connections.get(v.a, v.c)
    if (!conn || conn.status !== 'AVAILABLE' || !conn.installationId)
      throw new ResourceUnavailableException('The connection is no longer AVAILABLE')
    const inst = await this.d.store.installations.get(v.a, conn.installationId)
    if (!inst || v.r.split('/')[0]?.toLowerCase() !== inst.target.toLowerCase())
      throw new ResourceUnavailableException('The connection no longer reaches this repository')
    const provider = this.#provider(conn.providerType)
    const stream = await this.#run(inst, 'Downloading the archive', (c) =>
      provider.downloadArchive(c, v.r, v.x),
    )
    return { stream, fileName: `${v.r.replace('/', '-')}-${v.x.slice(0, 12)}.zip` }
  }

  /**
   * The tree at a commit as a zip stream, for a pipeline's source action: UseConnection with
   * ProviderAction StartUploadArchiveToS3 (as on AWS), the commit resolved first.
   */
  async downloadArchive(
    caller: Caller,
    arn: string,
    repo: string,
    branch: string,
    commit: string,
    opts?: ArchiveOptions,
  ) {
    const { inst, provider } = await this.#forUse(
      caller,
      arn,
      'StartUploadArchiveToS3',
      repo,
      branch,
    )
    return this.#run(inst, `Downloading ${repo} at ${commit}`, (c) =>
      provider.downloadArchive(c, repo, commit, opts),
    )
  }

  /** The HTTPS clone URL of a repository (no credential in it), checked with UseConnection GitPull. */
  async cloneUrl(caller: Caller, arn: string, repo: string, branch: string) {
    const { inst, provider } = await this.#forUse(caller, arn, 'GitPull', repo, branch)
    return this.#run(inst, `Reading ${repo}`, async (c) => provider.cloneCredentials(c, repo).url)
  }

  /**
   * Credentials for `git clone` over HTTPS: the connection's current access token (refreshed to
   * last at least five minutes). Needs GetConnectionToken and UseConnection (GitPull) on the
   * repository, since it hands the provider token itself to the caller.
   */
  async cloneCredentials(caller: Caller, arn: string, repo: string) {
    const { inst, provider } = await this.#forUse(
      caller,
      arn,
      'GitPull',
      repo,
      undefined,
      'GetConnectionToken',
    )
    const c = await this.#run(inst, 'Preparing clone credentials', async (cred) => {
      // Prove the token works for this repository before handing it out.
      await provider.getRepository(cred, repo)
      return cred
    })
    const git = provider.cloneCredentials(c, repo)
    return {
      ...git,
      expiresAt: c.expiresAt === undefined ? undefined : Math.floor(c.expiresAt / 1000),
    }
  }
}

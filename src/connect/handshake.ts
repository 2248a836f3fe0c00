/**
 * @module connect/handshake
 * The browser handshake: start (a signed, single-use link to Junction's begin page) → begin (the
 * first browser is bound to it and sent to the provider's consent) → callback (only in that
 * browser: the code is exchanged and the user chooses where to install) → finish (a new or an
 * existing installation, and the connection is AVAILABLE). Every step acts for, and is authorized
 * as, the principal who started it.
 */
import { randomBytes } from 'node:crypto'
import { AccessDeniedException, InvalidInputException } from '../generated/errors.js'
import type { InstallationTarget, ProviderCredentials } from '../providers/provider.js'
import type { GitProvider } from '../providers/provider.js'
import { descriptorFor } from '../providers/registry.js'
import type { ConnectionRecord, HandshakeRecord, InstallationRecord } from '../store/store.js'
import { providerErrorToAws, sha256, type Caller, type ConnectCore } from './core.js'

/** Whether two provider types share browser routes (GitHub Enterprise Server uses GitHub's). */
const sameRoute = (a: string, b: string) =>
  a === b || (!!descriptorFor(a) && descriptorFor(a)?.path === descriptorFor(b)?.path)

export const HANDSHAKE_TTL_MS = 10 * 60 * 1000

/** What a browser other than the starter's sees (a forwarded or leaked link); nothing changes. */
export const OTHER_BROWSER =
  'This handshake is bound to the browser that first opened the link Junction gave the principal who started it, so it cannot be completed in this browser. Nothing was changed. If you started it, continue in the browser where you opened the link; otherwise start a handshake of your own.'

export interface InstallationChoice {
  /** Targets the user administers, each with whether Junction already has an installation there. */
  targets: (InstallationTarget & { installed: boolean })[]
  /** Installations of the account for this provider that the user can reach. */
  installations: InstallationRecord[]
}

export class HandshakeFlow {
  constructor(private readonly c: ConnectCore) {}

  private get d() {
    return this.c.d
  }

  /** What an installation reaches, in the provider's words (`workspace`). */
  #noun(type: string): string {
    return this.d.providers.descriptor(type)?.targetNoun ?? 'account'
  }

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
    await this.c.check(caller, 'StartOAuthHandshake', '*', { ProviderType: found?.providerType })
    const conn = found ?? (await this.c.connection(caller, connectionArn))
    const provider = await this.c.providerOf(conn)
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
    const path = descriptorFor(conn.providerType)?.path ?? conn.providerType.toLowerCase()
    const url = `${this.d.publicUrl()}/oauth/${path}/begin?t=${link}`
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
      sameRoute(x.providerType, providerType) &&
      x.stage !== 'done' &&
      x.expiresAt > this.d.now()
    if (!live(h))
      throw new InvalidInputException('This handshake was already used or has expired; start again')
    const provider = await this.#providerOfHandshake(h)
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
    /** The redirect's other query parameters (see GitProvider.exchangeCode). */
    callback: Record<string, string> = {},
  ): Promise<{
    handshake: HandshakeRecord
    choice: InstallationChoice
    connectionName: string
    /** Where the console wants the browser back (from the signed state). */
    returnTo?: string
    /** Set when the callback completed the connection (an app installation it named). */
    completed?: { connection: ConnectionRecord; installation: InstallationRecord }
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
      !sameRoute(h.providerType, providerType) ||
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
    const provider = await this.#providerOfHandshake(h)
    const app = this.d.providers.descriptor(providerType)?.handshake === 'app-installation'
    if (app && callback['setup_action'] === 'request')
      throw new InvalidInputException(
        `The installation waits for the approval of an owner of the ${this.#noun(providerType)}; once it is approved, start the handshake again and pick it`,
      )
    if (app && !code)
      throw new InvalidInputException(
        `${providerType} sent no user authorization code with the installation, so Junction cannot check that you may use it: the app must have "Request user authorization (OAuth) during installation" turned on (docs/github.md)`,
      )
    let user: ProviderCredentials
    try {
      user = await provider.exchangeCode(code, { ...callback, state })
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
    await this.c.check(caller, 'ListInstallationTargets', '*')
    const conn = await this.c.connection(caller, h.connectionArn)
    const back = signed.r ? { returnTo: signed.r } : {}
    // An app installation names what was installed: complete with it at once (verified below
    // with the app's key and the user's own installations, never trusted as sent).
    const installed = app ? callback['installation_id'] : undefined
    if (installed !== undefined) {
      const targets = await this.#targets(provider, user)
      const target = targets.find((t) => t.id === installed)
      if (!target)
        throw new AccessDeniedException(
          `Installation ${installed.slice(0, 20)} is not one your ${providerType} account can reach; nothing was changed`,
        )
      const completed = await this.#complete(advanced, caller, conn, provider, user, targets, {
        target: target.slug,
      })
      return {
        handshake: advanced,
        choice: { targets: [], installations: [] },
        connectionName: conn.name,
        completed,
        ...back,
      }
    }
    return {
      handshake: advanced,
      choice: await this.#choice(caller, provider, user, conn.hostArn),
      connectionName: conn.name,
      ...back,
    }
  }

  /** The same choice again (a reload of the page), for the browser that holds the cookie. */
  async handshakeChoice(
    handshakeId: string,
    cookie: string,
  ): Promise<{ handshake: HandshakeRecord; choice: InstallationChoice; connectionName: string }> {
    const h = await this.#boundHandshake(handshakeId, cookie)
    const caller = await this.#handshakeCaller(h)
    await this.c.check(caller, 'ListInstallationTargets', '*')
    const conn = await this.c.connection(caller, h.connectionArn)
    const user = this.d.keeper.unseal(h.userTokenCiphertext!)
    return {
      handshake: h,
      choice: await this.#choice(caller, await this.c.providerOf(conn), user, conn.hostArn),
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

  /** The adapter of the handshake's connection (a host's for a connection with a HostArn). */
  async #providerOfHandshake(h: HandshakeRecord): Promise<GitProvider> {
    const conn = await this.d.store.connections.get(h.accountId, h.connectionArn)
    return conn ? this.c.providerOf(conn) : this.c.provider(h.providerType)
  }

  async #choice(
    caller: Caller,
    provider: GitProvider,
    user: ProviderCredentials,
    hostArn: string | null,
  ): Promise<InstallationChoice> {
    let targets: InstallationTarget[]
    try {
      targets = await provider.listInstallationTargets(user)
    } catch (err) {
      throw providerErrorToAws(err, `Listing your ${this.#noun(provider.type)}s`)
    }
    const existing = (
      await this.d.store.installations.list(caller.principal.accountId, provider.type)
    ).filter((i) => (i.hostArn || null) === hostArn)
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
    const conn = await this.c.connection(caller, h.connectionArn)
    const provider = await this.c.providerOf(conn)
    const user = this.d.keeper.unseal(h.userTokenCiphertext!)
    return this.#complete(
      h,
      caller,
      conn,
      provider,
      user,
      await this.#targets(provider, user),
      choice,
    )
  }

  async #targets(provider: GitProvider, user: ProviderCredentials): Promise<InstallationTarget[]> {
    try {
      return await provider.listInstallationTargets(user)
    } catch (err) {
      throw providerErrorToAws(err, `Listing your ${this.#noun(provider.type)}s`)
    }
  }

  /**
   * The credential a new installation keeps: the user's own (OAuth providers), or for an app
   * installation the installation itself, checked with the app's key (exists for this app, not
   * suspended); tokens are then minted per use and the user's token is not kept.
   */
  async #credential(
    provider: GitProvider,
    target: InstallationTarget,
    user: ProviderCredentials,
  ): Promise<ProviderCredentials> {
    if (this.d.providers.descriptor(provider.type)?.handshake !== 'app-installation') return user
    if (!provider.verifyInstallation)
      throw new InvalidInputException(`${provider.type} cannot verify app installations`)
    let verified: InstallationTarget
    try {
      verified = await provider.verifyInstallation(target.id)
    } catch (err) {
      throw providerErrorToAws(err, `Verifying installation ${target.id}`)
    }
    return { kind: 'github-installation', installationId: verified.id, accessToken: '' }
  }

  async #complete(
    h: HandshakeRecord,
    caller: Caller,
    conn: ConnectionRecord,
    provider: GitProvider,
    user: ProviderCredentials,
    targets: InstallationTarget[],
    choice: { installationId?: string; target?: string },
  ): Promise<{ connection: ConnectionRecord; installation: InstallationRecord }> {
    let inst: InstallationRecord
    let fresh = false
    if (choice.installationId) {
      const found = await this.d.store.installations.get(conn.accountId, choice.installationId)
      if (
        !found ||
        found.providerType !== conn.providerType ||
        (found.hostArn || null) !== conn.hostArn ||
        !targets.some((t) => t.id === found.id)
      )
        throw new InvalidInputException(
          `Choose an installation for a ${this.#noun(conn.providerType)} you belong to`,
        )
      inst = found
    } else {
      const target = targets.find((t) => t.slug === choice.target)
      if (!target)
        throw new InvalidInputException(`Choose a ${this.#noun(conn.providerType)} you belong to`)
      if (!target.administrator)
        throw new AccessDeniedException(
          `Installing into ${this.#noun(conn.providerType)} ${target.slug} needs its administrator; you are a member only`,
        )
      inst = this.c.newInstallation(
        conn.accountId,
        conn.providerType,
        target,
        await this.#credential(provider, target, user),
        caller.principal.arn,
        undefined,
        conn.hostArn,
      )
      fresh = true
    }
    await this.c.check(caller, 'UpdateConnectionInstallation', conn.arn, {
      InstallationId: inst.id,
    })
    if (!(await this.d.store.handshakes.advance(h.id, 'authorized', 'done', {}, this.d.now())))
      throw new InvalidInputException('This handshake was already used or has expired; start again')
    if (fresh) await this.c.install(conn, inst)
    else await this.c.attach(conn, inst)
    return { connection: await this.c.connection(caller, conn.arn), installation: inst }
  }
}

/**
 * @module connect/service
 * Everything that makes a connection reach its provider, behind one facade: the browser handshake
 * (`handshake.ts`), completion without a browser (`complete.ts`), and here the uses pipelines
 * make of an AVAILABLE connection (repositories, branches, commits, changed files, archives,
 * clone credentials). Every step is authorized through the one IAM evaluator with the
 * permission-only actions of spec §6.3, and every use stays inside the connection's reach.
 */
import {
  AccessDeniedException,
  InvalidInputException,
  ResourceUnavailableException,
} from '../generated/errors.js'
import type { PermissionOnlyAction } from '../iam/permissions.js'
import { actionPrefix } from '../iam/authorize.js'
import { addResourceTags } from '../iam/connections-context.js'
import { ProviderNotFound } from '../providers/errors.js'
import type { ArchiveOptions, CredentialReach, GitProvider } from '../providers/provider.js'
import type { ConnectionRecord, InstallationRecord } from '../store/store.js'
import { Completion } from './complete.js'
import { ConnectCore, type Caller, type ConnectDeps } from './core.js'
import { HandshakeFlow } from './handshake.js'
import {
  isNumericRepositoryId,
  pathInTarget,
  splitRepositoryId,
  withinTarget,
} from '../domain/repository-id.js'

export { installationIdFor, providerErrorToAws, type Caller, type ConnectDeps } from './core.js'
export { HANDSHAKE_TTL_MS, OTHER_BROWSER, type InstallationChoice } from './handshake.js'

export const ARCHIVE_LINK_TTL_MS = 5 * 60 * 1000
const PAGE_TTL_MS = 60 * 60 * 1000

export class ConnectService {
  readonly #c: ConnectCore
  readonly #handshake: HandshakeFlow
  readonly #completion: Completion

  constructor(private readonly d: ConnectDeps) {
    this.#c = new ConnectCore(d)
    this.#handshake = new HandshakeFlow(this.#c)
    this.#completion = new Completion(this.#c)
  }

  // ---- browser handshake (handshake.ts) -------------------------------------------------------

  startHandshake: HandshakeFlow['startHandshake'] = (...a) => this.#handshake.startHandshake(...a)
  beginHandshake: HandshakeFlow['beginHandshake'] = (...a) => this.#handshake.beginHandshake(...a)
  handshakeCallback: HandshakeFlow['handshakeCallback'] = (...a) =>
    this.#handshake.handshakeCallback(...a)
  handshakeChoice: HandshakeFlow['handshakeChoice'] = (...a) =>
    this.#handshake.handshakeChoice(...a)
  finishHandshake: HandshakeFlow['finishHandshake'] = (...a) =>
    this.#handshake.finishHandshake(...a)

  // ---- completion without a browser (complete.ts) ---------------------------------------------

  complete: Completion['complete'] = (...a) => this.#completion.complete(...a)
  useInstallation: Completion['useInstallation'] = (...a) => this.#completion.useInstallation(...a)
  listInstallations: Completion['listInstallations'] = (...a) =>
    this.#completion.listInstallations(...a)

  /** What the installation's credential may reach within its target (absent: all of it). */
  reachOf(inst: InstallationRecord): CredentialReach | undefined {
    return this.#c.reachOf(inst)
  }

  /** The descriptor-given `CredentialType` of an installation (what its credential is). */
  credentialType(inst: InstallationRecord): string {
    return (
      this.d.providers
        .descriptor(inst.providerType)
        ?.completion.credentialType(inst.credentialKind) ?? inst.credentialKind
    )
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
    const connection = await this.#c.connection(caller, arn)
    const installation = connection.installationId
      ? await this.d.store.installations.get(connection.accountId, connection.installationId)
      : undefined
    return installation ? { connection, installation } : { connection }
  }

  // ---- using a connection ---------------------------------------------------------------------

  /**
   * The connection's installation, after checking UseConnection with the request's keys, that the
   * connection is AVAILABLE, and that the repository (if any) is in its workspace. A numeric id
   * (providers with `numericRepositoryIds`) is resolved to its path, and scope and UseConnection
   * are decided again on that path: `repo` is what every later call uses.
   */
  async #forUse(
    caller: Caller,
    connectionArn: string,
    providerAction: string,
    repo?: string,
    branch?: string,
    /** A further permission the use needs (checked before anything is read, too). */
    also?: PermissionOnlyAction,
  ): Promise<{
    conn: ConnectionRecord
    inst: InstallationRecord
    provider: GitProvider
    repo: string
  }> {
    // Authorized on the ARN as named before the connection is read: an unauthorized caller gets
    // AccessDeniedException whether or not the connection exists.
    const keys = (id: string | undefined) => {
      const { owner, name } = id ? splitRepositoryId(id) : { owner: undefined, name: undefined }
      return {
        ProviderAction: providerAction,
        FullRepositoryId: id,
        OwnerId: owner,
        RepositoryName: name,
        BranchName: branch,
      }
    }
    // Authorized on the id as given first (a numeric GitLab project id included), before anything
    // is read or asked of the provider; a numeric id is then resolved to its path, and the path
    // must be allowed too (a Deny on `acme/platform/secret` applies to its id as well). A policy
    // that names only paths therefore does not allow ids: allow both forms, or a pattern.
    await this.#c.check(caller, 'UseConnection', connectionArn, keys(repo))
    {
      if (also) await this.#c.check(caller, also, connectionArn)
      const conn = await this.#c.connection(caller, connectionArn)
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
      const provider = await this.#c.providerOf(conn)
      const given = repo
      if (repo !== undefined && isNumericRepositoryId(repo)) {
        if (!provider.capabilities.numericRepositoryIds)
          throw new InvalidInputException(
            `${conn.providerType} repositories are named 'owner/repository': a numeric FullRepositoryId (${repo}) is taken only by providers with numeric project ids (GitLab)`,
          )
        // The project's path decides scope and IAM: a policy on `acme/platform/secret` applies to
        // its numeric id too.
        repo = (
          await this.#c.run(inst, `Reading project ${repo}`, (c) =>
            provider.getRepository(c, repo!),
          )
        ).fullName
      }
      // Named as the caller named it: a numeric id's path is not told to a caller outside it.
      if (repo !== undefined && !withinTarget(repo, inst.target))
        throw new AccessDeniedException(
          `Connection ${conn.arn} reaches only repositories of the ${conn.providerType} workspace ${inst.target}; ${given!.slice(0, 200)} is outside it`,
        )
      const reach = this.#c.reachOf(inst)
      if (
        repo !== undefined &&
        reach?.repository &&
        pathInTarget(repo, inst.target)?.toLowerCase() !== reach.repository.toLowerCase()
      )
        throw new AccessDeniedException(
          `Connection ${conn.arn} reaches only the repository ${inst.target}/${reach.repository}; ${given!.slice(0, 200)} is outside it`,
        )
      if (repo !== undefined && reach?.project) {
        const path = repo
        const r = await this.#c.run(inst, `Reading ${path.slice(0, 200)}`, async (c) => {
          try {
            return await provider.getRepository(c, path)
          } catch (err) {
            if (err instanceof ProviderNotFound) return undefined
            throw err
          }
        })
        if (r?.project !== reach.project)
          throw new AccessDeniedException(
            `Connection ${conn.arn} reaches only repositories of project ${reach.project} in workspace ${inst.target}; ${given!.slice(0, 200)} is outside it`,
          )
      }
      if (repo !== given) await this.#c.check(caller, 'UseConnection', connectionArn, keys(repo))
      return { conn, inst, provider, repo: repo ?? '' }
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
    const page = await this.#c.run(inst, 'Listing repositories', (c) =>
      provider.listRepositories(c, inst.target, this.#openPage(scope, nextToken)),
    )
    // A workspace's listing holds only its own repositories; filter anyway (defence in depth),
    // and to the reach: a listing also holds the public repositories any token sees.
    const reach = this.#c.reachOf(inst)
    const items = page.items.filter(
      (r) =>
        withinTarget(r.fullName, inst.target) &&
        (!reach?.repository ||
          pathInTarget(r.fullName, inst.target)?.toLowerCase() ===
            reach.repository.toLowerCase()) &&
        (!reach?.project || r.project === reach.project),
    )
    return { items, nextToken: this.#pageToken(scope, page.next) }
  }

  async listBranches(caller: Caller, arn: string, repo: string, nextToken?: string) {
    const { inst, provider, repo: path } = await this.#forUse(caller, arn, 'ListBranches', repo)
    const scope = `branches|${arn}|${path}`
    const page = await this.#c.run(inst, `Listing branches of ${path}`, (c) =>
      provider.listBranches(c, path, this.#openPage(scope, nextToken)),
    )
    return { items: page.items, nextToken: this.#pageToken(scope, page.next) }
  }

  async getBranch(caller: Caller, arn: string, repo: string, branch: string) {
    const {
      inst,
      provider,
      repo: path,
    } = await this.#forUse(caller, arn, 'GetBranch', repo, branch)
    return this.#c.run(inst, `Reading branch ${branch} of ${path}`, (c) =>
      provider.getBranch(c, path, branch),
    )
  }

  async getCommit(caller: Caller, arn: string, repo: string, commit: string) {
    const { inst, provider, repo: path } = await this.#forUse(caller, arn, 'GetCommit', repo)
    return this.#c.run(inst, `Reading commit ${commit} of ${path}`, (c) =>
      provider.getCommit(c, path, commit),
    )
  }

  async changedFiles(caller: Caller, arn: string, repo: string, commit: string, base?: string) {
    const { inst, provider, repo: path } = await this.#forUse(caller, arn, 'GetCommitDiffs', repo)
    return this.#c.run(inst, `Listing files changed by ${commit}`, (c) =>
      provider.changedFiles(c, path, commit, base),
    )
  }

  /**
   * A link to download the tree at a commit as a zip, valid for five minutes; the permission is
   * checked now (UseConnection with ProviderAction StartUploadArchiveToS3, as the source action).
   */
  async archiveLink(caller: Caller, arn: string, repo: string, commit: string) {
    const {
      inst,
      provider,
      repo: path,
    } = await this.#forUse(caller, arn, 'StartUploadArchiveToS3', repo)
    const resolved = await this.#c.run(inst, `Resolving commit ${commit}`, (c) =>
      provider.getCommit(c, path, commit),
    )
    const token = this.d.signer.sign(
      'archive',
      { a: inst.accountId, c: arn, r: path, x: resolved.id },
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
    if (!inst || !withinTarget(v.r, inst.target))
      throw new ResourceUnavailableException('The connection no longer reaches this repository')
    const provider = await this.#c.providerOf(conn)
    const stream = await this.#c.run(inst, 'Downloading the archive', (c) =>
      provider.downloadArchive(c, v.r, v.x),
    )
    return { stream, fileName: `${v.r.replaceAll('/', '-')}-${v.x.slice(0, 12)}.zip` }
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
    const {
      inst,
      provider,
      repo: path,
    } = await this.#forUse(caller, arn, 'StartUploadArchiveToS3', repo, branch)
    return this.#c.run(inst, `Downloading ${path} at ${commit}`, (c) =>
      provider.downloadArchive(c, path, commit, opts),
    )
  }

  /** The HTTPS clone URL of a repository (no credential in it), checked with UseConnection GitPull. */
  async cloneUrl(caller: Caller, arn: string, repo: string, branch: string) {
    const { inst, provider, repo: path } = await this.#forUse(caller, arn, 'GitPull', repo, branch)
    return this.#c.run(inst, `Reading ${path}`, async (c) =>
      provider.gitCredentials
        ? (await provider.gitCredentials(c, path)).url
        : provider.cloneCredentials(c, path).url,
    )
  }

  /**
   * Credentials for `git clone` over HTTPS: the connection's current access token (refreshed to
   * last at least five minutes). Needs GetConnectionToken and UseConnection (GitPull) on the
   * repository, since it hands the provider token itself to the caller.
   */
  async cloneCredentials(caller: Caller, arn: string, repo: string) {
    const {
      inst,
      provider,
      repo: path,
    } = await this.#forUse(caller, arn, 'GitPull', repo, undefined, 'GetConnectionToken')
    const { c, git } = await this.#c.run(inst, 'Preparing clone credentials', async (cred) => {
      // Prove the token works for this repository before handing it out.
      await provider.getRepository(cred, path)
      // Providers whose tokens are minted per use (GitHub installations) mint one for it.
      const minted = provider.gitCredentials ? await provider.gitCredentials(cred, path) : undefined
      return { c: cred, git: minted }
    })
    const chosen: { url: string; username: string; password: string; expiresAt?: number } =
      git ?? provider.cloneCredentials(c, path)
    const { expiresAt, ...creds } = chosen
    const until = expiresAt ?? c.expiresAt
    return { ...creds, expiresAt: until === undefined ? undefined : Math.floor(until / 1000) }
  }
}

/**
 * @module audit/uses
 * Every use of a connection as an audit event of its own (`UseConnection`, an `AwsServiceEvent`),
 * beside the API call that asked for it, if any: a pipeline's source action (CODE_ZIP download or
 * CODEBUILD_CLONE_REF), clone credentials (`GetCloneCredentials`, and `junction git-credential`,
 * told apart by its user agent), archive links and their downloads. The connect service is
 * decorated at the composition root (its methods wrapped), so the service itself stays unaware of
 * the trail. A use made while serving a request carries that request's id, source address and user
 * agent; a pipeline's carries its role session.
 */
import type { IncomingMessage } from 'node:http'
import { AwsError } from '../errors/aws-error.js'
import type { Caller, ConnectService } from '../connect/service.js'
import type { Signer } from '../connect/signed.js'
import type { Principal } from '../iam/principal.js'
import { requestScope } from '../server/logging.js'
import type { AuditLog } from './log.js'

export const USE_EVENT_NAME = 'UseConnection'

/** Requests being served that may use a connection (their address and user agent). */
export class InFlight {
  readonly #requests = new Map<string, IncomingMessage>()
  enter(requestId: string, req: IncomingMessage): void {
    this.#requests.set(requestId, req)
  }
  leave(requestId: string): void {
    this.#requests.delete(requestId)
  }
  current(): { requestId: string; req: IncomingMessage | undefined } {
    const requestId = requestScope.getStore() ?? ''
    return { requestId, req: requestId ? this.#requests.get(requestId) : undefined }
  }
}

type UseKind =
  'source-action' | 'clone-credentials' | 'git-credential' | 'archive-link' | 'archive-download'

const errorOf = (err: unknown) =>
  err instanceof AwsError
    ? { code: err.code, message: err.message }
    : { code: 'InternalFailure', message: err instanceof Error ? err.name : 'failed' }

const sourceOf = (arn: string) =>
  `${arn.split(':')[2] === 'codeconnections' ? 'codeconnections' : 'codestar-connections'}.amazonaws.com`

/** A pipeline's role session (pipelines/roles.ts) acts as CodePipeline, not as a request. */
const isPipeline = (p: Principal) => p.accessKeyId.startsWith('pipeline:')

/**
 * Wraps the connect service's uses so that each records an event with its outcome (the failure's
 * code and message when it fails, the denial's deciding statement when IAM refused it).
 */
export function auditConnectionUses(
  connect: ConnectService,
  audit: AuditLog,
  inFlight: InFlight,
  /** Opens archive links (the connect service's own signer) to attribute their downloads. */
  signer: Signer,
  now: () => number,
): void {
  const record = (
    kind: UseKind,
    providerAction: string,
    principal: Principal,
    sourceIp: string | undefined,
    input: Record<string, unknown>,
    err: unknown,
  ) => {
    const { requestId, req } = inFlight.current()
    const pipeline = isPipeline(principal)
    const userAgent = pipeline
      ? 'codepipeline.amazonaws.com'
      : (req?.headers['user-agent'] ?? undefined)
    const use: UseKind =
      kind === 'clone-credentials' && /\bgit-credential\b/.test(userAgent ?? '')
        ? 'git-credential'
        : kind
    audit.record({
      time: now(),
      requestId: pipeline ? '' : requestId,
      eventName: USE_EVENT_NAME,
      eventSource: sourceOf(String(input['ConnectionArn'])),
      eventType: 'AwsServiceEvent',
      principal,
      sourceIp: pipeline ? undefined : (sourceIp ?? req?.socket.remoteAddress),
      userAgent,
      input,
      output: undefined,
      error: err === undefined ? undefined : errorOf(err),
      additional: { use, providerAction },
    })
  }
  const wrap = <A extends unknown[], R>(
    f: (...a: A) => Promise<R>,
    describe: (...a: A) => {
      kind: UseKind
      action: string
      caller: Caller
      input: Record<string, unknown>
    },
  ) =>
    async function (...a: A): Promise<R> {
      const d = describe(...a)
      try {
        const r = await f(...a)
        record(d.kind, d.action, d.caller.principal, d.caller.sourceIp, d.input, undefined)
        return r
      } catch (err) {
        record(d.kind, d.action, d.caller.principal, d.caller.sourceIp, d.input, err)
        throw err
      }
    }

  const c = connect
  c.downloadArchive = wrap(c.downloadArchive.bind(c), (caller, arn, repo, branch, commit) => ({
    kind: 'source-action',
    action: 'StartUploadArchiveToS3',
    caller,
    input: { ConnectionArn: arn, FullRepositoryId: repo, BranchName: branch, CommitId: commit },
  }))
  c.cloneUrl = wrap(c.cloneUrl.bind(c), (caller, arn, repo, branch) => ({
    kind: 'source-action',
    action: 'GitPull',
    caller,
    input: { ConnectionArn: arn, FullRepositoryId: repo, BranchName: branch },
  }))
  c.cloneCredentials = wrap(c.cloneCredentials.bind(c), (caller, arn, repo) => ({
    kind: 'clone-credentials',
    action: 'GitPull',
    caller,
    input: { ConnectionArn: arn, FullRepositoryId: repo },
  }))
  c.archiveLink = wrap(c.archiveLink.bind(c), (caller, arn, repo, commit) => ({
    kind: 'archive-link',
    action: 'StartUploadArchiveToS3',
    caller,
    input: { ConnectionArn: arn, FullRepositoryId: repo, CommitId: commit },
  }))
  // A download is made by whoever holds the link: recorded for the link's account and connection.
  const openArchive = c.openArchive.bind(c)
  c.openArchive = async (token: string) => {
    const v = signer.open<{ a: string; c: string; r: string; x: string }>('archive', token)
    if (!v) return openArchive(token)
    const holder: Principal = {
      arn: 'archive-link',
      accountId: v.a,
      accessKeyId: '',
      kind: 'session',
      isRoot: false,
    }
    const input = { ConnectionArn: v.c, FullRepositoryId: v.r, CommitId: v.x }
    try {
      const r = await openArchive(token)
      record('archive-download', 'StartUploadArchiveToS3', holder, undefined, input, undefined)
      return r
    } catch (err) {
      record('archive-download', 'StartUploadArchiveToS3', holder, undefined, input, err)
      throw err
    }
  }
}

/**
 * @module pipelines/actions/source
 * The `CodeStarSourceConnection` source action (spec §7): as the pipeline role, with
 * `UseConnection` and its FullRepositoryId/BranchName/ProviderAction keys, on an AVAILABLE
 * connection, resolve the commit (trigger commit, `sourceRevisions` override, or branch head), write
 * the artifact (`CODE_ZIP`: the tree at the commit, no `.git`; `CODEBUILD_CLONE_REF`: a JSON
 * reference to clone through the connection) and emit the six output variables. Its summary (and
 * the execution's `revisionSummary`) is CodePipeline's JSON, `{"ProviderType":…,"CommitMessage":…}`.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { AwsError } from '../../errors/aws-error.js'
import { GitArchiveTooLarge } from '../../providers/git-archive.js'
import { sourceConfig } from '../definition.js'
import { downloadTo, mib, TooLargeError } from '../file-io.js'
import { inside, segment } from '../paths.js'
import { ZipFormatError } from '../zip.js'
import { connectionRevisionSummary } from '../wire.js'
import { failed, type ActionResult, type ActionRun } from './action.js'

const MAX_MESSAGE_BYTES = 100 * 1024
export const CLONE_REF_TYPE = 'junction/codebuild-clone-ref@1'

const tooLarge = (what: string, limit: number) =>
  `The source archive of ${what} is larger than the limit of ${mib(limit)} (the operator's --max-source-archive-size)`

/**
 * The provider's archive of the tree (its files at the zip's root), streamed to disk (at most
 * `limit` bytes) and renamed into place once whole. Nothing is left behind but the finished
 * artifact.
 */
async function writeCodeZip(
  stream: ReadableStream<Uint8Array>,
  dir: string,
  name: string,
  limit: number,
  what: string,
): Promise<string> {
  const partial = inside(dir, `.${name}.partial-${randomBytes(6).toString('hex')}`)
  const path = inside(dir, `${name}.zip`)
  try {
    await downloadTo(stream, partial, limit, () => tooLarge(what, limit))
    await rename(partial, path)
    return path
  } finally {
    await rm(partial, { force: true })
  }
}

function truncateUtf8(s: string, max: number): string {
  const b = Buffer.from(s, 'utf8')
  if (b.length <= max) return s
  // Cut at a character boundary.
  let end = max
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--
  return b.subarray(0, end).toString('utf8')
}

export async function runSource(r: ActionRun): Promise<ActionResult> {
  const cfg = sourceConfig({ ...r.action, configuration: r.configuration })
  const conn = await r.store.connections.get(r.accountId, cfg.connectionArn)
  if (!conn)
    return failed(
      `Connection ${cfg.connectionArn} no longer exists (it was deleted): update the pipeline to use another connection`,
      'ConnectionNotFound',
    )
  const caller = r.caller(cfg.connectionArn)
  const artifact = r.action.outputArtifacts?.[0]?.name ?? 'SourceArtifact'
  try {
    const branch = r.revision?.ref ?? cfg.branch
    const commit = r.revision
      ? await r.connect.getCommit(
          caller,
          cfg.connectionArn,
          cfg.repository,
          r.revision.revisionValue,
        )
      : (await r.connect.getBranch(caller, cfg.connectionArn, cfg.repository, cfg.branch)).commit
    await mkdir(r.artifactDir, { recursive: true, mode: 0o700 })
    let path: string
    if (cfg.format === 'CODE_ZIP') {
      const limit = r.limits.sourceArchiveBytes
      const what = `${cfg.repository} at ${commit.id.slice(0, 12)}`
      // Fetched over Git into a temporary repository beside the artifact (removed in every case),
      // bounded by the same limit as the archive; the files at the zip's root, as CODE_ZIP has them.
      const stream = await r.connect
        .downloadArchive(caller, cfg.connectionArn, cfg.repository, branch, commit.id, {
          maxBytes: limit,
          tmpDir: r.artifactDir,
          topFolder: false,
        })
        .catch((err: unknown) => {
          throw err instanceof GitArchiveTooLarge
            ? new TooLargeError(limit, tooLarge(what, limit))
            : err
        })
      path = await writeCodeZip(stream, r.artifactDir, segment(artifact), limit, what)
    } else {
      const url = await r.connect.cloneUrl(caller, cfg.connectionArn, cfg.repository, branch)
      path = inside(r.artifactDir, `${segment(artifact)}.json`)
      await writeFile(
        path,
        JSON.stringify(
          {
            type: CLONE_REF_TYPE,
            connectionArn: cfg.connectionArn,
            providerType: conn.providerType,
            fullRepositoryId: cfg.repository,
            branch,
            commitId: commit.id,
            cloneUrl: url,
            // Credentials are never stored in the artifact: a consumer asks the connection.
            credentialHelper: `junction git-credential --connection-arn ${cfg.connectionArn}`,
          },
          null,
          2,
        ),
        { mode: 0o600 },
      )
    }
    const message = truncateUtf8(commit.message, MAX_MESSAGE_BYTES)
    const authorDate = new Date(commit.authorDate)
    // As CodePipeline: the summary is JSON naming the provider and the commit message.
    const summary = connectionRevisionSummary(conn.providerType, message)
    const links = r.webLinks(conn.providerType, cfg.repository, commit.id)
    return {
      status: 'Succeeded',
      summary,
      externalExecutionId: commit.id,
      ...(links?.commit ? { externalExecutionUrl: links.commit } : {}),
      outputVariables: {
        AuthorDate: Number.isNaN(authorDate.getTime())
          ? commit.authorDate
          : authorDate.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        BranchName: branch,
        CommitId: commit.id,
        CommitMessage: message,
        ConnectionArn: cfg.connectionArn,
        FullRepositoryName: cfg.repository,
      },
      artifacts: {
        [artifact]: { path, kind: cfg.format === 'CODE_ZIP' ? 'zip' : 'clone-ref' },
      },
      revision: {
        revisionId: commit.id,
        revisionSummary: summary,
        ...(Number.isNaN(authorDate.getTime()) ? {} : { created: authorDate.getTime() }),
        ...(links?.commit ? { revisionUrl: links.commit } : {}),
      },
    }
  } catch (err) {
    if (err instanceof AwsError) return failed(`${err.code}: ${err.message}`, err.code)
    if (err instanceof TooLargeError) return failed(err.message, 'ArtifactTooLarge')
    if (err instanceof ZipFormatError)
      return failed(`The provider's archive cannot be used: ${err.message}`, 'InvalidArchive')
    throw err
  }
}

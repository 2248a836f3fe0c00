/**
 * @module server/extension
 * Junction's own operations beside the AWS ones, on the same `POST /` in the same AWS JSON 1.0
 * protocol: `X-Amz-Target: JunctionConnections_20261128.<Operation>` (or `JunctionConnections.`),
 * signed with SigV4 for the `codestar-connections` or `codeconnections` service (the scope picks
 * the IAM prefix). They complete connections without a browser and expose what pipelines do with
 * a connection; each is authorized inside with the permission-only actions (spec §6.3).
 */
import type { ConnectService, Caller } from '../connect/service.js'
import type { CredentialReach } from '../providers/provider.js'
import { PROVIDERS, SUPPORTED_PROVIDERS } from '../providers/registry.js'
import { connectionToWire } from '../domain/wire.js'
import { UnknownOperationException, ValidationException } from '../errors/common.js'
import type { Authorizer } from '../iam/authorizer.js'
import type { Principal } from '../iam/principal.js'
import type { SigV4Verifier } from '../protocol/sigv4/verify.js'
import type { ConnectionRecord, InstallationRecord, Store } from '../store/store.js'
import type { ApiRequest } from './api.js'
import { parseJsonBody } from '../protocol/json-body.js'
import { explainOperations } from './explain.js'
import type { GitHubManifestFlow } from '../connect/github-manifest.js'
import { githubManifestOperations } from '../connect/github-manifest-ops.js'
import { hostSetupOperations, type HostSetup } from '../connect/host-setup.js'
import { FULL_REPOSITORY_ID_PATTERN } from '../domain/repository-id.js'

export const EXTENSION_TARGET_PREFIX = 'JunctionConnections_20261128'
const SHORT_PREFIX = 'JunctionConnections'
const SIGNING_SERVICES = new Set(['codestar-connections', 'codeconnections'])

export interface ExtensionDeps {
  verifier: SigV4Verifier<Principal>
  authorizer: Authorizer
  connect: ConnectService
  store: Store
  region: string
  /** GitHub's manifest flow (`StartGitHubAppRegistration`, connect/github-manifest-ops). */
  githubApps?: GitHubManifestFlow
  /** Hosts set up with an administrator's token (`SetUpHost`, connect/host-setup). */
  hostSetup?: HostSetup
}

export type FieldSpec =
  | { type: 'string'; required?: boolean; max: number; pattern?: RegExp; enum?: string[] }
  | { type: 'integer'; required?: boolean; min: number; max: number }
  /** A list of strings (each 1..max long), or a map of string keys to such lists. */
  | { type: 'strings'; required?: boolean; maxItems: number; max: number }
  | { type: 'stringLists'; required?: boolean; maxItems: number; max: number }

export interface ExtensionOperation {
  fields: Record<string, FieldSpec>
  handle(caller: Caller, input: Record<string, unknown>, deps: ExtensionDeps): Promise<unknown>
}

const ARN = {
  type: 'string',
  required: true,
  max: 256,
  pattern: /^arn:aws(-[\w]+)*:.+:.+:[0-9]{12}:.+$/,
} as const
const REPO = {
  type: 'string',
  required: true,
  max: 512,
  pattern: FULL_REPOSITORY_ID_PATTERN,
} as const
const COMMIT = { type: 'string', required: true, max: 64, pattern: /^[0-9a-fA-F]{4,64}$/ } as const
const NEXT = { type: 'string', max: 8192 } as const

const s = (v: unknown) => v as string

/**
 * `CompleteConnection`'s members: every provider's (providers/<name>/completion.ts), a member
 * required only where every provider requires it, and a member several providers name admitting
 * any of their values (GitLab's `Workspace` is a path, Bitbucket's is not). The connection's own
 * provider's fields are checked once it is known (Completion.complete's `check`).
 */
function completionFields(): Record<string, FieldSpec> {
  const out: Record<string, FieldSpec> = {}
  for (const p of PROVIDERS)
    for (const [name, spec] of Object.entries(p.completion.fields)) {
      const required = PROVIDERS.every((q) => q.completion.fields[name]?.required)
      const seen = out[name]
      out[name] = seen ? loosest(seen, spec) : { ...spec, required }
    }
  return out
}

/** A field spec admitting what either admits (same type; otherwise the first stays). */
function loosest(a: FieldSpec, b: FieldSpec): FieldSpec {
  if (a.type === 'string' && b.type === 'string')
    return {
      ...a,
      max: Math.max(a.max, b.max),
      ...(a.pattern && b.pattern && a.pattern.source !== b.pattern.source
        ? { pattern: new RegExp(`(?:${a.pattern.source})|(?:${b.pattern.source})`) }
        : !a.pattern || !b.pattern
          ? { pattern: undefined }
          : {}),
      ...(a.enum && b.enum ? { enum: [...new Set([...a.enum, ...b.enum])] } : { enum: undefined }),
    }
  if (a.type === 'integer' && b.type === 'integer')
    return { ...a, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) }
  return a
}

/** The installation as Junction's operations show it: `Project`/`Repository` when narrowed. */
export function installationToWire(
  i: InstallationRecord,
  reach: CredentialReach | undefined,
  credentialType: string,
) {
  const out: Record<string, unknown> = {
    InstallationId: i.id,
    ProviderType: i.providerType,
    Workspace: i.target,
    WorkspaceName: i.targetName,
    Status: i.status,
    CredentialType: credentialType,
    CreatedAt: Math.floor(i.createdAt / 1000),
    UpdatedAt: Math.floor(i.updatedAt / 1000),
  }
  if (reach?.project) out['Project'] = reach.project
  if (reach?.repository) out['Repository'] = `${i.target}/${reach.repository}`
  if (i.statusReason) out['StatusReason'] = i.statusReason
  if (i.expiresAt !== null) out['CredentialExpiresAt'] = Math.floor(i.expiresAt / 1000)
  return out
}

function completed(
  r: { connection: ConnectionRecord; installation: InstallationRecord },
  connect: ConnectService,
) {
  return {
    Connection: connectionToWire(r.connection),
    Installation: installationToWire(
      r.installation,
      connect.reachOf(r.installation),
      connect.credentialType(r.installation),
    ),
  }
}

function commitToWire(c: {
  id: string
  authorDate: string
  message: string
  author: string
  parents?: string[]
}) {
  return {
    CommitId: c.id,
    AuthorDate: c.authorDate,
    // Output variables cap the message at 100 KB (spec §7).
    CommitMessage: c.message.slice(0, 100 * 1024),
    Author: c.author,
    ...(c.parents ? { ParentCommitIds: c.parents } : {}),
  }
}

export const extensionOperations: Record<string, ExtensionOperation> = {
  StartOAuthHandshake: {
    fields: { ConnectionArn: ARN },
    handle: (c, i, d) => d.connect.startHandshake(c, s(i['ConnectionArn'])),
  },
  CompleteConnection: {
    fields: { ConnectionArn: ARN, ...completionFields() },
    handle: async (c, i, d) => {
      const { ConnectionArn, ...input } = i
      return completed(
        await d.connect.complete(c, s(ConnectionArn), input, (fields) =>
          validate('CompleteConnection', { ConnectionArn: ARN, ...fields }, i),
        ),
        d.connect,
      )
    },
  },
  UpdateConnectionInstallation: {
    fields: { ConnectionArn: ARN, InstallationId: { type: 'string', required: true, max: 128 } },
    handle: async (c, i, d) =>
      completed(
        await d.connect.useInstallation(c, s(i['ConnectionArn']), s(i['InstallationId'])),
        d.connect,
      ),
  },
  ListInstallations: {
    fields: { ProviderType: { type: 'string', max: 32, enum: SUPPORTED_PROVIDERS } },
    handle: async (c, i, d) => ({
      Installations: (
        await d.connect.listInstallations(c, i['ProviderType'] as string | undefined)
      ).map((x) => installationToWire(x, d.connect.reachOf(x), d.connect.credentialType(x))),
    }),
  },
  DescribeConnection: {
    fields: { ConnectionArn: ARN },
    handle: async (c, i, d) => {
      const r = await d.connect.describe(c, s(i['ConnectionArn']))
      const out: Record<string, unknown> = { Connection: connectionToWire(r.connection) }
      if (r.connection.statusReason) out['StatusReason'] = r.connection.statusReason
      if (r.installation)
        out['Installation'] = installationToWire(
          r.installation,
          d.connect.reachOf(r.installation),
          d.connect.credentialType(r.installation),
        )
      return out
    },
  },
  ListRepositories: {
    fields: { ConnectionArn: ARN, NextToken: NEXT },
    handle: async (c, i, d) => {
      const r = await d.connect.listRepositories(
        c,
        s(i['ConnectionArn']),
        i['NextToken'] as string | undefined,
      )
      return {
        Repositories: r.items.map((x) => ({
          FullRepositoryId: x.fullName,
          Owner: x.owner,
          Name: x.name,
          IsPrivate: x.isPrivate,
          CloneUrl: x.cloneUrl,
          ...(x.defaultBranch ? { DefaultBranch: x.defaultBranch } : {}),
        })),
        ...(r.nextToken ? { NextToken: r.nextToken } : {}),
      }
    },
  },
  ListBranches: {
    fields: { ConnectionArn: ARN, FullRepositoryId: REPO, NextToken: NEXT },
    handle: async (c, i, d) => {
      const r = await d.connect.listBranches(
        c,
        s(i['ConnectionArn']),
        s(i['FullRepositoryId']),
        i['NextToken'] as string | undefined,
      )
      return {
        Branches: r.items.map((b) => ({ BranchName: b.name, CommitId: b.commit.id })),
        ...(r.nextToken ? { NextToken: r.nextToken } : {}),
      }
    },
  },
  GetBranch: {
    fields: {
      ConnectionArn: ARN,
      FullRepositoryId: REPO,
      BranchName: { type: 'string', required: true, max: 255 },
    },
    handle: async (c, i, d) => {
      const b = await d.connect.getBranch(
        c,
        s(i['ConnectionArn']),
        s(i['FullRepositoryId']),
        s(i['BranchName']),
      )
      return { BranchName: b.name, ...commitToWire(b.commit) }
    },
  },
  GetCommit: {
    fields: { ConnectionArn: ARN, FullRepositoryId: REPO, CommitId: COMMIT },
    handle: async (c, i, d) =>
      commitToWire(
        await d.connect.getCommit(
          c,
          s(i['ConnectionArn']),
          s(i['FullRepositoryId']),
          s(i['CommitId']),
        ),
      ),
  },
  ListChangedFiles: {
    fields: {
      ConnectionArn: ARN,
      FullRepositoryId: REPO,
      CommitId: COMMIT,
      BaseCommitId: { ...COMMIT, required: false },
    },
    handle: async (c, i, d) => {
      const files = await d.connect.changedFiles(
        c,
        s(i['ConnectionArn']),
        s(i['FullRepositoryId']),
        s(i['CommitId']),
        i['BaseCommitId'] as string | undefined,
      )
      return {
        Files: files.map((f) => ({
          Path: f.path,
          Status: f.status.toUpperCase(),
          ...(f.oldPath ? { OldPath: f.oldPath } : {}),
        })),
      }
    },
  },
  GetSourceArchiveUrl: {
    fields: { ConnectionArn: ARN, FullRepositoryId: REPO, CommitId: COMMIT },
    handle: async (c, i, d) => {
      const r = await d.connect.archiveLink(
        c,
        s(i['ConnectionArn']),
        s(i['FullRepositoryId']),
        s(i['CommitId']),
      )
      return { Url: r.url, CommitId: r.commitId, ExpiresAt: r.expiresAt }
    },
  },
  GetCloneCredentials: {
    fields: { ConnectionArn: ARN, FullRepositoryId: REPO },
    handle: async (c, i, d) => {
      const r = await d.connect.cloneCredentials(c, s(i['ConnectionArn']), s(i['FullRepositoryId']))
      return {
        CloneUrl: r.url,
        Username: r.username,
        Password: r.password,
        ...(r.expiresAt ? { ExpiresAt: r.expiresAt } : {}),
      }
    },
  },
}

Object.assign(extensionOperations, explainOperations, githubManifestOperations, hostSetupOperations)

export function isExtensionTarget(target: string | undefined): boolean {
  return (
    !!target &&
    (target.startsWith(`${EXTENSION_TARGET_PREFIX}.`) || target.startsWith(`${SHORT_PREFIX}.`))
  )
}

/** The service named in the SigV4 credential scope (header or presigned query). */
function scopeService(r: ApiRequest): string | undefined {
  const auth = r.req.headers.authorization
  const m = auth
    ? /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\/aws4_request/.exec(auth)
    : null
  if (m) return m[1]
  const q = (r.req.url ?? '').split('?')[1]
  const cred = q ? new URLSearchParams(q).get('X-Amz-Credential') : null
  return cred?.split('/')[3]
}

const isStrings = (v: unknown, max: number): boolean =>
  Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length >= 1 && x.length <= max)

/** What is wrong with a `strings` or `stringLists` member, if anything. */
function listProblem(
  f: { type: 'strings' | 'stringLists'; maxItems: number; max: number },
  v: unknown,
): string | undefined {
  if (f.type === 'strings')
    return isStrings(v, f.max) && (v as string[]).length <= f.maxItems
      ? undefined
      : `Member must be a list of at most ${f.maxItems} strings of length 1 to ${f.max}`
  const entries = typeof v === 'object' && !Array.isArray(v) ? Object.entries(v as object) : []
  return entries.length === Object.keys(v as object).length &&
    entries.length <= f.maxItems &&
    entries.every(([k, x]) => k.length >= 1 && k.length <= 256 && isStrings(x, f.max))
    ? undefined
    : `Member must map at most ${f.maxItems} keys to lists of strings of length 1 to ${f.max}`
}

function validate(
  op: string,
  spec: Record<string, FieldSpec>,
  input: Record<string, unknown>,
): void {
  const problems: string[] = []
  for (const [name, f] of Object.entries(spec)) {
    const v = input[name]
    if (v === undefined || v === null) {
      if (f.required)
        problems.push(
          `Value null at '${name}' failed to satisfy constraint: Member must not be null`,
        )
      continue
    }
    if (f.type === 'string') {
      if (typeof v !== 'string')
        problems.push(`Value at '${name}' failed to satisfy constraint: Member must be a string`)
      else if (v.length < 1 || v.length > f.max)
        problems.push(
          `Value at '${name}' failed to satisfy constraint: Member must have length between 1 and ${f.max}`,
        )
      else if (f.pattern && !f.pattern.test(v))
        problems.push(
          `Value at '${name}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${f.pattern.source}`,
        )
      else if (f.enum && !f.enum.includes(v))
        problems.push(
          `Value at '${name}' failed to satisfy constraint: Member must satisfy enum value set: [${f.enum.join(', ')}]`,
        )
    } else if (f.type === 'strings' || f.type === 'stringLists') {
      const problem = listProblem(f, v)
      if (problem) problems.push(`Value at '${name}' failed to satisfy constraint: ${problem}`)
    } else if (typeof v !== 'number' || !Number.isInteger(v) || v < f.min || v > f.max)
      problems.push(
        `Value at '${name}' failed to satisfy constraint: Member must be an integer between ${f.min} and ${f.max}`,
      )
  }
  for (const name of Object.keys(input))
    if (!(name in spec)) problems.push(`'${name.slice(0, 64)}' is not a member of ${op}`)
  if (problems.length > 0)
    throw new ValidationException(
      `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.slice(0, 5).join('; ')}`,
    )
}

export async function runExtensionChain(r: ApiRequest, deps: ExtensionDeps): Promise<void> {
  const target = r.req.headers['x-amz-target'] as string
  const opName = target.slice(target.indexOf('.') + 1)
  const op = Object.hasOwn(extensionOperations, opName) ? extensionOperations[opName] : undefined
  if (!op)
    throw new UnknownOperationException(
      `Operation ${JSON.stringify(target.slice(0, 200))} is not recognized`,
    )
  ;(r as { operation?: string }).operation = opName
  const service = scopeService(r) ?? 'codestar-connections'
  const signing = SIGNING_SERVICES.has(service) ? service : 'codestar-connections'
  const verified = await deps.verifier.verify(
    {
      method: r.req.method ?? 'POST',
      url: r.req.url ?? '/',
      headers: r.req.headers,
      rawHeaders: r.req.rawHeaders,
      body: r.body,
    },
    signing,
  )
  r.principal = verified.record
  const input = parseJsonBody(r.body)
  validate(opName, op.fields, input)
  const caller: Caller = { principal: verified.record, service: signing as Caller['service'] }
  if (r.req.socket.remoteAddress) caller.sourceIp = r.req.socket.remoteAddress
  r.output = await op.handle(caller, input as Record<string, unknown>, deps)
}

/**
 * @module pipelines/api
 * The CodePipeline API subset on `POST /` (AWS JSON 1.1, target `CodePipeline_20150709`, SigV4
 * service `codepipeline`): the same chain as the connections API — authenticate, parse, validate
 * against the generated table, authorize `codepipeline:<Operation>` on the pipeline ARN (with
 * `aws:RequestTag`, `aws:TagKeys` and `aws:ResourceTag`), dispatch. Creating or updating a pipeline
 * also checks, as AWS does, `iam:PassRole` on its role and `PassConnection` (PassedToService
 * `codepipeline.amazonaws.com`) on every connection it references.
 */
import { randomUUID } from 'node:crypto'
import type { ApiRequest } from '../server/api.js'
import type { SigV4Verifier } from '../protocol/sigv4/verify.js'
import type { Principal } from '../iam/principal.js'
import type { Authorizer } from '../iam/authorizer.js'
import type { RequestContext } from '../iam/policy/context.js'
import { checkPermission } from '../iam/permissions.js'
import { validateInput } from '../protocol/validate.js'
import { UnknownOperationException } from '../errors/common.js'
import { parseJsonBody } from '../protocol/json-body.js'
import { AccessDeniedException } from '../generated/errors.js'
import type { PageTokens } from '../domain/pagination.js'
import type { Store, TagRecord } from '../store/store.js'
import type { ExecutionRecord, PipelineRecord } from '../store/pipeline-store.js'
import {
  codepipelineMetadata,
  codepipelineValidation,
  pipelineOperationNames,
  ConcurrentModificationException,
  InvalidActionDeclarationException,
  InvalidArnException,
  InvalidNextTokenException,
  InvalidStructureException,
  InvalidTagsException,
  PipelineExecutionNotFoundException,
  PipelineExecutionNotStoppableException,
  DuplicatedStopRequestException,
  PipelineNameInUseException,
  PipelineNotFoundException,
  PipelineVersionNotFoundException,
  ResourceNotFoundException,
  TooManyTagsException,
  ValidationException,
  type PipelineDeclaration,
  type PipelineOperationName,
} from '../generated/codepipeline.js'
import {
  checkDeclaration,
  findAction,
  isSource,
  sourceConfig,
  sourceRecords,
} from './definition.js'
import { watchedSources } from './watches.js'
import type { PipelineEngine } from './engine.js'
import { actionExecutionToWire, executionSummary, executionToWire, pipelineState } from './wire.js'

export const PIPELINE_TARGET_PREFIX = codepipelineMetadata.targetPrefix
export const PIPELINE_CONTENT_TYPE = 'application/x-amz-json-1.1'
const PASSED_TO = 'codepipeline.amazonaws.com'
const MAX_TAGS = 50

export interface PipelineApiDeps {
  verifier: SigV4Verifier<Principal>
  authorizer: Authorizer
  store: Store
  engine: PipelineEngine
  pageTokens: PageTokens
  region: string
  partition: string
  now(): number
}

interface Ctx {
  principal: Principal
  deps: PipelineApiDeps
  sourceIp: string | undefined
}

const ops = new Set<string>(pipelineOperationNames)

export function isPipelineTarget(target: string | undefined): boolean {
  return (
    target !== undefined &&
    (target.startsWith(`${PIPELINE_TARGET_PREFIX}.`) || target.startsWith('CodePipeline.'))
  )
}

export function pipelineArn(
  d: { partition: string; region: string },
  account: string,
  name: string,
) {
  return `arn:${d.partition}:codepipeline:${d.region}:${account}:${name}`
}

const seconds = (ms: number) => ms / 1000

function tagsFromWire(tags: unknown): TagRecord[] {
  return ((tags as { key: string; value: string }[] | undefined) ?? []).map((t) => ({
    Key: t.key,
    Value: t.value,
  }))
}

function checkTags(tags: TagRecord[]): void {
  for (const t of tags)
    if (t.Key.toLowerCase().startsWith('aws:'))
      throw new InvalidTagsException(`Tag keys beginning with 'aws:' are reserved: ${t.Key}`)
  if (new Set(tags.map((t) => t.Key)).size !== tags.length)
    throw new InvalidTagsException('A tag key appears more than once')
}

async function loadPipeline(ctx: Ctx, name: string): Promise<PipelineRecord> {
  const p = await ctx.deps.store.pipelines.get(ctx.principal.accountId, name)
  if (!p) throw new PipelineNotFoundException(`Pipeline ${name} does not exist`)
  return p
}

async function loadExecution(ctx: Ctx, p: string, id: string): Promise<ExecutionRecord> {
  const e = await ctx.deps.store.pipelines.executions.get(ctx.principal.accountId, id)
  if (!e || e.pipelineName !== p)
    throw new PipelineExecutionNotFoundException(
      `Pipeline execution ${id} does not exist in pipeline ${p}`,
    )
  return e
}

/** The role must be this account's, exist, and trust codepipeline.amazonaws.com. */
async function checkRole(ctx: Ctx, roleArn: string): Promise<void> {
  const m = /^arn:aws[\w-]*:iam::([0-9]{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/.exec(roleArn)
  if (!m || m[1] !== ctx.principal.accountId)
    throw new InvalidStructureException(
      `roleArn ${roleArn.slice(0, 200)} is not a role of account ${ctx.principal.accountId}`,
    )
  // PassRole first, on the ARN as given: a caller who may not pass the role learns nothing about
  // it (whether it exists, what its trust policy says).
  if (ctx.principal.kind !== 'root') {
    const compiled = await ctx.deps.authorizer.compiled(ctx.principal)
    const context = ctx.deps.authorizer.baseContext(ctx.principal, compiled, {
      sourceIp: ctx.sourceIp,
      region: ctx.deps.region,
    })
    context.set('iam:PassedToService', PASSED_TO)
    const d = ctx.deps.authorizer.decide(ctx.principal, compiled, {
      action: 'iam:PassRole',
      resource: roleArn,
      context,
    })
    if (d.message) throw new AccessDeniedException(d.message)
  }
  const role = await ctx.deps.store.iam.roles.get(ctx.principal.accountId, m[2]!)
  if (!role || role.arn !== roleArn)
    throw new InvalidStructureException(
      `CodePipeline is not authorized to perform AssumeRole on role ${roleArn}: the role does not exist`,
    )
  let trusted: boolean
  try {
    const doc = JSON.parse(role.assumeRolePolicy) as { Statement?: unknown }
    const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]
    trusted = statements.some((s: unknown) => {
      const st = s as { Effect?: string; Action?: unknown; Principal?: { Service?: unknown } }
      const actions = ([] as unknown[]).concat(st.Action ?? [])
      const services = ([] as unknown[]).concat(st.Principal?.Service ?? [])
      return (
        st.Effect === 'Allow' &&
        actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*') &&
        services.includes(PASSED_TO)
      )
    })
  } catch {
    trusted = false
  }
  if (!trusted)
    throw new InvalidStructureException(
      `CodePipeline is not authorized to perform AssumeRole on role ${roleArn}: its trust policy does not allow ${PASSED_TO}`,
    )
}

/** Checks the declaration, the role and every referenced connection; returns the sources. */
async function admit(ctx: Ctx, p: PipelineDeclaration) {
  const sources = checkDeclaration(p)
  await checkRole(ctx, p.roleArn)
  const checked = new Set<string>()
  for (const a of sources) {
    const arn = sourceConfig(a).connectionArn
    if (checked.has(arn)) continue
    checked.add(arn)
    const check: Parameters<typeof checkPermission>[1] = {
      principal: ctx.principal,
      action: 'PassConnection',
      resource: arn,
      keys: { PassedToService: PASSED_TO },
      region: ctx.deps.region,
      store: ctx.deps.store,
    }
    if (ctx.sourceIp) check.sourceIp = ctx.sourceIp
    // PassConnection first: whether the connection exists is told only to who may pass it.
    await checkPermission(ctx.deps.authorizer, check)
    const conn = await ctx.deps.store.connections.get(ctx.principal.accountId, arn)
    if (!conn)
      throw new InvalidActionDeclarationException(
        `Action '${a.name}': connection ${arn} does not exist in account ${ctx.principal.accountId}`,
      )
  }
  // With what each source watches: the index an event looks its candidates up by.
  return watchedSources(p, sourceRecords(ctx.principal.accountId, p, sources))
}

function metadata(ctx: Ctx, p: PipelineRecord) {
  return {
    pipelineArn: p.arn,
    created: seconds(p.createdAt),
    updated: seconds(p.updatedAt),
  }
}

function declarationOf(p: PipelineRecord): PipelineDeclaration {
  return JSON.parse(p.declaration) as PipelineDeclaration
}

function normalized(p: PipelineDeclaration, version: number): PipelineDeclaration {
  const out: PipelineDeclaration = { ...p, version }
  out.pipelineType ??= 'V1'
  out.executionMode ??= 'SUPERSEDED'
  return out
}

type Handler = (input: Record<string, unknown>, ctx: Ctx) => Promise<unknown>

const str = (v: unknown) => v as string

function pageStart(ctx: Ctx, op: string, token: unknown, filters: unknown): number {
  if (token === undefined) return 0
  const s = ctx.deps.pageTokens.open(str(token), op, ctx.principal.accountId, filters)
  if (s === undefined) throw new InvalidNextTokenException('The next token is not valid')
  return s
}

const handlers: Record<PipelineOperationName, Handler> = {
  async CreatePipeline(input, ctx) {
    const p = input['pipeline'] as PipelineDeclaration
    const tags = tagsFromWire(input['tags'])
    checkTags(tags)
    if (tags.length > MAX_TAGS) throw new TooManyTagsException(`At most ${MAX_TAGS} tags`)
    const sources = await admit(ctx, p)
    const now = ctx.deps.now()
    const decl = normalized(p, 1)
    const record: PipelineRecord = {
      accountId: ctx.principal.accountId,
      name: p.name,
      arn: pipelineArn(ctx.deps, ctx.principal.accountId, p.name),
      version: 1,
      declaration: JSON.stringify(decl),
      tags,
      createdAt: now,
      updatedAt: now,
    }
    const r = await ctx.deps.store.pipelines.create(record, sources)
    if (r === 'name-taken')
      throw new PipelineNameInUseException(`A pipeline named ${p.name} already exists`)
    ctx.deps.engine.pipelinesChanged()
    // As on AWS, a new pipeline runs once (its sources at their branch heads).
    await ctx.deps.engine.startExecution({
      accountId: record.accountId,
      pipeline: record,
      triggerType: 'CreatePipeline',
      triggerDetail: ctx.principal.arn,
      sourceRevisions: {},
      variables: {},
      dedupeKey: null,
    })
    const out: Record<string, unknown> = { pipeline: decl }
    if (tags.length > 0) out['tags'] = tags.map((t) => ({ key: t.Key, value: t.Value }))
    return out
  },

  async GetPipeline(input, ctx) {
    const p = await loadPipeline(ctx, str(input['name']))
    if (input['version'] !== undefined && input['version'] !== p.version)
      throw new PipelineVersionNotFoundException(
        `Pipeline ${p.name} has no version ${String(input['version'])} (Junction keeps the current version, ${p.version})`,
      )
    return { pipeline: declarationOf(p), metadata: metadata(ctx, p) }
  },

  async UpdatePipeline(input, ctx) {
    const p = input['pipeline'] as PipelineDeclaration
    const current = await loadPipeline(ctx, p.name)
    const sources = await admit(ctx, p)
    const version = current.version + 1
    const decl = normalized(p, version)
    const record: PipelineRecord = {
      ...current,
      version,
      declaration: JSON.stringify(decl),
      updatedAt: ctx.deps.now(),
    }
    if (!(await ctx.deps.store.pipelines.update(record, sources, current.version)))
      throw new ConcurrentModificationException(
        `Pipeline ${p.name} was changed by another request; read it again and retry`,
      )
    ctx.deps.engine.pipelinesChanged()
    return { pipeline: decl }
  },

  async DeletePipeline(input, ctx) {
    // Deleting a pipeline that does not exist succeeds, as on AWS.
    const name = str(input['name'])
    if (await ctx.deps.store.pipelines.delete(ctx.principal.accountId, name)) {
      ctx.deps.engine.forgetPipeline(ctx.principal.accountId, name)
      ctx.deps.engine.pipelinesChanged()
    }
    return {}
  },

  async ListPipelines(input, ctx) {
    const max = (input['maxResults'] as number | undefined) ?? 100
    const offset = pageStart(ctx, 'ListPipelines', input['nextToken'], {})
    const rows = await ctx.deps.store.pipelines.list(ctx.principal.accountId, '', offset + max + 1)
    return listPage(ctx, rows.slice(offset), max, offset)
  },

  async StartPipelineExecution(input, ctx) {
    const p = await loadPipeline(ctx, str(input['name']))
    const decl = declarationOf(p)
    const declared = new Map((decl.variables ?? []).map((v) => [v.name, v.defaultValue]))
    const variables: Record<string, string> = {}
    for (const v of (input['variables'] as { name: string; value: string }[] | undefined) ?? []) {
      if (!declared.has(v.name))
        throw new ValidationException(`Variable ${v.name} is not declared by pipeline ${p.name}`)
      if (v.name in variables)
        throw new ValidationException(`Variable ${v.name} is given more than once`)
      variables[v.name] = v.value
    }
    for (const [name, dflt] of declared)
      if (!(name in variables)) {
        if (dflt === undefined)
          throw new ValidationException(`Variable ${name} has no default value: give it a value`)
        variables[name] = dflt
      }
    const revisions: Record<string, { revisionType: string; revisionValue: string }> = {}
    for (const r of (input['sourceRevisions'] as
      { actionName: string; revisionType: string; revisionValue: string }[] | undefined) ?? []) {
      const found = findAction(decl, r.actionName)
      if (!found || !isSource(found.action))
        throw new ValidationException(
          `Source action ${r.actionName} is not a ${'CodeStarSourceConnection'} action of pipeline ${p.name}`,
        )
      if (r.revisionType !== 'COMMIT_ID')
        throw new ValidationException(
          `Connection source actions take revisionType COMMIT_ID, not ${r.revisionType}`,
        )
      if (!/^[0-9a-fA-F]{4,64}$/.test(r.revisionValue))
        throw new ValidationException(
          `revisionValue ${r.revisionValue.slice(0, 80)} is not a commit id`,
        )
      revisions[r.actionName] = { revisionType: r.revisionType, revisionValue: r.revisionValue }
    }
    const token = input['clientRequestToken'] as string | undefined
    const started = await ctx.deps.engine.startExecution({
      accountId: p.accountId,
      pipeline: p,
      triggerType: 'StartPipelineExecution',
      triggerDetail: ctx.principal.arn,
      sourceRevisions: revisions,
      variables,
      dedupeKey: token === undefined ? null : `client:${p.accountId}:${p.name}:${token}`,
    })
    return { pipelineExecutionId: started.id }
  },

  async StopPipelineExecution(input, ctx) {
    const name = str(input['pipelineName'])
    await loadPipeline(ctx, name)
    const e = await loadExecution(ctx, name, str(input['pipelineExecutionId']))
    const abandon = input['abandon'] === true
    if (e.status === 'Stopping' && !(abandon && e.stopMode === 'STOP'))
      throw new DuplicatedStopRequestException(`Execution ${e.id} is already stopping`)
    if (e.status !== 'InProgress' && e.status !== 'Stopping')
      throw new PipelineExecutionNotStoppableException(
        `Execution ${e.id} is ${e.status} and cannot be stopped`,
      )
    const reason = (input['reason'] as string | undefined) ?? null
    if (
      !(await ctx.deps.store.pipelines.executions.requestStop(
        e.accountId,
        e.id,
        abandon ? 'ABANDON' : 'STOP',
        reason,
        ctx.deps.now(),
      ))
    )
      throw new PipelineExecutionNotStoppableException(`Execution ${e.id} cannot be stopped now`)
    ctx.deps.engine.stopRequested(e.id, abandon)
    return { pipelineExecutionId: e.id }
  },

  async GetPipelineExecution(input, ctx) {
    const name = str(input['pipelineName'])
    await loadPipeline(ctx, name)
    const e = await loadExecution(ctx, name, str(input['pipelineExecutionId']))
    return { pipelineExecution: executionToWire(e) }
  },

  async ListPipelineExecutions(input, ctx) {
    const name = str(input['pipelineName'])
    await loadPipeline(ctx, name)
    const max = (input['maxResults'] as number | undefined) ?? 100
    const before = pageStart(ctx, 'ListPipelineExecutions', input['nextToken'], { name })
    const rows = await ctx.deps.store.pipelines.executions.list(
      ctx.principal.accountId,
      name,
      before === 0 ? Number.MAX_SAFE_INTEGER : before,
      max + 1,
    )
    const page = rows.slice(0, max)
    const out: Record<string, unknown> = { pipelineExecutionSummaries: page.map(executionSummary) }
    if (rows.length > max)
      out['nextToken'] = ctx.deps.pageTokens.issue(
        'ListPipelineExecutions',
        ctx.principal.accountId,
        { name },
        page.at(-1)!.seq,
      )
    return out
  },

  async GetPipelineState(input, ctx) {
    const p = await loadPipeline(ctx, str(input['name']))
    const actions = await ctx.deps.store.pipelines.actions.list(
      p.accountId,
      p.name,
      undefined,
      0,
      500,
    )
    const executions = await ctx.deps.store.pipelines.executions.list(
      p.accountId,
      p.name,
      Number.MAX_SAFE_INTEGER,
      50,
    )
    const decl = declarationOf(p)
    const entities = await sourceEntityUrls(ctx, p.accountId, decl)
    return pipelineState(
      p,
      decl,
      actions,
      executions,
      (a) => ctx.deps.engine.logUrl(a),
      (stage, action) => entities.get(`${stage}/${action}`),
    )
  },

  async ListActionExecutions(input, ctx) {
    const name = str(input['pipelineName'])
    await loadPipeline(ctx, name)
    const executionId = (input['filter'] as { pipelineExecutionId?: string } | undefined)
      ?.pipelineExecutionId
    if (executionId !== undefined) await loadExecution(ctx, name, executionId)
    const max = (input['maxResults'] as number | undefined) ?? 100
    const filters = { name, executionId: executionId ?? null }
    const offset = pageStart(ctx, 'ListActionExecutions', input['nextToken'], filters)
    const rows = await ctx.deps.store.pipelines.actions.list(
      ctx.principal.accountId,
      name,
      executionId,
      offset,
      max + 1,
    )
    const page = rows.slice(0, max)
    const out: Record<string, unknown> = {
      actionExecutionDetails: page.map((a) => actionExecutionToWire(a, ctx.deps.engine.logUrl(a))),
    }
    if (rows.length > max)
      out['nextToken'] = ctx.deps.pageTokens.issue(
        'ListActionExecutions',
        ctx.principal.accountId,
        filters,
        offset + max,
      )
    return out
  },

  async TagResource(input, ctx) {
    const p = await pipelineByArn(ctx, str(input['resourceArn']))
    const tags = tagsFromWire(input['tags'])
    checkTags(tags)
    const merged = new Map(p.tags.map((t) => [t.Key, t.Value]))
    for (const t of tags) merged.set(t.Key, t.Value)
    if (merged.size > MAX_TAGS)
      throw new TooManyTagsException(`A pipeline holds at most ${MAX_TAGS} tags`)
    await ctx.deps.store.pipelines.setTags(
      p.accountId,
      p.name,
      [...merged].map(([Key, Value]) => ({ Key, Value })),
    )
    return {}
  },

  async UntagResource(input, ctx) {
    const p = await pipelineByArn(ctx, str(input['resourceArn']))
    const drop = new Set(input['tagKeys'] as string[])
    await ctx.deps.store.pipelines.setTags(
      p.accountId,
      p.name,
      p.tags.filter((t) => !drop.has(t.Key)),
    )
    return {}
  },

  async ListTagsForResource(input, ctx) {
    const p = await pipelineByArn(ctx, str(input['resourceArn']))
    return { tags: p.tags.map((t) => ({ key: t.Key, value: t.Value })) }
  },
}

/**
 * `entityUrl` of each source action (key `stage/action`): its repository's page on the provider of
 * its connection (none when the connection is gone or its provider has no adapter).
 */
async function sourceEntityUrls(ctx: Ctx, accountId: string, decl: PipelineDeclaration) {
  const out = new Map<string, string>()
  const types = new Map<string, string | undefined>()
  for (const s of decl.stages)
    for (const a of s.actions.filter(isSource)) {
      const cfg = sourceConfig(a)
      if (!types.has(cfg.connectionArn))
        types.set(
          cfg.connectionArn,
          (await ctx.deps.store.connections.get(accountId, cfg.connectionArn))?.providerType,
        )
      const type = types.get(cfg.connectionArn)
      const url = type && ctx.deps.engine.webLinks(type, cfg.repository)?.repository
      if (url) out.set(`${s.name}/${a.name}`, url)
    }
  return out
}

function listPage(ctx: Ctx, rows: PipelineRecord[], max: number, offset: number) {
  const page = rows.slice(0, max)
  const out: Record<string, unknown> = {
    pipelines: page.map((p) => {
      const d = declarationOf(p)
      return {
        name: p.name,
        version: p.version,
        pipelineType: d.pipelineType ?? 'V1',
        executionMode: d.executionMode ?? 'SUPERSEDED',
        created: seconds(p.createdAt),
        updated: seconds(p.updatedAt),
      }
    }),
  }
  if (rows.length > max)
    out['nextToken'] = ctx.deps.pageTokens.issue(
      'ListPipelines',
      ctx.principal.accountId,
      {},
      offset + max,
    )
  return out
}

const ARN = /^arn:aws[\w-]*:codepipeline:([a-z0-9-]+):([0-9]{12}):([A-Za-z0-9.@\-_]+)$/

async function pipelineByArn(ctx: Ctx, arn: string): Promise<PipelineRecord> {
  const m = ARN.exec(arn)
  if (!m) throw new InvalidArnException(`${arn.slice(0, 200)} is not a pipeline ARN`)
  const p =
    m[2] === ctx.principal.accountId
      ? await ctx.deps.store.pipelines.get(ctx.principal.accountId, m[3]!)
      : undefined
  if (!p || p.arn !== arn) throw new ResourceNotFoundException(`Pipeline ${arn} does not exist`)
  return p
}

/** The pipeline an operation acts on (its ARN is the IAM resource). */
function resourceOf(
  op: string,
  input: Record<string, unknown>,
  d: PipelineApiDeps,
  account: string,
) {
  switch (op) {
    case 'CreatePipeline':
    case 'UpdatePipeline':
      return pipelineArn(d, account, (input['pipeline'] as { name: string }).name)
    case 'ListPipelines':
      return '*'
    case 'TagResource':
    case 'UntagResource':
    case 'ListTagsForResource':
      return str(input['resourceArn'])
    default:
      return pipelineArn(d, account, str(input['name'] ?? input['pipelineName']))
  }
}

function addKeys(context: RequestContext, op: string, input: Record<string, unknown>) {
  const tags = op === 'CreatePipeline' || op === 'TagResource' ? tagsFromWire(input['tags']) : []
  for (const t of tags) context.set(`aws:RequestTag/${t.Key}`, t.Value)
  if (tags.length > 0)
    context.set(
      'aws:TagKeys',
      tags.map((t) => t.Key),
    )
  if (op === 'UntagResource' && Array.isArray(input['tagKeys']))
    context.set('aws:TagKeys', input['tagKeys'] as string[])
}

async function authorize(ctx: Ctx, op: string, input: Record<string, unknown>): Promise<void> {
  if (ctx.principal.kind === 'root') return
  const d = ctx.deps
  const resource = resourceOf(op, input, d, ctx.principal.accountId)
  const compiled = await d.authorizer.compiled(ctx.principal)
  const context = d.authorizer.baseContext(ctx.principal, compiled, {
    sourceIp: ctx.sourceIp,
    region: d.region,
  })
  addKeys(context, op, input)
  if (compiled.readsResourceTags && resource !== '*') {
    const m = ARN.exec(resource)
    const p =
      m && m[2] === ctx.principal.accountId ? await d.store.pipelines.get(m[2], m[3]!) : undefined
    for (const t of p?.tags ?? []) context.set(`aws:ResourceTag/${t.Key}`, t.Value)
  }
  d.authorizer.enforce(ctx.principal, compiled, { action: `codepipeline:${op}`, resource, context })
  // Creating with tags also needs TagResource, as on AWS.
  if (op === 'CreatePipeline' && Array.isArray(input['tags']) && input['tags'].length > 0)
    d.authorizer.enforce(ctx.principal, compiled, {
      action: 'codepipeline:TagResource',
      resource,
      context,
    })
}

export async function runPipelineChain(r: ApiRequest, deps: PipelineApiDeps): Promise<void> {
  const target = r.req.headers['x-amz-target'] as string
  const op = target.slice(target.lastIndexOf('.') + 1)
  if (!ops.has(op))
    throw new UnknownOperationException(
      `Operation ${JSON.stringify(target.slice(0, 200))} is not recognized (Junction implements ${pipelineOperationNames.join(', ')})`,
    )
  ;(r as { operation?: string }).operation = op
  const verified = await deps.verifier.verify(
    {
      method: r.req.method ?? 'POST',
      url: r.req.url ?? '/',
      headers: r.req.headers,
      rawHeaders: r.req.rawHeaders,
      body: r.body,
    },
    codepipelineMetadata.signingName,
  )
  r.principal = verified.record
  const input = parseJsonBody(r.body)
  validateInput(codepipelineValidation, op, input)
  const ctx: Ctx = { principal: verified.record, deps, sourceIp: r.req.socket.remoteAddress }
  await authorize(ctx, op, input)
  r.output = await handlers[op as PipelineOperationName](input as Record<string, unknown>, ctx)
}

export const newExecutionId = (): string => randomUUID()

/**
 * Runs an operation as `principal` through the same validation and authorization as a signed
 * request (the console's path to pipelines).
 */
export async function invokePipelineAs(
  deps: PipelineApiDeps,
  principal: Principal,
  sourceIp: string | undefined,
  op: PipelineOperationName,
  input: Record<string, unknown>,
): Promise<unknown> {
  validateInput(codepipelineValidation, op, input)
  const ctx: Ctx = { principal, deps, sourceIp }
  await authorize(ctx, op, input)
  return handlers[op](input, ctx)
}

/**
 * The event log of the repositories a pipeline watches (newest first): every delivery or poll
 * finding, and for each the pipelines it started and why the others did not match. Needs
 * `codepipeline:ListPipelineExecutions` on the pipeline.
 */
export async function sourceEventsOf(
  deps: PipelineApiDeps,
  principal: Principal,
  sourceIp: string | undefined,
  pipelineName: string,
  limit: number,
) {
  const ctx: Ctx = { principal, deps, sourceIp }
  await authorize(ctx, 'ListPipelineExecutions', { pipelineName })
  const p = await loadPipeline(ctx, pipelineName)
  const repositories = new Set(
    checkDeclarationSources(declarationOf(p)).map((a) => sourceConfig(a).repository),
  )
  const events = []
  for (const r of repositories)
    events.push(...(await deps.store.pipelines.events.recent(p.accountId, r, limit)))
  return events.sort((a, b) => b.seq - a.seq).slice(0, limit)
}

function checkDeclarationSources(d: PipelineDeclaration) {
  return (d.stages[0]?.actions ?? []).filter(isSource)
}

/**
 * @module pipelines/wire
 * Executions, action executions and pipeline state as the CodePipeline API shows them (JSON 1.1
 * timestamps in epoch seconds), from the records the engine keeps.
 */
import type { PipelineDeclaration } from '../generated/codepipeline.js'
import type {
  ActionExecutionRecord,
  ExecutionRecord,
  PipelineRecord,
} from '../store/pipeline-store.js'

/** The engine's progress, kept as JSON on the execution row. */
export interface ExecutionState {
  /** Source revisions as resolved when the source actions ran. */
  revisions: Record<
    string,
    {
      artifactName: string
      revisionId: string
      revisionSummary: string
      created?: number
      revisionUrl?: string
    }
  >
  /** Output variables by namespace (and by action name for actions without one). */
  outputs: Record<string, Record<string, string>>
  /** Artifacts by name: the file in the artifact store and its kind. */
  artifacts: Record<string, { path: string; kind: 'zip' | 'clone-ref' }>
  /** Index of the stage being run (or next to run). */
  stage: number
}

export const emptyState = (): ExecutionState => ({
  revisions: {},
  outputs: {},
  artifacts: {},
  stage: 0,
})

export interface ActionDetail {
  pipelineVersion: number
  input: Record<string, unknown>
  output?: Record<string, unknown>
  summary?: string
  errorDetails?: { code: string; message: string }
  externalExecutionId?: string
  /** A page about the run other than its log (a source action: the commit on the provider). */
  externalExecutionUrl?: string
  /** What a source action resolved (`created` in epoch ms): GetPipelineState's currentRevision. */
  revision?: { revisionId: string; created: number; revisionUrl?: string }
  hasLog?: boolean
}

/** The most characters the model allows in `revisionSummary` and an action's `summary`. */
export const MAX_SUMMARY_CHARS = 2048

/**
 * A connection source's `revisionSummary` as CodePipeline gives it: a JSON string naming the
 * provider type and the commit message, e.g. `{"ProviderType":"Bitbucket","CommitMessage":"Fix\n"}`.
 * A message too long for the model's 2048 characters is cut (at a character boundary) so that the
 * JSON stays whole.
 */
export function connectionRevisionSummary(providerType: string, message: string): string {
  const make = (m: string) => JSON.stringify({ ProviderType: providerType, CommitMessage: m })
  const whole = make(message)
  if (whole.length <= MAX_SUMMARY_CHARS) return whole
  // The longest prefix (in characters, so no surrogate pair is split) whose JSON fits.
  const chars = [...message]
  let fits = 0
  let over = Math.min(chars.length, MAX_SUMMARY_CHARS)
  while (over - fits > 1) {
    const mid = (fits + over) >> 1
    if (make(chars.slice(0, mid).join('')).length <= MAX_SUMMARY_CHARS) fits = mid
    else over = mid
  }
  return make(chars.slice(0, fits).join(''))
}

/**
 * The commit message in a `revisionSummary` (or an action summary) for people to read: the
 * `CommitMessage` of CodePipeline's JSON form, or the text itself when it is not that JSON.
 */
export function revisionMessage(summary: string | undefined): string {
  if (!summary) return ''
  if (summary.startsWith('{'))
    try {
      const v = JSON.parse(summary) as { CommitMessage?: unknown }
      if (typeof v.CommitMessage === 'string') return v.CommitMessage
    } catch {
      // Not JSON after all: shown as it is.
    }
  return summary
}

const seconds = (ms: number) => ms / 1000

export function parseState(e: ExecutionRecord): ExecutionState {
  return JSON.parse(e.state) as ExecutionState
}

function trigger(e: ExecutionRecord) {
  return { triggerType: e.triggerType, triggerDetail: e.triggerDetail }
}

export function executionToWire(e: ExecutionRecord) {
  const state = parseState(e)
  const variables = Object.entries(JSON.parse(e.variables) as Record<string, string>)
  const out: Record<string, unknown> = {
    pipelineName: e.pipelineName,
    pipelineVersion: e.pipelineVersion,
    pipelineExecutionId: e.id,
    status: e.status,
    artifactRevisions: Object.values(state.revisions).map((r) => ({
      name: r.artifactName,
      revisionId: r.revisionId,
      revisionSummary: r.revisionSummary,
      ...(r.created === undefined ? {} : { created: seconds(r.created) }),
      ...(r.revisionUrl ? { revisionUrl: r.revisionUrl } : {}),
    })),
    trigger: trigger(e),
    executionMode: e.executionMode,
    executionType: 'STANDARD',
  }
  if (e.statusSummary) out['statusSummary'] = e.statusSummary
  if (variables.length > 0)
    out['variables'] = variables.map(([name, resolvedValue]) => ({ name, resolvedValue }))
  return out
}

export function executionSummary(e: ExecutionRecord) {
  const state = parseState(e)
  const out: Record<string, unknown> = {
    pipelineExecutionId: e.id,
    status: e.status,
    startTime: seconds(e.createdAt),
    lastUpdateTime: seconds(e.updatedAt),
    sourceRevisions: Object.entries(state.revisions).map(([actionName, r]) => ({
      actionName,
      revisionId: r.revisionId,
      revisionSummary: r.revisionSummary,
      ...(r.revisionUrl ? { revisionUrl: r.revisionUrl } : {}),
    })),
    trigger: trigger(e),
    executionMode: e.executionMode,
    executionType: 'STANDARD',
  }
  if (e.statusSummary) out['statusSummary'] = e.statusSummary
  if (e.stopMode) out['stopTrigger'] = { reason: (e.statusSummary ?? '').slice(0, 200) }
  return out
}

export function actionExecutionToWire(a: ActionExecutionRecord, logUrl: string | undefined) {
  const d = JSON.parse(a.detail) as ActionDetail
  const output: Record<string, unknown> = { ...(d.output ?? {}) }
  const result: Record<string, unknown> = {}
  if (d.externalExecutionId) result['externalExecutionId'] = d.externalExecutionId
  if (d.summary) result['externalExecutionSummary'] = d.summary
  const url = logUrl ?? d.externalExecutionUrl
  if (url) result['externalExecutionUrl'] = url
  if (d.errorDetails) result['errorDetails'] = d.errorDetails
  if (Object.keys(result).length > 0) output['executionResult'] = result
  return {
    pipelineExecutionId: a.executionId,
    actionExecutionId: a.id,
    pipelineVersion: d.pipelineVersion,
    stageName: a.stageName,
    actionName: a.actionName,
    startTime: seconds(a.startedAt),
    lastUpdateTime: seconds(a.updatedAt),
    status: a.status,
    input: d.input,
    output,
  }
}

/** Stage status from its actions in one execution. */
function stageStatus(
  actions: ActionExecutionRecord[],
  e: ExecutionRecord | undefined,
  total: number,
) {
  if (actions.some((a) => a.status === 'Failed')) return 'Failed'
  if (actions.some((a) => a.status === 'InProgress'))
    return e?.status === 'Stopping' ? 'Stopping' : 'InProgress'
  if (actions.some((a) => a.status === 'Abandoned')) return 'Stopped'
  if (actions.length >= total && actions.every((a) => a.status === 'Succeeded')) return 'Succeeded'
  if (e && ['Stopped', 'Superseded', 'Failed', 'Cancelled'].includes(e.status))
    return e.status === 'Superseded' ? 'Cancelled' : e.status === 'Failed' ? 'Failed' : 'Stopped'
  return 'InProgress'
}

/** The revision a source action last resolved (newest record first), as `ActionRevision`. */
function currentRevision(records: ActionExecutionRecord[]): ActionDetail['revision'] {
  for (const a of records) {
    const d = JSON.parse(a.detail) as ActionDetail
    if (d.revision) return d.revision
    // Records written before the revision was kept on the action: its CommitId output.
    const commit = (d.output?.['outputVariables'] as Record<string, string> | undefined)?.[
      'CommitId'
    ]
    if (commit) return { revisionId: commit, created: a.updatedAt }
  }
  return undefined
}

/**
 * GetPipelineState. Every stage carries `inboundTransitionState` (always enabled: Junction has no
 * DisableStageTransition) and `inboundExecutions` (empty: a stage never holds executions waiting
 * to enter it); a source action carries `currentRevision` (its commit, which is also the change
 * id, and the commit's author date), `entityUrl` (the repository's page) and `revisionUrl` (the
 * commit's page), as CodePipeline gives them for connection sources.
 */
export function pipelineState(
  p: PipelineRecord,
  decl: PipelineDeclaration,
  actions: ActionExecutionRecord[],
  executions: ExecutionRecord[],
  logUrl: (a: ActionExecutionRecord) => string | undefined,
  entityUrl: (stageName: string, actionName: string) => string | undefined,
) {
  const byId = new Map(executions.map((e) => [e.id, e]))
  return {
    pipelineName: p.name,
    pipelineVersion: p.version,
    created: seconds(p.createdAt),
    updated: seconds(p.updatedAt),
    stageStates: decl.stages.map((s) => {
      // `actions` is newest first: the first one seen in a stage is its latest execution.
      const latest = actions.find((a) => a.stageName === s.name)
      const out: Record<string, unknown> = {
        stageName: s.name,
        inboundExecutions: [],
        inboundTransitionState: { enabled: true },
        actionStates: s.actions.map((d) => {
          const records = actions.filter((x) => x.stageName === s.name && x.actionName === d.name)
          const state: Record<string, unknown> = { actionName: d.name }
          const entity = entityUrl(s.name, d.name)
          if (entity) state['entityUrl'] = entity
          const a = records[0]
          if (!a) return state
          const detail = JSON.parse(a.detail) as ActionDetail
          const ex: Record<string, unknown> = {
            actionExecutionId: a.id,
            status: a.status,
            lastStatusChange: seconds(a.updatedAt),
          }
          if (detail.summary) ex['summary'] = detail.summary
          if (detail.externalExecutionId) ex['externalExecutionId'] = detail.externalExecutionId
          const url = logUrl(a)
          if (url) ex['externalExecutionUrl'] = url
          if (detail.errorDetails) ex['errorDetails'] = detail.errorDetails
          state['latestExecution'] = ex
          const rev = currentRevision(records)
          if (rev) {
            state['currentRevision'] = {
              revisionId: rev.revisionId,
              revisionChangeId: rev.revisionId,
              created: seconds(rev.created),
            }
            if (rev.revisionUrl) state['revisionUrl'] = rev.revisionUrl
          }
          return state
        }),
      }
      if (latest) {
        const e = byId.get(latest.executionId)
        const inStage = actions.filter(
          (a) => a.executionId === latest.executionId && a.stageName === s.name,
        )
        out['latestExecution'] = {
          pipelineExecutionId: latest.executionId,
          status: stageStatus(inStage, e, s.actions.length),
        }
      }
      return out
    }),
  }
}

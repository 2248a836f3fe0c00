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
    { artifactName: string; revisionId: string; revisionSummary: string; created?: number }
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
  hasLog?: boolean
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
    })),
    trigger: trigger(e),
    executionMode: e.executionMode,
    executionType: 'STANDARD',
  }
  if (e.statusSummary) out['statusSummary'] = e.statusSummary
  if (e.stopMode) out['stopTrigger'] = { reason: e.statusSummary ?? '' }
  return out
}

export function actionExecutionToWire(a: ActionExecutionRecord, logUrl: string | undefined) {
  const d = JSON.parse(a.detail) as ActionDetail
  const output: Record<string, unknown> = { ...(d.output ?? {}) }
  const result: Record<string, unknown> = {}
  if (d.externalExecutionId) result['externalExecutionId'] = d.externalExecutionId
  if (d.summary) result['externalExecutionSummary'] = d.summary
  if (logUrl) result['externalExecutionUrl'] = logUrl
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

export function pipelineState(
  p: PipelineRecord,
  decl: PipelineDeclaration,
  actions: ActionExecutionRecord[],
  executions: ExecutionRecord[],
  logUrl: (a: ActionExecutionRecord) => string | undefined,
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
        actionStates: s.actions.map((d) => {
          const a = actions.find((x) => x.stageName === s.name && x.actionName === d.name)
          const state: Record<string, unknown> = { actionName: d.name }
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
          const rev = (detail.output?.['outputVariables'] as Record<string, string> | undefined)?.[
            'CommitId'
          ]
          if (rev) state['currentRevision'] = { revisionId: rev }
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

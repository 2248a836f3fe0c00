/**
 * @module pipelines/actions/action
 * What an action implementation gets and gives back. Implementations never throw for an
 * expected failure: they return `Failed` with a message the user can act on.
 */
import type { ActionDeclaration, PipelineDeclaration } from '../../generated/codepipeline.js'
import type { Caller, ConnectService } from '../../connect/service.js'
import type { Store } from '../../store/store.js'
import type { WebLinks } from '../../providers/provider.js'
import type { ExecutionState } from '../wire.js'

export interface ActionRun {
  accountId: string
  pipelineName: string
  executionId: string
  actionExecutionId: string
  decl: PipelineDeclaration
  action: ActionDeclaration
  state: ExecutionState
  /** The configuration with variable references resolved. */
  configuration: Record<string, string>
  /** Variable scopes for `#{…}` references (commands, environment values). */
  scopes: Record<string, Record<string, string>>
  /** A revision this source action must use (trigger commit or sourceRevisions override). */
  revision?: { revisionValue: string; ref?: string }
  /** The pipeline role, as the principal actions are authorized as. */
  caller: (connectionArn: string) => Caller
  /** The execution's folder in the artifact store. */
  artifactDir: string
  /** Where the action's output goes (Commands). */
  logFile: string
  /** Size caps (bytes): an artifact's files uncompressed; a downloaded source archive. */
  limits: { artifactBytes: number; sourceArchiveBytes: number }
  signal: AbortSignal
  store: Store
  connect: ConnectService
  /** Pages on the provider for a repository and a commit (undefined without an adapter). */
  webLinks(providerType: string, fullName: string, commit?: string): WebLinks | undefined
}

export interface ActionResult {
  status: 'Succeeded' | 'Failed'
  summary: string
  errorDetails?: { code: string; message: string }
  outputVariables?: Record<string, string>
  artifacts?: Record<string, { path: string; kind: 'zip' | 'clone-ref' }>
  /** A source action's revision; `created` in epoch ms, `revisionUrl` the commit's page. */
  revision?: { revisionId: string; revisionSummary: string; created?: number; revisionUrl?: string }
  externalExecutionId?: string
  /** A page about the run other than its log (a source action: the commit on the provider). */
  externalExecutionUrl?: string
  hasLog?: boolean
}

export function failed(message: string, code = 'JobFailed'): ActionResult {
  const m = message.length > 500 ? `${message.slice(0, 497)}...` : message
  return { status: 'Failed', summary: m, errorDetails: { code, message: m } }
}

/**
 * @module pipelines/definition
 * What CodePipeline checks in a pipeline declaration beyond the model's shapes, and what Junction
 * can run: stages and actions, artifacts flowing forward, the two action types Junction implements
 * (`CodeStarSourceConnection` sources and `Commands`), V2-only features, and trigger filters (each
 * glob compiled here so a bad pattern is refused at CreatePipeline, not at the first push).
 */
import type {
  ActionDeclaration,
  PipelineDeclaration,
  PipelineTriggerDeclaration,
} from '../generated/codepipeline.js'
import {
  InvalidActionDeclarationException,
  InvalidStageDeclarationException,
  InvalidStructureException,
} from '../generated/codepipeline.js'
import { GlobSyntaxError } from './glob.js'
import { TriggerMatcher, type GitConfiguration } from './match-filters.js'
import type { PipelineSourceRecord } from '../store/pipeline-store.js'
import { isFullRepositoryId } from '../domain/repository-id.js'

export const SOURCE_PROVIDER = 'CodeStarSourceConnection'
export const COMMANDS_PROVIDER = 'Commands'

const SOURCE_KEYS = new Set([
  'ConnectionArn',
  'FullRepositoryId',
  'BranchName',
  'OutputArtifactFormat',
  'DetectChanges',
])
const CONNECTION_ARN =
  /^arn:aws(-[\w]+)*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection\/[A-Za-z0-9-]+$/

export const isSource = (a: ActionDeclaration): boolean =>
  a.actionTypeId.category === 'Source' &&
  a.actionTypeId.owner === 'AWS' &&
  a.actionTypeId.provider === SOURCE_PROVIDER

export const isCommands = (a: ActionDeclaration): boolean =>
  a.actionTypeId.category === 'Compute' &&
  a.actionTypeId.owner === 'AWS' &&
  a.actionTypeId.provider === COMMANDS_PROVIDER

/** The configuration of a connection source action, with its defaults applied. */
export interface SourceConfig {
  connectionArn: string
  repository: string
  branch: string
  format: 'CODE_ZIP' | 'CODEBUILD_CLONE_REF'
  detectChanges: boolean
}

export function sourceConfig(a: ActionDeclaration): SourceConfig {
  const c = a.configuration ?? {}
  return {
    connectionArn: c['ConnectionArn'] ?? '',
    repository: c['FullRepositoryId'] ?? '',
    branch: c['BranchName'] ?? '',
    format:
      c['OutputArtifactFormat'] === 'CODEBUILD_CLONE_REF' ? 'CODEBUILD_CLONE_REF' : 'CODE_ZIP',
    detectChanges: (c['DetectChanges'] ?? 'true').toLowerCase() !== 'false',
  }
}

function checkSource(a: ActionDeclaration, where: string): void {
  const c = a.configuration ?? {}
  for (const k of Object.keys(c))
    if (!SOURCE_KEYS.has(k))
      throw new InvalidActionDeclarationException(
        `${where}: configuration key '${k}' is not one of ${[...SOURCE_KEYS].join(', ')}`,
      )
  for (const k of ['ConnectionArn', 'FullRepositoryId', 'BranchName'])
    if (!c[k])
      throw new InvalidActionDeclarationException(`${where}: the configuration must contain '${k}'`)
  if (!CONNECTION_ARN.test(c['ConnectionArn']!))
    throw new InvalidActionDeclarationException(
      `${where}: ConnectionArn '${c['ConnectionArn']!.slice(0, 200)}' is not a connection ARN`,
    )
  if (!isFullRepositoryId(c['FullRepositoryId']!))
    throw new InvalidActionDeclarationException(
      `${where}: FullRepositoryId must be 'owner/repository' (GitLab: 'group/subgroup/project', or the project's numeric id)`,
    )
  const format = c['OutputArtifactFormat']
  if (format !== undefined && format !== 'CODE_ZIP' && format !== 'CODEBUILD_CLONE_REF')
    throw new InvalidActionDeclarationException(
      `${where}: OutputArtifactFormat must be CODE_ZIP or CODEBUILD_CLONE_REF`,
    )
  const detect = c['DetectChanges']
  if (detect !== undefined && !/^(true|false)$/i.test(detect))
    throw new InvalidActionDeclarationException(`${where}: DetectChanges must be true or false`)
  if ((a.inputArtifacts ?? []).length !== 0)
    throw new InvalidActionDeclarationException(
      `${where}: a source action takes no input artifacts`,
    )
  if ((a.outputArtifacts ?? []).length !== 1)
    throw new InvalidActionDeclarationException(
      `${where}: a source action has exactly one output artifact`,
    )
  if (a.commands !== undefined)
    throw new InvalidActionDeclarationException(`${where}: only Commands actions take 'commands'`)
}

function checkCommands(a: ActionDeclaration, where: string): void {
  if (!a.commands || a.commands.length === 0)
    throw new InvalidActionDeclarationException(`${where}: a Commands action needs 'commands'`)
  if ((a.inputArtifacts ?? []).length === 0)
    throw new InvalidActionDeclarationException(
      `${where}: a Commands action needs at least one input artifact`,
    )
  for (const o of a.outputArtifacts ?? [])
    if (!o.files || o.files.length === 0)
      throw new InvalidActionDeclarationException(
        `${where}: output artifact '${o.name}' of a Commands action must list its 'files'`,
      )
  for (const e of a.environmentVariables ?? [])
    if (e.type === 'SECRETS_MANAGER')
      throw new InvalidActionDeclarationException(
        `${where}: environment variable '${e.name}' is of type SECRETS_MANAGER, which Junction does not have`,
      )
}

function checkTrigger(t: PipelineTriggerDeclaration, sources: Set<string>, seen: Set<string>) {
  const g = t.gitConfiguration
  if (!sources.has(g.sourceActionName))
    throw new InvalidStructureException(
      `Trigger source action '${g.sourceActionName}' is not a ${SOURCE_PROVIDER} action of this pipeline`,
    )
  if (seen.has(g.sourceActionName))
    throw new InvalidStructureException(
      `Source action '${g.sourceActionName}' has more than one trigger`,
    )
  seen.add(g.sourceActionName)
  if (!g.push?.length && !g.pullRequest?.length)
    throw new InvalidStructureException(
      `The trigger of '${g.sourceActionName}' needs a push or pullRequest filter`,
    )
  for (const p of g.push ?? []) {
    if (!p.tags && !p.branches)
      throw new InvalidStructureException(
        `A push filter of '${g.sourceActionName}' needs tags or branches (filePaths only with branches)`,
      )
    if (p.tags && (p.branches || p.filePaths))
      throw new InvalidStructureException(
        `A push filter of '${g.sourceActionName}' filters on tags alone, or on branches (and file paths)`,
      )
  }
  for (const p of g.pullRequest ?? [])
    if (p.filePaths && !p.branches)
      throw new InvalidStructureException(
        `A pull-request filter of '${g.sourceActionName}' with filePaths needs branches`,
      )
  try {
    new TriggerMatcher(g as GitConfiguration)
  } catch (err) {
    if (err instanceof GlobSyntaxError)
      throw new InvalidStructureException(
        `A trigger filter of '${g.sourceActionName}' has an invalid glob: ${err.message}`,
      )
    throw err
  }
}

/**
 * Checks the declaration; throws the CodePipeline exception AWS gives for the first problem.
 * Returns the connection source actions.
 */
export function checkDeclaration(p: PipelineDeclaration): ActionDeclaration[] {
  const v2 = p.pipelineType === 'V2'
  if (!v2 && p.triggers?.length)
    throw new InvalidStructureException('Triggers are available to pipelines of type V2 only')
  if (!v2 && p.variables?.length)
    throw new InvalidStructureException('Variables are available to pipelines of type V2 only')
  if (!v2 && p.executionMode && p.executionMode !== 'SUPERSEDED')
    throw new InvalidStructureException(
      `Execution mode ${p.executionMode} is available to pipelines of type V2 only`,
    )
  if (p.artifactStore && p.artifactStores)
    throw new InvalidStructureException('Give artifactStore or artifactStores, not both')
  if (p.stages.length < 2)
    throw new InvalidStructureException('A pipeline must contain at least two stages')
  const variableNames = new Set<string>()
  for (const v of p.variables ?? []) {
    if (variableNames.has(v.name))
      throw new InvalidStructureException(`Variable '${v.name}' is declared twice`)
    variableNames.add(v.name)
  }
  const stageNames = new Set<string>()
  const artifacts = new Map<string, { stage: number; runOrder: number }>()
  const namespaces = new Set<string>()
  const sources: ActionDeclaration[] = []
  for (const [si, stage] of p.stages.entries()) {
    if (stageNames.has(stage.name))
      throw new InvalidStageDeclarationException(`Stage name '${stage.name}' is used twice`)
    stageNames.add(stage.name)
    if (stage.actions.length === 0)
      throw new InvalidStageDeclarationException(`Stage '${stage.name}' has no actions`)
    const actionNames = new Set<string>()
    // Artifacts are visible to actions of a later run order in the same stage, or later stages.
    const ordered = [...stage.actions].sort((a, b) => (a.runOrder ?? 1) - (b.runOrder ?? 1))
    for (const a of ordered) {
      const where = `Action '${a.name}' in stage '${stage.name}'`
      if (actionNames.has(a.name))
        throw new InvalidActionDeclarationException(`${where}: the name is used twice`)
      actionNames.add(a.name)
      const t = a.actionTypeId
      if (t.version !== '1')
        throw new InvalidActionDeclarationException(`${where}: action type version must be 1`)
      if (isSource(a)) {
        if (si !== 0)
          throw new InvalidStageDeclarationException(
            `${where}: source actions belong in the first stage only`,
          )
        checkSource(a, where)
        sources.push(a)
      } else if (isCommands(a)) {
        if (si === 0)
          throw new InvalidStageDeclarationException(
            `${where}: the first stage holds source actions only`,
          )
        checkCommands(a, where)
      } else
        throw new InvalidActionDeclarationException(
          `${where}: action type ${t.owner}/${t.category}/${t.provider}/${t.version} is not available in Junction (it runs AWS/Source/${SOURCE_PROVIDER}/1 and AWS/Compute/${COMMANDS_PROVIDER}/1)`,
        )
      if (a.namespace !== undefined) {
        if (namespaces.has(a.namespace))
          throw new InvalidActionDeclarationException(
            `${where}: namespace '${a.namespace}' is used by another action`,
          )
        namespaces.add(a.namespace)
      }
      const runOrder = a.runOrder ?? 1
      for (const i of a.inputArtifacts ?? []) {
        const made = artifacts.get(i.name)
        if (!made || (made.stage === si && made.runOrder >= runOrder))
          throw new InvalidActionDeclarationException(
            `${where}: input artifact '${i.name}' is not produced by an earlier action`,
          )
      }
      for (const o of a.outputArtifacts ?? []) {
        if (artifacts.has(o.name))
          throw new InvalidActionDeclarationException(
            `${where}: output artifact '${o.name}' is produced by another action`,
          )
        artifacts.set(o.name, { stage: si, runOrder })
      }
    }
  }
  const sourceNames = new Set(sources.map((s) => s.name))
  const seen = new Set<string>()
  for (const t of p.triggers ?? []) checkTrigger(t, sourceNames, seen)
  return sources
}

export function sourceRecords(
  accountId: string,
  p: PipelineDeclaration,
  sources: ActionDeclaration[],
): PipelineSourceRecord[] {
  return sources.map((a) => {
    const c = sourceConfig(a)
    return {
      accountId,
      pipelineName: p.name,
      actionName: a.name,
      connectionArn: c.connectionArn,
      repository: c.repository,
      branch: c.branch,
    }
  })
}

/** The trigger of a source action, if the pipeline declares one. */
export function triggerOf(
  p: PipelineDeclaration,
  actionName: string,
): GitConfiguration | undefined {
  const t = p.triggers?.find((x) => x.gitConfiguration.sourceActionName === actionName)
  return t?.gitConfiguration as GitConfiguration | undefined
}

/** Every action of the declaration with its stage. */
export function findAction(
  p: PipelineDeclaration,
  name: string,
): { stage: string; action: ActionDeclaration } | undefined {
  for (const s of p.stages)
    for (const a of s.actions) if (a.name === name) return { stage: s.name, action: a }
  return undefined
}

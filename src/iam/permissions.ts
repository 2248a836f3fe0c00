/**
 * @module iam/permissions
 * The permission-only actions of the connections services (spec §6.3): no API call carries their
 * name, but later features (pipelines using a connection, the handshake, token hand-out) check
 * them here, with their own condition keys, through the one evaluator.
 */
import { AccessDeniedException } from '../generated/errors.js'
import { actionPrefix } from './authorize.js'
import type { Authorizer } from './authorizer.js'
import type { Principal } from './principal.js'
import type { Store } from '../store/store.js'
import { addResourceTags } from './connections-context.js'

/** Permission-only actions and the service-specific condition keys each may carry. */
export const PERMISSION_ONLY_ACTIONS = {
  UseConnection: [
    'FullRepositoryId',
    'OwnerId',
    'RepositoryName',
    'BranchName',
    'ProviderAction',
    'ProviderPermissionsRequired',
  ],
  PassConnection: ['PassedToService'],
  PassRepository: ['PassedToService'],
  GetConnectionToken: [],
  UpdateConnectionInstallation: ['InstallationId'],
  StartOAuthHandshake: ['ProviderType'],
  GetInstallationUrl: ['ProviderType'],
  GetIndividualAccessToken: ['ProviderType'],
  ListInstallationTargets: [],
  RegisterAppCode: ['HostArn'],
  StartAppRegistrationHandshake: ['HostArn'],
} as const satisfies Record<string, readonly string[]>

export type PermissionOnlyAction = keyof typeof PERMISSION_ONLY_ACTIONS

/** Provider actions that change the repository; everything else only reads (spec §6.3). */
const WRITE_PROVIDER_ACTIONS = new Set([
  'CreateBranch',
  'CreateCommit',
  'CreateCommitStatus',
  'CreatePullRequest',
  'CreatePullRequestComment',
  'CreatePullRequestDiffComment',
  'CreateRepository',
  'DeleteRepository',
  'GitPush',
  'StartUploadArchiveToS3',
  'UpdatePullRequest',
])

/** `read_only` or `read_write`, as the ProviderPermissionsRequired key derives from ProviderAction. */
export function permissionsRequired(providerAction: string): 'read_only' | 'read_write' {
  return WRITE_PROVIDER_ACTIONS.has(providerAction) ? 'read_write' : 'read_only'
}

export interface PermissionCheck {
  principal: Principal
  action: PermissionOnlyAction
  /** The connection (or repository link, host) ARN, or `*`. */
  resource: string
  /** Values of the action's keys, e.g. `{ FullRepositoryId: 'team/app', BranchName: 'main' }`. */
  keys?: Partial<Record<string, string>>
  /** The endpoint's prefix when the resource is `*`. */
  service?: 'codestar-connections' | 'codeconnections'
  sourceIp?: string
  region: string
  /** Lets policies that read `aws:ResourceTag/…` see the resource's tags. */
  store?: Store
}

/**
 * Throws AccessDeniedException (in AWS's words) unless the principal may perform the
 * permission-only action. The key names are set under both service prefixes, and
 * ProviderPermissionsRequired is derived from ProviderAction when not given.
 */
export async function checkPermission(authorizer: Authorizer, c: PermissionCheck): Promise<void> {
  const denied = await permissionDenial(authorizer, c)
  if (denied) throw new AccessDeniedException(denied.message)
}

/**
 * Why the check is denied (AWS's sentence, and whether a Deny statement decided it), or undefined
 * when it is allowed: {@link checkPermission} without the throw.
 */
export async function permissionDenial(
  authorizer: Authorizer,
  c: PermissionCheck,
): Promise<{ message: string; explicit: boolean } | undefined> {
  if (c.principal.kind === 'root') return undefined
  const allowedKeys: readonly string[] = PERMISSION_ONLY_ACTIONS[c.action]
  const keys: Record<string, string> = {}
  for (const [k, v] of Object.entries(c.keys ?? {})) {
    if (v === undefined) continue
    if (!allowedKeys.includes(k)) throw new Error(`${k} is not a condition key of ${c.action}`)
    keys[k] = v
  }
  if (
    c.action === 'UseConnection' &&
    keys['ProviderAction'] &&
    !keys['ProviderPermissionsRequired']
  )
    keys['ProviderPermissionsRequired'] = permissionsRequired(keys['ProviderAction'])
  const compiled = await authorizer.compiled(c.principal)
  const context = authorizer.baseContext(c.principal, compiled, {
    sourceIp: c.sourceIp,
    region: c.region,
  })
  for (const [k, v] of Object.entries(keys)) {
    context.set(`codestar-connections:${k}`, v)
    context.set(`codeconnections:${k}`, v)
  }
  if (compiled.readsResourceTags && c.store && c.resource !== '*')
    await addResourceTags(context, c.store, c.principal.accountId, c.resource)
  const prefix = actionPrefix(c.resource, c.service ?? 'codestar-connections')
  const d = authorizer.decide(c.principal, compiled, {
    action: `${prefix}:${c.action}`,
    resource: c.resource,
    context,
  })
  return d.message
    ? { message: d.message, explicit: d.evaluation.decision === 'explicitDeny' }
    : undefined
}

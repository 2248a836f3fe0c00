/**
 * @module iam/authorizer
 * Decides every call: the account root may do everything; an IAM user is allowed what its
 * inline and attached policies allow; a role session what the role's policies allow and, when
 * AssumeRole passed one, its session policy too; AssumeRole adds the role's trust policy. An
 * explicit deny in any of them wins. Compiled policies are cached per principal and
 * dropped when the account's IAM version moves (every IAM write bumps it; other nodes sharing
 * PostgreSQL see the change within `versionTtlMs`).
 */
import { AccessDeniedException } from '../generated/errors.js'
import type { Store } from '../store/store.js'
import { RequestContext } from './policy/context.js'
import { parsePolicy } from './policy/document.js'
import {
  evaluate,
  type AuthorizationQuestion,
  type Evaluation,
  type NamedPolicy,
} from './policy/evaluate.js'
import { combine, type DecidedBy } from './policy/combine.js'
import { evaluateResourcePolicy, type Caller } from './policy/resource-policy.js'
import type { Principal } from './principal.js'

const DYNAMIC_KEYS = ['aws:CurrentTime', 'aws:EpochTime', 'aws:SourceIp'] as const

export interface CompiledPrincipal {
  version: number
  /** Identity policies (user's, or the role's). */
  policies: NamedPolicy[]
  /** The session policy of a role session, which must allow too. */
  sessionPolicy?: NamedPolicy
  /** Whether any condition reads `aws:ResourceTag/…` (then resource tags must be loaded). */
  readsResourceTags: boolean
  /** The role's ARN for a session (aws:PrincipalArn), the user's ARN for a user. */
  principalArn: string
  /** aws:userid */
  userId: string
  /** The principal's own condition keys, built on first use. */
  context?: { region: string; context: RequestContext }
}

export interface Decision {
  evaluation: Evaluation
  /** Set when denied: AWS's sentence, with the deciding statement named. */
  message?: string
}

function compile(name: string, id: string, document: string): NamedPolicy {
  return { name, id, document: parsePolicy(document) }
}

const readsTags = (p: NamedPolicy) =>
  p.document.statements.some((s) =>
    s.condition.some((c) => c.key.toLowerCase().startsWith('aws:resourcetag/')),
  )

export class Authorizer {
  readonly #cache = new Map<string, CompiledPrincipal>()
  readonly #versions = new Map<string, { version: number; checkedAt: number }>()

  constructor(
    private readonly store: Store,
    private readonly versionTtlMs = 1000,
    /** The clock of `aws:CurrentTime`/`aws:EpochTime` and of the version cache. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Forgets what this node knows of an account's IAM state (after a write here). */
  invalidate(accountId: string): void {
    this.#versions.delete(accountId)
  }

  #version(accountId: string): number | Promise<number> {
    const known = this.#versions.get(accountId)
    if (known && this.now() - known.checkedAt < this.versionTtlMs) return known.version
    return this.store.iam.version(accountId).then((version) => {
      this.#versions.set(accountId, { version, checkedAt: this.now() })
      return version
    })
  }

  /** Per principal object (the credential cache hands out the same one): skips building a key. */
  readonly #byPrincipal = new WeakMap<Principal, CompiledPrincipal>()

  /** The principal's compiled policies, from the cache when they are current. */
  compiled(p: Principal): CompiledPrincipal | Promise<CompiledPrincipal> {
    const version = this.#version(p.accountId)
    const direct = this.#byPrincipal.get(p)
    if (typeof version === 'number' && direct && direct.version === version) return direct
    const key = p.kind === 'session' ? `s:${p.accessKeyId}` : `u:${p.accountId}:${p.userName ?? ''}`
    const hit = this.#cache.get(key)
    if (typeof version === 'number' && hit && hit.version === version) {
      this.#byPrincipal.set(p, hit)
      return hit
    }
    return Promise.resolve(version).then(async (v) => {
      const cached = this.#cache.get(key)
      if (cached && cached.version === v) return cached
      const fresh = await this.#load(p, v)
      if (this.#cache.size > 10_000) this.#cache.clear()
      this.#cache.set(key, fresh)
      this.#byPrincipal.set(p, fresh)
      return fresh
    })
  }

  async #load(p: Principal, version: number): Promise<CompiledPrincipal> {
    const kind = p.kind === 'session' ? 'role' : 'user'
    const owner = (p.kind === 'session' ? p.roleName : p.userName) ?? ''
    const found = await this.store.iam.policiesOf(p.accountId, kind, owner)
    const policies: NamedPolicy[] = []
    for (const i of found?.inline ?? [])
      policies.push(compile(`inline policy ${i.name} of ${kind} ${owner}`, i.name, i.document))
    for (const m of found?.managed ?? [])
      policies.push(compile(`managed policy ${m.arn}`, m.arn, m.document))
    // The real ARNs (paths included) from the store, never what a caller wrote.
    let principalArn = p.arn
    let userId = p.accessKeyId
    if (kind === 'role') {
      const role = await this.store.iam.roles.get(p.accountId, owner)
      if (role) {
        principalArn = role.arn
        userId = `${role.id}:${p.arn.split('/').pop() ?? ''}`
      }
    } else {
      const user = await this.store.iam.users.get(p.accountId, owner)
      if (user) {
        principalArn = user.arn
        userId = user.id
      }
    }
    const out: CompiledPrincipal = {
      version,
      policies,
      readsResourceTags: policies.some(readsTags),
      principalArn,
      userId,
    }
    if (p.sessionPolicy) {
      out.sessionPolicy = compile('the session policy', 'session policy', p.sessionPolicy)
      out.readsResourceTags ||= readsTags(out.sessionPolicy)
    }
    return out
  }

  /** The principal's own condition keys: the same on every request, so built once. */
  #principalContext(
    p: Principal,
    compiled: CompiledPrincipal | undefined,
    region: string,
  ): RequestContext {
    const cached = compiled?.context
    if (cached && cached.region === region) return cached.context
    const ctx = new RequestContext({
      'aws:SecureTransport': 'false',
      'aws:PrincipalAccount': p.accountId,
      'aws:PrincipalArn': compiled?.principalArn ?? p.arn,
      'aws:PrincipalType':
        p.kind === 'root' ? 'Account' : p.kind === 'user' ? 'User' : 'AssumedRole',
      'aws:RequestedRegion': region,
      'aws:userid': compiled?.userId ?? p.accountId,
    })
    if (p.kind === 'user' && p.userName) ctx.set('aws:username', p.userName)
    if (compiled) compiled.context = { region, context: ctx }
    return ctx
  }

  /** The global condition keys every request carries. */
  baseContext(
    p: Principal,
    compiled: CompiledPrincipal | undefined,
    extra: { sourceIp?: string; region: string },
  ): RequestContext {
    const now = this.now()
    const ip = extra.sourceIp
    // The time and the source address are computed only when a policy reads them.
    return new RequestContext({}, this.#principalContext(p, compiled, extra.region), {
      keys: DYNAMIC_KEYS,
      get: (id) =>
        id === 'aws:currenttime'
          ? new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z')
          : id === 'aws:epochtime'
            ? String(Math.floor(now / 1000))
            : id === 'aws:sourceip' && ip
              ? ip.replace(/^::ffff:/, '')
              : undefined,
    })
  }

  /** Evaluates without throwing (SimulatePrincipalPolicy, explain). */
  decide(
    p: Principal,
    compiled: CompiledPrincipal,
    q: AuthorizationQuestion,
    explain = false,
  ): Decision {
    if (p.kind === 'root') return { evaluation: { decision: 'allowed', deciding: [], trace: [] } }
    let evaluation = evaluate(compiled.policies, q, explain)
    let message: string | undefined
    const who = `User: ${p.arn} is not authorized to perform: ${q.action} on resource: ${q.resource}`
    if (evaluation.decision !== 'allowed') {
      if (!explain) evaluation = evaluate(compiled.policies, q, true)
      // An explicit deny anywhere wins: the session policy's, when the identity's is implicit.
      const session =
        evaluation.decision === 'implicitDeny' && compiled.sessionPolicy
          ? evaluate([compiled.sessionPolicy], q, true)
          : undefined
      if (session?.decision === 'explicitDeny')
        return {
          evaluation: { ...session, trace: explain ? [...evaluation.trace, ...session.trace] : [] },
          message: `${who} with an explicit deny in a session policy`,
        }
      const deny = evaluation.deciding[0]
      message =
        evaluation.decision === 'explicitDeny' && deny
          ? `${who} with an explicit deny in an identity-based policy: ${deny.policyId}${deny.sid ? ` (statement ${deny.sid})` : ` (statement ${deny.index + 1})`}`
          : `${who} because no identity-based policy allows the ${q.action} action`
      return { evaluation, message }
    }
    if (compiled.sessionPolicy) {
      const session = evaluate([compiled.sessionPolicy], q, explain)
      if (session.decision !== 'allowed') {
        const detail =
          session.decision === 'explicitDeny'
            ? 'with an explicit deny in a session policy'
            : `because no session policy allows the ${q.action} action`
        return {
          evaluation: { ...session, trace: [...evaluation.trace, ...session.trace] },
          message: `${who} ${detail}`,
        }
      }
    }
    return { evaluation }
  }

  /** Who the caller is, for a resource-based policy's `Principal`. */
  caller(p: Principal, compiled: CompiledPrincipal, partition: string): Caller {
    return p.kind === 'session'
      ? { arn: p.arn, roleArn: compiled.principalArn, accountId: p.accountId, partition }
      : { arn: compiled.principalArn, accountId: p.accountId, partition }
  }

  /**
   * Decides with the resource's own policy too (a role's trust policy, `undefined` when the
   * resource does not exist): an explicit deny in any policy wins (see `combine`). Every implicit
   * denial carries the same message, so that it says nothing of whether the resource exists or
   * what its policy says.
   */
  decideWithResource(
    p: Principal,
    compiled: CompiledPrincipal,
    q: AuthorizationQuestion,
    resource: {
      policy: NamedPolicy | undefined
      required: boolean
      crossAccount?: boolean
      partition: string
    },
    explain = false,
  ): Decision & { by: DecidedBy } {
    const identity = evaluate(compiled.policies, q, true)
    const session = compiled.sessionPolicy ? evaluate([compiled.sessionPolicy], q, true) : undefined
    const onResource = resource.policy
      ? evaluateResourcePolicy(
          resource.policy,
          this.caller(p, compiled, resource.partition),
          q,
          true,
        )
      : undefined
    const combined = combine({
      identity,
      ...(session ? { session } : {}),
      ...(onResource ? { resource: onResource } : {}),
      resourceRequired: resource.required,
      crossAccount: resource.crossAccount ?? false,
    })
    const deciding =
      combined.by === 'identity' ? identity : combined.by === 'session' ? session : onResource
    const evaluation: Evaluation = {
      decision: combined.decision,
      deciding: deciding?.deciding ?? [],
      trace: explain
        ? [...identity.trace, ...(session?.trace ?? []), ...(onResource?.trace ?? [])]
        : [],
    }
    if (combined.decision === 'allowed') return { evaluation, by: combined.by }
    const who = `User: ${p.arn} is not authorized to perform: ${q.action} on resource: ${q.resource}`
    const deny = evaluation.deciding[0]
    const statement = deny ? ` (statement ${deny.sid ?? deny.index + 1})` : ''
    const message =
      combined.decision === 'implicitDeny'
        ? `${who} because no policy allows it: the resource-based policy must allow the caller, and the caller's own policies too unless it names the caller directly`
        : combined.by === 'identity'
          ? `${who} with an explicit deny in an identity-based policy: ${deny?.policyId ?? ''}${statement}`
          : combined.by === 'session'
            ? `${who} with an explicit deny in a session policy`
            : `${who} with an explicit deny in a resource-based policy${statement}`
    return { evaluation, message, by: combined.by }
  }

  /** Throws AccessDeniedException unless allowed. */
  enforce(p: Principal, compiled: CompiledPrincipal, q: AuthorizationQuestion): void {
    if (p.kind === 'root') return
    // The common case, allowed by identity policies alone, decides without building anything.
    if (!compiled.sessionPolicy && evaluate(compiled.policies, q).decision === 'allowed') return
    const d = this.decide(p, compiled, q)
    if (d.message) throw new AccessDeniedException(d.message)
  }
}

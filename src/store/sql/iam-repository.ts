/**
 * @module store/sql/iam-repository
 * IAM users, roles, inline and managed policies and attachments over Kysely. Every write bumps the
 * account's IAM version in the same transaction, which is how cached compiled policies on every
 * node learn that they are stale.
 */
import type { Kysely, Selectable, Transaction } from 'kysely'
import type {
  IamCreateResult,
  IamDeleteResult,
  IamRepository,
  IamRoleRecord,
  IamUserRecord,
  ManagedPolicyRecord,
  OwnerKind,
  PrincipalPolicies,
} from '../store.js'
import type { SqlDialectAdapter } from './dialect-adapter.js'
import type { Database } from './schema.js'

type Tx = Transaction<Database>

const toUser = (r: Selectable<Database['iam_users']>): IamUserRecord => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  path: r.path,
  arn: r.arn,
  createdAt: Number(r.created_at),
})

const toRole = (r: Selectable<Database['iam_roles']>): IamRoleRecord => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  path: r.path,
  arn: r.arn,
  assumeRolePolicy: r.assume_role_policy,
  description: r.description,
  maxSessionDuration: Number(r.max_session_duration),
  createdAt: Number(r.created_at),
})

const toPolicy = (
  r: Selectable<Database['iam_policies']>,
  attachmentCount: number,
): ManagedPolicyRecord => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  path: r.path,
  arn: r.arn,
  document: r.document,
  description: r.description,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  attachmentCount,
})

export class SqlIamRepository implements IamRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly adapter: SqlDialectAdapter,
  ) {}

  /** Bumps the account's IAM version (creating its row on first use). */
  async #bump(tx: Tx, accountId: string): Promise<void> {
    const r = await tx
      .updateTable('iam_state')
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('account_id', '=', accountId)
      .executeTakeFirst()
    if (Number(r.numUpdatedRows) === 0)
      await tx
        .insertInto('iam_state')
        .values({ account_id: accountId, version: 1 })
        .onConflict((oc) =>
          oc
            .column('account_id')
            .doUpdateSet((eb) => ({ version: eb('iam_state.version', '+', 1) })),
        )
        .execute()
  }

  /**
   * Runs a write in a transaction that bumps the IAM version. A `Rollback` thrown inside undoes
   * the transaction and becomes the result (PostgreSQL cannot go on after a failed statement).
   */
  async #write<T>(accountId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const out = await fn(tx)
        await this.#bump(tx, accountId)
        return out
      })
    } catch (err) {
      if (err instanceof Rollback) return err.result as T
      throw err
    }
  }

  async version(accountId: string): Promise<number> {
    const r = await this.db
      .selectFrom('iam_state')
      .select('version')
      .where('account_id', '=', accountId)
      .executeTakeFirst()
    return r ? Number(r.version) : 0
  }

  async #count(tx: Tx, table: 'iam_users' | 'iam_roles' | 'iam_policies', accountId: string) {
    const { n } = await tx
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow()
    return Number(n)
  }

  async #insertUnique(insert: () => Promise<unknown>): Promise<IamCreateResult> {
    try {
      await insert()
      return 'created'
    } catch (err) {
      if (this.adapter.constraintKind(err) === 'unique') throw new Rollback('exists')
      throw err
    }
  }

  async #ownerExists(db: Kysely<Database>, accountId: string, kind: OwnerKind, name: string) {
    const table = kind === 'user' ? 'iam_users' : 'iam_roles'
    return (
      (await db
        .selectFrom(table)
        .select('id')
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst()) !== undefined
    )
  }

  /** Why a user or role cannot be deleted yet, if anything holds it. */
  async #holds(
    tx: Tx,
    accountId: string,
    kind: OwnerKind,
    name: string,
  ): Promise<IamDeleteResult | undefined> {
    if (kind === 'user') {
      const key = await tx
        .selectFrom('access_keys')
        .select('access_key_id')
        .where('account_id', '=', accountId)
        .where('user_name', '=', name)
        .where('kind', '=', 'user')
        .executeTakeFirst()
      if (key) return 'has-keys'
    }
    const inline = await tx
      .selectFrom('iam_inline_policies')
      .select('policy_name')
      .where('account_id', '=', accountId)
      .where('owner_kind', '=', kind)
      .where('owner_name', '=', name)
      .executeTakeFirst()
    if (inline) return 'has-policies'
    const attached = await tx
      .selectFrom('iam_attachments')
      .select('policy_arn')
      .where('account_id', '=', accountId)
      .where('owner_kind', '=', kind)
      .where('owner_name', '=', name)
      .executeTakeFirst()
    return attached ? 'has-attachments' : undefined
  }

  #deleteOwner(accountId: string, kind: OwnerKind, name: string): Promise<IamDeleteResult> {
    const table = kind === 'user' ? 'iam_users' : 'iam_roles'
    return this.#write(accountId, async (tx): Promise<IamDeleteResult> => {
      const held = await this.#holds(tx, accountId, kind, name)
      if (held) throw new Rollback(held)
      const r = await tx
        .deleteFrom(table)
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst()
      if (Number(r.numDeletedRows) === 0) throw new Rollback('not-found')
      // Temporary credentials of a deleted role stop working with it.
      if (kind === 'role')
        await tx
          .deleteFrom('access_keys')
          .where('account_id', '=', accountId)
          .where('kind', '=', 'session')
          .where('role_name', '=', name)
          .execute()
      return 'deleted'
    })
  }

  users = {
    create: (u: IamUserRecord, quota: number): Promise<IamCreateResult> =>
      this.#write(u.accountId, async (tx) => {
        if ((await this.#count(tx, 'iam_users', u.accountId)) >= quota)
          throw new Rollback('quota-exceeded')
        return this.#insertUnique(() =>
          tx
            .insertInto('iam_users')
            .values({
              id: u.id,
              account_id: u.accountId,
              name: u.name,
              path: u.path,
              arn: u.arn,
              created_at: u.createdAt,
            })
            .execute(),
        )
      }),
    get: async (accountId: string, name: string) => {
      const r = await this.db
        .selectFrom('iam_users')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst()
      return r && toUser(r)
    },
    list: async (accountId: string, pathPrefix: string, afterName: string, limit: number) => {
      const rows = await this.db
        .selectFrom('iam_users')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('name', '>', afterName)
        .where('path', 'like', `${pathPrefix.replace(/[%_\\]/g, '\\$&')}%`)
        .orderBy('name')
        .limit(limit)
        .execute()
      return rows.map(toUser)
    },
    delete: (accountId: string, name: string) => this.#deleteOwner(accountId, 'user', name),
  }

  roles = {
    create: (r: IamRoleRecord, quota: number): Promise<IamCreateResult> =>
      this.#write(r.accountId, async (tx) => {
        if ((await this.#count(tx, 'iam_roles', r.accountId)) >= quota)
          throw new Rollback('quota-exceeded')
        return this.#insertUnique(() =>
          tx
            .insertInto('iam_roles')
            .values({
              id: r.id,
              account_id: r.accountId,
              name: r.name,
              path: r.path,
              arn: r.arn,
              assume_role_policy: r.assumeRolePolicy,
              description: r.description,
              max_session_duration: r.maxSessionDuration,
              created_at: r.createdAt,
            })
            .execute(),
        )
      }),
    get: async (accountId: string, name: string) => {
      const r = await this.db
        .selectFrom('iam_roles')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst()
      return r && toRole(r)
    },
    list: async (accountId: string, pathPrefix: string, afterName: string, limit: number) => {
      const rows = await this.db
        .selectFrom('iam_roles')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('name', '>', afterName)
        .where('path', 'like', `${pathPrefix.replace(/[%_\\]/g, '\\$&')}%`)
        .orderBy('name')
        .limit(limit)
        .execute()
      return rows.map(toRole)
    },
    delete: (accountId: string, name: string) => this.#deleteOwner(accountId, 'role', name),
    setTrustPolicy: (accountId: string, name: string, document: string) =>
      this.#write(accountId, async (tx) => {
        const r = await tx
          .updateTable('iam_roles')
          .set({ assume_role_policy: document })
          .where('account_id', '=', accountId)
          .where('name', '=', name)
          .executeTakeFirst()
        return commitIf(Number(r.numUpdatedRows) === 1, true)
      }),
  }

  inline = {
    put: (accountId: string, kind: OwnerKind, owner: string, name: string, document: string) =>
      this.#write(accountId, async (tx): Promise<'ok' | 'no-owner'> => {
        if (!(await this.#ownerExists(tx, accountId, kind, owner))) throw new Rollback('no-owner')
        await tx
          .insertInto('iam_inline_policies')
          .values({
            account_id: accountId,
            owner_kind: kind,
            owner_name: owner,
            policy_name: name,
            document,
          })
          .onConflict((oc) =>
            oc
              .columns(['account_id', 'owner_kind', 'owner_name', 'policy_name'])
              .doUpdateSet({ document }),
          )
          .execute()
        return 'ok'
      }),
    get: async (accountId: string, kind: OwnerKind, owner: string, name: string) =>
      (
        await this.db
          .selectFrom('iam_inline_policies')
          .select('document')
          .where('account_id', '=', accountId)
          .where('owner_kind', '=', kind)
          .where('owner_name', '=', owner)
          .where('policy_name', '=', name)
          .executeTakeFirst()
      )?.document,
    list: async (accountId: string, kind: OwnerKind, owner: string) => {
      if (!(await this.#ownerExists(this.db, accountId, kind, owner))) return undefined
      const rows = await this.db
        .selectFrom('iam_inline_policies')
        .select('policy_name')
        .where('account_id', '=', accountId)
        .where('owner_kind', '=', kind)
        .where('owner_name', '=', owner)
        .orderBy('policy_name')
        .execute()
      return rows.map((r) => r.policy_name)
    },
    delete: (accountId: string, kind: OwnerKind, owner: string, name: string) =>
      this.#write(accountId, async (tx) => {
        const r = await tx
          .deleteFrom('iam_inline_policies')
          .where('account_id', '=', accountId)
          .where('owner_kind', '=', kind)
          .where('owner_name', '=', owner)
          .where('policy_name', '=', name)
          .executeTakeFirst()
        return commitIf(Number(r.numDeletedRows) === 1, true)
      }),
  }

  async #attachmentCount(db: Kysely<Database>, accountId: string, arn: string) {
    const { n } = await db
      .selectFrom('iam_attachments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', accountId)
      .where('policy_arn', '=', arn)
      .executeTakeFirstOrThrow()
    return Number(n)
  }

  policies = {
    create: (
      p: Omit<ManagedPolicyRecord, 'attachmentCount'>,
      quota: number,
    ): Promise<IamCreateResult> =>
      this.#write(p.accountId, async (tx) => {
        if ((await this.#count(tx, 'iam_policies', p.accountId)) >= quota)
          throw new Rollback('quota-exceeded')
        return this.#insertUnique(() =>
          tx
            .insertInto('iam_policies')
            .values({
              id: p.id,
              account_id: p.accountId,
              name: p.name,
              path: p.path,
              arn: p.arn,
              document: p.document,
              description: p.description,
              created_at: p.createdAt,
              updated_at: p.updatedAt,
            })
            .execute(),
        )
      }),
    get: async (accountId: string, arn: string) => {
      const r = await this.db
        .selectFrom('iam_policies')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('arn', '=', arn)
        .executeTakeFirst()
      return r && toPolicy(r, await this.#attachmentCount(this.db, accountId, arn))
    },
    list: async (
      accountId: string,
      opts: { pathPrefix: string; onlyAttached: boolean },
      afterName: string,
      limit: number,
    ) => {
      const rows = await this.db
        .selectFrom('iam_policies')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('name', '>', afterName)
        .where('path', 'like', `${opts.pathPrefix.replace(/[%_\\]/g, '\\$&')}%`)
        .orderBy('name')
        .execute()
      const out: ManagedPolicyRecord[] = []
      for (const r of rows) {
        const count = await this.#attachmentCount(this.db, accountId, r.arn)
        if (opts.onlyAttached && count === 0) continue
        out.push(toPolicy(r, count))
        if (out.length >= limit) break
      }
      return out
    },
    delete: (accountId: string, arn: string) =>
      this.#write(accountId, async (tx): Promise<IamDeleteResult> => {
        if ((await this.#attachmentCount(tx, accountId, arn)) > 0)
          throw new Rollback('has-attachments')
        const r = await tx
          .deleteFrom('iam_policies')
          .where('account_id', '=', accountId)
          .where('arn', '=', arn)
          .executeTakeFirst()
        return commitIf<IamDeleteResult>(
          Number(r.numDeletedRows) === 1 ? 'deleted' : 'not-found',
          'deleted',
        )
      }),
  }

  attachments = {
    attach: (
      accountId: string,
      kind: OwnerKind,
      owner: string,
      policyArn: string,
      maxPerOwner: number,
    ) =>
      this.#write(
        accountId,
        async (tx): Promise<'ok' | 'no-owner' | 'no-policy' | 'limit-exceeded'> => {
          if (!(await this.#ownerExists(tx, accountId, kind, owner))) throw new Rollback('no-owner')
          const policy = await tx
            .selectFrom('iam_policies')
            .select('arn')
            .where('account_id', '=', accountId)
            .where('arn', '=', policyArn)
            .executeTakeFirst()
          if (!policy) throw new Rollback('no-policy')
          await tx
            .insertInto('iam_attachments')
            .values({
              account_id: accountId,
              owner_kind: kind,
              owner_name: owner,
              policy_arn: policyArn,
            })
            .onConflict((oc) => oc.doNothing())
            .execute()
          const { n } = await tx
            .selectFrom('iam_attachments')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('account_id', '=', accountId)
            .where('owner_kind', '=', kind)
            .where('owner_name', '=', owner)
            .executeTakeFirstOrThrow()
          if (Number(n) > maxPerOwner) throw new Rollback('limit-exceeded')
          return 'ok'
        },
      ),
    detach: (accountId: string, kind: OwnerKind, owner: string, policyArn: string) =>
      this.#write(accountId, async (tx) => {
        const r = await tx
          .deleteFrom('iam_attachments')
          .where('account_id', '=', accountId)
          .where('owner_kind', '=', kind)
          .where('owner_name', '=', owner)
          .where('policy_arn', '=', policyArn)
          .executeTakeFirst()
        return commitIf(Number(r.numDeletedRows) === 1, true)
      }),
    list: async (accountId: string, kind: OwnerKind, owner: string) => {
      if (!(await this.#ownerExists(this.db, accountId, kind, owner))) return undefined
      const rows = await this.db
        .selectFrom('iam_attachments')
        .innerJoin('iam_policies', 'iam_policies.arn', 'iam_attachments.policy_arn')
        .select(['iam_policies.arn as arn', 'iam_policies.name as name'])
        .where('iam_attachments.account_id', '=', accountId)
        .where('owner_kind', '=', kind)
        .where('owner_name', '=', owner)
        .orderBy('iam_policies.name')
        .execute()
      return rows
    },
  }

  async policiesOf(
    accountId: string,
    kind: OwnerKind,
    owner: string,
  ): Promise<PrincipalPolicies | undefined> {
    if (!(await this.#ownerExists(this.db, accountId, kind, owner))) return undefined
    const inline = await this.db
      .selectFrom('iam_inline_policies')
      .select(['policy_name as name', 'document'])
      .where('account_id', '=', accountId)
      .where('owner_kind', '=', kind)
      .where('owner_name', '=', owner)
      .orderBy('policy_name')
      .execute()
    const managed = await this.db
      .selectFrom('iam_attachments')
      .innerJoin('iam_policies', 'iam_policies.arn', 'iam_attachments.policy_arn')
      .select([
        'iam_policies.arn as arn',
        'iam_policies.name as name',
        'iam_policies.document as document',
      ])
      .where('iam_attachments.account_id', '=', accountId)
      .where('owner_kind', '=', kind)
      .where('owner_name', '=', owner)
      .orderBy('iam_policies.name')
      .execute()
    return { inline, managed }
  }
}

/** Undoes the current write transaction; `result` becomes the write's answer. */
class Rollback extends Error {
  constructor(readonly result: unknown) {
    super(String(result))
  }
}

/** Commits `result` only when it is a success; anything else rolls back (no version bump). */
function commitIf<T>(result: T, success: T): T {
  if (result !== success) throw new Rollback(result)
  return result
}

/**
 * @module store/sql/sql-store
 * The `Store` over Kysely, shared by both engines. Engine differences live in the
 * `SqlDialectAdapter`; this file has none.
 */
import { sql, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely'
import type {
  DeliveryRecord,
  ProviderAppRecord,
  WebhookRecord,
  HandshakeRecord,
  InstallationRecord,
  AccessKeyRecord,
  ConsoleSessionRecord,
  ConnectionRecord,
  CreateResult,
  HostDeleteResult,
  HostRecord,
  NewConnection,
  NewHost,
  Store,
  TagRecord,
  TagWriteResult,
} from '../store.js'
import { MAX_CONSOLE_SESSIONS_PER_KEY } from '../store.js'
import type { Database } from './schema.js'
import type { SqlDialectAdapter } from './dialect-adapter.js'
import { migrate } from './migrations.js'
import { RowCache } from './row-cache.js'
import { SqlIamRepository } from './iam-repository.js'
import { SqlPipelineRepository } from './pipeline-repository.js'
import { SqlAuditRepository } from './audit-repository.js'

type Tx = Transaction<Database>

/** Signals a refused write from inside a transaction so that the transaction rolls back. */
class Refused<T extends string> extends Error {
  constructor(readonly result: T) {
    super(result)
  }
}

function toAccessKey(r: Selectable<Database['access_keys']>): AccessKeyRecord {
  return {
    accessKeyId: r.access_key_id,
    accountId: r.account_id,
    principalArn: r.principal_arn,
    secretCiphertext: r.secret_ciphertext,
    status: r.status as AccessKeyRecord['status'],
    createdAt: Number(r.created_at),
    kind: r.kind as AccessKeyRecord['kind'],
    userName: r.user_name,
    roleName: r.role_name,
    sessionTokenCiphertext: r.session_token_ciphertext,
    sessionPolicy: r.session_policy,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  }
}

function fromAccessKey(k: AccessKeyRecord): Database['access_keys'] {
  return {
    access_key_id: k.accessKeyId,
    account_id: k.accountId,
    principal_arn: k.principalArn,
    secret_ciphertext: k.secretCiphertext,
    status: k.status,
    created_at: k.createdAt,
    kind: k.kind,
    user_name: k.userName ?? null,
    role_name: k.roleName ?? null,
    session_token_ciphertext: k.sessionTokenCiphertext ?? null,
    session_policy: k.sessionPolicy ?? null,
    expires_at: k.expiresAt ?? null,
    last_used_at: k.lastUsedAt ?? null,
  }
}

function toConnection(r: Selectable<Database['connections']>): ConnectionRecord {
  return {
    seq: Number(r.seq),
    id: r.id,
    accountId: r.account_id,
    arn: r.arn,
    name: r.name,
    providerType: r.provider_type,
    hostArn: r.host_arn,
    status: r.status,
    ownerAccountId: r.owner_account_id,
    createdAt: Number(r.created_at),
    installationId: r.installation_id,
    statusReason: r.status_reason,
  }
}

function toInstallation(r: Selectable<Database['installations']>): InstallationRecord {
  return {
    accountId: r.account_id,
    id: r.id,
    providerType: r.provider_type,
    target: r.target,
    targetName: r.target_name,
    credentialKind: r.credential_kind,
    credentialCiphertext: r.credential_ciphertext,
    credentialVersion: Number(r.credential_version),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    status: r.status as InstallationRecord['status'],
    statusReason: r.status_reason,
    installedBy: r.installed_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    hostArn: r.host_arn || null,
  }
}

function toWebhook(r: Selectable<Database['webhooks']>): WebhookRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    providerType: r.provider_type,
    installationId: r.installation_id,
    repository: r.repository,
    providerHookId: r.provider_hook_id,
    secretCiphertext: r.secret_ciphertext,
    createdAt: Number(r.created_at),
  }
}

function toHandshake(r: Selectable<Database['handshakes']>): HandshakeRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    connectionArn: r.connection_arn,
    accessKeyId: r.access_key_id,
    principalArn: r.principal_arn,
    providerType: r.provider_type,
    stage: r.stage as HandshakeRecord['stage'],
    browserHash: r.browser_hash,
    userTokenCiphertext: r.user_token_ciphertext,
    expiresAt: Number(r.expires_at),
  }
}

function providerAppFromRow(r: Selectable<Database['provider_apps']>): ProviderAppRecord {
  return {
    providerType: r.provider_type,
    hostArn: r.host_arn,
    clientId: r.client_id,
    secretCiphertext: r.secret_ciphertext,
    appId: r.app_id,
    slug: r.slug,
    privateKeyCiphertext: r.private_key_ciphertext,
    webhookSecretCiphertext: r.webhook_secret_ciphertext,
    updatedBy: r.updated_by,
    updatedAt: Number(r.updated_at),
  }
}

function toHost(r: Selectable<Database['hosts']>): HostRecord {
  return {
    seq: Number(r.seq),
    id: r.id,
    accountId: r.account_id,
    arn: r.arn,
    name: r.name,
    providerType: r.provider_type,
    providerEndpoint: r.provider_endpoint,
    vpcConfiguration: r.vpc_configuration
      ? (JSON.parse(r.vpc_configuration) as HostRecord['vpcConfiguration'])
      : null,
    status: r.status,
    statusMessage: r.status_message,
    statusSettlesAt: r.status_settles_at === null ? null : Number(r.status_settles_at),
    createdAt: Number(r.created_at),
  }
}

/** The tables behind a taggable resource: its own table, its tag table and the tag table's key. */
interface TaggedTables {
  owner: 'connections' | 'hosts'
  tags: 'connection_tags' | 'host_tags'
  fk: 'connection_id' | 'host_id'
}

/** The tables of the resource an ARN names (connections and hosts are taggable). */
function taggedTables(arn: string): TaggedTables | undefined {
  const resource = arn.split(':').slice(5).join(':')
  if (resource.startsWith('connection/'))
    return { owner: 'connections', tags: 'connection_tags', fk: 'connection_id' }
  if (resource.startsWith('host/')) return { owner: 'hosts', tags: 'host_tags', fk: 'host_id' }
  return undefined
}

export class SqlStore implements Store {
  readonly engine: string
  readonly #db: Kysely<Database>
  readonly #adapter: SqlDialectAdapter
  /** Connections by ARN; only when this process owns the database (see RowCache). */
  readonly #connectionCache: RowCache<ConnectionRecord> | undefined

  private constructor(db: Kysely<Database>, adapter: SqlDialectAdapter) {
    this.#db = db
    this.#adapter = adapter
    this.engine = adapter.engine
    this.#connectionCache = adapter.exclusiveAccess ? new RowCache(20_000) : undefined
    this.iam = new SqlIamRepository(db, adapter)
    this.pipelines = new SqlPipelineRepository(db, adapter)
    this.audit = new SqlAuditRepository(db, adapter)
  }

  /** Runs a write to a connection and drops its cached row, whatever the outcome. */
  async #writingConnection<T>(arn: string, write: () => Promise<T>): Promise<T> {
    this.#connectionCache?.invalidate(arn)
    try {
      return await write()
    } finally {
      this.#connectionCache?.invalidate(arn)
    }
  }

  /** Opens the store and brings the schema up to date. */
  static async open(db: Kysely<Database>, adapter: SqlDialectAdapter): Promise<SqlStore> {
    await adapter.afterOpen?.(db)
    await migrate(db, adapter)
    return new SqlStore(db, adapter)
  }

  async ensureAccount(accountId: string): Promise<void> {
    await this.#db
      .insertInto('accounts')
      .values({ account_id: accountId, connection_count: 0, host_count: 0 })
      .onConflict((oc) => oc.column('account_id').doNothing())
      .execute()
    await this.#db
      .insertInto('iam_state')
      .values({ account_id: accountId, version: 0 })
      .onConflict((oc) => oc.column('account_id').doNothing())
      .execute()
  }

  accessKeys = {
    get: async (accessKeyId: string): Promise<AccessKeyRecord | undefined> => {
      const r = await this.#db
        .selectFrom('access_keys')
        .selectAll()
        .where('access_key_id', '=', accessKeyId)
        .executeTakeFirst()
      return r && toAccessKey(r)
    },
    put: async (k: AccessKeyRecord): Promise<void> => {
      const row = fromAccessKey(k)
      await this.#db
        .insertInto('access_keys')
        .values(row)
        .onConflict((oc) => oc.column('access_key_id').doUpdateSet(row))
        .execute()
    },
    createForUser: (k: AccessKeyRecord, maxPerUser: number) =>
      this.#refusable(async (tx): Promise<'created' | 'limit-exceeded' | 'no-user'> => {
        // Bumping the IAM version locks the account's IAM state, serialising concurrent creates.
        await sql`update iam_state set version = version + 1 where account_id = ${k.accountId}`.execute(
          tx,
        )
        const user = await tx
          .selectFrom('iam_users')
          .select('id')
          .where('account_id', '=', k.accountId)
          .where('name', '=', k.userName ?? '')
          .executeTakeFirst()
        if (!user) return 'no-user'
        const { n } = await tx
          .selectFrom('access_keys')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('account_id', '=', k.accountId)
          .where('kind', '=', 'user')
          .where('user_name', '=', k.userName ?? '')
          .executeTakeFirstOrThrow()
        if (Number(n) >= maxPerUser) throw new Refused('limit-exceeded')
        await tx.insertInto('access_keys').values(fromAccessKey(k)).execute()
        return 'created'
      }),
    listForUser: async (accountId: string, userName: string): Promise<AccessKeyRecord[]> => {
      const rows = await this.#db
        .selectFrom('access_keys')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('kind', '=', 'user')
        .where('user_name', '=', userName)
        .orderBy('created_at')
        .execute()
      return rows.map(toAccessKey)
    },
    setStatus: (
      accountId: string,
      userName: string,
      accessKeyId: string,
      status: 'Active' | 'Inactive',
    ) =>
      this.#db.transaction().execute(async (tx) => {
        const r = await tx
          .updateTable('access_keys')
          .set({ status })
          .where('access_key_id', '=', accessKeyId)
          .where('account_id', '=', accountId)
          .where('kind', '=', 'user')
          .where('user_name', '=', userName)
          .executeTakeFirst()
        if (Number(r.numUpdatedRows) !== 1) return false
        // A deactivated key's console sessions and browser handshakes end, and stay ended if it
        // is reactivated.
        if (status === 'Inactive') {
          await tx.deleteFrom('console_sessions').where('access_key_id', '=', accessKeyId).execute()
          await tx.deleteFrom('handshakes').where('access_key_id', '=', accessKeyId).execute()
        }
        return true
      }),
    delete: (accountId: string, userName: string, accessKeyId: string) =>
      this.#db.transaction().execute(async (tx) => {
        const r = await tx
          .deleteFrom('access_keys')
          .where('access_key_id', '=', accessKeyId)
          .where('account_id', '=', accountId)
          .where('kind', '=', 'user')
          .where('user_name', '=', userName)
          .executeTakeFirst()
        if (Number(r.numDeletedRows) !== 1) return false
        await tx.deleteFrom('console_sessions').where('access_key_id', '=', accessKeyId).execute()
        await tx.deleteFrom('handshakes').where('access_key_id', '=', accessKeyId).execute()
        return true
      }),
    touch: async (accessKeyId: string, at: number) => {
      await this.#db
        .updateTable('access_keys')
        .set({ last_used_at: at })
        .where('access_key_id', '=', accessKeyId)
        .execute()
    },
    deleteExpired: async (now: number) => {
      const r = await this.#db
        .deleteFrom('access_keys')
        .where('kind', '=', 'session')
        .where('expires_at', '<', now)
        .executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }

  readonly iam: SqlIamRepository
  readonly pipelines: SqlPipelineRepository
  readonly audit: SqlAuditRepository

  resealSecrets(reseal: (ciphertext: string) => string): Promise<number> {
    return this.#db.transaction().execute(async (tx) => {
      let count = 0
      const rows = await tx
        .selectFrom('access_keys')
        .select(['access_key_id', 'secret_ciphertext', 'session_token_ciphertext'])
        .execute()
      for (const r of rows)
        await tx
          .updateTable('access_keys')
          .set({
            secret_ciphertext: reseal(r.secret_ciphertext),
            session_token_ciphertext:
              r.session_token_ciphertext && reseal(r.session_token_ciphertext),
          })
          .where('access_key_id', '=', r.access_key_id)
          .execute()
      count += rows.length + rows.filter((r) => r.session_token_ciphertext).length
      const installations = await tx
        .selectFrom('installations')
        .select(['account_id', 'id', 'credential_ciphertext'])
        .execute()
      for (const r of installations)
        await tx
          .updateTable('installations')
          .set({ credential_ciphertext: reseal(r.credential_ciphertext) })
          .where('account_id', '=', r.account_id)
          .where('id', '=', r.id)
          .execute()
      count += installations.length
      const handshakes = await tx
        .selectFrom('handshakes')
        .select(['id', 'user_token_ciphertext'])
        .where('user_token_ciphertext', 'is not', null)
        .execute()
      for (const r of handshakes)
        await tx
          .updateTable('handshakes')
          .set({ user_token_ciphertext: reseal(r.user_token_ciphertext!) })
          .where('id', '=', r.id)
          .execute()
      count += handshakes.length
      const apps = await tx
        .selectFrom('provider_apps')
        .select([
          'provider_type',
          'host_arn',
          'secret_ciphertext',
          'private_key_ciphertext',
          'webhook_secret_ciphertext',
        ])
        .execute()
      for (const r of apps)
        await tx
          .updateTable('provider_apps')
          .set({
            secret_ciphertext: reseal(r.secret_ciphertext),
            private_key_ciphertext:
              r.private_key_ciphertext === null ? null : reseal(r.private_key_ciphertext),
            webhook_secret_ciphertext:
              r.webhook_secret_ciphertext === null ? null : reseal(r.webhook_secret_ciphertext),
          })
          .where('provider_type', '=', r.provider_type)
          .where('host_arn', '=', r.host_arn)
          .execute()
      count += apps.length
      const webhooks = await tx.selectFrom('webhooks').select(['id', 'secret_ciphertext']).execute()
      for (const r of webhooks)
        await tx
          .updateTable('webhooks')
          .set({ secret_ciphertext: reseal(r.secret_ciphertext) })
          .where('id', '=', r.id)
          .execute()
      return count + webhooks.length
    })
  }

  async reserveId(id: string): Promise<boolean> {
    const r = await this.#db
      .insertInto('issued_ids')
      .values({ id })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst()
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1
  }

  /** Runs `fn` in a transaction and turns a `Refused` into its result. */
  async #refusable<T extends string>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.#db.transaction().execute(fn)
    } catch (err) {
      if (err instanceof Refused) return err.result as T
      throw err
    }
  }

  /** Takes one unit of the account's quota; refuses when it is used up. */
  async #takeQuota(
    tx: Tx,
    accountId: string,
    column: 'connection_count' | 'host_count',
    quota: number,
  ) {
    const r = await tx
      .updateTable('accounts')
      .set((eb) => ({ [column]: eb(column, '+', 1) }))
      .where('account_id', '=', accountId)
      .where(column, '<', quota)
      .executeTakeFirst()
    if (Number(r.numUpdatedRows) !== 1) throw new Refused('quota-exceeded')
  }

  async #releaseQuota(tx: Tx, accountId: string, column: 'connection_count' | 'host_count') {
    await tx
      .updateTable('accounts')
      .set((eb) => ({ [column]: eb(column, '-', 1) }))
      .where('account_id', '=', accountId)
      .execute()
  }

  #createConnection(c: NewConnection, tags: TagRecord[], quota: number): Promise<CreateResult> {
    return this.#refusable<CreateResult>(async (tx) => {
      await this.#takeQuota(tx, c.accountId, 'connection_count', quota)
      let hostId: string | null = null
      if (c.hostArn) {
        const host = await tx
          .selectFrom('hosts')
          .select('id')
          .where('account_id', '=', c.accountId)
          .where('arn', '=', c.hostArn)
          .executeTakeFirst()
        if (!host) throw new Refused('host-not-found')
        hostId = host.id
      }
      try {
        await tx
          .insertInto('connections')
          .values({
            id: c.id,
            account_id: c.accountId,
            arn: c.arn,
            name: c.name,
            provider_type: c.providerType,
            host_id: hostId,
            host_arn: c.hostArn,
            status: c.status,
            owner_account_id: c.ownerAccountId,
            created_at: c.createdAt,
            tag_version: 0,
          })
          .execute()
      } catch (err) {
        const kind = this.#adapter.constraintKind(err)
        if (kind === 'unique') throw new Refused('name-taken')
        if (kind === 'foreign-key') throw new Refused('host-not-found')
        throw err
      }
      if (tags.length > 0)
        await tx
          .insertInto('connection_tags')
          .values(tags.map((t) => ({ connection_id: c.id, tag_key: t.Key, tag_value: t.Value })))
          .execute()
      return 'created'
    })
  }

  connections = {
    create: (c: NewConnection, tags: TagRecord[], quota: number): Promise<CreateResult> =>
      this.#writingConnection(c.arn, () => this.#createConnection(c, tags, quota)),

    get: async (accountId: string, arn: string): Promise<ConnectionRecord | undefined> => {
      const cache = this.#connectionCache
      const hit = cache?.get(arn)
      if (hit) return hit.accountId === accountId ? hit : undefined
      const generation = cache?.generation() ?? 0
      const r = await this.#db
        .selectFrom('connections')
        .selectAll()
        .where('arn', '=', arn)
        .executeTakeFirst()
      if (!r) return undefined
      const record = toConnection(r)
      cache?.set(arn, record, generation)
      return record.accountId === accountId ? record : undefined
    },

    list: async (
      accountId: string,
      filter: { providerType?: string; hostArn?: string },
      afterSeq: number,
      limit: number,
    ): Promise<ConnectionRecord[]> => {
      let q = this.#db
        .selectFrom('connections')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('seq', '>', afterSeq)
      if (filter.providerType) q = q.where('provider_type', '=', filter.providerType)
      if (filter.hostArn) q = q.where('host_arn', '=', filter.hostArn)
      const rows = await q.orderBy('seq').limit(limit).execute()
      return rows.map(toConnection)
    },

    delete: async (accountId: string, arn: string): Promise<boolean> =>
      (await this.#writingConnection(arn, () =>
        this.#refusable(async (tx) => {
          const r = await tx
            .deleteFrom('connections')
            .where('arn', '=', arn)
            .where('account_id', '=', accountId)
            .executeTakeFirst()
          if (Number(r.numDeletedRows) !== 1) return 'missing'
          await this.#releaseQuota(tx, accountId, 'connection_count')
          return 'deleted'
        }),
      )) === 'deleted',

    setStatus: (accountId: string, arn: string, status: string): Promise<boolean> =>
      this.#writingConnection(arn, async () => {
        const r = await this.#db
          .updateTable('connections')
          .set({ status })
          .where('arn', '=', arn)
          .where('account_id', '=', accountId)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) === 1
      }),

    attachInstallation: (
      accountId: string,
      arn: string,
      i: Pick<InstallationRecord, 'id' | 'status' | 'statusReason' | 'target'>,
    ): Promise<boolean> =>
      this.#writingConnection(arn, async () => {
        const r = await this.#db
          .updateTable('connections')
          .set({
            installation_id: i.id,
            owner_account_id: i.target,
            status: i.status,
            status_reason: i.status === 'ERROR' ? i.statusReason : null,
          })
          .where('arn', '=', arn)
          .where('account_id', '=', accountId)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) === 1
      }),
  }

  installations = {
    upsert: async (i: InstallationRecord): Promise<void> => {
      const row = {
        account_id: i.accountId,
        id: i.id,
        provider_type: i.providerType,
        target: i.target,
        target_name: i.targetName,
        credential_kind: i.credentialKind,
        credential_ciphertext: i.credentialCiphertext,
        credential_version: i.credentialVersion,
        expires_at: i.expiresAt,
        status: i.status,
        status_reason: i.statusReason,
        installed_by: i.installedBy,
        created_at: i.createdAt,
        updated_at: i.updatedAt,
        host_arn: i.hostArn ?? '',
      }
      await this.#db
        .insertInto('installations')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['account_id', 'id']).doUpdateSet((eb) => ({
            target: row.target,
            target_name: row.target_name,
            credential_kind: row.credential_kind,
            credential_ciphertext: row.credential_ciphertext,
            credential_version: eb(eb.ref('installations.credential_version'), '+', 1),
            expires_at: row.expires_at,
            status: row.status,
            status_reason: row.status_reason,
            installed_by: row.installed_by,
            updated_at: row.updated_at,
          })),
        )
        .execute()
    },
    get: async (accountId: string, id: string): Promise<InstallationRecord | undefined> => {
      const r = await this.#db
        .selectFrom('installations')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst()
      return r && toInstallation(r)
    },
    list: async (accountId: string, providerType: string): Promise<InstallationRecord[]> => {
      const rows = await this.#db
        .selectFrom('installations')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('provider_type', '=', providerType)
        .orderBy('target')
        .execute()
      return rows.map(toInstallation)
    },
    listFailing: async (limit: number): Promise<InstallationRecord[]> => {
      const rows = await this.#db
        .selectFrom('installations')
        .selectAll()
        .where('status', '=', 'ERROR')
        .orderBy('updated_at')
        .limit(limit)
        .execute()
      return rows.map(toInstallation)
    },
    withId: async (providerType: string, id: string): Promise<InstallationRecord[]> => {
      const rows = await this.#db
        .selectFrom('installations')
        .selectAll()
        .where('provider_type', '=', providerType)
        .where('id', '=', id)
        .orderBy('account_id')
        .execute()
      return rows.map(toInstallation)
    },
    leaseRefresh: async (
      accountId: string,
      id: string,
      expectedVersion: number,
      now: number,
      until: number,
    ) => {
      const r = await this.#db
        .updateTable('installations')
        .set({ refresh_lease_until: until })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('credential_version', '=', expectedVersion)
        .where((eb) =>
          eb.or([eb('refresh_lease_until', 'is', null), eb('refresh_lease_until', '<=', now)]),
        )
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    },
    releaseRefresh: async (accountId: string, id: string) => {
      await this.#db
        .updateTable('installations')
        .set({ refresh_lease_until: null })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .execute()
    },
    updateCredential: async (
      accountId: string,
      id: string,
      expectedVersion: number,
      credentialCiphertext: string,
      expiresAt: number | null,
      now: number,
    ): Promise<boolean> => {
      const r = await this.#db
        .updateTable('installations')
        .set({
          credential_ciphertext: credentialCiphertext,
          credential_version: expectedVersion + 1,
          expires_at: expiresAt,
          refresh_lease_until: null,
          updated_at: now,
        })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('credential_version', '=', expectedVersion)
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    },
    setStatus: (
      accountId: string,
      id: string,
      status: 'AVAILABLE' | 'ERROR',
      reason: string | null,
      now: number,
    ): Promise<string[]> =>
      this.#db.transaction().execute(async (tx) => {
        await tx
          .updateTable('installations')
          .set({ status, status_reason: reason, updated_at: now })
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .execute()
        // PENDING connections are not touched: only completed ones follow their installation.
        const changed = await tx
          .selectFrom('connections')
          .select('arn')
          .where('account_id', '=', accountId)
          .where('installation_id', '=', id)
          .where('status', 'in', ['AVAILABLE', 'ERROR'])
          .where((eb) =>
            eb.or([eb('status', '!=', status), eb('status_reason', 'is distinct from', reason)]),
          )
          .execute()
        if (changed.length > 0)
          await tx
            .updateTable('connections')
            .set({ status, status_reason: status === 'ERROR' ? reason : null })
            .where('account_id', '=', accountId)
            .where('installation_id', '=', id)
            .where('status', 'in', ['AVAILABLE', 'ERROR'])
            .execute()
        for (const c of changed) this.#connectionCache?.invalidate(c.arn)
        return changed.map((c) => c.arn)
      }),
  }

  webhooks = {
    create: async (w: WebhookRecord): Promise<boolean> => {
      try {
        await this.#db
          .insertInto('webhooks')
          .values({
            id: w.id,
            account_id: w.accountId,
            provider_type: w.providerType,
            installation_id: w.installationId,
            repository: w.repository,
            provider_hook_id: w.providerHookId,
            secret_ciphertext: w.secretCiphertext,
            created_at: w.createdAt,
          })
          .execute()
        return true
      } catch (err) {
        if (this.#adapter.constraintKind(err) === 'unique') return false
        throw err
      }
    },
    get: async (id: string): Promise<WebhookRecord | undefined> => {
      const r = await this.#db
        .selectFrom('webhooks')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()
      return r && toWebhook(r)
    },
    find: async (
      accountId: string,
      providerType: string,
      installationId: string,
      repository: string,
    ): Promise<WebhookRecord | undefined> => {
      const r = await this.#db
        .selectFrom('webhooks')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('provider_type', '=', providerType)
        .where('installation_id', '=', installationId)
        .where('repository', '=', repository)
        .executeTakeFirst()
      return r && toWebhook(r)
    },
    delete: async (id: string): Promise<boolean> => {
      const r = await this.#db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst()
      return Number(r.numDeletedRows) === 1
    },
    all: async (): Promise<WebhookRecord[]> => {
      const rows = await this.#db.selectFrom('webhooks').selectAll().orderBy('id').execute()
      return rows.map(toWebhook)
    },
    recordDelivery: async (
      d: Omit<DeliveryRecord, 'seq'>,
    ): Promise<'recorded' | 'duplicate' | 'replay'> => {
      // Two unique keys: (webhook, delivery id) for retries, (webhook, body digest) for replays
      // of a signed body under a fresh unsigned id. Either conflict records nothing.
      const r = await this.#db
        .insertInto('webhook_deliveries')
        .values({
          webhook_id: d.webhookId,
          delivery_id: d.deliveryId,
          event_kind: d.eventKind,
          event: d.event,
          received_at: d.receivedAt,
          account_id: d.accountId ?? null,
          installation_id: d.installationId ?? null,
          repository: d.repository ?? null,
          trigger_source: d.triggerSource ?? null,
          body_digest: d.bodyDigest ?? null,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst()
      if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return 'recorded'
      const retry = await this.#db
        .selectFrom('webhook_deliveries')
        .select('seq')
        .where('webhook_id', '=', d.webhookId)
        .where('delivery_id', '=', d.deliveryId)
        .executeTakeFirst()
      return retry || !d.bodyDigest ? 'duplicate' : 'replay'
    },
    deliveries: async (
      webhookId: string,
      afterSeq: number,
      limit: number,
    ): Promise<DeliveryRecord[]> => {
      const rows = await this.#db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('webhook_id', '=', webhookId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute()
      return rows.map((r) => ({
        seq: Number(r.seq),
        webhookId: r.webhook_id,
        deliveryId: r.delivery_id,
        eventKind: r.event_kind,
        event: r.event,
        receivedAt: Number(r.received_at),
      }))
    },
  }

  providerApps = {
    get: async (providerType: string, hostArn = ''): Promise<ProviderAppRecord | undefined> => {
      const r = await this.#db
        .selectFrom('provider_apps')
        .selectAll()
        .where('provider_type', '=', providerType)
        .where('host_arn', '=', hostArn)
        .executeTakeFirst()
      return r && providerAppFromRow(r)
    },
    list: async (): Promise<ProviderAppRecord[]> => {
      const rows = await this.#db
        .selectFrom('provider_apps')
        .selectAll()
        .orderBy('provider_type')
        .orderBy('host_arn')
        .execute()
      return rows.map(providerAppFromRow)
    },
    put: async (a: ProviderAppRecord): Promise<void> => {
      const row = {
        provider_type: a.providerType,
        host_arn: a.hostArn,
        client_id: a.clientId,
        secret_ciphertext: a.secretCiphertext,
        app_id: a.appId,
        slug: a.slug,
        private_key_ciphertext: a.privateKeyCiphertext,
        webhook_secret_ciphertext: a.webhookSecretCiphertext,
        updated_by: a.updatedBy,
        updated_at: a.updatedAt,
      }
      await this.#db
        .insertInto('provider_apps')
        .values(row)
        .onConflict((oc) => oc.columns(['provider_type', 'host_arn']).doUpdateSet(row))
        .execute()
    },
    deleteForHost: async (hostArn: string): Promise<number> => {
      if (!hostArn) return 0
      const r = await this.#db
        .deleteFrom('provider_apps')
        .where('host_arn', '=', hostArn)
        .executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }

  handshakes = {
    create: async (h: HandshakeRecord): Promise<void> => {
      await this.#db
        .insertInto('handshakes')
        .values({
          id: h.id,
          account_id: h.accountId,
          connection_arn: h.connectionArn,
          access_key_id: h.accessKeyId,
          principal_arn: h.principalArn,
          provider_type: h.providerType,
          stage: h.stage,
          browser_hash: h.browserHash,
          user_token_ciphertext: h.userTokenCiphertext,
          expires_at: h.expiresAt,
        })
        .execute()
    },
    get: async (id: string): Promise<HandshakeRecord | undefined> => {
      const r = await this.#db
        .selectFrom('handshakes')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()
      return r && toHandshake(r)
    },
    advance: async (
      id: string,
      from: HandshakeRecord['stage'],
      to: HandshakeRecord['stage'],
      changes: Partial<Pick<HandshakeRecord, 'browserHash' | 'userTokenCiphertext'>>,
      now: number,
    ): Promise<HandshakeRecord | undefined> => {
      const set: {
        stage: string
        browser_hash?: string | null
        user_token_ciphertext?: string | null
      } = { stage: to }
      if (changes.browserHash !== undefined) set.browser_hash = changes.browserHash
      if (changes.userTokenCiphertext !== undefined)
        set.user_token_ciphertext = changes.userTokenCiphertext
      // A finished handshake keeps no provider token.
      if (to === 'done') set.user_token_ciphertext = null
      const r = await this.#db
        .updateTable('handshakes')
        .set(set)
        .where('id', '=', id)
        .where('stage', '=', from)
        .where('expires_at', '>', now)
        .executeTakeFirst()
      if (Number(r.numUpdatedRows) !== 1) return undefined
      return this.handshakes.get(id)
    },
    deleteExpired: async (now: number): Promise<number> => {
      const r = await this.#db
        .deleteFrom('handshakes')
        .where('expires_at', '<', now)
        .executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }

  consoleSessions = {
    create: (c: ConsoleSessionRecord): Promise<boolean> =>
      this.#db.transaction().execute(async (tx) => {
        // Locks the key's row (a no-op write): a concurrent deactivation or deletion either
        // finished first (no active row: refused) or waits for this insert and then removes it.
        const key = await tx
          .updateTable('access_keys')
          .set((eb) => ({ status: eb.ref('status') }))
          .where('access_key_id', '=', c.accessKeyId)
          .where('account_id', '=', c.accountId)
          .where('status', '=', 'Active')
          .executeTakeFirst()
        if (Number(key.numUpdatedRows) !== 1) return false
        await tx
          .insertInto('console_sessions')
          .values({
            id_hash: c.idHash,
            account_id: c.accountId,
            access_key_id: c.accessKeyId,
            principal_arn: c.principalArn,
            created_at: c.createdAt,
            expires_at: c.expiresAt,
          })
          .execute()
        // At most MAX_CONSOLE_SESSIONS_PER_KEY per key: the oldest beyond are ended.
        await tx
          .deleteFrom('console_sessions')
          .where('access_key_id', '=', c.accessKeyId)
          .where('id_hash', 'not in', (eb) =>
            eb
              .selectFrom('console_sessions')
              .select('id_hash')
              .where('access_key_id', '=', c.accessKeyId)
              .orderBy('created_at', 'desc')
              .orderBy('id_hash', 'desc')
              .limit(MAX_CONSOLE_SESSIONS_PER_KEY),
          )
          .execute()
        return true
      }),
    get: async (idHash: string, now: number): Promise<ConsoleSessionRecord | undefined> => {
      const r = await this.#db
        .selectFrom('console_sessions')
        .selectAll()
        .where('id_hash', '=', idHash)
        .where('expires_at', '>', now)
        .executeTakeFirst()
      return (
        r && {
          idHash: r.id_hash,
          accountId: r.account_id,
          accessKeyId: r.access_key_id,
          principalArn: r.principal_arn,
          createdAt: Number(r.created_at),
          expiresAt: Number(r.expires_at),
        }
      )
    },
    delete: async (idHash: string): Promise<boolean> => {
      const r = await this.#db
        .deleteFrom('console_sessions')
        .where('id_hash', '=', idHash)
        .executeTakeFirst()
      return Number(r.numDeletedRows) === 1
    },
    deleteExpired: async (now: number): Promise<number> => {
      const r = await this.#db
        .deleteFrom('console_sessions')
        .where('expires_at', '<', now)
        .executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }

  hosts = {
    create: (h: NewHost, tags: TagRecord[], quota: number): Promise<CreateResult> =>
      this.#refusable<CreateResult>(async (tx) => {
        await this.#takeQuota(tx, h.accountId, 'host_count', quota)
        await tx
          .insertInto('hosts')
          .values({
            id: h.id,
            account_id: h.accountId,
            arn: h.arn,
            name: h.name,
            provider_type: h.providerType,
            provider_endpoint: h.providerEndpoint,
            vpc_configuration: h.vpcConfiguration ? JSON.stringify(h.vpcConfiguration) : null,
            status: h.status,
            status_message: h.statusMessage,
            status_settles_at: h.statusSettlesAt,
            created_at: h.createdAt,
            tag_version: 0,
          })
          .execute()
        if (tags.length > 0)
          await tx
            .insertInto('host_tags')
            .values(tags.map((t) => ({ host_id: h.id, tag_key: t.Key, tag_value: t.Value })))
            .execute()
        return 'created'
      }),

    get: async (accountId: string, arn: string): Promise<HostRecord | undefined> => {
      const r = await this.#db
        .selectFrom('hosts')
        .selectAll()
        .where('arn', '=', arn)
        .where('account_id', '=', accountId)
        .executeTakeFirst()
      return r && toHost(r)
    },

    list: async (accountId: string, afterSeq: number, limit: number): Promise<HostRecord[]> => {
      const rows = await this.#db
        .selectFrom('hosts')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute()
      return rows.map(toHost)
    },

    update: async (
      accountId: string,
      arn: string,
      changes: Parameters<Store['hosts']['update']>[2],
    ): Promise<boolean> => {
      const set: Updateable<Database['hosts']> = {}
      if (changes.providerEndpoint !== undefined) set.provider_endpoint = changes.providerEndpoint
      if (changes.vpcConfiguration !== undefined)
        set.vpc_configuration = changes.vpcConfiguration && JSON.stringify(changes.vpcConfiguration)
      if (changes.status !== undefined) set.status = changes.status
      if (changes.statusMessage !== undefined) set.status_message = changes.statusMessage
      if (changes.statusSettlesAt !== undefined) set.status_settles_at = changes.statusSettlesAt
      if (Object.keys(set).length === 0) return (await this.hosts.get(accountId, arn)) !== undefined
      const r = await this.#db
        .updateTable('hosts')
        .set(set)
        .where('arn', '=', arn)
        .where('account_id', '=', accountId)
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    },

    delete: (accountId: string, arn: string): Promise<HostDeleteResult> =>
      this.#refusable<HostDeleteResult>(async (tx) => {
        let deleted
        try {
          deleted = await tx
            .deleteFrom('hosts')
            .where('arn', '=', arn)
            .where('account_id', '=', accountId)
            .executeTakeFirst()
        } catch (err) {
          if (this.#adapter.constraintKind(err) === 'foreign-key') throw new Refused('in-use')
          throw err
        }
        if (Number(deleted.numDeletedRows) !== 1) return 'not-found'
        await this.#releaseQuota(tx, accountId, 'host_count')
        // The app registered on the host (its "Set up") goes with it, secrets and all.
        await tx.deleteFrom('provider_apps').where('host_arn', '=', arn).execute()
        return 'deleted'
      }),
  }

  /** Locks the resource row (by bumping its tag version) and returns its id and tag table. */
  async #lockTagged(tx: Tx, accountId: string, arn: string) {
    const t = taggedTables(arn)
    if (!t) return undefined
    const r = await tx
      .updateTable(t.owner)
      .set((eb) => ({ tag_version: eb('tag_version', '+', 1) }))
      .where('arn', '=', arn)
      .where('account_id', '=', accountId)
      .returning('id')
      .executeTakeFirst()
    return r && { id: r.id, ...t }
  }

  /** Tags of one owner row in key order. */
  async #tagsOf(db: Kysely<Database>, t: TaggedTables, ownerId: string): Promise<TagRecord[]> {
    const { rows } = await sql<{ tag_key: string; tag_value: string }>`
      select tag_key, tag_value from ${sql.table(t.tags)}
      where ${sql.ref(t.fk)} = ${ownerId} order by tag_key`.execute(db)
    return rows.map((r) => ({ Key: r.tag_key, Value: r.tag_value }))
  }

  async #deleteTags(tx: Tx, t: TaggedTables, ownerId: string, keys: string[]): Promise<void> {
    await sql`delete from ${sql.table(t.tags)}
      where ${sql.ref(t.fk)} = ${ownerId} and tag_key in (${sql.join(keys)})`.execute(tx)
  }

  tags = {
    list: async (accountId: string, arn: string): Promise<TagRecord[] | undefined> => {
      const t = taggedTables(arn)
      if (!t) return undefined
      const owner = await this.#db
        .selectFrom(t.owner)
        .select('id')
        .where('arn', '=', arn)
        .where('account_id', '=', accountId)
        .executeTakeFirst()
      return owner && this.#tagsOf(this.#db, t, owner.id)
    },

    put: (
      accountId: string,
      arn: string,
      tags: TagRecord[],
      maxPerResource: number,
    ): Promise<TagWriteResult> =>
      this.#refusable<TagWriteResult>(async (tx) => {
        const owner = await this.#lockTagged(tx, accountId, arn)
        if (!owner) return 'not-found'
        // Later duplicates of a key win, as consecutive TagResource calls would.
        const merged = new Map(tags.map((t) => [t.Key, t.Value]))
        if (merged.size === 0) return 'ok'
        await this.#deleteTags(tx, owner, owner.id, [...merged.keys()])
        const values = [...merged].map(([k, v]) => sql`(${owner.id}, ${k}, ${v})`)
        await sql`insert into ${sql.table(owner.tags)} (${sql.ref(owner.fk)}, tag_key, tag_value)
          values ${sql.join(values)}`.execute(tx)
        if ((await this.#tagsOf(tx, owner, owner.id)).length > maxPerResource)
          throw new Refused('limit-exceeded')
        return 'ok'
      }),

    remove: async (accountId: string, arn: string, keys: string[]): Promise<boolean> =>
      (await this.#refusable(async (tx) => {
        const owner = await this.#lockTagged(tx, accountId, arn)
        if (!owner) return 'not-found'
        if (keys.length > 0) await this.#deleteTags(tx, owner, owner.id, keys)
        return 'ok'
      })) === 'ok',
  }

  async close(): Promise<void> {
    await this.#db.destroy()
  }
}

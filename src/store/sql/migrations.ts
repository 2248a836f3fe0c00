/**
 * @module store/sql/migrations
 * Versioned schema migrations, applied in name order at start, each recorded in
 * `junction_migrations`, all in one transaction. Append new migrations; never edit one that has
 * shipped. (Kysely's Migrator is not used: its table checks look across every PostgreSQL schema,
 * which breaks when several Junction schemas share a database.)
 */
import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely'
import type { SqlDialectAdapter } from './dialect-adapter.js'
import type { Database } from './schema.js'
import { pipelineWatchesMigration } from './migration-pipeline-watches.js'

function migrations(a: SqlDialectAdapter): Record<string, Migration> {
  // The keyset for pagination: an auto-incrementing integer primary key on either engine.
  const serialPrimaryKey = (c: ColumnDefinitionBuilder) => {
    const pk = c.primaryKey()
    return a.needsAutoIncrement ? pk.autoIncrement() : pk
  }
  return {
    '0001_connections_hosts_tags': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('accounts')
          .addColumn('account_id', 'text', (c) => c.primaryKey())
          .addColumn('connection_count', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('host_count', 'integer', (c) => c.notNull().defaultTo(0))
          .execute()
        await db.schema
          .createTable('access_keys')
          .addColumn('access_key_id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('principal_arn', 'text', (c) => c.notNull())
          .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .execute()
        await db.schema
          .createTable('issued_ids')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .execute()
        await db.schema
          .createTable('hosts')
          .addColumn('seq', a.serialType, serialPrimaryKey)
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull().unique())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('provider_type', 'text', (c) => c.notNull())
          .addColumn('provider_endpoint', 'text', (c) => c.notNull())
          .addColumn('vpc_configuration', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('status_message', 'text')
          .addColumn('status_settles_at', a.bigIntType)
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addColumn('tag_version', 'integer', (c) => c.notNull().defaultTo(0))
          .execute()
        await db.schema
          .createTable('connections')
          .addColumn('seq', a.serialType, serialPrimaryKey)
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull().unique())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('provider_type', 'text', (c) => c.notNull())
          // The foreign key makes "a host with connections cannot be deleted" and "a connection
          // needs an existing host" hold under concurrency on every engine.
          .addColumn('host_id', 'text', (c) => c.references('hosts.id'))
          .addColumn('host_arn', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('owner_account_id', 'text', (c) => c.notNull())
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addColumn('tag_version', 'integer', (c) => c.notNull().defaultTo(0))
          .addUniqueConstraint('connections_account_name', ['account_id', 'name'])
          .execute()
        await db.schema
          .createIndex('connections_account_seq')
          .on('connections')
          .columns(['account_id', 'seq'])
          .execute()
        await db.schema
          .createIndex('connections_host')
          .on('connections')
          .columns(['host_id'])
          .execute()
        await db.schema
          .createIndex('hosts_account_seq')
          .on('hosts')
          .columns(['account_id', 'seq'])
          .execute()
        for (const [table, owner, ref] of [
          ['connection_tags', 'connection_id', 'connections.id'],
          ['host_tags', 'host_id', 'hosts.id'],
        ] as const) {
          await db.schema
            .createTable(table)
            .addColumn(owner, 'text', (c) => c.notNull().references(ref).onDelete('cascade'))
            .addColumn('tag_key', 'text', (c) => c.notNull())
            .addColumn('tag_value', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint(`${table}_pk`, [owner, 'tag_key'])
            .execute()
        }
      },
    },
    '0002_iam': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
      async up(db: Kysely<any>) {
        // Access keys of users and temporary (STS session) credentials live beside the root key.
        for (const [column, type] of [
          ['kind', 'text'],
          ['user_name', 'text'],
          ['role_name', 'text'],
          ['session_token_ciphertext', 'text'],
          ['session_policy', 'text'],
          ['expires_at', a.bigIntType],
          ['last_used_at', a.bigIntType],
        ] as const)
          await db.schema.alterTable('access_keys').addColumn(column, type).execute()
        await db.updateTable('access_keys').set({ kind: 'root' }).execute()
        await db.schema
          .createIndex('access_keys_user')
          .on('access_keys')
          .columns(['account_id', 'user_name'])
          .execute()
        await db.schema
          .createTable('iam_state')
          .addColumn('account_id', 'text', (c) => c.primaryKey())
          .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
          .execute()
        await db.schema
          .createTable('iam_users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull())
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addUniqueConstraint('iam_users_name', ['account_id', 'name'])
          .execute()
        await db.schema
          .createTable('iam_roles')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull())
          .addColumn('assume_role_policy', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('max_session_duration', 'integer', (c) => c.notNull())
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addUniqueConstraint('iam_roles_name', ['account_id', 'name'])
          .execute()
        await db.schema
          .createTable('iam_inline_policies')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('owner_kind', 'text', (c) => c.notNull())
          .addColumn('owner_name', 'text', (c) => c.notNull())
          .addColumn('policy_name', 'text', (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('iam_inline_policies_pk', [
            'account_id',
            'owner_kind',
            'owner_name',
            'policy_name',
          ])
          .execute()
        await db.schema
          .createTable('iam_policies')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull().unique())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addColumn('updated_at', a.bigIntType, (c) => c.notNull())
          .addUniqueConstraint('iam_policies_name', ['account_id', 'name'])
          .execute()
        await db.schema
          .createTable('iam_attachments')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('owner_kind', 'text', (c) => c.notNull())
          .addColumn('owner_name', 'text', (c) => c.notNull())
          .addColumn('policy_arn', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('iam_attachments_pk', [
            'account_id',
            'owner_kind',
            'owner_name',
            'policy_arn',
          ])
          .execute()
      },
    },
    '0003_providers': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
      async up(db: Kysely<any>) {
        // An installation: Junction's right to reach one provider account (a Bitbucket workspace),
        // shared by every connection completed for it. The credential is sealed under the master key.
        await db.schema
          .createTable('installations')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('provider_type', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('target_name', 'text', (c) => c.notNull())
          .addColumn('credential_kind', 'text', (c) => c.notNull())
          .addColumn('credential_ciphertext', 'text', (c) => c.notNull())
          .addColumn('credential_version', 'integer', (c) => c.notNull())
          // A node refreshing the credential holds this lease; others wait for its result.
          .addColumn('refresh_lease_until', a.bigIntType)
          .addColumn('expires_at', a.bigIntType)
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('status_reason', 'text')
          .addColumn('installed_by', 'text', (c) => c.notNull())
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addColumn('updated_at', a.bigIntType, (c) => c.notNull())
          .addPrimaryKeyConstraint('installations_pk', ['account_id', 'id'])
          .execute()
        await db.schema.alterTable('connections').addColumn('installation_id', 'text').execute()
        await db.schema.alterTable('connections').addColumn('status_reason', 'text').execute()
        await db.schema
          .createIndex('connections_installation')
          .on('connections')
          .columns(['account_id', 'installation_id'])
          .execute()
        // Browser handshakes in flight: each step is taken once (compare-and-set on `stage`).
        await db.schema
          .createTable('handshakes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('connection_arn', 'text', (c) => c.notNull())
          .addColumn('access_key_id', 'text', (c) => c.notNull())
          .addColumn('principal_arn', 'text', (c) => c.notNull())
          .addColumn('provider_type', 'text', (c) => c.notNull())
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('browser_hash', 'text')
          .addColumn('user_token_ciphertext', 'text')
          .addColumn('expires_at', a.bigIntType, (c) => c.notNull())
          .execute()
        // OAuth applications the operator registered with providers (set in the console);
        // the secret is sealed under the master key.
        await db.schema
          .createTable('provider_apps')
          .addColumn('provider_type', 'text', (c) => c.primaryKey())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .addColumn('updated_at', a.bigIntType, (c) => c.notNull())
          .execute()
        // Provider webhooks Junction registered (one per repository and installation), each with
        // its own sealed secret, and the durable log of the deliveries they received.
        await db.schema
          .createTable('webhooks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('provider_type', 'text', (c) => c.notNull())
          .addColumn('installation_id', 'text', (c) => c.notNull())
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('provider_hook_id', 'text', (c) => c.notNull())
          .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addUniqueConstraint('webhooks_repository', [
            'account_id',
            'provider_type',
            'installation_id',
            'repository',
          ])
          .execute()
        await db.schema
          .createTable('webhook_deliveries')
          .addColumn('seq', a.serialType, serialPrimaryKey)
          .addColumn('webhook_id', 'text', (c) => c.notNull())
          .addColumn('delivery_id', 'text', (c) => c.notNull())
          .addColumn('event_kind', 'text', (c) => c.notNull())
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('received_at', a.bigIntType, (c) => c.notNull())
          .addUniqueConstraint('webhook_deliveries_once', ['webhook_id', 'delivery_id'])
          .execute()
      },
    },
    '0004_pipelines': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
      async up(db: Kysely<any>) {
        // The event log becomes a work queue: each delivery (or poll finding) is taken by one node
        // under a lease, processed once, and keeps what it started and why others did not match.
        for (const [name, type] of [
          ['account_id', 'text'],
          ['installation_id', 'text'],
          ['repository', 'text'],
          ['trigger_source', 'text'],
          ['lease_owner', 'text'],
          ['lease_until', a.bigIntType],
          ['processed_at', a.bigIntType],
          ['result', 'text'],
        ] as const)
          await db.schema.alterTable('webhook_deliveries').addColumn(name, type).execute()
        // Deliveries recorded before pipelines existed start nothing.
        await db
          .updateTable('webhook_deliveries')
          .set({ processed_at: sql`received_at`, result: '[]' })
          .execute()
        await db.schema
          .createIndex('webhook_deliveries_pending')
          .on('webhook_deliveries')
          .columns(['processed_at', 'seq'])
          .execute()
        await db.schema
          .createIndex('webhook_deliveries_repository')
          .on('webhook_deliveries')
          .columns(['account_id', 'repository', 'seq'])
          .execute()
        await db.schema
          .createTable('pipelines')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull().unique())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('declaration', 'text', (c) => c.notNull())
          .addColumn('tags', 'text', (c) => c.notNull())
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addColumn('updated_at', a.bigIntType, (c) => c.notNull())
          .addPrimaryKeyConstraint('pipelines_pk', ['account_id', 'name'])
          .execute()
        // What each pipeline's connection source actions watch: events map to pipelines by it.
        await db.schema
          .createTable('pipeline_sources')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('pipeline_name', 'text', (c) => c.notNull())
          .addColumn('action_name', 'text', (c) => c.notNull())
          .addColumn('connection_arn', 'text', (c) => c.notNull())
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('repository_key', 'text', (c) => c.notNull())
          .addColumn('branch', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('pipeline_sources_pk', [
            'account_id',
            'pipeline_name',
            'action_name',
          ])
          .execute()
        await db.schema
          .createIndex('pipeline_sources_repository')
          .on('pipeline_sources')
          .columns(['account_id', 'repository_key'])
          .execute()
        await db.schema
          .createTable('pipeline_executions')
          .addColumn('seq', a.serialType, serialPrimaryKey)
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('pipeline_name', 'text', (c) => c.notNull())
          .addColumn('pipeline_version', 'integer', (c) => c.notNull())
          .addColumn('declaration', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('status_summary', 'text')
          .addColumn('execution_mode', 'text', (c) => c.notNull())
          .addColumn('trigger_type', 'text', (c) => c.notNull())
          .addColumn('trigger_detail', 'text', (c) => c.notNull())
          .addColumn('source_revisions', 'text', (c) => c.notNull())
          .addColumn('variables', 'text', (c) => c.notNull())
          // Unique: the same delivery (or client token) never starts a pipeline twice.
          .addColumn('dedupe_key', 'text', (c) => c.unique())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('current_stage', 'text')
          .addColumn('stop_mode', 'text')
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', a.bigIntType)
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addColumn('updated_at', a.bigIntType, (c) => c.notNull())
          .execute()
        await db.schema
          .createIndex('pipeline_executions_pipeline')
          .on('pipeline_executions')
          .columns(['account_id', 'pipeline_name', 'seq'])
          .execute()
        await db.schema
          .createIndex('pipeline_executions_active')
          .on('pipeline_executions')
          .columns(['status', 'lease_until'])
          .execute()
        await db.schema
          .createTable('action_executions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('execution_id', 'text', (c) => c.notNull())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('pipeline_name', 'text', (c) => c.notNull())
          .addColumn('stage_name', 'text', (c) => c.notNull())
          .addColumn('action_name', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('started_at', a.bigIntType, (c) => c.notNull())
          .addColumn('updated_at', a.bigIntType, (c) => c.notNull())
          .addUniqueConstraint('action_executions_once', [
            'execution_id',
            'stage_name',
            'action_name',
          ])
          .execute()
        await db.schema
          .createIndex('action_executions_pipeline')
          .on('action_executions')
          .columns(['account_id', 'pipeline_name', 'started_at'])
          .execute()
        // One execution per stage at a time (QUEUED and SUPERSEDED modes).
        await db.schema
          .createTable('stage_locks')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('pipeline_name', 'text', (c) => c.notNull())
          .addColumn('stage_name', 'text', (c) => c.notNull())
          .addColumn('execution_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('stage_locks_pk', ['account_id', 'pipeline_name', 'stage_name'])
          .execute()
        // The polling fallback's last seen head per watched branch.
        await db.schema
          .createTable('source_polls')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('connection_arn', 'text', (c) => c.notNull())
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('branch', 'text', (c) => c.notNull())
          .addColumn('last_commit', 'text')
          .addColumn('checked_at', a.bigIntType, (c) => c.notNull())
          .addPrimaryKeyConstraint('source_polls_pk', [
            'account_id',
            'connection_arn',
            'repository',
            'branch',
          ])
          .execute()
      },
    },
    '0005_console_sessions': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
      async up(db: Kysely<any>) {
        // Console sign-ins, revocable on every node: the cookie carries only the signed session
        // id; the row is keyed by its SHA-256 and goes away on sign-out, on deactivation or
        // deletion of the access key it was opened with, and when it expires.
        await db.schema
          .createTable('console_sessions')
          .addColumn('id_hash', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('access_key_id', 'text', (c) => c.notNull())
          .addColumn('principal_arn', 'text', (c) => c.notNull())
          .addColumn('created_at', a.bigIntType, (c) => c.notNull())
          .addColumn('expires_at', a.bigIntType, (c) => c.notNull())
          .execute()
        await db.schema
          .createIndex('console_sessions_key')
          .on('console_sessions')
          .column('access_key_id')
          .execute()
        await db.schema
          .createIndex('console_sessions_expiry')
          .on('console_sessions')
          .column('expires_at')
          .execute()
      },
    },
    '0006_webhook_digests': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
      async up(db: Kysely<any>) {
        // A delivery is also unique by the SHA-256 of its signed body: Bitbucket's X-Request-UUID
        // is not signed, so a captured body resent with a fresh id must not count as new.
        // Deliveries recorded before, and poll findings, have none (NULLs never conflict).
        await db.schema.alterTable('webhook_deliveries').addColumn('body_digest', 'text').execute()
        await db.schema
          .createIndex('webhook_deliveries_digest')
          .on('webhook_deliveries')
          .columns(['webhook_id', 'body_digest'])
          .unique()
          .execute()
      },
    },
    '0007_provider_app_github': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
      async up(db: Kysely<any>) {
        // A provider application may be a GitHub App (id, URL name, sealed private key and sealed
        // webhook secret) and may belong to one host (a GitHub Enterprise Server has its own app):
        // the key becomes (provider_type, host_arn), '' for the provider-wide application. The
        // table is rebuilt (SQLite cannot change a primary key); existing rows keep host_arn ''.
        await db.schema
          .createTable('provider_apps_v2')
          .addColumn('provider_type', 'text', (c) => c.notNull())
          .addColumn('host_arn', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
          .addColumn('app_id', 'text')
          .addColumn('slug', 'text')
          .addColumn('private_key_ciphertext', 'text')
          .addColumn('webhook_secret_ciphertext', 'text')
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .addColumn('updated_at', a.bigIntType, (c) => c.notNull())
          .addPrimaryKeyConstraint('provider_apps_v2_pk', ['provider_type', 'host_arn'])
          .execute()
        await sql`insert into provider_apps_v2 (provider_type, host_arn, client_id, secret_ciphertext, updated_by, updated_at) select provider_type, '', client_id, secret_ciphertext, updated_by, updated_at from provider_apps`.execute(
          db,
        )
        await db.schema.dropTable('provider_apps').execute()
        await db.schema.alterTable('provider_apps_v2').renameTo('provider_apps').execute()
      },
    },
    '0008_installation_host': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
      async up(db: Kysely<any>) {
        // An installation made on a GitHub Enterprise Server host remembers the host's ARN (its
        // adapter and app are the host's); '' for a provider-wide installation (every earlier row).
        await db.schema
          .alterTable('installations')
          .addColumn('host_arn', 'text', (c) => c.notNull().defaultTo(''))
          .execute()
      },
    },
    '0009_audit_events': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
      async up(db: Kysely<any>) {
        // The audit trail (audit/): one compact row per API call or connection use, read newest
        // first per account with at most one LookupEvents attribute. Only what a filter reads is a
        // column; the rest of the record is one JSON text (every index and byte is paid on each
        // call: see docs/audit.md, Cost). EventId is a UUIDv7 whose time finds its row.
        await db.schema
          .createTable('audit_events')
          .addColumn('seq', a.serialType, serialPrimaryKey)
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('event_time', a.bigIntType, (c) => c.notNull())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('event_name', 'text', (c) => c.notNull())
          .addColumn('event_source', 'text', (c) => c.notNull())
          .addColumn('read_only', 'integer', (c) => c.notNull())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('access_key_id', 'text', (c) => c.notNull())
          .addColumn('resource_type', 'text')
          .addColumn('resource_name', 'text')
          .addColumn('data', 'text', (c) => c.notNull())
          .execute()
        const index = (name: string, columns: string[]) =>
          db.schema.createIndex(name).on('audit_events').columns(columns).execute()
        // Three indexes: the time range, a connection's (or any resource's) events, and an
        // operation's. The other attributes filter the account's events on the time index (each
        // index costs every call a B-tree insert); the retention sweep walks `seq` from the start.
        await index('audit_events_time', ['account_id', 'event_time'])
        await index('audit_events_resource', ['account_id', 'resource_name', 'event_time'])
        await index('audit_events_name', ['account_id', 'event_name', 'event_time'])
      },
    },
    '0010_pipeline_watches': pipelineWatchesMigration,
  }
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrate(db: Kysely<Database>, a: SqlDialectAdapter): Promise<string[]> {
  return db.transaction().execute(async (tx) => {
    await a.lockMigrations?.(tx)
    await sql`create table if not exists junction_migrations (name text primary key, applied_at ${sql.raw(a.bigIntType)} not null)`.execute(
      tx,
    )
    const done = new Set(
      (await tx.selectFrom('junction_migrations').select('name').execute()).map((r) => r.name),
    )
    const applied: string[] = []
    for (const [name, migration] of Object.entries(migrations(a)).sort(([x], [y]) =>
      x < y ? -1 : 1,
    )) {
      if (done.has(name)) continue
      await migration.up(tx)
      await tx.insertInto('junction_migrations').values({ name, applied_at: Date.now() }).execute()
      applied.push(name)
    }
    return applied
  })
}

/**
 * @module store/sql/schema
 * Table types for Kysely. Column names are snake_case; records outside the store are camelCase.
 */
import type { Generated } from 'kysely'

export interface Database {
  junction_migrations: { name: string; applied_at: number }
  accounts: { account_id: string; connection_count: number; host_count: number }
  access_keys: {
    access_key_id: string
    account_id: string
    principal_arn: string
    secret_ciphertext: string
    status: string
    created_at: number
    kind: string
    user_name: string | null
    role_name: string | null
    session_token_ciphertext: string | null
    session_policy: string | null
    expires_at: number | null
    last_used_at: number | null
  }
  iam_state: { account_id: string; version: number }
  iam_users: {
    id: string
    account_id: string
    name: string
    path: string
    arn: string
    created_at: number
  }
  iam_roles: {
    id: string
    account_id: string
    name: string
    path: string
    arn: string
    assume_role_policy: string
    description: string | null
    max_session_duration: number
    created_at: number
  }
  iam_inline_policies: {
    account_id: string
    owner_kind: string
    owner_name: string
    policy_name: string
    document: string
  }
  iam_policies: {
    id: string
    account_id: string
    name: string
    path: string
    arn: string
    document: string
    description: string | null
    created_at: number
    updated_at: number
  }
  iam_attachments: {
    account_id: string
    owner_kind: string
    owner_name: string
    policy_arn: string
  }
  issued_ids: { id: string }
  connections: {
    seq: Generated<number>
    id: string
    account_id: string
    arn: string
    name: string
    provider_type: string
    host_id: string | null
    host_arn: string | null
    status: string
    owner_account_id: string
    created_at: number
    tag_version: number
    installation_id: string | null
    status_reason: string | null
  }
  connection_tags: { connection_id: string; tag_key: string; tag_value: string }
  hosts: {
    seq: Generated<number>
    id: string
    account_id: string
    arn: string
    name: string
    provider_type: string
    provider_endpoint: string
    vpc_configuration: string | null
    status: string
    status_message: string | null
    status_settles_at: number | null
    created_at: number
    tag_version: number
  }
  host_tags: { host_id: string; tag_key: string; tag_value: string }
  installations: {
    account_id: string
    id: string
    provider_type: string
    target: string
    target_name: string
    credential_kind: string
    credential_ciphertext: string
    credential_version: number
    refresh_lease_until: number | null
    expires_at: number | null
    status: string
    status_reason: string | null
    installed_by: string
    created_at: number
    updated_at: number
    /** The host's ARN for an installation on a GitHub Enterprise Server host, else ''. */
    host_arn: Generated<string>
  }
  console_sessions: {
    id_hash: string
    account_id: string
    access_key_id: string
    principal_arn: string
    created_at: number
    expires_at: number
  }
  handshakes: {
    id: string
    account_id: string
    connection_arn: string
    access_key_id: string
    principal_arn: string
    provider_type: string
    stage: string
    browser_hash: string | null
    user_token_ciphertext: string | null
    expires_at: number
  }
  webhooks: {
    id: string
    account_id: string
    provider_type: string
    installation_id: string
    repository: string
    provider_hook_id: string
    secret_ciphertext: string
    created_at: number
  }
  webhook_deliveries: {
    seq: Generated<number>
    webhook_id: string
    delivery_id: string
    event_kind: string
    event: string
    received_at: number
    account_id: string | null
    installation_id: string | null
    repository: string | null
    trigger_source: string | null
    lease_owner: string | null
    lease_until: number | null
    processed_at: number | null
    result: string | null
    body_digest: string | null
  }
  pipelines: {
    account_id: string
    name: string
    arn: string
    version: number
    declaration: string
    tags: string
    created_at: number
    updated_at: number
  }
  pipeline_sources: {
    account_id: string
    pipeline_name: string
    action_name: string
    connection_arn: string
    repository: string
    repository_key: string
    branch: string
  }
  /** What each source action watches, one row per event key (pipelines/watches). */
  pipeline_watches: {
    account_id: string
    repository_key: string
    watch_key: string
    pipeline_name: string
    action_name: string
    connection_arn: string
    repository: string
    branch: string
    /** The SHA-256 of the pipeline's declaration when written ('' for rows from migration 0010). */
    declaration_digest: string
  }
  pipeline_executions: {
    seq: Generated<number>
    id: string
    account_id: string
    pipeline_name: string
    pipeline_version: number
    declaration: string
    status: string
    status_summary: string | null
    execution_mode: string
    trigger_type: string
    trigger_detail: string
    source_revisions: string
    variables: string
    dedupe_key: string | null
    state: string
    current_stage: string | null
    stop_mode: string | null
    lease_owner: string | null
    lease_until: number | null
    created_at: number
    updated_at: number
  }
  action_executions: {
    id: string
    execution_id: string
    account_id: string
    pipeline_name: string
    stage_name: string
    action_name: string
    status: string
    detail: string
    started_at: number
    updated_at: number
  }
  stage_locks: {
    account_id: string
    pipeline_name: string
    stage_name: string
    execution_id: string
  }
  source_polls: {
    account_id: string
    connection_arn: string
    repository: string
    branch: string
    last_commit: string | null
    checked_at: number
  }
  provider_apps: {
    provider_type: string
    /** '' for the provider-wide application; a host's ARN for that host's own (GHES). */
    host_arn: string
    client_id: string
    secret_ciphertext: string
    app_id: string | null
    slug: string | null
    private_key_ciphertext: string | null
    webhook_secret_ciphertext: string | null
    updated_by: string
    updated_at: number
  }
  audit_events: {
    seq: Generated<number>
    event_id: string
    event_time: number
    account_id: string
    event_name: string
    event_source: string
    /** 1: a read-only call. */
    read_only: number
    user_name: string
    access_key_id: string
    /** The event's first resource (the one the call names), for the resource filters. */
    resource_type: string | null
    resource_name: string | null
    /** JSON: the rest of the record (store/sql/audit-repository.ts). */
    data: string
  }
}

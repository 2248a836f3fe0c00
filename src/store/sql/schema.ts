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
}

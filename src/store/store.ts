/**
 * @module store/store
 * The one storage interface of Junction. Two engines implement it (SQLite and PostgreSQL, see
 * `store/sql/`), and one contract suite (`test/contract/store.case.ts`) runs against both. Nothing
 * outside `store/` knows which engine is in use.
 *
 * Every method that changes several rows is atomic. Quotas and per-resource limits are enforced
 * inside the store's transactions so that concurrent callers on several nodes cannot exceed them.
 */

export interface AccessKeyRecord {
  accessKeyId: string
  accountId: string
  /** The principal the key belongs to, e.g. `arn:aws:iam::000000000000:root`. */
  principalArn: string
  /** The secret access key, encrypted under the master key (never the plaintext). */
  secretCiphertext: string
  status: 'Active' | 'Inactive'
  createdAt: number
}

export interface TagRecord {
  Key: string
  Value: string
}

export interface ConnectionRecord {
  seq: number
  id: string
  accountId: string
  arn: string
  name: string
  providerType: string
  hostArn: string | null
  status: string
  ownerAccountId: string
  createdAt: number
}

export type NewConnection = Omit<ConnectionRecord, 'seq'>

export interface VpcConfigurationRecord {
  VpcId: string
  SubnetIds: string[]
  SecurityGroupIds: string[]
  TlsCertificate?: string
}

export interface HostRecord {
  seq: number
  id: string
  accountId: string
  arn: string
  name: string
  providerType: string
  providerEndpoint: string
  vpcConfiguration: VpcConfigurationRecord | null
  /** Stored status; a transitional status settles at `statusSettlesAt` (see domain/host-status). */
  status: string
  statusMessage: string | null
  statusSettlesAt: number | null
  createdAt: number
}

export type NewHost = Omit<HostRecord, 'seq'>

export interface ConnectionFilter {
  providerType?: string
  hostArn?: string
}

/** Outcome of a write that may be refused by a rule the store enforces atomically. */
export type CreateResult = 'created' | 'quota-exceeded' | 'name-taken' | 'host-not-found'
export type TagWriteResult = 'ok' | 'not-found' | 'limit-exceeded'
export type HostDeleteResult = 'deleted' | 'not-found' | 'in-use'

export interface Store {
  /** `sqlite` or `postgres`, for logs and /health only. */
  readonly engine: string

  /** Creates the account's bookkeeping row if it is missing. Idempotent. */
  ensureAccount(accountId: string): Promise<void>

  accessKeys: {
    get(accessKeyId: string): Promise<AccessKeyRecord | undefined>
    /** Inserts or replaces a key. */
    put(key: AccessKeyRecord): Promise<void>
  }

  /**
   * Records a resource id as issued. Returns false when it was issued before (ids are never
   * reused, even after the resource is deleted).
   */
  reserveId(id: string): Promise<boolean>

  connections: {
    /** Creates the connection and its tags unless the quota is reached or the name is taken. */
    create(c: NewConnection, tags: TagRecord[], quota: number): Promise<CreateResult>
    get(accountId: string, arn: string): Promise<ConnectionRecord | undefined>
    /** Connections in creation order with `seq` greater than `afterSeq`. */
    list(
      accountId: string,
      filter: ConnectionFilter,
      afterSeq: number,
      limit: number,
    ): Promise<ConnectionRecord[]>
    /** Deletes the connection and its tags; false when it did not exist. */
    delete(accountId: string, arn: string): Promise<boolean>
    /** Changes the status (used when a handshake completes or a credential fails). */
    setStatus(accountId: string, arn: string, status: string): Promise<boolean>
  }

  hosts: {
    create(h: NewHost, tags: TagRecord[], quota: number): Promise<CreateResult>
    get(accountId: string, arn: string): Promise<HostRecord | undefined>
    list(accountId: string, afterSeq: number, limit: number): Promise<HostRecord[]>
    update(
      accountId: string,
      arn: string,
      changes: Partial<
        Pick<
          HostRecord,
          'providerEndpoint' | 'vpcConfiguration' | 'status' | 'statusMessage' | 'statusSettlesAt'
        >
      >,
    ): Promise<boolean>
    /** Refuses (`in-use`) while any connection refers to the host. */
    delete(accountId: string, arn: string): Promise<HostDeleteResult>
  }

  tags: {
    /** Tags of a connection or host in key order; undefined when the resource does not exist. */
    list(accountId: string, arn: string): Promise<TagRecord[] | undefined>
    /** Adds or overwrites tags; refuses when the resource would hold more than `maxPerResource`. */
    put(
      accountId: string,
      arn: string,
      tags: TagRecord[],
      maxPerResource: number,
    ): Promise<TagWriteResult>
    /** Removes the keys; absent keys are ignored. False when the resource does not exist. */
    remove(accountId: string, arn: string, keys: string[]): Promise<boolean>
  }

  close(): Promise<void>
}

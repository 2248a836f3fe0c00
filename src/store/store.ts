/**
 * @module store/store
 * The one storage interface of Junction. Two engines implement it (SQLite and PostgreSQL, see
 * `store/sql/`), and one contract suite (`test/contract/store.case.ts`) runs against both. Nothing
 * outside `store/` knows which engine is in use.
 *
 * Every method that changes several rows is atomic. Quotas and per-resource limits are enforced
 * inside the store's transactions so that concurrent callers on several nodes cannot exceed them.
 */
import type { AuditRepository } from './audit-store.js'
import type { PipelineRepository } from './pipeline-store.js'

export interface AccessKeyRecord {
  accessKeyId: string
  accountId: string
  /**
   * The principal the key belongs to: `arn:aws:iam::…:root`, `arn:aws:iam::…:user/…`, or for
   * temporary credentials `arn:aws:sts::…:assumed-role/<role>/<session>`.
   */
  principalArn: string
  /** The secret access key, encrypted under the master key (never the plaintext). */
  secretCiphertext: string
  status: 'Active' | 'Inactive'
  createdAt: number
  kind: 'root' | 'user' | 'session'
  /** The IAM user of a user key. */
  userName?: string | null
  /** The role of temporary credentials. */
  roleName?: string | null
  /** Temporary credentials: the session token, encrypted under the master key. */
  sessionTokenCiphertext?: string | null
  /** Temporary credentials: the session policy passed to AssumeRole, if any. */
  sessionPolicy?: string | null
  expiresAt?: number | null
  lastUsedAt?: number | null
}

export type OwnerKind = 'user' | 'role'

export interface IamUserRecord {
  id: string
  accountId: string
  name: string
  path: string
  arn: string
  createdAt: number
}

export interface IamRoleRecord {
  id: string
  accountId: string
  name: string
  path: string
  arn: string
  assumeRolePolicy: string
  description: string | null
  maxSessionDuration: number
  createdAt: number
}

export interface ManagedPolicyRecord {
  id: string
  accountId: string
  name: string
  path: string
  arn: string
  document: string
  description: string | null
  createdAt: number
  updatedAt: number
  /** Users and roles it is attached to (computed). */
  attachmentCount: number
}

/** Everything the evaluator needs about one user's or role's policies. */
export interface PrincipalPolicies {
  inline: { name: string; document: string }[]
  managed: { arn: string; name: string; document: string }[]
}

export type IamCreateResult = 'created' | 'exists' | 'quota-exceeded'
export type IamDeleteResult =
  'deleted' | 'not-found' | 'has-keys' | 'has-policies' | 'has-attachments'

export interface IamRepository {
  /** Bumped by every IAM write in the account: cached compiled policies older than it are stale. */
  version(accountId: string): Promise<number>
  users: {
    create(u: IamUserRecord, quota: number): Promise<IamCreateResult>
    get(accountId: string, name: string): Promise<IamUserRecord | undefined>
    /** In name order, after `afterName`. */
    list(
      accountId: string,
      pathPrefix: string,
      afterName: string,
      limit: number,
    ): Promise<IamUserRecord[]>
    delete(accountId: string, name: string): Promise<IamDeleteResult>
  }
  roles: {
    create(r: IamRoleRecord, quota: number): Promise<IamCreateResult>
    get(accountId: string, name: string): Promise<IamRoleRecord | undefined>
    list(
      accountId: string,
      pathPrefix: string,
      afterName: string,
      limit: number,
    ): Promise<IamRoleRecord[]>
    delete(accountId: string, name: string): Promise<IamDeleteResult>
    setTrustPolicy(accountId: string, name: string, document: string): Promise<boolean>
  }
  inline: {
    /** Creates or replaces; `no-owner` when the user or role does not exist. */
    put(
      accountId: string,
      kind: OwnerKind,
      owner: string,
      name: string,
      document: string,
    ): Promise<'ok' | 'no-owner'>
    get(
      accountId: string,
      kind: OwnerKind,
      owner: string,
      name: string,
    ): Promise<string | undefined>
    list(accountId: string, kind: OwnerKind, owner: string): Promise<string[] | undefined>
    delete(accountId: string, kind: OwnerKind, owner: string, name: string): Promise<boolean>
  }
  policies: {
    create(p: Omit<ManagedPolicyRecord, 'attachmentCount'>, quota: number): Promise<IamCreateResult>
    get(accountId: string, arn: string): Promise<ManagedPolicyRecord | undefined>
    list(
      accountId: string,
      opts: { pathPrefix: string; onlyAttached: boolean },
      afterName: string,
      limit: number,
    ): Promise<ManagedPolicyRecord[]>
    /** Refused (`has-attachments`) while the policy is attached. */
    delete(accountId: string, arn: string): Promise<IamDeleteResult>
  }
  attachments: {
    attach(
      accountId: string,
      kind: OwnerKind,
      owner: string,
      policyArn: string,
      maxPerOwner: number,
    ): Promise<'ok' | 'no-owner' | 'no-policy' | 'limit-exceeded'>
    detach(accountId: string, kind: OwnerKind, owner: string, policyArn: string): Promise<boolean>
    list(
      accountId: string,
      kind: OwnerKind,
      owner: string,
    ): Promise<{ arn: string; name: string }[] | undefined>
  }
  /** The inline and attached policies of a user or role (undefined when it does not exist). */
  policiesOf(
    accountId: string,
    kind: OwnerKind,
    owner: string,
  ): Promise<PrincipalPolicies | undefined>
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
  /** The installation the connection was completed with (null while PENDING). */
  installationId?: string | null
  /** Why the connection is in ERROR (null otherwise). */
  statusReason?: string | null
}

export type NewConnection = Omit<ConnectionRecord, 'seq'>

/**
 * Junction's right to reach one provider account (a Bitbucket workspace): the credential and its
 * health, shared by every connection completed for that account.
 */
export interface InstallationRecord {
  accountId: string
  /** Provider-derived and stable (Bitbucket: the workspace UUID without braces). */
  id: string
  providerType: string
  /** The provider account it reaches (Bitbucket: the workspace slug). */
  target: string
  targetName: string
  /** `oauth` (access + refresh token) or `access-token` (a workspace access token). */
  credentialKind: string
  /** The credential, sealed under the master key (JSON inside). */
  credentialCiphertext: string
  /** Bumped by every credential write: refreshes compare-and-set on it. */
  credentialVersion: number
  /** When the access token expires (null when it does not). */
  expiresAt: number | null
  status: 'AVAILABLE' | 'ERROR'
  statusReason: string | null
  installedBy: string
  createdAt: number
  updatedAt: number
  /** The host it was made on (a GitHub Enterprise Server host's ARN); absent or null otherwise. */
  hostArn?: string | null
}

/** A provider webhook Junction registered for one repository of one installation. */
export interface WebhookRecord {
  id: string
  accountId: string
  providerType: string
  installationId: string
  repository: string
  providerHookId: string
  /** The signing secret, sealed under the master key. */
  secretCiphertext: string
  createdAt: number
}

export interface DeliveryRecord {
  seq: number
  webhookId: string
  deliveryId: string
  eventKind: string
  /** The parsed provider event, as JSON. */
  event: string
  receivedAt: number
  /** Where it came from (the pipelines engine maps it to pipelines by these). */
  accountId?: string
  installationId?: string
  repository?: string
  /** `Webhook` or `PollForSourceChanges`. */
  triggerSource?: string
  /**
   * SHA-256 (hex) of the signed raw body: what the provider's signature covers. A webhook records
   * each body once, whatever delivery id comes with it (Bitbucket's X-Request-UUID is unsigned).
   */
  bodyDigest?: string
}

/**
 * A console sign-in. The browser's cookie carries the signed session id; the store keeps only its
 * SHA-256, so a copy of the database opens no session.
 */
export interface ConsoleSessionRecord {
  idHash: string
  accountId: string
  /** The access key the session was opened with: deactivating or deleting it ends the session. */
  accessKeyId: string
  principalArn: string
  createdAt: number
  expiresAt: number
}

/** How many console sessions one access key keeps at most (the oldest beyond are ended). */
export const MAX_CONSOLE_SESSIONS_PER_KEY = 20

/**
 * An application the operator registered with a provider: an OAuth consumer (client id and sealed
 * secret) or a GitHub App (also its id, URL name, and sealed private key and webhook secret).
 * Keyed by provider type and host: `hostArn` '' is the provider-wide application, a host's ARN
 * that host's own (each GitHub Enterprise Server registers its own app).
 */
export interface ProviderAppRecord {
  providerType: string
  hostArn: string
  clientId: string
  secretCiphertext: string
  appId: string | null
  slug: string | null
  privateKeyCiphertext: string | null
  webhookSecretCiphertext: string | null
  updatedBy: string
  updatedAt: number
}

/** A browser handshake in flight (see connect/service). */
export interface HandshakeRecord {
  id: string
  accountId: string
  connectionArn: string
  /** The key that started it: the later steps act as its principal. */
  accessKeyId: string
  principalArn: string
  providerType: string
  /**
   * `started` → `bound` (the starter's link opened: one browser bound) → `authorized` (code
   * exchanged) → `done`; each step taken once.
   */
  stage: 'started' | 'bound' | 'authorized' | 'done'
  /** SHA-256 of the cookie set on the browser that opened the start link. */
  browserHash: string | null
  userTokenCiphertext: string | null
  expiresAt: number
}

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
    /** Adds a key to an IAM user unless the user has `maxPerUser` keys already or is gone. */
    createForUser(
      key: AccessKeyRecord,
      maxPerUser: number,
    ): Promise<'created' | 'limit-exceeded' | 'no-user'>
    listForUser(accountId: string, userName: string): Promise<AccessKeyRecord[]>
    setStatus(
      accountId: string,
      userName: string,
      accessKeyId: string,
      status: 'Active' | 'Inactive',
    ): Promise<boolean>
    delete(accountId: string, userName: string, accessKeyId: string): Promise<boolean>
    /** Records that a key signed a request (kept coarse: callers write at most once a minute). */
    touch(accessKeyId: string, at: number): Promise<void>
    /** Removes temporary credentials that expired before `now`. */
    deleteExpired(now: number): Promise<number>
  }

  iam: IamRepository

  /**
   * Rewrites every secret sealed under the master key (secret access keys, session tokens,
   * provider credentials, handshake tokens) with
   * `reseal`, in one transaction; returns how many were rewritten.
   */
  resealSecrets(reseal: (ciphertext: string) => string): Promise<number>

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
    /**
     * Completes a connection with an installation: records it, makes its owner the provider
     * account (`OwnerAccountId`), and sets `AVAILABLE` (or `ERROR` with the reason when the
     * installation is failing). False when the connection is gone.
     */
    attachInstallation(
      accountId: string,
      arn: string,
      installation: Pick<InstallationRecord, 'id' | 'status' | 'statusReason' | 'target'>,
    ): Promise<boolean>
  }

  installations: {
    /** Creates the installation or replaces its credential (same account and id). */
    upsert(i: InstallationRecord): Promise<void>
    get(accountId: string, id: string): Promise<InstallationRecord | undefined>
    list(accountId: string, providerType: string): Promise<InstallationRecord[]>
    /** Installations in ERROR in every account (the recovery loop retries them). */
    listFailing(limit: number): Promise<InstallationRecord[]>
    /**
     * The installations with one provider-side id in every account (an app-level webhook names
     * the installation, not the Junction account: GitHub's `installation.id`).
     */
    withId(providerType: string, id: string): Promise<InstallationRecord[]>
    /**
     * Takes the installation's refresh lease until `until` unless another holder's lease is still
     * running at `now` or the credential is no longer at `expectedVersion` (someone refreshed
     * since it was read): one refresh at a time per installation across every node.
     */
    leaseRefresh(
      accountId: string,
      id: string,
      expectedVersion: number,
      now: number,
      until: number,
    ): Promise<boolean>
    /** Gives the refresh lease up (the refresh failed). */
    releaseRefresh(accountId: string, id: string): Promise<void>
    /**
     * Replaces the credential if it is still at `expectedVersion` (compare-and-set) and releases
     * the refresh lease; false when another writer got there first.
     */
    updateCredential(
      accountId: string,
      id: string,
      expectedVersion: number,
      credentialCiphertext: string,
      expiresAt: number | null,
      now: number,
    ): Promise<boolean>
    /**
     * Sets the installation's health and carries it to its connections (AVAILABLE ⇄ ERROR with
     * the reason); returns the ARNs of the connections whose status changed.
     */
    setStatus(
      accountId: string,
      id: string,
      status: 'AVAILABLE' | 'ERROR',
      reason: string | null,
      now: number,
    ): Promise<string[]>
  }

  webhooks: {
    /** False when the repository already has a webhook for the installation. */
    create(w: WebhookRecord): Promise<boolean>
    get(id: string): Promise<WebhookRecord | undefined>
    find(
      accountId: string,
      providerType: string,
      installationId: string,
      repository: string,
    ): Promise<WebhookRecord | undefined>
    delete(id: string): Promise<boolean>
    /** Every webhook Junction registered (the pipelines engine reconciles them). */
    all(): Promise<WebhookRecord[]>
    /**
     * Records a verified delivery once: `duplicate` when the same delivery id was recorded for
     * the webhook before (a provider retry), `replay` when the same signed body was recorded
     * under another delivery id (`bodyDigest`, kept as long as the delivery).
     */
    recordDelivery(d: Omit<DeliveryRecord, 'seq'>): Promise<'recorded' | 'duplicate' | 'replay'>
    /** Deliveries of a webhook, oldest first, after `afterSeq`. */
    deliveries(webhookId: string, afterSeq: number, limit: number): Promise<DeliveryRecord[]>
  }

  pipelines: PipelineRepository

  /** The audit trail (store/audit-store.ts). */
  audit: AuditRepository

  providerApps: {
    /** The provider-wide application (`hostArn` omitted or '') or a host's own. */
    get(providerType: string, hostArn?: string): Promise<ProviderAppRecord | undefined>
    /** Every stored application (a handful: one per provider and per set-up host). */
    list(): Promise<ProviderAppRecord[]>
    /** Creates or replaces the application of (providerType, hostArn). */
    put(app: ProviderAppRecord): Promise<void>
    /** Removes a host's applications (the host was deleted); how many went. */
    deleteForHost(hostArn: string): Promise<number>
  }

  handshakes: {
    create(h: HandshakeRecord): Promise<void>
    get(id: string): Promise<HandshakeRecord | undefined>
    /**
     * Moves the handshake from `from` to `to` with `changes` unless it expired or another request
     * moved it first; returns the updated record or undefined. This makes each step single-use.
     */
    advance(
      id: string,
      from: HandshakeRecord['stage'],
      to: HandshakeRecord['stage'],
      changes: Partial<Pick<HandshakeRecord, 'browserHash' | 'userTokenCiphertext'>>,
      now: number,
    ): Promise<HandshakeRecord | undefined>
    /** Removes handshakes that expired before `now`. */
    deleteExpired(now: number): Promise<number>
  }

  /**
   * Console sessions, shared by every node on the database. Deactivating (`accessKeys.setStatus`
   * to `Inactive`) or deleting an access key deletes its sessions — and the browser handshakes
   * it started — in the same transaction.
   */
  consoleSessions: {
    /**
     * Records a session unless its access key is missing or inactive (checked under the key's row
     * lock, so a sign-in racing a deactivation cannot outlive it); false when refused. A key keeps
     * at most {@link MAX_CONSOLE_SESSIONS_PER_KEY} sessions: the oldest beyond go in the same
     * transaction, so signing in again and again cannot fill the store.
     */
    create(s: ConsoleSessionRecord): Promise<boolean>
    /** The session unless it is unknown or expired at `now`. */
    get(idHash: string, now: number): Promise<ConsoleSessionRecord | undefined>
    /** Ends one session (sign-out); false when it did not exist. */
    delete(idHash: string): Promise<boolean>
    /** Removes sessions that expired before `now`. */
    deleteExpired(now: number): Promise<number>
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
    /**
     * Refuses (`in-use`) while any connection refers to the host. The host's own provider
     * application (a GitHub Enterprise Server's app) is deleted with it.
     */
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

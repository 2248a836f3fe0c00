import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqliteStore } from '../store/sqlite.js'
import type { Store } from '../store/store.js'
import { Authorizer } from './authorizer.js'
import { checkPermission, permissionsRequired } from './permissions.js'
import type { Principal } from './principal.js'

const A = '000000000000'
const CONN = `arn:aws:codestar-connections:us-east-1:${A}:connection/11111111-1111-4111-8111-111111111111`

describe('permission-only actions', () => {
  let dir: string
  let store: Store
  let authorizer: Authorizer
  const role: Principal = {
    arn: `arn:aws:sts::${A}:assumed-role/pipeline/run-1`,
    accountId: A,
    accessKeyId: 'JSIATEST',
    kind: 'session',
    isRoot: false,
    roleName: 'pipeline',
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'perm-'))
    store = await openSqliteStore(join(dir, 'j.db'))
    await store.ensureAccount(A)
    await store.iam.roles.create(
      {
        id: 'AROATEST',
        accountId: A,
        name: 'pipeline',
        path: '/',
        arn: `arn:aws:iam::${A}:role/pipeline`,
        assumeRolePolicy: '{}',
        description: null,
        maxSessionDuration: 3600,
        createdAt: 1,
      },
      10,
    )
    await store.iam.inline.put(
      A,
      'role',
      'pipeline',
      'use',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'codestar-connections:UseConnection',
            Resource: CONN,
            Condition: {
              StringEquals: {
                'codestar-connections:FullRepositoryId': 'payments/api',
                'codestar-connections:ProviderPermissionsRequired': 'read_only',
              },
              StringLike: { 'codestar-connections:BranchName': ['main', 'release/*'] },
            },
          },
          {
            Effect: 'Allow',
            Action: 'codestar-connections:PassConnection',
            Resource: '*',
            Condition: {
              StringEquals: {
                'codestar-connections:PassedToService': 'codepipeline.amazonaws.com',
              },
            },
          },
        ],
      }),
    )
    authorizer = new Authorizer(store)
  })
  afterAll(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const use = (keys: Record<string, string>, resource = CONN) =>
    checkPermission(authorizer, {
      principal: role,
      action: 'UseConnection',
      resource,
      keys,
      region: 'us-east-1',
    })

  it('allows UseConnection for the repository and branch the policy names, read-only', async () => {
    await expect(
      use({
        FullRepositoryId: 'payments/api',
        BranchName: 'release/2',
        ProviderAction: 'GetBranch',
      }),
    ).resolves.toBeUndefined()
  })
  it('denies another repository, another branch, a write action and another connection, in AWS words', async () => {
    await expect(
      use({ FullRepositoryId: 'search/api', BranchName: 'main', ProviderAction: 'GetBranch' }),
    ).rejects.toThrow(
      /User: arn:aws:sts::000000000000:assumed-role\/pipeline\/run-1 is not authorized to perform: codestar-connections:UseConnection on resource: arn:aws:codestar-connections:us-east-1:000000000000:connection\/1111/,
    )
    await expect(
      use({
        FullRepositoryId: 'payments/api',
        BranchName: 'feature/x',
        ProviderAction: 'GetBranch',
      }),
    ).rejects.toThrow(/UseConnection/)
    await expect(
      use({ FullRepositoryId: 'payments/api', BranchName: 'main', ProviderAction: 'GitPush' }),
    ).rejects.toThrow(/UseConnection/)
    await expect(
      use(
        { FullRepositoryId: 'payments/api', BranchName: 'main', ProviderAction: 'GetBranch' },
        CONN.replace('1111-4111', '2222-4222'),
      ),
    ).rejects.toThrow(/UseConnection/)
  })
  it('checks PassConnection with PassedToService', async () => {
    const pass = (service: string) =>
      checkPermission(authorizer, {
        principal: role,
        action: 'PassConnection',
        resource: CONN,
        keys: { PassedToService: service },
        region: 'us-east-1',
      })
    await expect(pass('codepipeline.amazonaws.com')).resolves.toBeUndefined()
    await expect(pass('proton.amazonaws.com')).rejects.toThrow(/PassConnection/)
  })
  it('refuses keys that do not belong to the action (a programming error)', async () => {
    await expect(
      checkPermission(authorizer, {
        principal: role,
        action: 'GetConnectionToken',
        resource: CONN,
        keys: { BranchName: 'main' },
        region: 'us-east-1',
      }),
    ).rejects.toThrow(/not a condition key/)
  })
  it('derives ProviderPermissionsRequired from ProviderAction', () => {
    expect(permissionsRequired('GitPull')).toBe('read_only')
    expect(permissionsRequired('GitPush')).toBe('read_write')
    expect(permissionsRequired('CreatePullRequest')).toBe('read_write')
  })
})

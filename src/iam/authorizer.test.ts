/**
 * The authorizer on a real SQLite store: which policies a user or a role session is judged by
 * (inline, managed, the session policy), AWS's denial sentences, the cache of compiled policies
 * and when it is dropped, the global condition keys, and the decision with a resource's policy.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AccessDeniedException } from '../generated/errors.js'
import { openSqliteStore } from '../store/sqlite.js'
import type { Store } from '../store/store.js'
import { Authorizer } from './authorizer.js'
import { RequestContext } from './policy/context.js'
import { parsePolicy } from './policy/document.js'
import type { AuthorizationQuestion, NamedPolicy } from './policy/evaluate.js'
import type { Principal } from './principal.js'

const A = '111122223333'
const GET = 'codestar-connections:GetConnection'
const DELETE = 'codestar-connections:DeleteConnection'
const CONN = `arn:aws:codestar-connections:us-east-1:${A}:connection/c1`
const OTHER = `arn:aws:codestar-connections:us-east-1:${A}:connection/c2`
const T0 = Date.UTC(2026, 4, 6, 7, 8, 9, 789)

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement })
const allow = (Action: string | string[], Resource: string | string[] = '*', extra = {}) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...extra,
})
const deny = (Action: string | string[], Resource: string | string[] = '*', extra = {}) => ({
  Effect: 'Deny',
  Action,
  Resource,
  ...extra,
})

const alice: Principal = {
  arn: `arn:aws:iam::${A}:user/alice`,
  accountId: A,
  accessKeyId: 'AKIAALICE',
  kind: 'user',
  isRoot: false,
  userName: 'alice',
}
const root: Principal = {
  arn: `arn:aws:iam::${A}:root`,
  accountId: A,
  accessKeyId: 'AKIAROOT',
  kind: 'root',
  isRoot: true,
}
const session = (sessionPolicy?: string, accessKeyId = 'ASIARUN1'): Principal => ({
  arn: `arn:aws:sts::${A}:assumed-role/builder/run-1`,
  accountId: A,
  accessKeyId,
  kind: 'session',
  isRoot: false,
  roleName: 'builder',
  ...(sessionPolicy ? { sessionPolicy } : {}),
})

const q = (action: string, resource = CONN, context = new RequestContext()) =>
  ({ action, resource, context }) satisfies AuthorizationQuestion

describe('Authorizer', () => {
  let dir: string
  let store: Store
  let clock = T0
  let authorizer: Authorizer

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authorizer-'))
    store = await openSqliteStore(join(dir, 'j.db'))
    await store.ensureAccount(A)
    await store.iam.users.create(
      {
        id: 'AIDAALICE',
        accountId: A,
        name: 'alice',
        path: '/team/',
        arn: `arn:aws:iam::${A}:user/team/alice`,
        createdAt: 1,
      },
      100,
    )
    await store.iam.roles.create(
      {
        id: 'AROABUILDER',
        accountId: A,
        name: 'builder',
        path: '/ci/',
        arn: `arn:aws:iam::${A}:role/ci/builder`,
        assumeRolePolicy: '{}',
        description: null,
        maxSessionDuration: 3600,
        createdAt: 1,
      },
      100,
    )
    expect(
      await store.iam.inline.put(
        A,
        'user',
        'alice',
        'read',
        doc(allow(GET, CONN), deny(DELETE, OTHER, { Sid: 'KeepOther' })),
      ),
    ).toBe('ok')
    const managed = `arn:aws:iam::${A}:policy/deleter`
    await store.iam.policies.create(
      {
        id: 'ANPADELETER',
        accountId: A,
        name: 'deleter',
        path: '/',
        arn: managed,
        document: doc(allow(DELETE), deny(GET, OTHER)),
        description: null,
        createdAt: 1,
        updatedAt: 1,
      },
      100,
    )
    expect(await store.iam.attachments.attach(A, 'user', 'alice', managed, 10)).toBe('ok')
    expect(
      await store.iam.inline.put(A, 'role', 'builder', 'build', doc(allow([GET, DELETE]))),
    ).toBe('ok')
    authorizer = new Authorizer(store, 1000, () => clock)
  })
  afterAll(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('lets the account root do anything, without looking at policies', async () => {
    const c = await authorizer.compiled(root)
    expect(c.policies).toEqual([])
    expect(authorizer.decide(root, c, q(DELETE, OTHER))).toEqual({
      evaluation: { decision: 'allowed', deciding: [], trace: [] },
    })
    expect(() => authorizer.enforce(root, c, q('iam:DeleteUser', '*'))).not.toThrow()
  })

  it("judges a user by its inline and attached policies, with the store's ARN and id", async () => {
    const c = await authorizer.compiled(alice)
    expect(c.policies.map((p) => [p.name, p.id])).toEqual([
      ['inline policy read of user alice', 'read'],
      [`managed policy arn:aws:iam::${A}:policy/deleter`, `arn:aws:iam::${A}:policy/deleter`],
    ])
    expect(c.principalArn).toBe(`arn:aws:iam::${A}:user/team/alice`)
    expect(c.userId).toBe('AIDAALICE')
    expect(c.readsResourceTags).toBe(false)
    expect(c.sessionPolicy).toBeUndefined()
    // Allowed by the inline policy, and by the managed one.
    expect(() => authorizer.enforce(alice, c, q(GET))).not.toThrow()
    expect(() => authorizer.enforce(alice, c, q(DELETE))).not.toThrow()
    expect(authorizer.decide(alice, c, q(DELETE))).toEqual({
      evaluation: { decision: 'allowed', deciding: [], trace: [] },
    })
  })

  it('says which statement denied, by Sid or by position, and when nothing allowed', async () => {
    const c = await authorizer.compiled(alice)
    const who = (action: string, resource: string) =>
      `User: ${alice.arn} is not authorized to perform: ${action} on resource: ${resource}`
    const denial = (action: string, resource: string) => {
      try {
        authorizer.enforce(alice, c, q(action, resource))
      } catch (err) {
        expect(err).toBeInstanceOf(AccessDeniedException)
        return (err as Error).message
      }
      return 'allowed'
    }
    expect(denial(DELETE, OTHER)).toBe(
      `${who(DELETE, OTHER)} with an explicit deny in an identity-based policy: read (statement KeepOther)`,
    )
    expect(denial(GET, OTHER)).toBe(
      `${who(GET, OTHER)} with an explicit deny in an identity-based policy: arn:aws:iam::${A}:policy/deleter (statement 2)`,
    )
    const list = 'codestar-connections:ListConnections'
    expect(denial(list, '*')).toBe(
      `${who(list, '*')} because no identity-based policy allows the ${list} action`,
    )
    // decide gives the same sentence and the deciding statement, with or without a trace.
    const d = authorizer.decide(alice, c, q(DELETE, OTHER))
    expect(d.evaluation.decision).toBe('explicitDeny')
    expect(d.evaluation.deciding.map((t) => [t.policyId, t.sid])).toEqual([['read', 'KeepOther']])
    expect(d.message).toBe(denial(DELETE, OTHER))
    const explained = authorizer.decide(alice, c, q(DELETE, OTHER), true)
    expect(explained.message).toBe(d.message)
    expect(explained.evaluation.trace).toHaveLength(4)
    expect(authorizer.decide(alice, c, q(list, '*')).evaluation.decision).toBe('implicitDeny')
  })

  it("judges a role session by the role's policies and its session policy, which must allow too", async () => {
    const plain = session()
    const c = await authorizer.compiled(plain)
    expect(c.principalArn).toBe(`arn:aws:iam::${A}:role/ci/builder`)
    expect(c.userId).toBe('AROABUILDER:run-1')
    expect(c.policies.map((p) => p.name)).toEqual(['inline policy build of role builder'])
    expect(() => authorizer.enforce(plain, c, q(DELETE, OTHER))).not.toThrow()

    const limited = session(doc(allow(GET), deny(GET, OTHER)), 'ASIARUN2')
    const l = await authorizer.compiled(limited)
    expect(l.sessionPolicy?.name).toBe('the session policy')
    expect(l.sessionPolicy?.id).toBe('session policy')
    const who = (action: string, resource: string) =>
      `User: ${limited.arn} is not authorized to perform: ${action} on resource: ${resource}`
    expect(() => authorizer.enforce(limited, l, q(GET))).not.toThrow()
    expect(authorizer.decide(limited, l, q(GET))).toEqual({
      evaluation: { decision: 'allowed', deciding: [], trace: [] },
    })
    // The role allows DeleteConnection, the session policy does not.
    expect(() => authorizer.enforce(limited, l, q(DELETE))).toThrow(
      new AccessDeniedException(
        `${who(DELETE, CONN)} because no session policy allows the ${DELETE} action`,
      ),
    )
    expect(() => authorizer.enforce(limited, l, q(GET, OTHER))).toThrow(
      new AccessDeniedException(`${who(GET, OTHER)} with an explicit deny in a session policy`),
    )
    const traced = authorizer.decide(limited, l, q(GET, OTHER), true)
    expect(traced.evaluation.decision).toBe('explicitDeny')
    // Both the role's statement and the session policy's two are in the trace.
    expect(traced.evaluation.trace.map((t) => t.policy)).toEqual([
      'inline policy build of role builder',
      'the session policy',
      'the session policy',
    ])
  })

  it("lets a session policy's explicit deny win where the role's policies allow nothing", async () => {
    const s = session(doc(allow('*'), deny('codestar-connections:ListConnections')), 'ASIARUN3')
    const c = await authorizer.compiled(s)
    const list = 'codestar-connections:ListConnections'
    const who = `User: ${s.arn} is not authorized to perform: ${list} on resource: *`
    const d = authorizer.decide(s, c, q(list, '*'))
    expect(d.message).toBe(`${who} with an explicit deny in a session policy`)
    expect(d.evaluation.decision).toBe('explicitDeny')
    expect(d.evaluation.deciding.map((t) => t.policy)).toEqual(['the session policy'])
    expect(d.evaluation.trace).toEqual([])
    const explained = authorizer.decide(s, c, q(list, '*'), true)
    expect(explained.evaluation.trace.map((t) => t.policy)).toEqual([
      'inline policy build of role builder',
      'the session policy',
      'the session policy',
    ])
    // Not allowed by the role and not denied by the session policy: the identity's sentence.
    const iam = 'iam:ListUsers'
    expect(authorizer.decide(s, c, q(iam, '*')).message).toBe(
      `User: ${s.arn} is not authorized to perform: ${iam} on resource: * because no identity-based policy allows the ${iam} action`,
    )
  })

  it('notes whether any policy reads resource tags, the session policy included', async () => {
    const tagged = session(
      doc(allow(GET, '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'a' } } })),
      'ASIARUN4',
    )
    expect((await authorizer.compiled(tagged)).readsResourceTags).toBe(true)
    expect(
      (await authorizer.compiled(session(doc(allow(GET)), 'ASIARUN5'))).readsResourceTags,
    ).toBe(false)
  })

  it("keeps compiled policies until the account's IAM version moves, seen after the TTL or an invalidation", async () => {
    const s = await openSqliteStore(join(dir, 'cache.db'))
    try {
      await s.ensureAccount(A)
      await s.iam.users.create(
        {
          id: 'AIDABOB',
          accountId: A,
          name: 'bob',
          path: '/',
          arn: `arn:aws:iam::${A}:user/bob`,
          createdAt: 1,
        },
        100,
      )
      await s.iam.inline.put(A, 'user', 'bob', 'p', doc(allow(GET)))
      let now = T0
      const auth = new Authorizer(s, 1000, () => now)
      const bob: Principal = { ...alice, arn: `arn:aws:iam::${A}:user/bob`, userName: 'bob' }
      const first = await auth.compiled(bob)
      // From the cache, synchronously, while current.
      expect(auth.compiled(bob)).toBe(first)
      expect(auth.compiled({ ...bob })).toBe(first)
      await s.iam.inline.put(A, 'user', 'bob', 'p', doc(allow(DELETE)))
      // Within the TTL the version is not asked again: the old policies still apply.
      now += 999
      expect(auth.compiled(bob)).toBe(first)
      // At the TTL the version is read again, and the new policies compiled.
      now += 1
      const second = await auth.compiled(bob)
      expect(second).not.toBe(first)
      expect(second.version).toBeGreaterThan(first.version)
      expect(() => auth.enforce(bob, second, q(DELETE))).not.toThrow()
      expect(() => auth.enforce(bob, second, q(GET))).toThrow(AccessDeniedException)
      // An invalidation reads the version at once.
      await s.iam.inline.put(A, 'user', 'bob', 'p', doc(allow(GET)))
      expect(auth.compiled(bob)).toBe(second)
      auth.invalidate(A)
      const third = await auth.compiled(bob)
      expect(third).not.toBe(second)
      expect(() => auth.enforce(bob, third, q(GET))).not.toThrow()
      // Another principal object of the same user shares the cache entry.
      expect(await auth.compiled({ ...bob })).toBe(third)
    } finally {
      await s.close()
    }
  })

  it('gives every request the global condition keys, the time and source address as of the call', async () => {
    const c = await authorizer.compiled(alice)
    clock = T0
    const ctx = authorizer.baseContext(alice, c, {
      region: 'eu-west-3',
      sourceIp: '::ffff:10.1.2.3',
    })
    expect(ctx.get('aws:CurrentTime')).toEqual(['2026-05-06T07:08:09Z'])
    expect(ctx.get('aws:EpochTime')).toEqual([String(Math.floor(T0 / 1000))])
    expect(ctx.get('aws:SourceIp')).toEqual(['10.1.2.3'])
    expect(ctx.get('aws:RequestedRegion')).toEqual(['eu-west-3'])
    expect(ctx.get('aws:PrincipalAccount')).toEqual([A])
    expect(ctx.get('aws:PrincipalArn')).toEqual([`arn:aws:iam::${A}:user/team/alice`])
    expect(ctx.get('aws:PrincipalType')).toEqual(['User'])
    expect(ctx.get('aws:username')).toEqual(['alice'])
    expect(ctx.get('aws:userid')).toEqual(['AIDAALICE'])
    expect(ctx.get('aws:SecureTransport')).toEqual(['false'])
    expect(ctx.get('aws:SomethingElse')).toBeUndefined()
    // Without a source address there is none; the principal's keys follow the region asked.
    const later = authorizer.baseContext(alice, c, { region: 'us-east-1' })
    expect(later.get('aws:SourceIp')).toBeUndefined()
    expect(later.get('aws:RequestedRegion')).toEqual(['us-east-1'])
    expect(
      authorizer.baseContext(alice, c, { region: 'eu-west-3' }).get('aws:RequestedRegion'),
    ).toEqual(['eu-west-3'])
    // A session is an AssumedRole without a user name; the root an Account.
    const s = session(undefined, 'ASIARUN6')
    const sc = authorizer.baseContext(s, await authorizer.compiled(s), { region: 'us-east-1' })
    expect(sc.get('aws:PrincipalType')).toEqual(['AssumedRole'])
    expect(sc.get('aws:username')).toBeUndefined()
    expect(sc.get('aws:userid')).toEqual(['AROABUILDER:run-1'])
    const rc = authorizer.baseContext(root, undefined, {
      region: 'us-east-1',
      sourceIp: '2001:db8::1',
    })
    expect(rc.get('aws:PrincipalType')).toEqual(['Account'])
    expect(rc.get('aws:PrincipalArn')).toEqual([root.arn])
    expect(rc.get('aws:userid')).toEqual([A])
    expect(rc.get('aws:SourceIp')).toEqual(['2001:db8::1'])
    // Time-based conditions follow the authorizer's clock.
    const before = parsePolicy(
      doc(
        allow(GET, '*', {
          Condition: { DateLessThan: { 'aws:CurrentTime': '2026-05-06T07:08:10Z' } },
        }),
      ),
    )
    const timed: NamedPolicy[] = [{ name: 'timed', id: 'timed', document: before }]
    const decideAt = (t: number) => {
      clock = t
      const context = authorizer.baseContext(alice, undefined, { region: 'us-east-1' })
      return authorizer.decide(alice, { ...c, policies: timed }, q(GET, CONN, context)).evaluation
        .decision
    }
    expect(decideAt(Date.UTC(2026, 4, 6, 7, 8, 9, 999))).toBe('allowed')
    expect(decideAt(Date.UTC(2026, 4, 6, 7, 8, 10))).toBe('implicitDeny')
    clock = T0
  })

  describe('with a resource policy (a role trust policy)', () => {
    const trust = (...st: object[]): NamedPolicy => ({
      name: 'trust policy of role deployer',
      id: 'trust',
      document: parsePolicy(doc(...st), 'trust'),
    })
    const assume = 'sts:AssumeRole'
    const target = `arn:aws:iam::${A}:role/deployer`
    const res = (policy: NamedPolicy | undefined, extra = {}) => ({
      policy,
      required: true,
      partition: 'aws',
      ...extra,
    })

    it('names the caller as its store ARN, a session with its role', async () => {
      const c = await authorizer.compiled(alice)
      expect(authorizer.caller(alice, c, 'aws')).toEqual({
        arn: `arn:aws:iam::${A}:user/team/alice`,
        accountId: A,
        partition: 'aws',
      })
      const s = session(undefined, 'ASIARUN7')
      expect(authorizer.caller(s, await authorizer.compiled(s), 'aws-cn')).toEqual({
        arn: s.arn,
        roleArn: `arn:aws:iam::${A}:role/ci/builder`,
        accountId: A,
        partition: 'aws-cn',
      })
    })

    it('allows when the trust policy names the caller, the identity need not allow', async () => {
      const c = await authorizer.compiled(alice)
      const policy = trust({
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${A}:user/team/alice` },
        Action: assume,
      })
      const d = authorizer.decideWithResource(alice, c, q(assume, target), res(policy), true)
      expect(d.evaluation.decision).toBe('allowed')
      expect(d.by).toBe('resource')
      expect(d.message).toBeUndefined()
      expect(d.evaluation.deciding.map((t) => t.policy)).toEqual(['trust policy of role deployer'])
      // The trace holds the identity statements and the trust policy's, only when asked.
      expect(d.evaluation.trace.map((t) => t.policy)).toEqual([
        'inline policy read of user alice',
        'inline policy read of user alice',
        `managed policy arn:aws:iam::${A}:policy/deleter`,
        `managed policy arn:aws:iam::${A}:policy/deleter`,
        'trust policy of role deployer',
      ])
      expect(
        authorizer.decideWithResource(alice, c, q(assume, target), res(policy)).evaluation.trace,
      ).toEqual([])
    })

    it('refuses the same way whether the resource is missing or its policy is silent', async () => {
      const c = await authorizer.compiled(alice)
      const generic = `User: ${alice.arn} is not authorized to perform: ${assume} on resource: ${target} because no policy allows it: the resource-based policy must allow the caller, and the caller's own policies too unless it names the caller directly`
      const missing = authorizer.decideWithResource(alice, c, q(assume, target), res(undefined))
      const silent = authorizer.decideWithResource(
        alice,
        c,
        q(assume, target),
        res(
          trust({
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${A}:user/bob` },
            Action: assume,
          }),
        ),
      )
      for (const d of [missing, silent]) {
        expect(d.evaluation.decision).toBe('implicitDeny')
        expect(d.message).toBe(generic)
        expect(d.by).toBe('resource')
        expect(d.evaluation.deciding).toEqual([])
      }
    })

    it('names the policy type that denied explicitly', async () => {
      const who = (p: Principal) =>
        `User: ${p.arn} is not authorized to perform: ${assume} on resource: ${target}`
      const c = await authorizer.compiled(alice)
      const named = { Principal: { AWS: `arn:aws:iam::${A}:user/team/alice` }, Action: assume }
      const byResource = authorizer.decideWithResource(
        alice,
        c,
        q(assume, target),
        res(trust({ Effect: 'Allow', ...named }, { Sid: 'NoAlice', Effect: 'Deny', ...named })),
      )
      expect(byResource).toMatchObject({
        by: 'resource',
        message: `${who(alice)} with an explicit deny in a resource-based policy (statement NoAlice)`,
      })
      expect(byResource.evaluation.decision).toBe('explicitDeny')
      const unnamed = authorizer.decideWithResource(
        alice,
        c,
        q(assume, target),
        res(trust({ Effect: 'Deny', ...named })),
      )
      expect(unnamed.message).toBe(
        `${who(alice)} with an explicit deny in a resource-based policy (statement 1)`,
      )
      // An identity deny of the role, even though the trust policy allows.
      const refusing: Principal = { ...alice, accessKeyId: 'AKIACAROL' }
      const denied = {
        ...c,
        policies: [
          {
            name: 'inline policy nope of user alice',
            id: 'nope',
            document: parsePolicy(doc(deny(assume, target, { Sid: 'NoAssume' }))),
          },
        ],
      }
      expect(
        authorizer.decideWithResource(
          refusing,
          denied,
          q(assume, target),
          res(trust({ Effect: 'Allow', ...named })),
        ),
      ).toMatchObject({
        by: 'identity',
        message: `${who(refusing)} with an explicit deny in an identity-based policy: nope (statement NoAssume)`,
      })
      // A session policy's deny.
      const s = session(doc(deny(assume)), 'ASIARUN8')
      const sc = await authorizer.compiled(s)
      const sessionNamed = { Principal: { AWS: s.arn }, Action: assume }
      const bySession = authorizer.decideWithResource(
        s,
        sc,
        q(assume, target),
        res(trust({ Effect: 'Allow', ...sessionNamed })),
        true,
      )
      expect(bySession).toMatchObject({
        by: 'session',
        message: `${who(s)} with an explicit deny in a session policy`,
      })
      expect(bySession.evaluation.deciding.map((t) => t.policy)).toEqual(['the session policy'])
      expect(bySession.evaluation.trace.map((t) => t.policy)).toEqual([
        'inline policy build of role builder',
        'the session policy',
        'trust policy of role deployer',
      ])
    })

    it('needs both sides across accounts, and the identity when the policy names only the account', async () => {
      const c = await authorizer.compiled(alice)
      const account = trust({ Effect: 'Allow', Principal: { AWS: A }, Action: assume })
      // The account is named: alice's own policies must allow AssumeRole, and they do not.
      const d = authorizer.decideWithResource(alice, c, q(assume, target), res(account))
      expect(d).toMatchObject({ by: 'identity', evaluation: { decision: 'implicitDeny' } })
      // Not required, no policy: the identity decides.
      expect(
        authorizer.decideWithResource(alice, c, q(GET), res(undefined, { required: false })),
      ).toMatchObject({ by: 'identity', evaluation: { decision: 'allowed' } })
      // Across accounts a missing resource policy refuses even what the identity allows.
      expect(
        authorizer.decideWithResource(
          alice,
          c,
          q(GET),
          res(undefined, { required: false, crossAccount: true }),
        ),
      ).toMatchObject({ by: 'resource', evaluation: { decision: 'implicitDeny' } })
    })
  })
})

import { describe, expect, it } from 'vitest'
import type { ProviderEvent } from '../providers/provider.js'
import { TriggerMatcher, type GitConfiguration, type TriggerEvent } from './match-filters.js'
import { eventKeys, watchKeys } from './watches.js'

const trigger = (t: Omit<GitConfiguration, 'sourceActionName'>): GitConfiguration => ({
  sourceActionName: 'Source',
  ...t,
})

const push = (...changes: { kind: 'branch' | 'tag'; name: string; deleted?: boolean }[]) =>
  ({
    kind: 'push',
    deliveryId: 'd',
    repository: { fullName: 'a/b', id: '' },
    changes: changes.map((c) => ({
      kind: c.kind,
      name: c.name,
      ...(c.deleted ? {} : { after: 'c1' }),
      created: false,
      deleted: c.deleted ?? false,
      forced: false,
      commits: [],
    })),
  }) as ProviderEvent

describe('watchKeys', () => {
  it('watches BranchName without a trigger (DetectChanges or not)', () => {
    expect(watchKeys(undefined, 'main')).toEqual(['b:main'])
  })

  it('watches the names of all-literal includes, and any branch for a glob or no includes', () => {
    expect(
      watchKeys(trigger({ push: [{ branches: { includes: ['main', 'dev'] } }] }), 'x'),
    ).toEqual(['b:dev', 'b:main'])
    expect(
      watchKeys(trigger({ push: [{ branches: { includes: ['main', 'rel/*'] } }] }), 'x'),
    ).toEqual(['b:*'])
    expect(watchKeys(trigger({ push: [{ branches: { excludes: ['wip'] } }] }), 'x')).toEqual([
      'b:*',
    ])
    for (const g of ['a?', 'a[bc]', 'a{b,c}', 'a\\*', '**'])
      expect(watchKeys(trigger({ push: [{ branches: { includes: [g] } }] }), 'x')).toEqual(['b:*'])
  })

  it('watches tags apart from branches; a file-path-only filter applies to every branch', () => {
    expect(watchKeys(trigger({ push: [{ tags: { includes: ['v1.0'] } }] }), 'x')).toEqual([
      't:v1.0',
    ])
    expect(watchKeys(trigger({ push: [{ tags: { includes: ['v*'] } }] }), 'x')).toEqual(['t:*'])
    expect(
      watchKeys(
        trigger({ push: [{ tags: { includes: ['v1'] }, branches: { includes: ['main'] } }] }),
        'x',
      ),
    ).toEqual(['b:main', 't:v1'])
    expect(watchKeys(trigger({ push: [{ filePaths: { includes: ['src/**'] } }] }), 'x')).toEqual([
      'b:*',
    ])
  })

  it('watches pull requests by destination branch', () => {
    expect(
      watchKeys(
        trigger({ pullRequest: [{ events: ['OPEN'], branches: { includes: ['main'] } }] }),
        'x',
      ),
    ).toEqual(['p:main'])
    expect(watchKeys(trigger({ pullRequest: [{ events: ['CLOSED'] }] }), 'x')).toEqual(['p:*'])
  })
})

describe('eventKeys', () => {
  it('names each pushed ref (not deleted ones) and its kind at large, and `*`', () => {
    expect(
      eventKeys(
        push(
          { kind: 'branch', name: 'main' },
          { kind: 'tag', name: 'v1' },
          { kind: 'branch', name: 'gone', deleted: true },
        ),
      ).sort(),
    ).toEqual(['*', 'b:*', 'b:main', 't:*', 't:v1'])
  })

  it('names a pull request by its destination', () => {
    const pr = {
      kind: 'pull_request',
      deliveryId: 'd',
      repository: { fullName: 'a/b', id: '' },
      action: 'OPEN',
      merged: false,
      number: 1,
      title: 't',
      sourceBranch: 'f',
      destinationBranch: 'main',
      sourceCommit: 'c',
      destinationCommit: 'd',
    } as ProviderEvent
    expect(eventKeys(pr).sort()).toEqual(['*', 'p:*', 'p:main'])
  })

  // The index must never hide a match: whenever a trigger matches an event, they share a key.
  it('never leaves out a source whose trigger matches the event', () => {
    const names = ['main', 'dev', 'rel/1', 'v1', 'v1.0', 'a', 'x{']
    const criteria = [
      undefined,
      { includes: ['main'] },
      { includes: ['main', 'dev'] },
      { includes: ['rel/*'] },
      { includes: ['v1*'] },
      { excludes: ['main'] },
      { includes: ['x\\{'] },
    ]
    const configs: GitConfiguration[] = []
    for (const branches of criteria)
      for (const tags of criteria) {
        const f: NonNullable<GitConfiguration['push']>[number] = {}
        if (branches) f.branches = branches
        if (tags) f.tags = tags
        configs.push(trigger({ push: [f] }))
        configs.push(trigger({ pullRequest: branches ? [{ branches }] : [{}] }))
      }
    let checked = 0
    for (const c of configs) {
      const m = new TriggerMatcher(c)
      const keys = new Set(watchKeys(c, 'main'))
      for (const name of names) {
        const cases: [ProviderEvent, TriggerEvent][] = [
          [push({ kind: 'branch', name }), { kind: 'push', ref: { type: 'branch', name } }],
          [push({ kind: 'tag', name }), { kind: 'push', ref: { type: 'tag', name } }],
        ]
        for (const [event, te] of cases)
          if (m.match(te).matched) {
            checked++
            expect(
              eventKeys(event).some((k) => keys.has(k)),
              `${JSON.stringify(c)} ${name}`,
            ).toBe(true)
          }
        const te: TriggerEvent = { kind: 'pull_request', action: 'OPEN', destinationBranch: name }
        if (m.match(te).matched) {
          checked++
          expect(keys.has(`p:${name}`) || keys.has('p:*')).toBe(true)
        }
      }
    }
    expect(checked).toBeGreaterThan(50)
  })
})

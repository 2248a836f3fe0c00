import { describe, expect, it } from 'vitest'
import {
  needsChangedFiles,
  TriggerMatcher,
  type GitConfiguration,
  type TriggerEvent,
} from './match-filters.js'

const push = (
  name: string,
  changedFiles?: string[],
  type: 'branch' | 'tag' = 'branch',
): TriggerEvent => ({
  kind: 'push',
  ref: { type, name },
  ...(changedFiles ? { changedFiles } : {}),
})
const pr = (
  action: 'OPEN' | 'UPDATED' | 'CLOSED',
  destinationBranch: string,
  changedFiles?: string[],
): TriggerEvent => ({
  kind: 'pull_request',
  action,
  destinationBranch,
  ...(changedFiles ? { changedFiles } : {}),
})
const matcher = (c: Omit<GitConfiguration, 'sourceActionName'>) =>
  new TriggerMatcher({ sourceActionName: 'Source', ...c })

describe('V2 trigger filters', () => {
  it('matches a push to an included branch, not to others', () => {
    const m = matcher({ push: [{ branches: { includes: ['main', 'release/**'] } }] })
    expect(m.match(push('main')).matched).toBe(true)
    expect(m.match(push('release/1.2/hotfix')).matched).toBe(true)
    const no = m.match(push('dev'))
    expect(no).toEqual({
      matched: false,
      reason: "push filter 1: branch 'dev' is not included by [main, release/**]",
      needsFiles: false,
    })
  })

  it('lets an exclude win over an include', () => {
    const m = matcher({
      push: [{ branches: { includes: ['release/*'], excludes: ['release/old*'] } }],
    })
    expect(m.match(push('release/new')).matched).toBe(true)
    expect(m.match(push('release/old-1'))).toEqual({
      matched: false,
      reason: "push filter 1: branch 'release/old-1' is excluded by 'release/old*'",
      needsFiles: false,
    })
  })

  it('includes everything when only excludes are given', () => {
    const m = matcher({ push: [{ branches: { excludes: ['wip/**'] } }] })
    expect(m.match(push('anything')).matched).toBe(true)
    expect(m.match(push('wip/a/b')).matched).toBe(false)
  })

  it('ANDs branches and file paths within one filter: a file must pass and not be excluded', () => {
    const m = matcher({
      push: [
        {
          branches: { includes: ['main'] },
          filePaths: { includes: ['services/api/**'], excludes: ['**/*.md'] },
        },
      ],
    })
    expect(m.match(push('main', ['services/api/src/x.ts'])).matched).toBe(true)
    expect(m.match(push('main', ['services/api/README.md', 'services/api/src/y.ts'])).matched).toBe(
      true,
    )
    expect(m.match(push('main', ['services/api/README.md'])).reason).toMatch(
      /excluded by '\*\*\/\*\.md'/,
    )
    expect(m.match(push('main', ['services/web/x.ts'])).reason).toMatch(
      /none of the 1 changed file passes/,
    )
    expect(m.match(push('dev', ['services/api/src/x.ts'])).matched).toBe(false)
    expect(m.match(push('main', [])).reason).toMatch(/touches no file/)
    expect(m.match(push('main')).reason).toMatch(/changed files are not known/)
  })

  it('asks for the changed files only when the branches pass and the file paths decide', () => {
    const m = matcher({
      push: [{ branches: { includes: ['main'] }, filePaths: { includes: ['src/**'] } }],
    })
    expect(m.match(push('feature/x')).needsFiles).toBe(false)
    expect(m.match(push('main'))).toMatchObject({ matched: false, needsFiles: true })
    expect(m.match(push('main', ['src/a.c']))).toMatchObject({ matched: true })
    expect(m.match(push('main', ['docs/a.md'])).needsFiles).toBe(false)
    const tags = matcher({ push: [{ tags: { includes: ['v*'] } }] })
    expect(tags.match(push('main')).needsFiles).toBe(false)
  })

  it('ORs filter entries, and push with pull-request filters', () => {
    const m = matcher({
      push: [{ branches: { includes: ['main'] } }, { tags: { includes: ['v*'] } }],
      pullRequest: [{ events: ['OPEN'], branches: { includes: ['main'] } }],
    })
    expect(m.match(push('main')).matched).toBe(true)
    expect(m.match(push('v1.0', undefined, 'tag'))).toEqual({
      matched: true,
      reason: "push filter 2 matches tag 'v1.0'",
      needsFiles: false,
    })
    expect(m.match(push('dev')).reason).toBe(
      "push filter 1: branch 'dev' is not included by [main]; push filter 2: branch 'dev' was pushed, the filter is about tags",
    )
    expect(m.match(pr('OPEN', 'main')).matched).toBe(true)
  })

  it('matches tag pushes only against tag filters', () => {
    const m = matcher({ push: [{ branches: { includes: ['**'] } }] })
    expect(m.match(push('v2', undefined, 'tag')).reason).toMatch(/the filter is about branches/)
    const t = matcher({
      push: [{ tags: { includes: ['release-*'], excludes: ['release-*-rc*'] } }],
    })
    expect(t.match(push('release-2', undefined, 'tag')).matched).toBe(true)
    expect(t.match(push('release-2-rc1', undefined, 'tag')).matched).toBe(false)
  })

  it('matches pull requests by event and destination branch (not the source)', () => {
    const m = matcher({
      pullRequest: [
        {
          events: ['OPEN', 'UPDATED'],
          branches: { includes: ['main'] },
          filePaths: { includes: ['src/**'] },
        },
      ],
    })
    expect(m.match(pr('OPEN', 'main', ['src/a.ts'])).matched).toBe(true)
    expect(m.match(pr('UPDATED', 'main', ['src/a.ts'])).matched).toBe(true)
    expect(m.match(pr('CLOSED', 'main', ['src/a.ts'])).reason).toBe(
      'pull-request filter 1: event CLOSED is not one of OPEN, UPDATED',
    )
    expect(m.match(pr('OPEN', 'dev', ['src/a.ts'])).reason).toMatch(
      /destination branch 'dev' is not included/,
    )
    expect(m.match(pr('OPEN', 'main', ['docs/a.md'])).matched).toBe(false)
    // A filter without events takes every PR event.
    expect(
      matcher({ pullRequest: [{ branches: { includes: ['main'] } }] }).match(pr('CLOSED', 'main'))
        .matched,
    ).toBe(true)
  })

  it('says when a kind of event has no filter', () => {
    expect(
      matcher({ push: [{ branches: { includes: ['main'] } }] }).match(pr('OPEN', 'main')).reason,
    ).toBe('the trigger has no pull-request filter')
    expect(matcher({ pullRequest: [{}] }).match(push('main')).reason).toBe(
      'the trigger has no push filter',
    )
  })

  it('knows when the changed files must be fetched', () => {
    const c = {
      sourceActionName: 'S',
      push: [{ branches: { includes: ['main'] } }],
      pullRequest: [{ filePaths: { includes: ['a/**'] } }],
    }
    expect(needsChangedFiles(c, push('main'))).toBe(false)
    expect(needsChangedFiles(c, pr('OPEN', 'main'))).toBe(true)
  })

  it('refuses a malformed glob when compiled', () => {
    expect(() => matcher({ push: [{ branches: { includes: ['{a,b'] } }] })).toThrow(/not closed/)
  })
})

describe('trigger filters: reasons and the changed-files request', () => {
  it('numbers the matching pull-request filter, and asks for files a later filter needs', () => {
    const m = matcher({
      pullRequest: [
        { events: ['OPEN'], branches: { includes: ['main'] }, filePaths: { includes: ['src/**'] } },
        { events: ['CLOSED'], branches: { includes: ['main'] } },
      ],
    })
    expect(m.match(pr('CLOSED', 'main'))).toEqual({
      matched: true,
      reason: "pull-request filter 2 matches CLOSED into 'main'",
      needsFiles: false,
    })
    // The first filter passed all but its file paths and no files came: ask again with them.
    expect(m.match(pr('OPEN', 'main')).needsFiles).toBe(true)
    expect(m.match(pr('OPEN', 'main')).matched).toBe(false)
    // Refused for another reason: no need for files.
    expect(m.match(pr('OPEN', 'dev')).needsFiles).toBe(false)
    expect(m.match(pr('UPDATED', 'main')).needsFiles).toBe(false)
  })

  it('names a refused tag as a tag, and judges a branch push by a filter with tags and branches by its branches', () => {
    const tags = matcher({ push: [{ tags: { includes: ['v*'] } }] })
    expect(tags.match(push('x1', undefined, 'tag')).reason).toBe(
      "push filter 1: tag 'x1' is not included by [v*]",
    )
    const both = matcher({
      push: [{ tags: { includes: ['v*'] }, branches: { includes: ['main'] } }],
    })
    expect(both.match(push('main')).matched).toBe(true)
    expect(both.match(push('dev')).reason).toBe(
      "push filter 1: branch 'dev' is not included by [main]",
    )
  })
})

/**
 * Every relative link in README.md and docs/*.md leads somewhere (issue 15 item 6): the file it
 * names exists in the repository, and its `#anchor`, if any, is a heading of that page as GitHub
 * renders it (lower case, punctuation dropped, spaces to hyphens, a repeated heading numbered
 * `-1`, `-2`, …). Links inside code are not links; absolute URLs are not checked here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const repo = join(import.meta.dirname, '..', '..')
const pages = [
  'README.md',
  ...readdirSync(join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
]

/** The page without fenced code blocks and inline code spans. */
function prose(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/(`+)[\s\S]*?\1/g, (m) => (m.includes('\n\n') ? m : ''))
}

/** GitHub's anchor for a heading's text. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

/** The anchors of a Markdown page's headings (ATX headings outside code). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
  for (const m of text.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = slug(m[1]!)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

/** The relative link targets of a page: `[text](target)` and `<a href="target">`. */
function links(markdown: string): string[] {
  const text = prose(markdown)
  const out = [...text.matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)].map((m) => m[1]!)
  out.push(...[...text.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!))
  return out.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t))
}

describe('documentation links', () => {
  it('finds the pages and their links (the extraction works)', () => {
    expect(pages).toEqual(expect.arrayContaining(['README.md', join('docs', 'getting-started.md')]))
    const readme = readFileSync(join(repo, 'README.md'), 'utf8')
    expect(links(readme).length).toBeGreaterThan(10)
    expect(slug("Junction's own operations")).toBe('junctions-own-operations')
    expect(slug('The `Commands` action — what it may run')).toBe(
      'the-commands-action--what-it-may-run',
    )
    expect(slug('Try it offline: `npm run demo`')).toBe('try-it-offline-npm-run-demo')
    expect(links('`[a](b.md)` and\n```\n[c](d.md)\n```\n[e](f.md#g) [h](https://x/y)')).toEqual([
      'f.md#g',
    ])
  })

  for (const page of pages)
    it(`every relative link of ${page} resolves`, () => {
      const broken: string[] = []
      for (const target of links(readFileSync(join(repo, page), 'utf8'))) {
        const [path, anchor] = target.split('#') as [string, string | undefined]
        const file = path === '' ? join(repo, page) : join(repo, dirname(page), decodeURI(path))
        if (!file.startsWith(repo + '/') || !existsSync(file)) {
          broken.push(`${target}: no file ${relative(repo, file)}`)
          continue
        }
        if (anchor === undefined || anchor === '') continue
        if (!file.endsWith('.md') || statSync(file).isDirectory()) {
          broken.push(`${target}: an anchor into a file that is not Markdown`)
          continue
        }
        if (!anchors(readFileSync(file, 'utf8')).has(decodeURIComponent(anchor)))
          broken.push(`${target}: no heading #${anchor} in ${relative(repo, file)}`)
      }
      expect(broken).toEqual([])
    })
})

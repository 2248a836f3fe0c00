/**
 * The zipball redirect rule over real sockets: two local origins stand for api.github.com and
 * codeload.github.com (127.0.0.1 and localhost are different origins). The token goes to the
 * API's origin only; the archive streams; the size bound cuts it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GitArchiveTooLarge } from '../git-archive.js'
import { HttpClient } from '../http-client.js'
import { followArchive, type Hop } from './archive.js'

const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
  const s = createServer(handler)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return s
}
const port = (s: Server) => (s.address() as AddressInfo).port

describe('zipball redirect', () => {
  let api: Server
  let codeload: Server
  const seen: { host: string; path: string; auth: boolean }[] = []
  const zip = Buffer.alloc(200_000, 7)
  beforeAll(async () => {
    codeload = await listen((req, res) => {
      seen.push({ host: 'codeload', path: req.url ?? '', auth: !!req.headers.authorization })
      res.writeHead(200, { 'content-type': 'application/zip' })
      res.end(zip)
    })
    api = await listen((req, res) => {
      seen.push({ host: 'api', path: req.url ?? '', auth: !!req.headers.authorization })
      if (req.url?.startsWith('/same/'))
        res.writeHead(302, { location: '/repos/o/r/zipball/abc' }).end()
      else
        res
          .writeHead(302, {
            location: `http://localhost:${port(codeload)}/o/r/legacy.zip/abc?token=SIGNED`,
          })
          .end()
    })
  })
  afterAll(async () => {
    await new Promise((r) => api.close(r))
    await new Promise((r) => codeload.close(r))
  })
  const http = new HttpClient('GitHub', { rateLimits: 'github' })
  const headers = { Authorization: 'Bearer ghs_secret', Accept: 'application/vnd.github+json' }

  it('follows the 302 to another origin without the token, and streams the zip', async () => {
    seen.length = 0
    const hops: Hop[] = []
    const api0 = `http://127.0.0.1:${port(api)}`
    const stream = await followArchive(http, `${api0}/repos/o/r/zipball/abc`, headers, { hops })
    const body = Buffer.from(await new Response(stream).arrayBuffer())
    expect(body.equals(zip)).toBe(true)
    expect(seen).toEqual([
      { host: 'api', path: '/repos/o/r/zipball/abc', auth: true },
      { host: 'codeload', path: '/o/r/legacy.zip/abc?token=SIGNED', auth: false },
    ])
    // The hops list never carries the signed query.
    expect(hops.map((h) => h.authorized)).toEqual([true, false])
    expect(hops.every((h) => !h.url.includes('SIGNED'))).toBe(true)
  })

  it('keeps the token on a redirect within the same origin', async () => {
    seen.length = 0
    const api0 = `http://127.0.0.1:${port(api)}`
    await new Response(await followArchive(http, `${api0}/same/x`, headers)).arrayBuffer()
    expect(seen.map((s) => [s.host, s.auth])).toEqual([
      ['api', true],
      ['api', true],
      ['codeload', false],
    ])
  })

  it('cuts an archive larger than maxBytes while it streams', async () => {
    const api0 = `http://127.0.0.1:${port(api)}`
    const stream = await followArchive(http, `${api0}/repos/o/r/zipball/abc`, headers, {
      maxBytes: 1000,
    })
    const reader = stream.getReader()
    const read = async () => {
      for (;;) if ((await reader.read()).done) return
    }
    await expect(read()).rejects.toBeInstanceOf(GitArchiveTooLarge)
  })
})

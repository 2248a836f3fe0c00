/**
 * @module providers/github/archive
 * GitHub's own source archive: `GET /repos/{o}/{r}/zipball/{ref}` answers 302 to a short-lived
 * codeload URL (`https://codeload.github.com/{o}/{r}/legacy.zip/{ref}`, whose query carries its
 * own token for private repositories; GHES: `codeload.HOST` or a path on HOST). Redirects are
 * followed here, not by fetch, so that the `Authorization` header is sent only to the origin it
 * was meant for (the API's): GitHub documents that the redirect needs no token, and codeload is
 * another host. The body is streamed, and cut with GitArchiveTooLarge past `maxBytes`.
 */
import { ProviderRequestFailed } from '../errors.js'
import { GitArchiveTooLarge } from '../git-archive.js'
import type { HttpClient } from '../http-client.js'

const REDIRECTS = [301, 302, 303, 307, 308]
const MAX_HOPS = 5

/** Where each hop went and whether it carried the token (for tests and logs; no secrets). */
export interface Hop {
  url: string
  authorized: boolean
}

export async function followArchive(
  http: HttpClient,
  url: string,
  headers: Record<string, string>,
  o: { maxBytes?: number; hops?: Hop[] } = {},
): Promise<ReadableStream<Uint8Array>> {
  const origin = new URL(url).origin
  let next = url
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const sameOrigin = new URL(next).origin === origin
    const h: Record<string, string> = { ...headers }
    if (!sameOrigin) delete h['Authorization']
    o.hops?.push({ url: next.replace(/\?.*$/, ''), authorized: 'Authorization' in h })
    const res = await http.request(next, { headers: h, accept: REDIRECTS })
    if (REDIRECTS.includes(res.status)) {
      await res.body?.cancel()
      const location = res.headers.get('location')
      if (!location) throw new ProviderRequestFailed('GitHub redirected the archive nowhere')
      const target = new URL(location, next)
      if (target.protocol !== 'https:' && target.protocol !== 'http:')
        throw new ProviderRequestFailed('GitHub redirected the archive to a non-HTTP URL')
      next = target.toString()
      continue
    }
    return bounded(res, o.maxBytes)
  }
  throw new ProviderRequestFailed('GitHub redirected the archive too many times')
}

function bounded(res: Response, maxBytes: number | undefined): ReadableStream<Uint8Array> {
  const body = res.body
  if (!body) throw new ProviderRequestFailed('GitHub answered the archive without a body')
  if (maxBytes === undefined) return body
  const length = Number(res.headers.get('content-length'))
  if (Number.isFinite(length) && length > maxBytes) {
    void body.cancel()
    throw new GitArchiveTooLarge(maxBytes)
  }
  let seen = 0
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        seen += chunk.byteLength
        if (seen > maxBytes) ctrl.error(new GitArchiveTooLarge(maxBytes))
        else ctrl.enqueue(chunk)
      },
    }),
  )
}

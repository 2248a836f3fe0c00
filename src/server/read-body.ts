/**
 * @module server/read-body
 * Reads a request body up to a limit. Past the limit it stops buffering and reports `tooLarge`, so a
 * huge body costs no memory.
 */
import type { IncomingMessage } from 'node:http'

/** The client closed the connection before sending the whole body; there is no one to answer. */
export class ClientClosedError extends Error {}

export interface Body {
  data: Buffer
  tooLarge: boolean
}

export function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit)
    return Promise.resolve({ data: Buffer.alloc(0), tooLarge: true })
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return
      size += chunk.length
      if (size > limit) {
        tooLarge = true
        chunks.length = 0
      } else chunks.push(chunk)
    })
    req.on('end', () =>
      resolveBody({ data: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks, size), tooLarge }),
    )
    req.on('error', reject)
  })
}

/**
 * @module console/kit
 * What the console's page modules share: the session, the page shell and flash messages, the
 * provider lists, sending pages and redirects, and the operations run as the signed-in principal.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Caller } from '../connect/service.js'
import type { OperationName } from '../generated/operations.js'
import type { Principal } from '../iam/principal.js'
import { descriptorOf } from '../providers/registry.js'
import type { Shell } from './html.js'
import type { ConsoleDeps } from './console.js'

export interface Session {
  principal: Principal
  cookie: string
  csrf: string
  /** The store's key for the session (sign-out deletes it). */
  idHash: string
}

/** The console's helpers, bound to its dependencies (console.ts builds one). */
export interface ConsoleKit {
  d: ConsoleDeps
  caller(s: Session, req: IncomingMessage): Caller
  invoke<T>(
    req: IncomingMessage,
    s: Session,
    op: OperationName,
    input: Record<string, unknown>,
  ): Promise<T>
  shell(s: Session, title: string, nav?: Shell['nav'], flash?: Shell['flash']): Shell
  /** A one-line message carried across a redirect, signed so a link cannot put words in our mouth. */
  flashParam(kind: 'ok' | 'bad', text: string): string
  flashOf(u: URL): Shell['flash']
}

export const PAGE_SIZE = 20

/**
 * The AWS API's provider types, in the console's order: those with an adapter take their label
 * from their descriptor (providers/registry.ts); the others are listed as not available yet.
 */
export const PROVIDERS: { type: string; label: string }[] = [
  { type: 'Bitbucket', label: 'Bitbucket Cloud' },
  { type: 'GitHub', label: 'GitHub' },
  { type: 'GitHubEnterpriseServer', label: 'GitHub Enterprise Server' },
  { type: 'GitLab', label: 'GitLab' },
  { type: 'GitLabSelfManaged', label: 'GitLab self-managed' },
].map((p) => ({ type: p.type, label: descriptorOf(p.type)?.label ?? p.label }))
export const HOST_PROVIDERS = ['GitHubEnterpriseServer', 'GitLabSelfManaged']
export const label = (type: string) => PROVIDERS.find((p) => p.type === type)?.label ?? type

export function send(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self' http: https:; base-uri 'none'",
    ...headers,
  })
  res.end(html)
}

export function redirect(
  res: ServerResponse,
  location: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(303, {
    Location: location,
    'Content-Length': 0,
    'Cache-Control': 'no-store',
    ...headers,
  })
  res.end()
}

/** `key=value` lines → tags, or the reason they are not. */
export function parseTags(text: string): { Key: string; Value: string }[] | string {
  const tags: { Key: string; Value: string }[] = []
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim()
    if (!line) continue
    const eq = line.indexOf('=')
    if (eq <= 0) return `Line ${i + 1}: write tags as key=value.`
    tags.push({ Key: line.slice(0, eq).trim(), Value: line.slice(eq + 1).trim() })
  }
  return tags
}

/**
 * A GitHub Enterprise Server host's own TLS certificate (`VpcConfiguration.TlsCertificate`) is
 * trusted for Junction's calls to it (issue 13 item 5): `fetchTrusting(pem)` reaches an HTTPS
 * server whose certificate no public root signed, where Node's fetch refuses it; a different
 * certificate is still refused; and the HTTP client the manifest conversion uses goes through it.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchTrusting } from '../../src/connect/host-fetch.js'
import { HttpClient } from '../../src/providers/http-client.js'

function selfSigned(dir: string, name: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`)
  const cert = join(dir, `${name}.pem`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') }
}

describe('a host’s own TLS certificate', () => {
  let dir: string
  let server: Server
  let url: string
  let own: { key: string; cert: string }
  let other: { key: string; cert: string }
  const seen: { method?: string; body: string; type?: string }[] = []
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-tls-'))
    own = selfSigned(dir, 'ghes')
    other = selfSigned(dir, 'other')
    server = createServer({ key: own.key, cert: own.cert }, (req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => (body += d.toString()))
      req.on('end', () => {
        seen.push({ method: req.method!, body, type: req.headers['content-type']! })
        if (req.url === '/api/v3/app-manifests/abc/conversions' && req.method === 'POST') {
          res.writeHead(201, { 'content-type': 'application/json', 'x-extra': 'one' })
          res.end(JSON.stringify({ id: 42, slug: 'junction' }))
          return
        }
        if (req.url === '/moved') {
          res.writeHead(302, { location: 'https://elsewhere.example/' }).end()
          return
        }
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ message: 'Not Found' }))
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((r) => server.close(r))
    rmSync(dir, { recursive: true, force: true })
  })

  it('is trusted with the host’s certificate, refused without it or with another', async () => {
    await expect(fetch(`${url}/x`)).rejects.toThrow()
    await expect(fetchTrusting(other.cert)(`${url}/x`)).rejects.toThrow()
    const r = await fetchTrusting(own.cert)(`${url}/x`)
    expect(r.status).toBe(404)
    expect(await r.json()).toEqual({ message: 'Not Found' })
    // No certificate: Node's own fetch.
    expect(fetchTrusting(undefined)).toBe(fetch)
    expect(fetchTrusting('  ')).toBe(fetch)
  })

  it('carries method, headers and body, and never follows a redirect', async () => {
    const f = fetchTrusting(own.cert)
    const moved = await f(`${url}/moved`, { redirect: 'manual' })
    expect(moved.status).toBe(302)
    expect(moved.headers.get('location')).toBe('https://elsewhere.example/')
    const posted = await f(`${url}/api/v3/app-manifests/abc/conversions`, {
      method: 'POST',
      body: new URLSearchParams({ a: '1' }),
    })
    expect(posted.status).toBe(201)
    expect(posted.headers.get('x-extra')).toBe('one')
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      body: 'a=1',
      type: 'application/x-www-form-urlencoded;charset=UTF-8',
    })
  })

  it('is what the HTTP client for the host goes through (the manifest conversion)', async () => {
    const http = new HttpClient('GitHub Enterprise Server', {
      fetch: fetchTrusting(own.cert),
      attempts: 1,
    })
    expect(
      await http.json(`${url}/api/v3/app-manifests/abc/conversions`, {
        method: 'POST',
        accept: [201],
      }),
    ).toEqual({ id: 42, slug: 'junction' })
    await expect(
      new HttpClient('GitHub Enterprise Server', { attempts: 1 }).json(`${url}/x`),
    ).rejects.toThrow(/could not be reached/)
  })
})

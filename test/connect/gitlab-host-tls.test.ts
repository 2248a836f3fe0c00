/**
 * A GitLab self-managed host behind HTTPS with a self-signed certificate (a TLS-terminating proxy
 * in front of the sandbox GitLab): given as the host's `VpcConfiguration.TlsCertificate`, Junction
 * trusts it for setting the host up (the Applications API) and for the connection's calls
 * (completion, listing); a host without it cannot be set up (nothing stored, still PENDING).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateHostCommand, GetHostCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testEngines } from '../helpers/engines.js'
import {
  completeGl,
  glExt,
  newGlConnection,
  repoNames,
  startGlConnect,
  stopGlConnect,
  type GlConnectFixture,
} from '../helpers/gitlab-connect.js'

function selfSigned(dir: string): { key: string; cert: string } {
  const key = join(dir, 'gl.key')
  const cert = join(dir, 'gl.pem')
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

for (const engine of testEngines()) {
  describe(`GitLab self-managed host behind HTTPS with its own certificate [${engine}]`, () => {
    let f: GlConnectFixture
    let dir: string
    let proxy: Server
    let httpsUrl: string
    let pem: string

    beforeAll(async () => {
      f = await startGlConnect(engine, { selfManaged: true })
      dir = mkdtempSync(join(tmpdir(), 'gl-tls-'))
      const own = selfSigned(dir)
      pem = own.cert
      const target = new URL(f.gl.url)
      proxy = createServer({ key: own.key, cert: own.cert }, (req, res) => {
        const up = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers)
            r.pipe(res)
          },
        )
        up.on('error', () => res.writeHead(502).end())
        req.pipe(up)
      })
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
      httpsUrl = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    }, 60_000)
    afterAll(async () => {
      await new Promise((r) => proxy?.close(r))
      await stopGlConnect(f)
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    const hostStatus = async (arn: string) =>
      (await f.sdk.send(new GetHostCommand({ HostArn: arn }))).Status
    const newHost = async (name: string, cert?: string) => {
      const arn = (
        await f.sdk.send(
          new CreateHostCommand({
            Name: name,
            ProviderType: 'GitLabSelfManaged',
            ProviderEndpoint: httpsUrl,
            ...(cert
              ? {
                  VpcConfiguration: {
                    VpcId: 'vpc-0123456789abcdef0',
                    SubnetIds: ['subnet-0123456789abcdef0'],
                    SecurityGroupIds: ['sg-0123456789abcdef0'],
                    TlsCertificate: cert,
                  },
                }
              : {}),
          }),
        )
      ).HostArn!
      // The VPC configuration settles first (the server's --vpc-init-delay).
      await vi.waitFor(async () => expect(await hostStatus(arn)).toBe('PENDING'), {
        timeout: 20_000,
        interval: 200,
      })
      return arn
    }

    it('refuses to set up a host whose certificate it was not given', async () => {
      const arn = await newHost('gl-tls-untrusted')
      const r = await glExt(f, 'SetUpHost', { HostArn: arn, AdminToken: f.gl.token('root-admin') })
      expect(r.status, r.text).toBe(400)
      expect(String(r.json['Message'])).toMatch(
        /GitLab could not be reached\. Nothing was stored; the token was not kept/,
      )
      expect(await hostStatus(arn)).toBe('PENDING')
    })

    it("trusts the host's TlsCertificate: set up, then a connection completes and lists", async () => {
      const hostArn = await newHost('gl-tls', pem)
      const r = await glExt(f, 'SetUpHost', {
        HostArn: hostArn,
        AdminToken: f.gl.token('root-admin'),
      })
      expect(r.status, r.text).toBe(200)
      expect(await hostStatus(hostArn)).toBe('AVAILABLE')
      const arn = await newGlConnection(f, { hostArn })
      const done = await completeGl(f, arn, {
        Workspace: 'acme/platform',
        AccessToken: f.gl.token('alice-api'),
      })
      expect(done.status, done.text).toBe(200)
      expect(repoNames(await glExt(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual([
        'acme/platform/api',
        'acme/platform/tools/cli',
      ])
    })
  })
}

/**
 * The signature covers the whole request: `X-Amz-Target`, `Content-Type` and every `x-amz-*`
 * header sent must be in SignedHeaders, in header and presigned authentication alike, on every
 * service of the port (connections, Junction's own operations, codepipeline, IAM and STS). Each
 * attack is performed against a real server and checked to have changed nothing.
 */
import { connect } from 'node:net'
import { expect, it } from 'vitest'
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'
import { describeApi, expectAwsError, uniqueName } from '../helpers/api.js'
import type { RawResponse } from '../helpers/client.js'

interface SendOptions {
  /** The signing name of the credential scope. */
  service: string
  target?: string
  contentType?: string
  body: string
  /** Headers sent and signed. */
  headers?: Record<string, string>
  /** Headers the signer leaves out of SignedHeaders (sent all the same). */
  unsigned?: string[]
  /** Headers added after signing, as an attacker replaying the request would. */
  added?: Record<string, string>
  presign?: boolean
  /** With `presign`: headers kept as (signed) headers instead of moved into the query string. */
  unhoisted?: string[]
  /** Replaces the signature after signing. */
  signature?: string
}

const mustBeSigned = (header: string) =>
  `'${header}' must be a 'SignedHeader' in the AWS Authorization.`

describeApi('Signed headers: the signature covers the whole request', (f) => {
  async function send(o: SendOptions): Promise<RawResponse> {
    const u = new URL(f.server.url)
    const headers: Record<string, string> = { host: u.host, ...o.headers }
    if (o.contentType !== undefined) headers['content-type'] = o.contentType
    if (o.target !== undefined) headers['x-amz-target'] = o.target
    const signer = new SignatureV4({
      service: o.service,
      region: 'us-east-1',
      credentials: f.server.credentials,
      sha256: Hash.bind(null, 'sha256'),
    })
    const request = {
      method: 'POST',
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: '/',
      headers,
      body: o.body,
    }
    const unsignableHeaders = new Set(o.unsigned ?? [])
    let sendHeaders: Record<string, string>
    let query = ''
    if (o.presign) {
      const signed = await signer.presign(request, {
        expiresIn: 300,
        unsignableHeaders,
        unhoistableHeaders: new Set(o.unhoisted ?? []),
      })
      sendHeaders = { ...(signed.headers as Record<string, string>) }
      const q = new URLSearchParams(signed.query as Record<string, string>)
      if (o.signature) q.set('X-Amz-Signature', o.signature)
      query = `?${q.toString().replace(/\+/g, '%20')}`
    } else {
      const signed = await signer.sign(request, { unsignableHeaders })
      sendHeaders = { ...(signed.headers as Record<string, string>) }
      if (o.signature)
        sendHeaders['authorization'] = sendHeaders['authorization']!.replace(
          /Signature=[0-9a-f]+/,
          `Signature=${o.signature}`,
        )
    }
    delete sendHeaders['host']
    Object.assign(sendHeaders, o.added)
    const res = await fetch(`${f.server.url}/${query}`, {
      method: 'POST',
      headers: sendHeaders,
      body: o.body,
    })
    const text = await res.text()
    let json: RawResponse['json'] = {}
    try {
      json = JSON.parse(text) as RawResponse['json']
    } catch {
      // XML (Query protocol) or empty.
    }
    return { status: res.status, headers: res.headers, json, text }
  }

  const JSON10 = 'application/x-amz-json-1.0'
  const CONNECTIONS = 'CodeConnections_20231201'

  async function newConnection(): Promise<string> {
    const res = await send({
      service: 'codeconnections',
      target: `${CONNECTIONS}.CreateConnection`,
      contentType: JSON10,
      body: JSON.stringify({ ConnectionName: uniqueName(), ProviderType: 'GitHub' }),
    })
    expect(res.status, res.text).toBe(200)
    return res.json['ConnectionArn'] as string
  }

  async function exists(arn: string): Promise<boolean> {
    const res = await send({
      service: 'codeconnections',
      target: `${CONNECTIONS}.GetConnection`,
      contentType: JSON10,
      body: JSON.stringify({ ConnectionArn: arn }),
    })
    if (res.status === 200) return true
    expect(res.json.__type).toBe('ResourceNotFoundException')
    return false
  }

  it('refuses a presigned GetConnection resent with X-Amz-Target: DeleteConnection (the attack)', async () => {
    const arn = await newConnection()
    const presigned = {
      service: 'codeconnections',
      target: `${CONNECTIONS}.GetConnection`,
      contentType: JSON10,
      body: JSON.stringify({ ConnectionArn: arn }),
      presign: true,
    }
    const attack = await send({
      ...presigned,
      added: { 'x-amz-target': `${CONNECTIONS}.DeleteConnection` },
    })
    expectAwsError(attack, 'InvalidSignatureException', 403, mustBeSigned('X-Amz-Target'))
    expect(await exists(arn)).toBe(true)
    // Used as signed, the URL works: its target travels, signed, in the query string.
    const ok = await send(presigned)
    expect(ok.status, ok.text).toBe(200)
    expect((ok.json['Connection'] as { ConnectionArn: string }).ConnectionArn).toBe(arn)
  })

  it('accepts a presigned request whose X-Amz-Target is a signed header, and refuses it changed', async () => {
    const arn = await newConnection()
    const presigned = {
      service: 'codeconnections',
      target: `${CONNECTIONS}.GetConnection`,
      contentType: JSON10,
      body: JSON.stringify({ ConnectionArn: arn }),
      presign: true,
      unhoisted: ['x-amz-target'],
    }
    expect((await send(presigned)).status).toBe(200)
    const changed = await send({
      ...presigned,
      added: { 'x-amz-target': `${CONNECTIONS}.DeleteConnection` },
    })
    expectAwsError(changed, 'InvalidSignatureException', 403, /signature we calculated/)
    expect(await exists(arn)).toBe(true)
  })

  it('refuses a header-signed request whose SignedHeaders leave out X-Amz-Target', async () => {
    const arn = await newConnection()
    const res = await send({
      service: 'codeconnections',
      target: `${CONNECTIONS}.DeleteConnection`,
      contentType: JSON10,
      body: JSON.stringify({ ConnectionArn: arn }),
      unsigned: ['x-amz-target'],
    })
    expectAwsError(res, 'InvalidSignatureException', 403, mustBeSigned('X-Amz-Target'))
    expect(await exists(arn)).toBe(true)
  })

  it('refuses an unsigned Content-Type, in the header and in presigned authentication', async () => {
    const arn = await newConnection()
    for (const presign of [false, true]) {
      const res = await send({
        service: 'codeconnections',
        target: `${CONNECTIONS}.DeleteConnection`,
        contentType: JSON10,
        body: JSON.stringify({ ConnectionArn: arn }),
        unsigned: ['content-type'],
        presign,
      })
      expectAwsError(res, 'InvalidSignatureException', 403, mustBeSigned('Content-Type'))
    }
    expect(await exists(arn)).toBe(true)
  })

  it('refuses any unsigned x-amz-* header, signed or presigned; x-amz-content-sha256 may go unsigned', async () => {
    const arn = await newConnection()
    for (const presign of [false, true]) {
      const res = await send({
        service: 'codeconnections',
        target: `${CONNECTIONS}.DeleteConnection`,
        contentType: JSON10,
        body: JSON.stringify({ ConnectionArn: arn }),
        presign,
        added: { 'X-Amz-Meta-Note': 'added later' },
      })
      expectAwsError(res, 'InvalidSignatureException', 403, mustBeSigned('x-amz-meta-note'))
    }
    expect(await exists(arn)).toBe(true)
    // A signed x-amz-* header is fine; so is an unsigned x-amz-content-sha256 and x-amzn-trace-id.
    const signed = await send({
      service: 'codeconnections',
      target: `${CONNECTIONS}.GetConnection`,
      contentType: JSON10,
      body: JSON.stringify({ ConnectionArn: arn }),
      headers: { 'x-amz-meta-note': 'signed' },
      // The signer sends the body's hash in x-amz-content-sha256: left out of SignedHeaders here.
      unsigned: ['x-amz-content-sha256'],
      added: { 'x-amzn-trace-id': 'Root=1-00000000-000000000000000000000000' },
    })
    expect(signed.status, signed.text).toBe(200)
  })

  it("refuses an unsigned target on the codestar-connections endpoint and on Junction's own operations", async () => {
    const arn = await newConnection()
    const legacy = await send({
      service: 'codestar-connections',
      target: 'CodeStar_connections_20191201.DeleteConnection',
      contentType: JSON10,
      body: JSON.stringify({ ConnectionArn: arn }),
      unsigned: ['x-amz-target'],
    })
    expectAwsError(legacy, 'InvalidSignatureException', 403, mustBeSigned('X-Amz-Target'))
    const own = await send({
      service: 'codestar-connections',
      target: 'JunctionConnections_20261128.DescribeConnection',
      contentType: JSON10,
      body: JSON.stringify({ ConnectionArn: arn }),
      unsigned: ['x-amz-target'],
    })
    expectAwsError(own, 'InvalidSignatureException', 403, mustBeSigned('X-Amz-Target'))
    expect(await exists(arn)).toBe(true)
  })

  it('refuses an unsigned target or Content-Type on codepipeline', async () => {
    for (const unsigned of ['x-amz-target', 'content-type']) {
      const res = await send({
        service: 'codepipeline',
        target: 'CodePipeline_20150709.ListPipelines',
        contentType: 'application/x-amz-json-1.1',
        body: '{}',
        unsigned: [unsigned],
      })
      expect(res.status).toBe(403)
      expect(res.json.__type).toBe('InvalidSignatureException')
      // CodePipeline names the member `message`.
      expect((res.json as Record<string, unknown>)['message']).toBe(
        mustBeSigned(unsigned === 'x-amz-target' ? 'X-Amz-Target' : 'Content-Type'),
      )
    }
    const ok = await send({
      service: 'codepipeline',
      target: 'CodePipeline_20150709.ListPipelines',
      contentType: 'application/x-amz-json-1.1',
      body: '{}',
    })
    expect(ok.status, ok.text).toBe(200)
  })

  it('refuses an unsigned Content-Type or x-amz-* header on IAM and STS (Query protocol)', async () => {
    const form = 'application/x-www-form-urlencoded; charset=utf-8'
    const name = uniqueName('u')
    const create = `Action=CreateUser&Version=2010-05-08&UserName=${name}`
    for (const o of [
      { unsigned: ['content-type'], header: 'Content-Type' },
      { added: { 'x-amz-meta-note': 'x' }, header: 'x-amz-meta-note' },
    ]) {
      const res = await send({ service: 'iam', contentType: form, body: create, ...o })
      expect(res.status, res.text).toBe(403)
      expect(res.text).toContain('<Code>SignatureDoesNotMatch</Code>')
      expect(res.text).toContain(`<Message>${mustBeSigned(o.header)}</Message>`)
    }
    const sts = await send({
      service: 'sts',
      contentType: form,
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
      unsigned: ['content-type'],
    })
    expect(sts.status).toBe(403)
    expect(sts.text).toContain('<Code>SignatureDoesNotMatch</Code>')
    // Nothing was created; signed properly, the same call works.
    const get = `Action=GetUser&Version=2010-05-08&UserName=${name}`
    const missing = await send({ service: 'iam', contentType: form, body: get })
    expect(missing.text).toContain('<Code>NoSuchEntity</Code>')
    expect((await send({ service: 'iam', contentType: form, body: create })).status).toBe(200)
  })

  it('refuses a request carrying Host, Content-Type or an x-amz-* header twice (the second unsigned)', async () => {
    const u = new URL(f.server.url)
    const body = JSON.stringify({ ConnectionArn: await newConnection() })
    const signer = new SignatureV4({
      service: 'codeconnections',
      region: 'us-east-1',
      credentials: f.server.credentials,
      sha256: Hash.bind(null, 'sha256'),
    })
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: '/',
      headers: {
        host: u.host,
        'content-type': JSON10,
        'x-amz-target': `${CONNECTIONS}.GetConnection`,
      },
      body,
    })
    /** Sends the signed request over a raw socket, with `extra` header lines after its own. */
    const raw = (extra: string[]) =>
      new Promise<string>((resolve, reject) => {
        const lines = Object.entries(signed.headers as Record<string, string>).map(
          ([k, v]) => `${k}: ${v}`,
        )
        const socket = connect(Number(u.port), u.hostname)
        let answer = ''
        socket.on('data', (d: Buffer) => (answer += d.toString()))
        socket.on('end', () => resolve(answer))
        socket.on('error', reject)
        socket.write(
          [
            'POST / HTTP/1.1',
            ...lines,
            ...extra,
            `content-length: ${Buffer.byteLength(body)}`,
            'connection: close',
            '',
            body,
          ].join('\r\n'),
        )
      })
    // The request as signed is answered.
    expect(await raw([])).toMatch(/^HTTP\/1\.1 200/)
    for (const [extra, name] of [
      ['Host: evil.example', 'Host'],
      ['Content-Type: application/json', 'Content-Type'],
    ] as const) {
      const answer = await raw([extra])
      expect(answer, extra).toMatch(/^HTTP\/1\.1 403/)
      expect(answer).toContain(`the header '${name}' more than once`)
    }
    // A second x-amz-* header is refused too (a second target or date is no longer one value).
    for (const extra of [
      'X-Amz-Target: CodeConnections_20231201.DeleteConnection',
      'X-Amz-Date: 20200101T000000Z',
    ])
      expect(await raw([extra]), extra).toMatch(/^HTTP\/1\.1 4\d\d/)
    expect(await exists(JSON.parse(body).ConnectionArn as string)).toBe(true)
  })

  it('refuses a signature of the wrong length or with non-hex characters with a 403, never a 500', async () => {
    const base = {
      service: 'codeconnections',
      target: `${CONNECTIONS}.ListConnections`,
      contentType: JSON10,
      body: '{}',
    }
    for (const signature of [
      '0'.repeat(63),
      '0'.repeat(65),
      'abc',
      'g'.repeat(64),
      `${'0'.repeat(62)}zz`,
    ]) {
      for (const presign of [false, true]) {
        const res = await send({ ...base, presign, unhoisted: ['x-amz-target'], signature })
        expectAwsError(res, 'InvalidSignatureException', 403, /signature we calculated/)
      }
    }
  })
})

/**
 * Junction wired to a seeded sandbox Bitbucket, per engine, with clients for the AWS API, for
 * Junction's own operations, and for IAM; plus the browser handshake as a user performs it.
 */
import {
  CreateConnectionCommand,
  type CodeStarConnectionsClient,
} from '@aws-sdk/client-codestar-connections'
import type { IAMClient } from '@aws-sdk/client-iam'
import { expect } from 'vitest'
import {
  seedWorld,
  startSandbox,
  startWiredJunction,
  type Sandbox,
  type World,
} from './bitbucket.js'
import { Browser, type Page } from './browser.js'
import { RawClient, sdkClient, type Credentials, type RawResponse } from './client.js'
import type { Engine } from './engines.js'
import { iamClient } from './iam.js'
import type { TestServer } from './server.js'
import type { Logger } from 'pino'
import type { ServeFlags } from '../../src/config.js'

export interface ConnectFixture {
  sb: Sandbox
  world: World
  server: TestServer
  sdk: CodeStarConnectionsClient
  raw: RawClient
  iam: IAMClient
}

export async function startConnectFixture(
  engine: Engine,
  flags: ServeFlags = {},
  opts: { logger?: Logger; clock?: () => number } = {},
): Promise<ConnectFixture> {
  const sb = await startSandbox()
  const world = await seedWorld(sb)
  const server = await startWiredJunction(engine, sb, flags, opts)
  return {
    sb,
    world,
    server,
    sdk: sdkClient(server.url, server.credentials),
    raw: new RawClient(server.url, server.credentials),
    iam: iamClient(server.url, server.credentials),
  }
}

export async function stopConnectFixture(f: ConnectFixture | undefined): Promise<void> {
  f?.sdk.destroy()
  f?.iam.destroy()
  await f?.server.stop()
  await f?.sb.stop()
}

/** Calls one of Junction's own operations. */
export function ext(
  f: ConnectFixture,
  operation: string,
  body: Record<string, unknown>,
  credentials?: Credentials,
): Promise<RawResponse> {
  return f.raw.call({
    target: `JunctionConnections_20261128.${operation}`,
    service: 'codestar-connections',
    body,
    ...(credentials ? { credentials } : {}),
  })
}

let n = 0
export async function newConnection(
  f: ConnectFixture,
  name = `bb-${++n}-${Date.now() % 100000}`,
): Promise<string> {
  const r = await f.sdk.send(
    new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: name }),
  )
  return r.ConnectionArn!
}

/** Completes a connection with acme's workspace access token. */
export async function completeWithToken(
  f: ConnectFixture,
  arn: string,
  token = f.world.acmeToken,
  workspace = 'acme',
): Promise<RawResponse> {
  return ext(f, 'CompleteConnection', {
    ConnectionArn: arn,
    Workspace: workspace,
    AccessToken: token,
  })
}

/**
 * The browser half of the handshake: starts it (as `credentials`), opens the consent page, signs
 * in as `user`, grants access and lands on Junction's choice page.
 */
export async function handshakeToChoice(
  f: ConnectFixture,
  arn: string,
  user: { username: string; password: string },
  credentials?: Credentials,
  browser = new Browser(),
): Promise<{ browser: Page; b: Browser; authorizationUrl: string }> {
  const start = await ext(f, 'StartOAuthHandshake', { ConnectionArn: arn }, credentials)
  expect(start.status, start.text).toBe(200)
  const authorizationUrl = String(start.json['AuthorizationUrl'])
  const consent = await browser.request(authorizationUrl)
  expect(consent.status).toBe(200)
  const form = consent.forms[0]!
  expect(form.options.get('decision')).toEqual(['grant', 'deny'])
  const page = await browser.submit(form, {
    username: user.username,
    password: user.password,
    decision: 'grant',
  })
  return { browser: page, b: browser, authorizationUrl }
}

/**
 * @module server/web
 * The browser side of the handshake and the archive links:
 * - `GET /oauth/<provider>/begin?t` — the link StartOAuthHandshake returns: the first browser to
 *   open it is bound to the handshake (an HttpOnly cookie per handshake) and sent on to the
 *   provider's consent; any other browser is refused;
 * - `GET /oauth/<provider>/callback?code&state` — the provider's redirect back, only in the bound
 *   browser: exchanges the code and shows the choice of installation (a real HTML form); for an
 *   app installation (GitHub: the app's setup URL, with `installation_id`) the installation is
 *   verified and the connection completed at once;
 * - `POST /oauth/<provider>/install` — the choice (CSRF-checked against the cookie) → AVAILABLE;
 * - `POST /webhooks/<id>` — a delivery to a webhook Junction registered on a repository;
 *   `POST /webhooks/<provider path>` (`/webhooks/github`) — the app-level webhook of a provider
 *   whose app gets every installation's events (connect/webhooks.ts `receiveApp`);
 * - `GET /connections/archive/<signed token>` — streams a zip through the connection;
 * - `GET /pipelines/logs/<signed token>` — an action's captured output, as plain text.
 * Plain server-rendered HTML, no scripts, nothing from outside.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { ConnectService, InstallationChoice } from '../connect/service.js'
import { AwsError } from '../errors/aws-error.js'
import { readBody } from './read-body.js'
import { esc, page as consolePage } from '../console/html.js'
import { safeNext } from '../console/sessions.js'
import type { WebhookManager } from '../connect/webhooks.js'
import { descriptorByPath, PROVIDERS } from '../providers/registry.js'

export interface WebDeps {
  connect: ConnectService
  webhooks: WebhookManager
  /** Signs the CSRF token of the install form. */
  csrfKey: Buffer
  /** Whether the public URL is https (cookies get `Secure`). */
  secure: boolean
  /** Opens a signed action-log link (`/pipelines/logs/<token>`) to its file. */
  openLog?: (token: string) => string | undefined
}

/** One cookie per handshake, so handshakes in flight side by side in one browser do not clash. */
const COOKIE = 'junction_handshake_'
/** The largest delivery a per-repository webhook takes (each adapter checks its own limit after). */
const MAX_WEBHOOK_BYTES = Math.max(
  ...PROVIDERS.filter((p) => p.webhooks === 'per-repository').map((p) => p.maxWebhookBytes),
)
const HANDSHAKE_ID = /^[A-Za-z0-9_-]{1,64}$/

/** The console's page shell (no navigation: the handshake pages act for the starter's key). */
const page = (title: string, body: string): string =>
  consolePage({ title }, `<div class="card">${body}</div>`)

function send(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self'",
    ...headers,
  })
  res.end(html)
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

/** The browser's binding cookie of a handshake ('' when it has none). */
function cookieOf(req: IncomingMessage, handshakeId: string): string {
  if (!HANDSHAKE_ID.test(handshakeId)) return ''
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === `${COOKIE}${handshakeId}`) return v.join('=')
  }
  return ''
}

function csrf(deps: WebDeps, handshakeId: string, cookie: string): string {
  return createHmac('sha256', deps.csrfKey).update(`${handshakeId}\n${cookie}`).digest('base64url')
}

function choicePage(
  deps: WebDeps,
  providerPath: string,
  /** What an installation reaches, in the provider's words (`workspace`). */
  noun: string,
  handshakeId: string,
  cookie: string,
  connectionName: string,
  c: InstallationChoice,
  returnTo?: string,
): string {
  const options: string[] = []
  for (const i of c.installations)
    options.push(
      `<label><input type="radio" name="choice" value="installation:${esc(i.id)}" required> Use the existing installation for <strong>${esc(i.targetName)}</strong> <span class="muted">(${esc(i.target)}, ${esc(i.status)})</span></label>`,
    )
  for (const t of c.targets)
    options.push(
      t.installed
        ? `<label><input type="radio" name="choice" value="target:${esc(t.slug)}" required> Re-install into ${esc(noun)} <strong>${esc(t.name)}</strong> with your authorization <span class="muted">(${esc(t.slug)}; replaces the installation's credential)</span></label>`
        : `<label><input type="radio" name="choice" value="target:${esc(t.slug)}" required> Install into ${esc(noun)} <strong>${esc(t.name)}</strong> <span class="muted">(${esc(t.slug)})</span></label>`,
    )
  const body =
    options.length === 0
      ? `<p class="error" role="alert">You administer no ${esc(noun)} and Junction has no installation for a ${esc(noun)} you belong to. Ask a ${esc(noun)} administrator to complete this connection.</p>`
      : `<form method="post" action="/oauth/${providerPath}/install">
<input type="hidden" name="handshake" value="${esc(handshakeId)}">
<input type="hidden" name="csrf" value="${esc(csrf(deps, handshakeId, cookie))}">${returnTo ? `\n<input type="hidden" name="next" value="${esc(returnTo)}">` : ''}
<fieldset><legend>Installation</legend>${options.join('\n')}</fieldset>
<button type="submit">Connect</button></form>`
  return page(
    'Choose an installation',
    `<h1>Connect <code>${esc(connectionName)}</code></h1><p>Choose the ${esc(noun)} this connection reaches. It will reach only repositories owned by that ${esc(noun)}.</p>${body}`,
  )
}

function errorPage(res: ServerResponse, err: unknown): void {
  if (!(err instanceof AwsError)) throw err
  send(
    res,
    err.statusCode,
    page(
      'Could not connect',
      `<h1>Could not connect</h1><p class="error" role="alert">${esc(err.message)}</p><p class="muted">${esc(err.code)}</p>`,
    ),
  )
}

/**
 * The end of a handshake: back into the console (only to one of its own pages, in canonical
 * form: a CR/LF here answered 500 after the connection was completed; never an open redirect),
 * or a page saying what the connection reaches. The handshake's cookie is cleared.
 */
function connected(
  res: ServerResponse,
  r: {
    connection: { name: string; status: string; arn: string }
    installation: { targetName: string; id: string }
  },
  noun: string,
  handshakeId: string,
  asked: string | undefined,
): void {
  const next = asked ? safeNext(asked) : ''
  const clear = `${COOKIE}${handshakeId}=; Path=/oauth/; HttpOnly; SameSite=Lax; Max-Age=0`
  if (next) {
    res.writeHead(303, {
      Location: `${next}${next.includes('?') ? '&' : '?'}done=connected`,
      'Set-Cookie': clear,
      'Content-Length': 0,
    })
    res.end()
    return
  }
  send(
    res,
    200,
    page(
      'Connected',
      `<h1>Connected</h1><p>Connection <code>${esc(r.connection.name)}</code> is <strong>${esc(r.connection.status)}</strong>.</p>
<p>It reaches repositories of ${esc(noun)} <strong>${esc(r.installation.targetName)}</strong> (installation <code>${esc(r.installation.id)}</code>).</p>
<p class="muted"><code>${esc(r.connection.arn)}</code></p>`,
    ),
    { 'Set-Cookie': clear },
  )
}

/** Handles the web routes; false when the path is not one of them. */
export async function handleWeb(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  deps: WebDeps,
): Promise<string | undefined> {
  const log = /^\/pipelines\/logs\/([A-Za-z0-9._~-]{1,2048})$/.exec(path)
  if (log && deps.openLog && (req.method === 'GET' || req.method === 'HEAD')) {
    const file = deps.openLog(log[1]!)
    let text: Buffer | undefined
    try {
      text = file === undefined ? undefined : readFileSync(file)
    } catch {
      text = Buffer.alloc(0) // no output yet
    }
    if (text === undefined) {
      sendJson(res, 403, {
        __type: 'AccessDeniedException',
        Message: 'The log link is not valid or has expired',
      })
      return 'action-log'
    }
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': text.length,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    })
    res.end(req.method === 'HEAD' ? undefined : text)
    return 'action-log'
  }
  const m = /^\/oauth\/([a-z]+)\/(begin|callback|install)$/.exec(path)
  const provider = m ? descriptorByPath(m[1]!) : undefined
  if (m && provider) {
    const providerType = provider.type
    try {
      if (m[2] === 'begin' && req.method === 'GET') {
        const q = new URL(req.url ?? '/', 'http://x').searchParams
        const r = await deps.connect.beginHandshake(providerType, q.get('t') ?? '', (id) =>
          cookieOf(req, id),
        )
        const headers: Record<string, string | number> = {
          Location: r.consentUrl,
          'Cache-Control': 'no-store',
          'Referrer-Policy': 'no-referrer',
          'Content-Length': 0,
        }
        if (r.cookie)
          headers['Set-Cookie'] =
            `${COOKIE}${r.handshakeId}=${r.cookie}; Path=/oauth/; HttpOnly; SameSite=Lax; Max-Age=600${deps.secure ? '; Secure' : ''}`
        res.writeHead(302, headers)
        res.end()
        return 'oauth-begin'
      }
      if (m[2] === 'callback' && req.method === 'GET') {
        const q = new URL(req.url ?? '/', 'http://x').searchParams
        if (q.get('error')) {
          send(
            res,
            400,
            page(
              'Not connected',
              `<h1>Not connected</h1><p class="error" role="alert">${esc(m[1]!)} says: ${esc((q.get('error_description') ?? q.get('error') ?? '').slice(0, 300))}</p><p>Start the handshake again to retry.</p>`,
            ),
          )
          return 'oauth-callback'
        }
        const r = await deps.connect.handshakeCallback(
          providerType,
          q.get('state') ?? '',
          q.get('code') ?? '',
          (id) => cookieOf(req, id),
          // An app installation's redirect also names what was installed (installation_id,
          // setup_action); the adapter verifies it with the provider.
          Object.fromEntries(
            [...q]
              .filter(([k, v]) => k !== 'state' && k !== 'code' && v.length <= 256)
              .slice(0, 16),
          ),
        )
        const id = r.handshake.id
        if (r.completed) {
          // An app installation the callback named, verified and recorded: nothing to choose.
          connected(res, r.completed, provider.targetNoun, id, r.returnTo)
          return 'oauth-callback'
        }
        send(
          res,
          200,
          choicePage(
            deps,
            m[1]!,
            provider.targetNoun,
            id,
            cookieOf(req, id),
            r.connectionName,
            r.choice,
            r.returnTo,
          ),
        )
        return 'oauth-callback'
      }
      if (m[2] === 'install' && req.method === 'POST') {
        const body = await readBody(req, 64 * 1024)
        const form = new URLSearchParams(body.tooLarge ? '' : body.data.toString('utf8'))
        const handshake = form.get('handshake') ?? ''
        const cookie = cookieOf(req, handshake)
        const given = Buffer.from(form.get('csrf') ?? '')
        const expected = Buffer.from(csrf(deps, handshake, cookie))
        if (!cookie || given.length !== expected.length || !timingSafeEqual(given, expected)) {
          send(
            res,
            403,
            page(
              'Refused',
              '<h1>Refused</h1><p class="error" role="alert">The form did not come from this browser session (CSRF check failed). Start the handshake again.</p>',
            ),
          )
          return 'oauth-install'
        }
        const choice = form.get('choice') ?? ''
        const picked = choice.startsWith('installation:')
          ? { installationId: choice.slice('installation:'.length) }
          : { target: choice.startsWith('target:') ? choice.slice('target:'.length) : '' }
        const r = await deps.connect.finishHandshake(handshake, cookie, picked)
        connected(res, r, provider.targetNoun, handshake, form.get('next') ?? undefined)
        return 'oauth-install'
      }
      res.setHeader('Allow', m[2] === 'install' ? 'POST' : 'GET')
      send(res, 405, page('Method not allowed', '<h1>Method not allowed</h1>'))
      return 'oauth'
    } catch (err) {
      errorPage(res, err)
      return 'oauth'
    }
  }
  // `/webhooks/<id>`, `/webhooks/<app path>`, or `/webhooks/<app path>/<host-id>` (a host's app).
  const w = /^\/webhooks\/([^/]{1,100})(?:\/([A-Za-z0-9_-]{1,100}))?$/.exec(path)
  if (w) {
    if (req.method !== 'POST') {
      sendJson(
        res,
        405,
        { status: 'rejected', reason: 'Webhooks are delivered with POST' },
        { Allow: 'POST' },
      )
      return 'webhook'
    }
    // `/webhooks/<path>` of a provider with one app-level webhook (GitHub Apps), else the id of
    // a webhook Junction registered on a repository.
    const app = PROVIDERS.find((p) => p.webhooks === 'app' && p.path === w[1])
    if (w[2] !== undefined && !app) {
      sendJson(res, 404, { status: 'rejected', reason: 'No such webhook' })
      return 'webhook'
    }
    const cap = app ? app.maxWebhookBytes : MAX_WEBHOOK_BYTES
    const body = await readBody(req, cap)
    if (body.tooLarge) {
      sendJson(
        res,
        413,
        { status: 'rejected', reason: `The delivery exceeds ${cap} bytes` },
        { Connection: 'close' },
      )
      return 'webhook'
    }
    const raw = { headers: req.headers, body: body.data }
    const r = app
      ? await deps.webhooks.receiveApp(app.type, raw, w[2])
      : await deps.webhooks.receive(w[1]!, raw)
    sendJson(res, r.status, {
      status: r.outcome,
      ...('reason' in r && r.reason ? { reason: r.reason } : {}),
    })
    return 'webhook'
  }
  const a = /^\/connections\/archive\/([A-Za-z0-9_.-]{10,4000})$/.exec(path)
  if (a && (req.method === 'GET' || req.method === 'HEAD')) {
    try {
      const { stream, fileName } = await deps.connect.openArchive(a[1]!)
      res.writeHead(200, {
        'Content-Type': 'application/zip',
        'Content-Disposition': `attachment; filename="${fileName}"`,
        'Cache-Control': 'no-store',
      })
      if (req.method === 'HEAD') {
        await stream.cancel()
        res.end()
      } else {
        const body = Readable.fromWeb(stream as WebReadableStream<Uint8Array>)
        await new Promise<void>((resolve) => {
          body.on('error', () => {
            res.destroy()
            resolve()
          })
          res.on('close', resolve)
          body.pipe(res)
        })
      }
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      const text = JSON.stringify({ __type: err.code, Message: err.message })
      res.writeHead(err.statusCode, {
        'Content-Type': 'application/json',
        'X-Amzn-ErrorType': err.code,
        'Content-Length': Buffer.byteLength(text),
      })
      res.end(text)
    }
    return 'archive'
  }
  return undefined
}

/**
 * @module console/settings
 * The console's settings: each provider's application (from its descriptor), shown without its
 * secret, and changed only by the account root; and Junction's GitHub App, created in one click
 * with GitHub's manifest flow (connect/github-manifest).
 */
import type { ServerResponse } from 'node:http'
import { AwsError } from '../errors/aws-error.js'
import { AccessDeniedException, InvalidInputException } from '../generated/errors.js'
import { SUPPORTED_PROVIDERS } from '../providers/registry.js'
import { copyable, esc, hidden, page } from './html.js'
import { label, redirect, send, type ConsoleKit, type Session } from './kit.js'

export class SettingsPages {
  constructor(private readonly k: ConsoleKit) {}

  settings(res: ServerResponse, s: Session, u: URL) {
    const rows = this.k.d
      .providerApps()
      .map(
        (a) => `<div class="card"><h2>${esc(a.label)}</h2><dl>
<dt>Status</dt><dd>${a.clientId && a.secretSet ? '<span class="badge AVAILABLE">Configured</span>' : '<span class="badge PENDING">Not configured</span>'} <span class="muted">${a.source === 'console' ? '(set here)' : a.source === 'flags' ? '(from junction serve flags or environment)' : ''}</span></dd>
<dt>Provider endpoint</dt><dd><code>${esc(a.endpoint)}</code></dd>
<dt>Callback URL</dt><dd>${copyable(a.callbackUrl)}<br><span class="muted">Paste it into the provider's OAuth consumer settings.</span></dd></dl>
<form method="post" action="/console/settings/app">${hidden('csrf', s.csrf)}${hidden('providerType', a.providerType)}
<label for="clientId-${esc(a.providerType)}">${esc(a.idLabel)}</label><input type="text" id="clientId-${esc(a.providerType)}" name="clientId" value="${esc(a.clientId ?? '')}" autocomplete="off" required>
<label for="clientSecret-${esc(a.providerType)}">Secret <span class="muted">(write-only: ${a.secretSet ? 'a secret is set and never shown; leave empty to keep it' : 'not set yet'})</span></label><input type="password" id="clientSecret-${esc(a.providerType)}" name="clientSecret" value="" autocomplete="new-password">
<div class="actions"><button type="submit" class="secondary">Save</button></div></form></div>`,
      )
      .join('')
    send(
      res,
      200,
      page(
        this.k.shell(s, 'Settings', 'settings', this.k.flashOf(u)),
        `<h1>Settings</h1><h2 class="muted" style="font-size:1rem">Provider applications</h2>${this.#githubApp(s)}${rows}`,
      ),
    )
  }

  /** Junction's GitHub App: what is configured (never a secret) and the one-click creation. */
  #githubApp(s: Session): string {
    if (!this.k.d.githubApps) return ''
    const a = this.k.d.apps.info('GitHub')
    const status = a.appId
      ? `<span class="badge AVAILABLE">Configured</span> <span class="muted">${a.source === 'console' ? '(created or set here)' : '(from junction serve flags or environment)'}</span>`
      : '<span class="badge PENDING">Not configured</span>'
    const form = s.principal.isRoot
      ? `<form method="post" action="/console/settings/github-app">${hidden('csrf', s.csrf)}
<label for="github-org">Organization <span class="muted">(optional: owned by this GitHub organization instead of your user)</span></label><input type="text" id="github-org" name="organization" value="" autocomplete="off" maxlength="39">
<label for="github-name">App name <span class="muted">(optional, unique on GitHub, at most 34 characters)</span></label><input type="text" id="github-name" name="name" value="" autocomplete="off" maxlength="34">
<div class="actions"><button type="submit" id="create-github-app">${a.appId ? 'Create a new GitHub App' : 'Create GitHub App'}</button></div></form>`
      : '<p class="muted">Only the account root creates the GitHub App.</p>'
    return `<div class="card" id="github-app"><h2>GitHub App</h2><dl>
<dt>Status</dt><dd>${status}</dd>
${a.appId ? `<dt>App</dt><dd><code>${esc(a.slug ?? '')}</code> <span class="muted">(app id ${esc(a.appId)}; private key ${a.privateKeySet ? 'set' : 'missing'}, webhook secret ${a.webhookSecretSet ? 'set' : 'missing'}, never shown)</span></dd>` : ''}
</dl><p>Junction registers its app on GitHub from a manifest: the minimum permissions (contents, metadata and pull requests read), push and pull_request events, its webhook and callback URLs under the public URL. GitHub asks you to confirm; the app's private key and secrets are stored sealed.</p>${form}</div>`
  }

  /** Starts GitHub's manifest flow in this browser (root only; the flow checks it too). */
  async createGitHubApp(res: ServerResponse, s: Session, form: URLSearchParams) {
    const back = (text: string) =>
      redirect(res, `/console/settings?${this.k.flashParam('bad', text)}`)
    if (!this.k.d.githubApps) return back('This server does not register GitHub Apps.')
    const org = (form.get('organization') ?? '').trim()
    const name = (form.get('name') ?? '').trim()
    try {
      const r = await this.k.d.githubApps.start(s.principal, {
        ...(org ? { organization: org } : {}),
        ...(name ? { name } : {}),
      })
      return redirect(res, r.Url)
    } catch (err) {
      if (!(err instanceof AwsError) || err instanceof AccessDeniedException) throw err
      return back(err.message)
    }
  }

  async saveApp(res: ServerResponse, s: Session, form: URLSearchParams) {
    const type = form.get('providerType') ?? ''
    const back = (kind: 'ok' | 'bad', text: string) =>
      redirect(res, `/console/settings?${this.k.flashParam(kind, text)}`)
    if (!s.principal.isRoot)
      throw new AccessDeniedException(
        `User: ${s.principal.arn} is not authorized to change provider applications: only the account root (the operator) manages them`,
      )
    if (!SUPPORTED_PROVIDERS.includes(type))
      throw new InvalidInputException(`No provider application for ${type}`)
    const clientId = (form.get('clientId') ?? '').trim()
    if (!/^[\x21-\x7e]{1,256}$/.test(clientId))
      return back('bad', 'The consumer key must be 1–256 visible characters.')
    const secret = form.get('clientSecret') ?? ''
    if (secret.length > 1024) return back('bad', 'The secret is too long.')
    try {
      await this.k.d.apps.set(type, clientId, secret, s.principal.arn, this.k.d.api.context.now())
    } catch (err) {
      return back('bad', (err as Error).message)
    }
    return back('ok', `${label(type)} application saved.`)
  }
}

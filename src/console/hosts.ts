/**
 * @module console/hosts
 * The console's host pages: the list, the create form (with an optional VPC configuration), a
 * host's detail, and its actions (update the endpoint, delete, and "Set up host": a GitHub
 * Enterprise Server registers Junction's GitHub App from a manifest, connect/github-manifest).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AwsError } from '../errors/aws-error.js'
import { hostSetupOf } from '../providers/registry.js'
import { badge, copyable, esc, hidden, page } from './html.js'
import { HOST_PROVIDERS, label, redirect, send, type ConsoleKit, type Session } from './kit.js'

export class HostPages {
  constructor(private readonly k: ConsoleKit) {}

  async hosts(req: IncomingMessage, res: ServerResponse, s: Session, u: URL) {
    type H = {
      HostArn: string
      Name: string
      ProviderType: string
      ProviderEndpoint: string
      Status: string
    }
    const all: H[] = []
    let token: string | undefined
    for (let i = 0; i < 50; i++) {
      const r = await this.k.invoke<{ Hosts: H[]; NextToken?: string }>(req, s, 'ListHosts', {
        MaxResults: 100,
        ...(token ? { NextToken: token } : {}),
      })
      all.push(...r.Hosts)
      token = r.NextToken
      if (!token) break
    }
    const body = all.length
      ? `<table class="list"><thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Endpoint</th><th scope="col">Status</th></tr></thead><tbody>${all
          .map(
            (h) =>
              `<tr><td data-label="Name"><a href="/console/host?arn=${encodeURIComponent(h.HostArn)}">${esc(h.Name)}</a></td><td data-label="Provider">${esc(label(h.ProviderType))}</td><td data-label="Endpoint"><code>${esc(h.ProviderEndpoint)}</code></td><td data-label="Status">${badge(h.Status)}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : `<div class="card"><p>A <strong>host</strong> is a self-managed provider installation (GitHub Enterprise Server, GitLab self-managed) that connections reach through its endpoint, optionally inside a VPC.</p></div>`
    send(
      res,
      200,
      page(
        this.k.shell(s, 'Hosts', 'hosts', this.k.flashOf(u)),
        `<h1>Hosts</h1><div class="actions"><a class="button" href="/console/hosts/new">Create host</a></div>${body}`,
      ),
    )
  }

  newHost(
    res: ServerResponse,
    s: Session,
    v: { values?: Record<string, string>; errors?: Record<string, string> },
    status = 200,
  ) {
    const err = (k: string) =>
      v.errors?.[k]
        ? `<p class="field-error" id="${k}-error" role="alert">${esc(v.errors[k])}</p>`
        : ''
    const invalid = (k: string) =>
      v.errors?.[k] ? ` aria-invalid="true" aria-describedby="${k}-error"` : ''
    const field = (k: string, text: string, type = 'text', extra = '') =>
      `<label for="${k}">${text}</label><input type="${type}" id="${k}" name="${k}" value="${esc(v.values?.[k] ?? '')}"${extra}${invalid(k)}>${err(k)}`
    send(
      res,
      status,
      page(
        this.k.shell(s, 'Create host', 'hosts'),
        `<h1>Create a host</h1><div class="card"><form method="post" action="/console/hosts/new">${hidden('csrf', s.csrf)}
${field('name', 'Host name', 'text', ' maxlength="64" required')}
<label for="providerType">Provider</label><select id="providerType" name="providerType">${HOST_PROVIDERS.map((p) => `<option value="${p}"${v.values?.['providerType'] === p ? ' selected' : ''}>${esc(label(p))}</option>`).join('')}</select>
${field('endpoint', 'Provider endpoint (https URL)', 'url', ' required')}
<fieldset><legend>VPC (optional)</legend>
${field('vpcId', 'VPC ID')}${field('subnetIds', 'Subnet IDs (comma-separated)')}${field('securityGroupIds', 'Security group IDs (comma-separated)')}${field('tlsCertificate', 'TLS certificate (PEM, optional)')}
</fieldset>${err('form')}
<div class="actions"><button type="submit">Create host</button><a href="/console/hosts">Cancel</a></div></form></div>`,
      ),
    )
  }

  #vpc(form: URLSearchParams): Record<string, unknown> | undefined {
    const vpcId = (form.get('vpcId') ?? '').trim()
    if (!vpcId) return undefined
    const list = (k: string) =>
      (form.get(k) ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    const v: Record<string, unknown> = {
      VpcId: vpcId,
      SubnetIds: list('subnetIds'),
      SecurityGroupIds: list('securityGroupIds'),
    }
    const tls = (form.get('tlsCertificate') ?? '').trim()
    if (tls) v['TlsCertificate'] = tls
    return v
  }

  async createHost(req: IncomingMessage, res: ServerResponse, s: Session, form: URLSearchParams) {
    const v = Object.fromEntries(
      [
        'name',
        'providerType',
        'endpoint',
        'vpcId',
        'subnetIds',
        'securityGroupIds',
        'tlsCertificate',
      ].map((k) => [k, form.get(k) ?? '']),
    )
    try {
      const vpc = this.#vpc(form)
      const r = await this.k.invoke<{ HostArn: string }>(req, s, 'CreateHost', {
        Name: v['name'],
        ProviderType: v['providerType'],
        ProviderEndpoint: v['endpoint'],
        ...(vpc ? { VpcConfiguration: vpc } : {}),
      })
      redirect(
        res,
        `/console/host?arn=${encodeURIComponent(r.HostArn)}&${this.k.flashParam('ok', 'Host created.')}`,
      )
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      const m = err.message
      const key = /name/i.test(m)
        ? 'name'
        : /endpoint/i.test(m)
          ? 'endpoint'
          : /vpc|subnet|security|tls/i.test(m)
            ? 'vpcId'
            : 'form'
      this.newHost(res, s, { values: v, errors: { [key]: m } }, err.statusCode)
    }
  }

  async host(req: IncomingMessage, res: ServerResponse, s: Session, u: URL) {
    const arn = u.searchParams.get('arn') ?? ''
    const h = await this.k.invoke<{
      Name: string
      Status: string
      ProviderType: string
      ProviderEndpoint: string
      VpcConfiguration?: { VpcId: string; SubnetIds: string[]; SecurityGroupIds: string[] }
    }>(req, s, 'GetHost', { HostArn: arn })
    const action = (name: string, inner: string) =>
      `<form method="post" action="/console/host/${name}">${hidden('csrf', s.csrf)}${hidden('arn', arn)}${inner}</form>`
    const body = `<h1>${esc(h.Name)} ${badge(h.Status)}</h1><div class="card"><dl>
<dt>ARN</dt><dd>${copyable(arn)}</dd><dt>Provider</dt><dd>${esc(label(h.ProviderType))}</dd><dt>Endpoint</dt><dd><code>${esc(h.ProviderEndpoint)}</code></dd><dt>Status</dt><dd>${badge(h.Status)}</dd>
<dt>VPC</dt><dd>${h.VpcConfiguration ? `${esc(h.VpcConfiguration.VpcId)} <span class="muted">(subnets ${esc(h.VpcConfiguration.SubnetIds.join(', '))}; security groups ${esc(h.VpcConfiguration.SecurityGroupIds.join(', '))})</span>` : '<span class="muted">none</span>'}</dd></dl></div>
${this.#setup(s, arn, h)}<h2>Update endpoint</h2><div class="card">${action('update', `<label for="endpoint">Provider endpoint</label><input type="url" id="endpoint" name="endpoint" value="${esc(h.ProviderEndpoint)}" required><div class="actions"><button type="submit" class="secondary">Update host</button></div>`)}</div>
<h2>Delete</h2><div class="card">${action('delete', `<p>A host cannot be deleted while connections use it. Type <strong>delete</strong> to confirm.</p><label for="confirm">Confirmation</label><input type="text" id="confirm" name="confirm" autocomplete="off" data-confirm="delete"><div class="actions"><button type="submit" class="danger">Delete host</button></div>`)}</div>`
    send(res, 200, page(this.k.shell(s, h.Name, 'hosts', this.k.flashOf(u)), body))
  }

  /**
   * "Set up host": a GitHub Enterprise Server registers Junction's GitHub App from a manifest; a
   * GitLab self-managed server gets Junction's OAuth application from an administrator's token,
   * used once and not kept (connect/host-setup.ts).
   */
  #setup(
    s: Session,
    arn: string,
    h: { Status: string; ProviderType: string; ProviderEndpoint: string },
  ): string {
    const byToken = hostSetupOf(h.ProviderType)
    if (!byToken && (h.ProviderType !== 'GitHubEnterpriseServer' || !this.k.d.githubApps)) return ''
    const a = this.k.d.apps.hostInfo(arn)
    const settling = h.Status.startsWith('VPC_CONFIG_') ? ' disabled' : ''
    const again = a.clientId || a.appId ? 'Set up host again' : 'Set up host'
    const app = a.appId
      ? `<p>GitHub App <code>${esc(a.slug ?? '')}</code> <span class="muted">(app id ${esc(a.appId)}; its private key and secrets are sealed and never shown)</span>.</p>`
      : a.clientId
        ? `<p>OAuth application <code>${esc(a.clientId)}</code> <span class="muted">(its secret is sealed and never shown)</span>.</p>`
        : ''
    const fields = byToken
      ? `<label for="setup-token">${esc(byToken.tokenNoun)} <span class="muted">(${esc(byToken.tokenScopes)}; used once, never stored)</span></label><input type="password" id="setup-token" name="token" value="" autocomplete="off" required maxlength="1024">`
      : `<label for="setup-org">Organization on the server <span class="muted">(optional)</span></label><input type="text" id="setup-org" name="organization" value="" autocomplete="off" maxlength="39">`
    const form = s.principal.isRoot
      ? `<form method="post" action="/console/host/setup">${hidden('csrf', s.csrf)}${hidden('arn', arn)}
${fields}
<div class="actions"><button type="submit" id="setup-host"${settling}>${again}</button></div></form>`
      : '<p class="muted">Only the account root sets up hosts.</p>'
    const create =
      h.Status === 'AVAILABLE'
        ? `<p><a class="button secondary" href="/console/connections/new?provider=${encodeURIComponent(h.ProviderType)}&amp;host=${encodeURIComponent(arn)}">Create a connection on this host</a></p>`
        : ''
    const what = byToken
      ? `<p>Junction registers its OAuth application on <code>${esc(h.ProviderEndpoint)}</code> with an administrator's token: the token is sent to the server once and then dropped; only the application's id and secret are kept, sealed. The host is then AVAILABLE and connections on it can complete.</p>`
      : `<p>Junction registers its GitHub App on <code>${esc(h.ProviderEndpoint)}</code> from a manifest (contents, metadata and pull requests read; push and pull_request events). Once the server sends you back, the host is AVAILABLE and connections on it can complete.</p>`
    return `<h2>Set up host</h2><div class="card" id="host-setup">${app}${create}${what}${form}</div>`
  }

  /**
   * Sets the host up (root only; the flows check it too): with the administrator's token at once
   * (GitLab), or by starting the manifest flow against the host's server (GitHub Enterprise Server).
   */
  async setupHost(res: ServerResponse, s: Session, form: URLSearchParams) {
    const arn = form.get('arn') ?? ''
    const token = form.get('token')
    if (token !== null) {
      const back = (kind: 'ok' | 'bad', text: string) =>
        `/console/host?arn=${encodeURIComponent(arn)}&${this.k.flashParam(kind, text)}`
      if (!this.k.d.hostSetup)
        throw new AwsError('InvalidInputException', 'This server does not set up hosts', 400)
      try {
        await this.k.d.hostSetup.setUp(s.principal, arn, token)
        return redirect(
          res,
          back(
            'ok',
            'Host set up: Junction registered its OAuth application; the token was not kept.',
          ),
        )
      } catch (err) {
        if (!(err instanceof AwsError) || err.code === 'AccessDeniedException') throw err
        return redirect(res, back('bad', err.message))
      }
    }
    const org = (form.get('organization') ?? '').trim()
    if (!this.k.d.githubApps)
      throw new AwsError('InvalidInputException', 'This server does not register GitHub Apps', 400)
    try {
      const r = await this.k.d.githubApps.start(s.principal, {
        hostArn: arn,
        ...(org ? { organization: org } : {}),
      })
      return redirect(res, r.Url)
    } catch (err) {
      if (!(err instanceof AwsError) || err.code === 'AccessDeniedException') throw err
      return redirect(
        res,
        `/console/host?arn=${encodeURIComponent(arn)}&${this.k.flashParam('bad', err.message)}`,
      )
    }
  }

  async hostAction(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    action: string,
    form: URLSearchParams,
  ) {
    const arn = form.get('arn') ?? ''
    const back = (kind: 'ok' | 'bad', text: string) =>
      `/console/host?arn=${encodeURIComponent(arn)}&${this.k.flashParam(kind, text)}`
    try {
      if (action === 'update') {
        await this.k.invoke(req, s, 'UpdateHost', {
          HostArn: arn,
          ProviderEndpoint: form.get('endpoint') ?? '',
        })
        return redirect(res, back('ok', 'Host updated.'))
      }
      if (form.get('confirm') !== 'delete')
        return redirect(
          res,
          back('bad', 'Type delete to confirm the deletion. Nothing was deleted.'),
        )
      await this.k.invoke(req, s, 'DeleteHost', { HostArn: arn })
      return redirect(res, `/console/hosts?${this.k.flashParam('ok', 'Host deleted.')}`)
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      return redirect(res, back('bad', err.message))
    }
  }
}

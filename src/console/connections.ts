/**
 * @module console/connections
 * The console's connection pages: the list (filter by provider or host, search, pages), the
 * create form that goes straight into the provider's handshake, a connection's detail with its
 * installation, tags and recent use (the audit trail), and its actions (authorize again, tag,
 * untag, delete).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AwsError } from '../errors/aws-error.js'
import { SUPPORTED_PROVIDERS } from '../providers/registry.js'
import { badge, copyable, esc, hidden, page, type Shell } from './html.js'
import { recentUseCard } from './recent-use.js'
import {
  HOST_PROVIDERS,
  label,
  PAGE_SIZE,
  parseTags,
  PROVIDERS,
  redirect,
  send,
  type ConsoleKit,
  type Session,
} from './kit.js'

/**
 * Provider types the wizard offers: those with an adapter, and a self-managed server's type
 * (through a host) when its cloud provider's adapter serves it (GitHub Enterprise Server: GitHub's).
 */
const ON_HOST_OF: Record<string, string> = {
  GitHubEnterpriseServer: 'GitHub',
  GitLabSelfManaged: 'GitLab',
}
export const canCreate = (type: string) =>
  SUPPORTED_PROVIDERS.includes(type) ||
  (ON_HOST_OF[type] !== undefined && SUPPORTED_PROVIDERS.includes(ON_HOST_OF[type]))

export class ConnectionPages {
  constructor(private readonly k: ConsoleKit) {}

  async connections(req: IncomingMessage, res: ServerResponse, s: Session, u: URL) {
    const provider = u.searchParams.get('provider') ?? ''
    const host = u.searchParams.get('host') ?? ''
    const q = (u.searchParams.get('q') ?? '').trim()
    const pageNo = Math.max(1, Number.parseInt(u.searchParams.get('page') ?? '1', 10) || 1)
    const filter: Record<string, unknown> = {}
    if (PROVIDERS.some((p) => p.type === provider)) filter['ProviderTypeFilter'] = provider
    if (host.startsWith('arn:')) filter['HostArnFilter'] = host
    type C = {
      ConnectionName: string
      ConnectionArn: string
      ProviderType: string
      ConnectionStatus: string
      OwnerAccountId: string
      HostArn?: string
    }
    const all: C[] = []
    let token: string | undefined
    for (let i = 0; i < 100; i++) {
      const r = await this.k.invoke<{ Connections: C[]; NextToken?: string }>(
        req,
        s,
        'ListConnections',
        { ...filter, MaxResults: 100, ...(token ? { NextToken: token } : {}) },
      )
      all.push(...r.Connections)
      token = r.NextToken
      if (!token) break
    }
    let hosts: { HostArn: string; Name: string }[] = []
    try {
      hosts = (
        await this.k.invoke<{ Hosts: { HostArn: string; Name: string }[] }>(req, s, 'ListHosts', {
          MaxResults: 100,
        })
      ).Hosts
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
    }
    const matching = q
      ? all.filter((c) => c.ConnectionName.toLowerCase().includes(q.toLowerCase()))
      : all
    const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE))
    const shown = matching.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE)
    const opt = (v: string, text: string, cur: string) =>
      `<option value="${esc(v)}"${v === cur ? ' selected' : ''}>${esc(text)}</option>`
    const filters = `<form class="filters" method="get" action="/console" role="search">
<div><label for="q">Search by name</label><input type="search" id="q" name="q" value="${esc(q)}"></div>
<div><label for="provider">Provider</label><select id="provider" name="provider">${opt('', 'All providers', provider)}${PROVIDERS.map((p) => opt(p.type, p.label, provider)).join('')}</select></div>
<div><label for="host">Host</label><select id="host" name="host">${opt('', 'Any host', host)}${hosts.map((h) => opt(h.HostArn, h.Name, host)).join('')}</select></div>
<div><button type="submit" class="secondary">Apply</button></div></form>`
    const link = (p: number) => {
      const x = new URLSearchParams(u.searchParams)
      x.set('page', String(p))
      x.delete('m')
      x.delete('done')
      return `/console?${x.toString()}`
    }
    let body: string
    if (all.length === 0 && !filter['ProviderTypeFilter'] && !filter['HostArnFilter']) {
      body = `<div class="card"><h2>No connections yet</h2><p>A <strong>connection</strong> holds the right to reach a Git provider — a Bitbucket workspace, a GitHub organization — so that pipelines can fetch source and be triggered by code changes. It starts <em>PENDING</em>; you complete it by authorizing the provider and choosing what it reaches, and it becomes <em>AVAILABLE</em>.</p><p><a class="button" href="/console/connections/new">Create a connection</a></p></div>`
    } else if (matching.length === 0) {
      body = `${filters}<p>No connection matches these filters.</p>`
    } else {
      body = `${filters}<table class="list"><caption class="muted" style="text-align:left">${matching.length} connection${matching.length === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Status</th><th scope="col">ARN</th><th scope="col">Account</th></tr></thead><tbody>
${shown
  .map(
    (c) =>
      `<tr><td data-label="Name"><a href="/console/connection?arn=${encodeURIComponent(c.ConnectionArn)}">${esc(c.ConnectionName)}</a></td><td data-label="Provider">${esc(label(c.ProviderType))}</td><td data-label="Status">${badge(c.ConnectionStatus)}</td><td data-label="ARN">${copyable(c.ConnectionArn)}</td><td data-label="Account">${esc(c.OwnerAccountId)}</td></tr>`,
  )
  .join('\n')}</tbody></table>
${pages > 1 ? `<nav class="pager" aria-label="Pages">${pageNo > 1 ? `<a href="${esc(link(pageNo - 1))}" rel="prev">Previous</a>` : ''}<span>Page ${pageNo} of ${pages}</span>${pageNo < pages ? `<a href="${esc(link(pageNo + 1))}" rel="next">Next</a>` : ''}</nav>` : ''}`
    }
    const flash = this.k.flashOf(u)
    send(
      res,
      200,
      page(
        this.k.shell(s, 'Connections', 'connections', flash),
        `<h1>Connections</h1><div class="actions"><a class="button" href="/console/connections/new">Create connection</a></div>${body}`,
      ),
    )
  }

  /** AVAILABLE hosts of a provider type (the wizard offers them), and whether any exist at all. */
  async #hostsOf(req: IncomingMessage, s: Session, type: string) {
    type H = { HostArn: string; Name: string; ProviderType: string; Status: string }
    const all: H[] = []
    let token: string | undefined
    try {
      for (let i = 0; i < 50; i++) {
        const r = await this.k.invoke<{ Hosts: H[]; NextToken?: string }>(req, s, 'ListHosts', {
          MaxResults: 100,
          ...(token ? { NextToken: token } : {}),
        })
        all.push(...r.Hosts)
        token = r.NextToken
        if (!token) break
      }
    } catch (err) {
      // A user who may not list hosts still creates cloud connections.
      if (!(err instanceof AwsError)) throw err
      return { available: [], pending: [], denied: true }
    }
    const ofType = all.filter((h) => h.ProviderType === type)
    return {
      available: ofType.filter((h) => h.Status === 'AVAILABLE'),
      pending: ofType.filter((h) => h.Status !== 'AVAILABLE'),
      denied: false,
    }
  }

  async newConnection(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    v: {
      provider?: string
      name?: string
      tags?: string
      hostArn?: string
      errors?: Record<string, string>
      flash?: Shell['flash']
    },
    status = 200,
  ) {
    const err = (k: string) =>
      v.errors?.[k]
        ? `<p class="field-error" id="${k}-error" role="alert">${esc(v.errors[k])}</p>`
        : ''
    const invalid = (k: string) =>
      v.errors?.[k] ? ` aria-invalid="true" aria-describedby="${k}-error"` : ''
    const chosen = v.provider ?? SUPPORTED_PROVIDERS[0]
    const options = PROVIDERS.map((p) => {
      const available = canCreate(p.type)
      const onHost =
        HOST_PROVIDERS.includes(p.type) && available
          ? ' <span class="muted">(on a host)</span>'
          : ''
      return `<label style="font-weight:400"><input type="radio" name="provider" value="${esc(p.type)}"${p.type === chosen && available ? ' checked' : ''}${available ? '' : ' disabled'}> ${esc(p.label)}${onHost}${available ? '' : ' <span class="muted">(not available yet)</span>'}</label>`
    }).join('\n')
    const hosted = PROVIDERS.filter((p) => HOST_PROVIDERS.includes(p.type) && canCreate(p.type))
    let hostField = ''
    for (const [i, p] of hosted.entries()) {
      const h = await this.#hostsOf(req, s, p.type)
      // One host field per hosted provider (GitHub Enterprise Server, GitLab self-managed): the
      // first keeps the plain ids, the others' are suffixed; every select is named hostArn and
      // the chosen provider's own host is picked from them (createConnection).
      const id = (k: string) => (i === 0 ? k : `${k}-${p.type}`)
      const fieldErr =
        v.provider === p.type || (!hosted.some((q) => q.type === v.provider) && i === 0)
          ? err('hostArn')
          : ''
      const setup = h.pending.length
        ? h.pending
            .map(
              (x) =>
                `<a href="/console/host?arn=${encodeURIComponent(x.HostArn)}#host-setup">Set up host ${esc(x.Name)}</a> <span class="muted">(${esc(x.Status)})</span>`,
            )
            .join(', ')
        : `<a href="/console/hosts/new">Set up host</a> <span class="muted">(create one, then set it up)</span>`
      const choices = h.available
        .map(
          (x) =>
            `<option value="${esc(x.HostArn)}"${x.HostArn === v.hostArn ? ' selected' : ''}>${esc(x.Name)}</option>`,
        )
        .join('')
      hostField += h.available.length
        ? `<label for="${id('hostArn')}">Host <span class="muted">(${esc(p.label)} only)</span></label><select id="${id('hostArn')}" name="hostArn"${fieldErr ? invalid('hostArn') : ''}>${choices}</select>
<p class="muted">An AVAILABLE host. Another one: ${setup}.</p>${fieldErr}`
        : `<p id="${id('no-host')}">${esc(p.label)} connections need an AVAILABLE host${h.denied ? ' (you may not list hosts)' : ''}: ${setup}.</p>${fieldErr}`
    }
    send(
      res,
      status,
      page(
        this.k.shell(s, 'Create connection', 'connections', v.flash),
        `<h1>Create a connection</h1><div class="card"><form method="post" action="/console/connections/new">${hidden('csrf', s.csrf)}
<fieldset><legend>Provider</legend>${options}${err('provider')}</fieldset>
${hostField}
<label for="name">Connection name</label><input type="text" id="name" name="name" value="${esc(v.name ?? '')}" maxlength="32" required${invalid('name')}>
<p class="muted">1–32 characters, unique in the account.</p>${err('name')}
<label for="tags">Tags <span class="muted">(optional, one <code>key=value</code> per line)</span></label><textarea id="tags" name="tags"${invalid('tags')}>${esc(v.tags ?? '')}</textarea>${err('tags')}
<div class="actions"><button type="submit">Create and connect</button><a href="/console">Cancel</a></div>
</form></div>`,
      ),
    )
  }

  async createConnection(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    form: URLSearchParams,
  ) {
    const provider = form.get('provider') ?? ''
    const name = form.get('name') ?? ''
    const tagsText = form.get('tags') ?? ''
    const onHost = HOST_PROVIDERS.includes(provider)
    // The wizard has a host select per hosted provider, all named hostArn: the chosen provider's
    // is the one naming a host of that type (checked below against the AVAILABLE ones).
    const hostArns = onHost ? form.getAll('hostArn') : []
    let hostArn = hostArns[0] ?? ''
    const v = { provider, name, tags: tagsText, ...(hostArn ? { hostArn } : {}) }
    if (!canCreate(provider))
      return this.newConnection(
        req,
        res,
        s,
        { ...v, errors: { provider: 'Choose a provider Junction can connect to.' } },
        400,
      )
    if (onHost) {
      const h = await this.#hostsOf(req, s, provider)
      hostArn = hostArns.find((a) => h.available.some((x) => x.HostArn === a)) ?? hostArn
      if (!h.available.some((x) => x.HostArn === hostArn))
        return this.newConnection(
          req,
          res,
          s,
          {
            ...v,
            errors: {
              hostArn: `${label(provider)} connections need an AVAILABLE host of that type: choose one, or set one up first.`,
            },
          },
          400,
        )
    }
    const tags = parseTags(tagsText)
    if (typeof tags === 'string')
      return this.newConnection(req, res, s, { ...v, errors: { tags } }, 400)
    let arn: string
    try {
      arn = (
        await this.k.invoke<{ ConnectionArn: string }>(req, s, 'CreateConnection', {
          // A host names its provider type.
          ...(onHost ? { HostArn: hostArn } : { ProviderType: provider }),
          ConnectionName: name,
          ...(tags.length ? { Tags: tags } : {}),
        })
      ).ConnectionArn
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      const field =
        /tag/i.test(err.message) && !/TagResource/.test(err.message)
          ? 'tags'
          : err.code === 'AccessDeniedException'
            ? undefined
            : 'name'
      if (!field)
        return this.newConnection(
          req,
          res,
          s,
          { ...v, flash: { kind: 'bad', text: err.message } },
          err.statusCode,
        )
      return this.newConnection(
        req,
        res,
        s,
        { ...v, errors: { [field]: err.message } },
        err.statusCode,
      )
    }
    await this.#startHandshake(req, res, s, arn, 'Created. ')
  }

  /** Straight into the provider's consent, or back to the detail page with the reason. */
  async #startHandshake(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    arn: string,
    prefix = '',
  ) {
    const detail = `/console/connection?arn=${encodeURIComponent(arn)}`
    try {
      const r = await this.k.d.connect.startHandshake(this.k.caller(s, req), arn, detail)
      redirect(res, r.AuthorizationUrl)
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      redirect(
        res,
        `${detail}&${this.k.flashParam('bad', `${prefix}The handshake could not start: ${err.message}`)}`,
      )
    }
  }

  async connection(req: IncomingMessage, res: ServerResponse, s: Session, u: URL) {
    const arn = u.searchParams.get('arn') ?? ''
    const caller = this.k.caller(s, req)
    const d = await this.k.d.connect.describe(caller, arn)
    let tags: { Key: string; Value: string }[] | undefined
    let tagsError: string | undefined
    try {
      tags = (
        await this.k.invoke<{ Tags: { Key: string; Value: string }[] }>(
          req,
          s,
          'ListTagsForResource',
          { ResourceArn: arn },
        )
      ).Tags
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      tagsError = err.message
    }
    const conn = d.connection
    const c = {
      ConnectionName: conn.name,
      ConnectionArn: conn.arn,
      ProviderType: conn.providerType,
      ConnectionStatus: conn.status,
      OwnerAccountId: conn.ownerAccountId,
      HostArn: conn.hostArn,
    }
    const reason = d.connection.statusReason
    const inst = d.installation
    const canAuthorize = c.ConnectionStatus === 'PENDING' || c.ConnectionStatus === 'ERROR'
    const action = (name: string, inner: string) =>
      `<form method="post" action="/console/connection/${name}">${hidden('csrf', s.csrf)}${hidden('arn', arn)}${inner}</form>`
    const tagRows = (tags ?? [])
      .map(
        (t) =>
          `<tr><td data-label="Key">${esc(t.Key)}</td><td data-label="Value">${esc(t.Value)}</td><td>${action('untag', `${hidden('key', t.Key)}<button type="submit" class="secondary" aria-label="Remove tag ${esc(t.Key)}">Remove</button>`)}</td></tr>`,
      )
      .join('')
    const recentUse = await recentUseCard(this.k.d.api.cloudtrail, req, s.principal, conn.arn)
    const body = `<h1>${esc(c.ConnectionName)} ${badge(c.ConnectionStatus)}</h1>
${c.ConnectionStatus === 'ERROR' ? `<p class="flash bad" role="alert">${esc(reason ?? 'The connection needs to be re-authorized.')}</p>` : ''}
${c.ConnectionStatus === 'PENDING' ? `<p class="muted">This connection is PENDING: authorize the provider and choose what it reaches to complete it.</p>` : ''}
<div class="card"><dl>
<dt>ARN</dt><dd>${copyable(c.ConnectionArn)}</dd>
<dt>Provider</dt><dd>${esc(label(c.ProviderType))}</dd>
<dt>Status</dt><dd>${badge(c.ConnectionStatus)}</dd>
<dt>Owner</dt><dd>${esc(c.OwnerAccountId)}</dd>
<dt>Installation</dt><dd>${inst ? `${esc(inst.targetName)} (<code>${esc(inst.id)}</code>)` : '<span class="muted">none yet</span>'}</dd>
<dt>Host</dt><dd>${c.HostArn ? `<a href="/console/host?arn=${encodeURIComponent(c.HostArn)}">${esc(c.HostArn)}</a>` : '<span class="muted">none</span>'}</dd>
</dl>
${canAuthorize ? `<div class="actions">${action('authorize', `<button type="submit">${c.ConnectionStatus === 'PENDING' ? 'Update pending connection' : 'Re-authorize connection'}</button>`)}</div>` : ''}
</div>
<h2>Tags</h2><div class="card">${tagsError ? `<p class="error" role="alert">${esc(tagsError)}</p>` : tags && tags.length ? `<table class="list"><thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>${tagRows}</tbody></table>` : '<p class="muted">No tags.</p>'}
${action('tag', `<div class="filters"><div><label for="tag-key">Key</label><input type="text" id="tag-key" name="key" maxlength="128" required></div><div><label for="tag-value">Value</label><input type="text" id="tag-value" name="value" maxlength="256"></div><div><button type="submit" class="secondary">Add tag</button></div></div>`)}</div>
${recentUse}
<h2>Delete</h2><div class="card">${action('delete', `<p>Deleting a connection cannot be undone; pipelines using it stop working. Type <strong>delete</strong> to confirm.</p><label for="confirm">Confirmation</label><input type="text" id="confirm" name="confirm" autocomplete="off" data-confirm="delete" aria-describedby="confirm-help"><p class="muted" id="confirm-help">Type the word delete.</p><div class="actions"><button type="submit" class="danger">Delete connection</button></div>`)}</div>`
    send(res, 200, page(this.k.shell(s, c.ConnectionName, 'connections', this.k.flashOf(u)), body))
  }

  async connectionAction(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    action: string,
    form: URLSearchParams,
  ) {
    const arn = form.get('arn') ?? ''
    const back = (kind: 'ok' | 'bad', text: string) =>
      `/console/connection?arn=${encodeURIComponent(arn)}&${this.k.flashParam(kind, text)}`
    try {
      if (action === 'authorize') return await this.#startHandshake(req, res, s, arn)
      if (action === 'tag') {
        await this.k.invoke(req, s, 'TagResource', {
          ResourceArn: arn,
          Tags: [{ Key: form.get('key') ?? '', Value: form.get('value') ?? '' }],
        })
        return redirect(res, back('ok', `Tag ${form.get('key') ?? ''} saved.`))
      }
      if (action === 'untag') {
        await this.k.invoke(req, s, 'UntagResource', {
          ResourceArn: arn,
          TagKeys: [form.get('key') ?? ''],
        })
        return redirect(res, back('ok', `Tag ${form.get('key') ?? ''} removed.`))
      }
      if (form.get('confirm') !== 'delete')
        return redirect(
          res,
          back('bad', 'Type delete to confirm the deletion. Nothing was deleted.'),
        )
      await this.k.invoke(req, s, 'DeleteConnection', { ConnectionArn: arn })
      return redirect(res, `/console?${this.k.flashParam('ok', 'Connection deleted.')}`)
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      return redirect(res, back('bad', err.message))
    }
  }
}

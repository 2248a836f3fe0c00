/**
 * @module console/pipelines
 * The console's pipeline pages: the list, a pipeline (stages with their latest action states and
 * log links, recent executions, a start form, and the event log of the repositories it watches —
 * what each delivery started and why the other pipelines did not match), and an execution (trigger,
 * revisions, variables, action executions with their logs, stop). Everything goes through
 * `invokePipelineAs`: the same validation and IAM checks as the API, as the signed-in principal.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AwsError } from '../errors/aws-error.js'
import type { PipelineOperationName } from '../generated/codepipeline.js'
import type { Principal } from '../iam/principal.js'
import { invokePipelineAs, sourceEventsOf, type PipelineApiDeps } from '../pipelines/api.js'
import { revisionMessage } from '../pipelines/wire.js'
import { badge, esc, hidden, type Shell } from './html.js'

export interface ConsoleSession {
  principal: Principal
  csrf: string
}

export interface PageKit {
  send(res: ServerResponse, status: number, html: string): void
  redirect(res: ServerResponse, location: string): void
  page(s: ConsoleSession, title: string, body: string, flash?: Shell['flash']): string
  flashParam(kind: 'ok' | 'bad', text: string): string
  flashOf(u: URL): Shell['flash']
}

interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  s: ConsoleSession
  u: URL
  form: URLSearchParams
}

type Route = { name: string; run(c: Ctx): Promise<void> }

const time = (seconds: number | undefined) =>
  seconds === undefined
    ? ''
    : `<time datetime="${new Date(seconds * 1000).toISOString()}">${new Date(seconds * 1000)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, ' UTC')}</time>`

const short = (id: string | undefined) => (id ? `<code>${esc(id.slice(0, 12))}</code>` : '')
/** A revision summary's first line (the commit message inside CodePipeline's JSON form). */
const headline = (summary: string | undefined) => revisionMessage(summary).split('\n')[0]!
/** A commit id (whole, or its first 12 characters), linked to its page on the provider if known. */
const revisionLink = (id: string, url: string | undefined, whole = false) => {
  const code = `<code>${esc(whole ? id : id.slice(0, 12))}</code>`
  return url && /^https?:\/\//.test(url) ? `<a href="${esc(url)}">${code}</a>` : code
}

interface Summary {
  pipelineExecutionId: string
  status: string
  statusSummary?: string
  startTime: number
  lastUpdateTime: number
  trigger: { triggerType: string; triggerDetail: string }
  sourceRevisions: {
    actionName: string
    revisionId: string
    revisionSummary: string
    revisionUrl?: string
  }[]
}

export function pipelineRoutes(api: PipelineApiDeps, kit: PageKit): Record<string, Route> {
  const invoke = <T>(c: Ctx, op: PipelineOperationName, input: Record<string, unknown>) =>
    invokePipelineAs(api, c.s.principal, c.req.socket.remoteAddress, op, input) as Promise<T>
  const execLink = (pipeline: string, id: string, text: string) =>
    `<a href="/console/execution?pipeline=${encodeURIComponent(pipeline)}&amp;id=${encodeURIComponent(id)}">${text}</a>`

  async function list(c: Ctx) {
    const r = await invoke<{
      pipelines: {
        name: string
        version: number
        pipelineType: string
        executionMode: string
        updated: number
      }[]
    }>(c, 'ListPipelines', { maxResults: 1000 })
    const rows: string[] = []
    for (const p of r.pipelines) {
      let latest: Summary | undefined
      try {
        latest = (
          await invoke<{ pipelineExecutionSummaries: Summary[] }>(c, 'ListPipelineExecutions', {
            pipelineName: p.name,
            maxResults: 1,
          })
        ).pipelineExecutionSummaries[0]
      } catch (err) {
        if (!(err instanceof AwsError)) throw err
      }
      rows.push(
        `<tr><td data-label="Name"><a href="/console/pipeline?name=${encodeURIComponent(p.name)}">${esc(p.name)}</a></td><td data-label="Latest">${latest ? `${badge(latest.status)} ${execLink(p.name, latest.pipelineExecutionId, short(latest.pipelineExecutionId))}` : '<span class="muted">never run</span>'}</td><td data-label="Trigger">${latest ? esc(latest.trigger.triggerType) : ''}</td><td data-label="Type">${esc(p.pipelineType)} · ${esc(p.executionMode)}</td><td data-label="Updated">${time(p.updated)}</td></tr>`,
      )
    }
    const body =
      rows.length === 0
        ? `<div class="card"><h2>No pipelines yet</h2><p>A pipeline fetches source through a connection and runs when code changes. Create one with <code>aws codepipeline create-pipeline --endpoint-url …</code> (see the pipeline walkthrough in <code>docs/pipelines.md</code>); it appears here with its runs, logs and the events that started them.</p></div>`
        : `<table class="list"><thead><tr><th scope="col">Name</th><th scope="col">Latest execution</th><th scope="col">Trigger</th><th scope="col">Type</th><th scope="col">Updated</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
    kit.send(c.res, 200, kit.page(c.s, 'Pipelines', `<h1>Pipelines</h1>${body}`, kit.flashOf(c.u)))
  }

  async function detail(c: Ctx) {
    const name = c.u.searchParams.get('name') ?? ''
    const got = await invoke<{
      pipeline: {
        name: string
        roleArn: string
        version: number
        pipelineType: string
        executionMode: string
        stages: {
          name: string
          actions: {
            name: string
            actionTypeId: { provider: string }
            configuration?: Record<string, string>
          }[]
        }[]
        triggers?: unknown[]
      }
      metadata: { pipelineArn: string }
    }>(c, 'GetPipeline', { name })
    const state = await invoke<{
      stageStates: {
        stageName: string
        latestExecution?: { pipelineExecutionId: string; status: string }
        actionStates: {
          actionName: string
          revisionUrl?: string
          currentRevision?: { revisionId: string }
          latestExecution?: {
            status: string
            summary?: string
            externalExecutionUrl?: string
            actionExecutionId: string
          }
        }[]
      }[]
    }>(c, 'GetPipelineState', { name })
    const runs = (
      await invoke<{ pipelineExecutionSummaries: Summary[] }>(c, 'ListPipelineExecutions', {
        pipelineName: name,
        maxResults: 20,
      })
    ).pipelineExecutionSummaries
    const events = await sourceEventsOf(api, c.s.principal, c.req.socket.remoteAddress, name, 20)
    const mayView = viewable(c, name)
    const p = got.pipeline
    const sources = p.stages[0]?.actions ?? []
    const stages = state.stageStates
      .map(
        (st) =>
          `<section class="card" aria-labelledby="stage-${esc(st.stageName)}"><h3 id="stage-${esc(st.stageName)}">${esc(st.stageName)} ${st.latestExecution ? badge(st.latestExecution.status) : ''}</h3><table class="list"><thead><tr><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Summary</th><th scope="col">Log</th></tr></thead><tbody>${st.actionStates
            .map((a) => {
              const l = a.latestExecution
              return `<tr><td data-label="Action">${esc(a.actionName)}</td><td data-label="Status">${l ? badge(l.status) : '<span class="muted">not run</span>'}</td><td data-label="Summary">${a.currentRevision ? `${revisionLink(a.currentRevision.revisionId, a.revisionUrl)} ` : ''}${esc(headline(l?.summary))}</td><td data-label="Log">${l?.externalExecutionUrl ? `<a href="${esc(l.externalExecutionUrl)}">View log</a>` : ''}</td></tr>`
            })
            .join('')}</tbody></table></section>`,
      )
      .join('\n')
    const runRows = runs
      .map(
        (r) =>
          `<tr><td data-label="Execution">${execLink(name, r.pipelineExecutionId, short(r.pipelineExecutionId))}</td><td data-label="Status">${badge(r.status)}</td><td data-label="Trigger">${esc(r.trigger.triggerType)}</td><td data-label="Revision">${short(r.sourceRevisions[0]?.revisionId)} ${esc(headline(r.sourceRevisions[0]?.revisionSummary))}</td><td data-label="Started">${time(r.startTime)}</td></tr>`,
      )
      .join('')
    const eventRows: string[] = []
    for (const e of events) {
      let event: {
        kind?: string
        changes?: { name: string }[]
        action?: string
        sourceBranch?: string
      } = {}
      try {
        event = JSON.parse(e.event) as typeof event
      } catch {
        event = {}
      }
      const what =
        event.kind === 'push'
          ? `push to ${(event.changes ?? []).map((x) => x.name).join(', ')}`
          : event.kind === 'pull_request'
            ? `pull request ${event.action ?? ''} from ${event.sourceBranch ?? ''}`
            : (event.kind ?? '')
      const outcomes = e.result
        ? (JSON.parse(e.result) as { pipeline: string; started?: string; reason: string }[])
        : []
      // Another pipeline's name, execution id and reason only for a viewer who may read it.
      const shown: typeof outcomes = []
      let hidden = 0
      for (const o of outcomes) {
        if (await mayView(o.pipeline)) shown.push(o)
        else hidden++
      }
      const items = shown.map(
        (o) =>
          `<li><strong>${esc(o.pipeline)}</strong>: ${o.started ? `started ${execLink(o.pipeline, o.started, short(o.started))} — ${esc(o.reason)}` : `not started — ${esc(o.reason)}`}</li>`,
      )
      if (hidden)
        items.push(
          `<li class="muted">${hidden === 1 ? 'a pipeline you cannot view' : `${hidden} pipelines you cannot view`}</li>`,
        )
      const list = outcomes.length
        ? `<ul>${items.join('')}</ul>`
        : e.processedAt
          ? '<span class="muted">no pipeline watches this</span>'
          : '<span class="muted">waiting to be processed</span>'
      eventRows.push(
        `<tr><td data-label="Received">${time(e.receivedAt / 1000)}</td><td data-label="Event">${esc(e.repository)}: ${esc(what)}<br><span class="muted">${esc(e.triggerSource)} · ${esc(e.deliveryId)}</span></td><td data-label="Outcome">${list}</td></tr>`,
      )
    }
    const sourceList = sources
      .map(
        (a) =>
          `<li>${esc(a.name)}: <code>${esc(a.configuration?.['FullRepositoryId'] ?? '')}</code> branch <code>${esc(a.configuration?.['BranchName'] ?? '')}</code> through <a href="/console/connection?arn=${encodeURIComponent(a.configuration?.['ConnectionArn'] ?? '')}">its connection</a></li>`,
      )
      .join('')
    const body = `<h1>${esc(p.name)}</h1>
<div class="card"><dl>
<dt>ARN</dt><dd><code>${esc(got.metadata.pipelineArn)}</code></dd>
<dt>Version</dt><dd>${p.version}</dd>
<dt>Type and mode</dt><dd>${esc(p.pipelineType)} · ${esc(p.executionMode)}</dd>
<dt>Role</dt><dd><code>${esc(p.roleArn)}</code></dd>
<dt>Sources</dt><dd><ul>${sourceList}</ul></dd>
<dt>Triggers</dt><dd>${p.triggers?.length ? `<pre>${esc(JSON.stringify(p.triggers, null, 2))}</pre>` : '<span class="muted">none: pushes to each source branch start it (DetectChanges)</span>'}</dd>
</dl>
<form method="post" action="/console/pipeline/start">${hidden('csrf', c.s.csrf)}${hidden('name', p.name)}
<div class="filters"><div><label for="commit">Commit <span class="muted">(optional: the branch head by default)</span></label><input type="text" id="commit" name="commit" pattern="[0-9a-fA-F]{4,64}" spellcheck="false"></div><div><button type="submit">Start execution</button></div></div></form></div>
<h2>Stages</h2>${stages}
<h2>Executions</h2><div class="card">${runRows ? `<table class="list"><thead><tr><th scope="col">Execution</th><th scope="col">Status</th><th scope="col">Trigger</th><th scope="col">Revision</th><th scope="col">Started</th></tr></thead><tbody>${runRows}</tbody></table>` : '<p class="muted">No executions yet.</p>'}</div>
<h2>Event log</h2><div class="card"><p class="muted">Deliveries and poll findings for the repositories this pipeline watches, newest first, with what each started and why the other pipelines did not (those you may view).</p>${eventRows.length ? `<table class="list"><thead><tr><th scope="col">Received</th><th scope="col">Event</th><th scope="col">Outcome</th></tr></thead><tbody>${eventRows.join('')}</tbody></table>` : '<p class="muted">No events yet.</p>'}</div>`
    kit.send(c.res, 200, kit.page(c.s, p.name, body, kit.flashOf(c.u)))
  }

  /**
   * Whether the viewer may read a pipeline named in the event log: `GetPipeline` and
   * `ListPipelineExecutions` on it, through the same IAM checks as the API (memoised per page).
   */
  function viewable(c: Ctx, current: string): (pipeline: string) => Promise<boolean> {
    const seen = new Map<string, Promise<boolean>>([[current, Promise.resolve(true)]])
    const allowed = async (pipeline: string) => {
      try {
        await invoke(c, 'GetPipeline', { name: pipeline })
        await invoke(c, 'ListPipelineExecutions', { pipelineName: pipeline, maxResults: 1 })
        return true
      } catch (err) {
        if (err instanceof AwsError) return false
        throw err
      }
    }
    return (pipeline) => {
      let v = seen.get(pipeline)
      if (!v) seen.set(pipeline, (v = allowed(pipeline)))
      return v
    }
  }

  async function start(c: Ctx) {
    const name = c.form.get('name') ?? ''
    const commit = (c.form.get('commit') ?? '').trim()
    const got = await invoke<{ pipeline: { stages: { actions: { name: string }[] }[] } }>(
      c,
      'GetPipeline',
      { name },
    )
    const input: Record<string, unknown> = { name }
    if (commit)
      input['sourceRevisions'] = [
        {
          actionName: got.pipeline.stages[0]!.actions[0]!.name,
          revisionType: 'COMMIT_ID',
          revisionValue: commit,
        },
      ]
    try {
      const r = await invoke<{ pipelineExecutionId: string }>(c, 'StartPipelineExecution', input)
      kit.redirect(
        c.res,
        `/console/execution?pipeline=${encodeURIComponent(name)}&id=${encodeURIComponent(r.pipelineExecutionId)}&${kit.flashParam('ok', 'Execution started.')}`,
      )
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      kit.redirect(
        c.res,
        `/console/pipeline?name=${encodeURIComponent(name)}&${kit.flashParam('bad', err.message)}`,
      )
    }
  }

  async function execution(c: Ctx) {
    const pipelineName = c.u.searchParams.get('pipeline') ?? ''
    const id = c.u.searchParams.get('id') ?? ''
    const e = (
      await invoke<{
        pipelineExecution: {
          status: string
          statusSummary?: string
          trigger: { triggerType: string; triggerDetail: string }
          artifactRevisions: {
            name: string
            revisionId: string
            revisionSummary: string
            revisionUrl?: string
          }[]
          variables?: { name: string; resolvedValue: string }[]
          executionMode: string
        }
      }>(c, 'GetPipelineExecution', { pipelineName, pipelineExecutionId: id })
    ).pipelineExecution
    const actions = (
      await invoke<{
        actionExecutionDetails: {
          stageName: string
          actionName: string
          status: string
          startTime: number
          lastUpdateTime: number
          input?: { actionTypeId?: { category?: string } }
          output?: {
            outputVariables?: Record<string, string>
            executionResult?: { externalExecutionSummary?: string; externalExecutionUrl?: string }
          }
        }[]
      }>(c, 'ListActionExecutions', { pipelineName, filter: { pipelineExecutionId: id } })
    ).actionExecutionDetails
    const rows = [...actions]
      .reverse()
      .map((a) => {
        const vars = Object.entries(a.output?.outputVariables ?? {})
        return `<tr><td data-label="Stage">${esc(a.stageName)}</td><td data-label="Action">${esc(a.actionName)}</td><td data-label="Status">${badge(a.status)}</td><td data-label="Summary">${esc(headline(a.output?.executionResult?.externalExecutionSummary))}${vars.length ? `<details><summary>Output variables</summary><dl>${vars.map(([k, v]) => `<dt>${esc(k)}</dt><dd><code>${esc(v.length > 300 ? `${v.slice(0, 300)}…` : v)}</code></dd>`).join('')}</dl></details>` : ''}</td><td data-label="Log">${a.output?.executionResult?.externalExecutionUrl ? `<a href="${esc(a.output.executionResult.externalExecutionUrl)}">${a.input?.actionTypeId?.category === 'Source' ? 'View commit' : 'View log'}</a>` : ''}</td></tr>`
      })
      .join('')
    const running = e.status === 'InProgress' || e.status === 'Stopping'
    const body = `<h1>Execution <code>${esc(id.slice(0, 12))}</code> ${badge(e.status)}</h1>
<p><a href="/console/pipeline?name=${encodeURIComponent(pipelineName)}">← ${esc(pipelineName)}</a></p>
${e.statusSummary ? `<p class="flash ${e.status === 'Failed' ? 'bad' : 'ok'}" role="${e.status === 'Failed' ? 'alert' : 'status'}">${esc(e.statusSummary)}</p>` : ''}
<div class="card"><dl>
<dt>Execution ID</dt><dd><code>${esc(id)}</code></dd>
<dt>Trigger</dt><dd>${esc(e.trigger.triggerType)} <span class="muted">${esc(e.trigger.triggerDetail)}</span></dd>
<dt>Mode</dt><dd>${esc(e.executionMode)}</dd>
<dt>Source revisions</dt><dd>${e.artifactRevisions.length ? e.artifactRevisions.map((r) => `${esc(r.name)}: ${revisionLink(r.revisionId, r.revisionUrl, true)} ${esc(headline(r.revisionSummary))}`).join('<br>') : '<span class="muted">not resolved yet</span>'}</dd>
<dt>Variables</dt><dd>${e.variables?.length ? e.variables.map((v) => `<code>${esc(v.name)}=${esc(v.resolvedValue)}</code>`).join(' ') : '<span class="muted">none</span>'}</dd>
</dl>
${running ? `<form method="post" action="/console/execution/stop">${hidden('csrf', c.s.csrf)}${hidden('pipeline', pipelineName)}${hidden('id', id)}<div class="filters"><div><label for="reason">Reason <span class="muted">(optional)</span></label><input type="text" id="reason" name="reason" maxlength="200"></div><div><label style="font-weight:400"><input type="checkbox" name="abandon" value="1"> Abandon running actions</label></div><div><button type="submit" class="danger">Stop execution</button></div></div></form>` : ''}</div>
<h2>Actions</h2><div class="card">${rows ? `<table class="list"><thead><tr><th scope="col">Stage</th><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Summary</th><th scope="col">Log</th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="muted">No action has run yet.</p>'}</div>`
    kit.send(c.res, 200, kit.page(c.s, `Execution ${id.slice(0, 12)}`, body, kit.flashOf(c.u)))
  }

  async function stop(c: Ctx) {
    const pipelineName = c.form.get('pipeline') ?? ''
    const id = c.form.get('id') ?? ''
    const reason = (c.form.get('reason') ?? '').trim()
    const back = `/console/execution?pipeline=${encodeURIComponent(pipelineName)}&id=${encodeURIComponent(id)}`
    try {
      await invoke(c, 'StopPipelineExecution', {
        pipelineName,
        pipelineExecutionId: id,
        abandon: c.form.get('abandon') === '1',
        ...(reason ? { reason } : {}),
      })
      kit.redirect(c.res, `${back}&${kit.flashParam('ok', 'Stopping the execution.')}`)
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      kit.redirect(c.res, `${back}&${kit.flashParam('bad', err.message)}`)
    }
  }

  return {
    'GET /console/pipelines': { name: 'console-pipelines', run: list },
    'GET /console/pipeline': { name: 'console-pipeline', run: detail },
    'POST /console/pipeline/start': { name: 'console-pipeline', run: start },
    'GET /console/execution': { name: 'console-execution', run: execution },
    'POST /console/execution/stop': { name: 'console-execution', run: stop },
  }
}

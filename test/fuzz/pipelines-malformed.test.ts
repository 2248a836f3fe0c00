/**
 * Property test for the CodePipeline subset: random operations with random members, and valid
 * pipeline declarations with one part mangled (a member dropped, retyped or replaced), get 4xx
 * AWS errors and never a 5xx; nothing changes except what a valid request asked for.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pipelineOperationNames } from '../../src/generated/codepipeline.js'
import {
  completeWithToken,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { declaration, pipelineRole } from '../helpers/pipelines.js'

describe('malformed input to the CodePipeline API (property test)', () => {
  let f: ConnectFixture
  let valid: Record<string, unknown>
  beforeAll(async () => {
    f = await startConnectFixture('sqlite')
    const arn = await newConnection(f)
    await completeWithToken(f, arn)
    const role = await pipelineRole(f.iam, 'pipeline-role')
    valid = declaration({ name: 'fuzz', roleArn: role, connectionArn: arn }) as unknown as Record<
      string,
      unknown
    >
  })
  afterAll(() => stopConnectFixture(f))

  const call = (op: string, body: unknown) =>
    f.raw.call({
      target: `CodePipeline_20150709.${op}`,
      signingService: 'codepipeline',
      body,
    })
  const names = async () =>
    (await f.server.store.pipelines.list('000000000000', '', 100)).map((p) => p.name)

  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(
      'fuzz',
      'arn:aws:codepipeline:us-east-1:000000000000:fuzz',
      '#{x.y}',
      '**/[',
      '',
    ),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  )
  const members = [
    'name',
    'pipelineName',
    'pipelineExecutionId',
    'pipeline',
    'version',
    'resourceArn',
    'tags',
    'tagKeys',
    'variables',
    'sourceRevisions',
    'clientRequestToken',
    'filter',
    'maxResults',
    'nextToken',
    'abandon',
    'reason',
  ]

  it('answers random calls with 4xx AWS errors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...pipelineOperationNames),
        fc.dictionary(fc.constantFrom(...members), value, { maxKeys: 5 }),
        async (op, body) => {
          const r = await call(op, body)
          expect(r.status, `${op} ${JSON.stringify(body)} → ${r.text}`).toBeLessThan(500)
          if (r.status >= 400) expect(typeof r.json.__type).toBe('string')
        },
      ),
      { numRuns: 300 },
    )
  })

  /** Every path to a value inside the declaration. */
  function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))]
    if (v && typeof v === 'object')
      return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))]
    return [at]
  }

  it('refuses mangled declarations without a 5xx, creating nothing it refused', async () => {
    const all = paths(valid).filter((p) => p.length > 0)
    let n = 0
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...all),
        fc.oneof(fc.constant(undefined), value, fc.constant({}), fc.constant([])),
        async (path, replacement) => {
          const mangled = structuredClone(valid)
          mangled['name'] = `fuzz-${++n}`
          let node = mangled as Record<string | number, unknown>
          for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>
          const last = path.at(-1)!
          if (last === 'name' && path.length === 1) return
          if (replacement === undefined) {
            if (Array.isArray(node)) node.splice(last as number, 1)
            else delete node[last]
          } else node[last] = replacement
          const r = await call('CreatePipeline', { pipeline: mangled })
          expect(r.status, `${JSON.stringify(path)} → ${r.text}`).toBeLessThan(500)
          const created = (await names()).includes(mangled['name'] as string)
          expect(created).toBe(r.status === 200)
          if (r.status >= 400) expect(typeof r.json.__type).toBe('string')
          if (created) await call('DeletePipeline', { name: mangled['name'] })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('refuses bodies that are not JSON objects', async () => {
    for (const raw of ['', 'null', '[]', '"x"', '{', '{"pipeline":', '\u0000'])
      for (const op of ['CreatePipeline', 'ListPipelines', 'GetPipeline']) {
        const r = await f.raw.call({
          target: `CodePipeline_20150709.${op}`,
          signingService: 'codepipeline',
          rawBody: raw,
        })
        expect(r.status, `${op} ${JSON.stringify(raw)}`).toBeLessThan(500)
      }
    const unknown = await call('ListWebhooks', {})
    expect(unknown.status).toBe(400)
    expect(unknown.json.__type).toBe('UnknownOperationException')
  })
})

/**
 * The whole API surface against AWS's own service models: a scenario through the AWS SDK for
 * JavaScript v3 (connections on both endpoints, Junction's own operations, IAM, STS, CodePipeline)
 * on the sandbox Bitbucket, with AVAILABLE connections and real pipeline executions. Every answer is
 * checked as it came over the wire (test/helpers/contract.ts): a success against the operation's
 * output shape, recursively (required members, types, enums, patterns, lengths, nothing outside
 * the model); an error against the codes the model lists for the operation and AWS's common ones.
 * Every operation Junction implements must have answered at least once each way, and nothing
 * outside the models is reachable on the AWS endpoints.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { operations } from '../../src/operations/index.js'
import { iamOperations } from '../../src/iam/api/index.js'
import { extensionOperations } from '../../src/server/extension.js'
import { pipelineOperationNames } from '../../src/generated/codepipeline.js'
import { sdkClient } from '../helpers/client.js'
import { codeconnectionsClient, Contract, type Api, type Surface } from '../helpers/contract.js'
import { startConnectFixture, stopConnectFixture } from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { iamClient, stsClient } from '../helpers/iam.js'
import { pipelineClient } from '../helpers/pipelines.js'
import { describeWith, needs } from '../helpers/requirements.js'
import { connectionsScenario, extensionScenario } from './scenario-connections.js'
import { iamScenario } from './scenario-iam.js'
import { pipelinesScenario } from './scenario-pipelines.js'
import { validateJson } from '../helpers/model-shapes.js'

const implemented: Record<Api, string[]> = {
  'codestar-connections': Object.values(operations)
    .filter((o) => o.supported)
    .map((o) => o.name),
  codeconnections: Object.values(operations)
    .filter((o) => o.supported)
    .map((o) => o.name),
  codepipeline: [...pipelineOperationNames],
  iam: Object.entries(iamOperations)
    .filter(([, o]) => o.service === 'iam')
    .map(([n]) => n),
  sts: Object.entries(iamOperations)
    .filter(([, o]) => o.service === 'sts')
    .map(([n]) => n),
}

// Commands builds (the pipelines' second action) run isolated in namespaces, as root.
for (const engine of testEngines())
  describeWith(needs.root)(`the API surface against AWS's models [${engine}]`, () => {
    const s = {} as Surface
    let seen = 0
    /** The violations found since the last look. */
    const fresh = () => {
      const out = s.c.violations.slice(seen)
      seen = s.c.violations.length
      return out
    }
    beforeAll(async () => {
      const connectionOps = Object.values(operations).filter((o) => !o.supported)
      const unsupported = {
        operations: new Set(connectionOps.map((o) => o.name as string)),
        code: 'UnsupportedOperationException',
      }
      s.c = new Contract({
        'codestar-connections': unsupported,
        codeconnections: unsupported,
      })
      s.f = await startConnectFixture(engine, {
        'enable-commands': true,
        'commands-network': 'none',
        // Hosts with a VPC stay VPC_CONFIG_INITIALIZING through the scenario (wrong-state calls).
        'vpc-init-delay': '600',
      })
      const { url, credentials } = s.f.server
      s.clients = {
        'codestar-connections': s.c.watch(sdkClient(url, credentials), 'codestar-connections'),
        codeconnections: s.c.watch(codeconnectionsClient(url, credentials), 'codeconnections'),
        iam: s.c.watch(iamClient(url, credentials), 'iam'),
        sts: s.c.watch(stsClient(url, credentials), 'sts'),
        codepipeline: s.c.watch(pipelineClient(url, credentials), 'codepipeline'),
      }
    })
    afterAll(async () => {
      for (const client of Object.values(s.clients ?? {})) client.destroy()
      await stopConnectFixture(s.f)
    })

    it('connections and hosts, on the codestar-connections endpoint', async () => {
      await connectionsScenario(s, 'codestar-connections')
      expect(fresh()).toEqual([])
    })

    it('connections and hosts, on the codeconnections endpoint', async () => {
      await connectionsScenario(s, 'codeconnections')
      expect(fresh()).toEqual([])
    })

    it("Junction's own operations: documented, and reachable only under their own target", async () => {
      const api = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'api.md'), 'utf8')
      const table = api.slice(api.indexOf("## Junction's own operations"))
      for (const name of Object.keys(extensionOperations))
        expect(table, `docs/api.md documents ${name}`).toContain(`| \`${name}\``)
      // None of them answers under an AWS service's target or action name.
      for (const name of Object.keys(extensionOperations)) {
        for (const api of ['codestar-connections', 'codeconnections', 'codepipeline'] as const)
          expect((await s.c.json(s.f.raw, api, name, {})).code).toBe('UnknownOperationException')
        for (const api of ['iam', 'sts'] as const)
          expect((await s.c.query(s.f.raw, api, name)).code).toBe('InvalidAction')
      }
      const out = await extensionScenario(s)
      // Where they carry a connection, it is the AWS model's Connection.
      const model = s.c.models['codestar-connections']
      for (const [op, body] of out)
        if (body['Connection'] !== undefined)
          expect(validateJson(model, 'Connection', body['Connection'], `${op}.Connection`)).toEqual(
            [],
          )
      expect(fresh()).toEqual([])
    })

    it('IAM and STS', async () => {
      await iamScenario(s)
      expect(fresh()).toEqual([])
    })

    it('CodePipeline, with real executions', async () => {
      await pipelinesScenario(s)
      expect(fresh()).toEqual([])
    }, 120_000)

    it('every operation Junction implements answered, and refused a bad call, within its model', () => {
      expect(s.c.violations).toEqual([])
      const gaps: string[] = []
      for (const [api, ops] of Object.entries(implemented) as [Api, string[]][]) {
        const model = s.c.models[api]
        for (const op of ops) {
          if (!model.operations[op]) gaps.push(`${api} ${op}: implemented but not in the model`)
          if (!s.c.succeeded.get(api)?.has(op)) gaps.push(`${api} ${op}: never answered 2xx`)
          if (!s.c.refused.get(api)?.has(op)) gaps.push(`${api} ${op}: no bad call was checked`)
        }
        // Only what Junction implements answered 2xx.
        for (const op of s.c.succeeded.get(api) ?? [])
          if (!ops.includes(op)) gaps.push(`${api} ${op}: answered 2xx but is not implemented`)
      }
      expect(gaps).toEqual([])
    })
  })

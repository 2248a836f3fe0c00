import { describe, expect, it } from 'vitest'
import {
  codepipelineValidation as table,
  pipelineOperationNames,
} from '../generated/codepipeline.js'
import { validateInput } from './validate.js'

const run = (op: string, input: unknown) => {
  try {
    validateInput(table, op, input)
    return undefined
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message }
  }
}

const pipeline = (over: Record<string, unknown> = {}) => ({
  pipeline: {
    name: 'app',
    roleArn: 'arn:aws:iam::000000000000:role/pipeline',
    pipelineType: 'V2',
    stages: [
      {
        name: 'Source',
        actions: [
          {
            name: 'Source',
            actionTypeId: {
              category: 'Source',
              owner: 'AWS',
              provider: 'CodeStarSourceConnection',
              version: '1',
            },
            configuration: {
              ConnectionArn: 'arn:aws:codestar-connections:us-east-1:000000000000:connection/x',
              FullRepositoryId: 'acme/app',
              BranchName: 'main',
            },
            outputArtifacts: [{ name: 'src' }],
          },
        ],
      },
    ],
    triggers: [
      {
        providerType: 'CodeStarSourceConnection',
        gitConfiguration: {
          sourceActionName: 'Source',
          push: [{ branches: { includes: ['main', 'release/**'] } }],
        },
      },
    ],
    ...over,
  },
})

describe('CodePipeline validation tables (generated from the model)', () => {
  it('covers the operations Junction will serve', () => {
    expect(pipelineOperationNames).toContain('CreatePipeline')
    expect(Object.keys(table.operations).sort()).toEqual([...pipelineOperationNames].sort())
  })

  it('accepts a V2 pipeline with a connection source and a trigger', () => {
    expect(run('CreatePipeline', pipeline())).toBeUndefined()
  })

  it('validates maps: key and value lengths, nulls, and the map type itself', () => {
    const withConfig = (configuration: unknown) =>
      pipeline({
        stages: [
          {
            name: 'S',
            actions: [
              {
                name: 'A',
                actionTypeId: { category: 'Source', owner: 'AWS', provider: 'P', version: '1' },
                configuration,
              },
            ],
          },
        ],
      })
    expect(run('CreatePipeline', withConfig({ ['k'.repeat(51)]: 'v' }))?.message).toMatch(
      /Value '.{10}.*' at 'pipeline\.stages\.1\.member\.actions\.1\.member\.configuration\.k+' failed to satisfy constraint: Member must have length less than or equal to 50/,
    )
    expect(run('CreatePipeline', withConfig({ Key: 'x'.repeat(1001) }))?.message).toMatch(
      /less than or equal to 1000/,
    )
    expect(run('CreatePipeline', withConfig({ Key: null }))?.message).toMatch(
      /configuration\.Key' failed to satisfy constraint: Member must not be null/,
    )
    expect(run('CreatePipeline', withConfig(['not', 'a', 'map']))?.code).toBe(
      'SerializationException',
    )
    expect(run('CreatePipeline', withConfig({ Key: 5 }))?.code).toBe('SerializationException')
  })

  it('refuses what the model forbids, with AWS-style messages', () => {
    expect(run('CreatePipeline', pipeline({ name: 'bad name!' }))?.message).toMatch(
      /pipeline\.name' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    )
    expect(
      run('CreatePipeline', pipeline({ roleArn: 'arn:aws:iam::000000000000:user/x' }))?.message,
    ).toMatch(/pipeline\.roleArn/)
    expect(run('CreatePipeline', pipeline({ pipelineType: 'V3' }))?.message).toMatch(
      /enum value set: \[V1, V2\]/,
    )
    const tooMany = pipeline({
      triggers: [
        {
          providerType: 'CodeStarSourceConnection',
          gitConfiguration: { sourceActionName: 'Source', push: [{}, {}, {}, {}] },
        },
      ],
    })
    expect(run('CreatePipeline', tooMany)?.message).toMatch(
      /push' failed to satisfy constraint: Member must have length less than or equal to 3/,
    )
    expect(run('GetPipeline', {})?.message).toMatch(/Value null at 'name'/)
  })
})

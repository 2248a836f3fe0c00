/**
 * The model validator the API-surface contract relies on (test/helpers/model-shapes.ts, model-xml.ts) finds
 * what it must: each kind of violation, in JSON and in Query XML, against the real models.
 */
import { describe, expect, it } from 'vitest'
import {
  botocoreModel,
  operationErrors,
  sharedModel,
  validateJson,
} from '../helpers/model-shapes.js'
import { parseXml, validateQueryResponse } from '../helpers/model-xml.js'

const connections = sharedModel('codestar-connections')
const pipeline = sharedModel('codepipeline')
const iam = botocoreModel('iam')
const sts = botocoreModel('sts')

const connection = {
  ConnectionName: 'my-connection',
  ConnectionArn:
    'arn:aws:codestar-connections:us-east-1:000000000000:connection/3f1c9e8a-1b2c-4d5e-8f90-123456789abc',
  ProviderType: 'Bitbucket',
  OwnerAccountId: '000000000000',
  ConnectionStatus: 'AVAILABLE',
}

describe('model-shapes validator', () => {
  it('accepts an answer that fits the output shape', () => {
    expect(validateJson(connections, 'GetConnectionOutput', { Connection: connection })).toEqual([])
    expect(validateJson(connections, 'ListHostsOutput', { Hosts: [] })).toEqual([])
  })

  it('finds enums, patterns, lengths, types, nulls and members outside the shape', () => {
    const bad = {
      Connection: {
        ...connection,
        OwnerAccountId: 'acme',
        ConnectionStatus: 'READY',
        ConnectionName: 'x'.repeat(33),
        HostArn: null,
        Workspace: 'acme',
      },
      Extra: 1,
    }
    expect(validateJson(connections, 'GetConnectionOutput', bad)).toEqual([
      '$.Connection.ConnectionName: length 33 is above the maximum 32 ("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")',
      '$.Connection.OwnerAccountId: length 4 is below the minimum 12 ("acme")',
      '$.Connection.OwnerAccountId: "acme" does not match the pattern [0-9]{12}',
      '$.Connection.ConnectionStatus: "READY" is not one of the enum ["PENDING","AVAILABLE","ERROR"]',
      '$.Connection.HostArn: null (AWS leaves an absent member out)',
      '$.Connection.Workspace: not a member of Connection',
      '$.Extra: not a member of GetConnectionOutput',
    ])
    expect(
      validateJson(connections, 'ListConnectionsOutput', { Connections: {}, NextToken: 7 }),
    ).toEqual([
      '$.Connections: {} is not a list (ConnectionList)',
      '$.NextToken: 7 is not a string (NextToken)',
    ])
  })

  it('finds required members, integers and timestamps (CodePipeline)', () => {
    const state = {
      pipelineName: 'p',
      created: '2026-12-01T00:00:00Z',
      pipelineVersion: 1.5,
      stageStates: [
        { stageName: 'Source', actionStates: [{ currentRevision: { revisionId: 'abc' } }] },
      ],
    }
    expect(validateJson(pipeline, 'GetPipelineStateOutput', state)).toEqual([
      '$.created: "2026-12-01T00:00:00Z" is not a timestamp (epoch seconds) (Timestamp)',
      '$.pipelineVersion: 1.5 is not an integer (integer) (PipelineVersion)',
      '$.stageStates[0].actionStates[0].currentRevision: required member revisionChangeId is missing (ActionRevision)',
      '$.stageStates[0].actionStates[0].currentRevision: required member created is missing (ActionRevision)',
    ])
  })

  it('reads Query answers: wrapper, members, lists, integers, booleans, timestamps', () => {
    const ok =
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
      '<UserId>000000000000</UserId><Account>000000000000</Account><Arn>arn:aws:iam::000000000000:root</Arn>' +
      '</GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>'
    expect(validateQueryResponse(sts, 'GetCallerIdentity', ok)).toEqual([])
    const bad =
      '<ListUsersResponse><ListUsersResult><Users><member><UserName>a</UserName><Path>/</Path>' +
      '<UserId>AIDAXXXXXXXXXXXXXXXXX</UserId><Arn>arn:aws:iam::000000000000:user/a</Arn>' +
      '<CreateDate>yesterday</CreateDate><Junk>1</Junk></member><item/></Users>' +
      '<IsTruncated>no</IsTruncated></ListUsersResult></ListUsersResponse>'
    expect(validateQueryResponse(iam, 'ListUsers', bad)).toEqual([
      '$.ListUsersResult.Users[0].CreateDate: "yesterday" is not an ISO 8601 timestamp',
      '$.ListUsersResult.Users[0].Junk: not a member of User',
      '$.ListUsersResult.Users[1]: <item>, expected <member>',
      '$.ListUsersResult.IsTruncated: "no" is not a boolean',
      '$: no <ResponseMetadata> element',
    ])
    expect(
      validateQueryResponse(iam, 'DeleteUser', '<DeleteUserResponse><X/></DeleteUserResponse>'),
    ).toEqual(['$.X: not part of a DeleteUser answer', '$: no <ResponseMetadata> element'])
  })

  it('parses entities and refuses malformed XML', () => {
    expect(parseXml('<a><b>x &amp; &#x41;&#66;</b></a>').children[0]!.text).toBe('x & AB')
    expect(() => parseXml('<a><b></a>')).toThrow(/closes/)
  })

  it("lists an operation's errors by their codes", () => {
    expect(operationErrors(iam, 'GetUser')).toEqual(
      expect.arrayContaining(['NoSuchEntityException', 'NoSuchEntity']),
    )
    expect(operationErrors(connections, 'GetConnection')).toEqual([
      'ResourceNotFoundException',
      'ResourceUnavailableException',
    ])
  })
})

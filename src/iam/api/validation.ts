/**
 * @module iam/api/validation
 * Input shapes of the IAM and STS calls Junction serves, with AWS's constraints (the IAM API
 * reference's types: userNameType, pathType, policyDocumentType, …), in the table form the
 * generic validator reads. Written by hand: the IAM and STS models are not among the shared specs.
 */
import type { ShapeRule, ValidationTable } from '../../protocol/validation-types.js'

const NAME = '[\\w+=,.@-]+'
const str = (min: number, max: number, pattern?: string): ShapeRule =>
  pattern === undefined ? { type: 'string', min, max } : { type: 'string', min, max, pattern }
const struct = (members: Record<string, string>, required: string[] = []): ShapeRule => ({
  type: 'structure',
  members,
  required,
})

const shapes: Record<string, ShapeRule> = {
  userName: str(1, 64, NAME),
  existingUserName: str(1, 128, NAME),
  roleName: str(1, 64, NAME),
  policyName: str(1, 128, NAME),
  path: str(1, 512, '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)'),
  pathPrefix: str(1, 512, '\\u002F[\\u0021-\\u007F]*'),
  policyDocument: str(1, 131072, '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+'),
  arn: str(20, 2048),
  accessKeyId: str(16, 128, '[\\w]+'),
  status: { type: 'string', enum: ['Active', 'Inactive'] },
  maxItems: { type: 'integer', min: 1, max: 1000 },
  marker: str(1, 320, '[\\u0020-\\u00FF]+'),
  description: str(0, 1000),
  maxSessionDuration: { type: 'integer', min: 3600, max: 43200 },
  tag: struct({ Key: 'tagKey', Value: 'tagValue' }, ['Key', 'Value']),
  tagKey: str(1, 128),
  tagValue: str(0, 256),
  tags: { type: 'list', member: 'tag', max: 50 },
  scope: { type: 'string', enum: ['All', 'AWS', 'Local'] },
  boolean: { type: 'boolean' },
  actionName: str(3, 128),
  actionNames: { type: 'list', member: 'actionName' },
  resourceName: str(1, 2048),
  resourceNames: { type: 'list', member: 'resourceName' },
  contextKeyValue: str(0, 1024),
  contextKeyValues: { type: 'list', member: 'contextKeyValue' },
  contextKeyType: {
    type: 'string',
    enum: [
      'string',
      'stringList',
      'numeric',
      'numericList',
      'boolean',
      'booleanList',
      'ip',
      'ipList',
      'binary',
      'binaryList',
      'date',
      'dateList',
    ],
  },
  contextEntry: struct({
    ContextKeyName: 'contextKeyName',
    ContextKeyValues: 'contextKeyValues',
    ContextKeyType: 'contextKeyType',
  }),
  contextKeyName: str(5, 256),
  contextEntries: { type: 'list', member: 'contextEntry' },
  roleSessionName: str(2, 64, '[\\w+=,.@-]*'),
  durationSeconds: { type: 'integer', min: 900, max: 43200 },
  sessionPolicy: str(1, 2048, '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+'),
  externalId: str(2, 1224, '[\\w+=,.@:\\/-]*'),
}

const userOnly = { UserName: 'userName' }
const list = { Marker: 'marker', MaxItems: 'maxItems' }

const inputs: Record<string, ShapeRule> = {
  CreateUser: struct({ Path: 'path', UserName: 'userName', Tags: 'tags' }, ['UserName']),
  GetUser: struct({ UserName: 'existingUserName' }),
  ListUsers: struct({ PathPrefix: 'pathPrefix', ...list }),
  DeleteUser: struct({ UserName: 'existingUserName' }, ['UserName']),
  CreateAccessKey: struct({ UserName: 'existingUserName' }),
  ListAccessKeys: struct({ UserName: 'existingUserName', ...list }),
  GetAccessKeyLastUsed: struct({ AccessKeyId: 'accessKeyId' }, ['AccessKeyId']),
  UpdateAccessKey: struct(
    { UserName: 'existingUserName', AccessKeyId: 'accessKeyId', Status: 'status' },
    ['AccessKeyId', 'Status'],
  ),
  DeleteAccessKey: struct({ UserName: 'existingUserName', AccessKeyId: 'accessKeyId' }, [
    'AccessKeyId',
  ]),
  CreateRole: struct(
    {
      Path: 'path',
      RoleName: 'roleName',
      AssumeRolePolicyDocument: 'policyDocument',
      Description: 'description',
      MaxSessionDuration: 'maxSessionDuration',
      Tags: 'tags',
    },
    ['RoleName', 'AssumeRolePolicyDocument'],
  ),
  GetRole: struct({ RoleName: 'roleName' }, ['RoleName']),
  ListRoles: struct({ PathPrefix: 'pathPrefix', ...list }),
  DeleteRole: struct({ RoleName: 'roleName' }, ['RoleName']),
  UpdateAssumeRolePolicy: struct({ RoleName: 'roleName', PolicyDocument: 'policyDocument' }, [
    'RoleName',
    'PolicyDocument',
  ]),
  PutUserPolicy: struct(
    { UserName: 'existingUserName', PolicyName: 'policyName', PolicyDocument: 'policyDocument' },
    ['UserName', 'PolicyName', 'PolicyDocument'],
  ),
  GetUserPolicy: struct({ UserName: 'existingUserName', PolicyName: 'policyName' }, [
    'UserName',
    'PolicyName',
  ]),
  ListUserPolicies: struct({ UserName: 'existingUserName', ...list }, ['UserName']),
  DeleteUserPolicy: struct({ UserName: 'existingUserName', PolicyName: 'policyName' }, [
    'UserName',
    'PolicyName',
  ]),
  PutRolePolicy: struct(
    { RoleName: 'roleName', PolicyName: 'policyName', PolicyDocument: 'policyDocument' },
    ['RoleName', 'PolicyName', 'PolicyDocument'],
  ),
  GetRolePolicy: struct({ RoleName: 'roleName', PolicyName: 'policyName' }, [
    'RoleName',
    'PolicyName',
  ]),
  ListRolePolicies: struct({ RoleName: 'roleName', ...list }, ['RoleName']),
  DeleteRolePolicy: struct({ RoleName: 'roleName', PolicyName: 'policyName' }, [
    'RoleName',
    'PolicyName',
  ]),
  CreatePolicy: struct(
    {
      PolicyName: 'policyName',
      Path: 'path',
      PolicyDocument: 'policyDocument',
      Description: 'description',
      Tags: 'tags',
    },
    ['PolicyName', 'PolicyDocument'],
  ),
  GetPolicy: struct({ PolicyArn: 'arn' }, ['PolicyArn']),
  GetPolicyVersion: struct({ PolicyArn: 'arn', VersionId: 'versionId' }, [
    'PolicyArn',
    'VersionId',
  ]),
  ListPolicies: struct({
    Scope: 'scope',
    OnlyAttached: 'boolean',
    PathPrefix: 'pathPrefix',
    ...list,
  }),
  DeletePolicy: struct({ PolicyArn: 'arn' }, ['PolicyArn']),
  AttachUserPolicy: struct({ ...userOnly, PolicyArn: 'arn' }, ['UserName', 'PolicyArn']),
  DetachUserPolicy: struct({ ...userOnly, PolicyArn: 'arn' }, ['UserName', 'PolicyArn']),
  AttachRolePolicy: struct({ RoleName: 'roleName', PolicyArn: 'arn' }, ['RoleName', 'PolicyArn']),
  DetachRolePolicy: struct({ RoleName: 'roleName', PolicyArn: 'arn' }, ['RoleName', 'PolicyArn']),
  ListAttachedUserPolicies: struct({ ...userOnly, PathPrefix: 'pathPrefix', ...list }, [
    'UserName',
  ]),
  ListAttachedRolePolicies: struct({ RoleName: 'roleName', PathPrefix: 'pathPrefix', ...list }, [
    'RoleName',
  ]),
  SimulatePrincipalPolicy: struct(
    {
      PolicySourceArn: 'arn',
      ActionNames: 'actionNames',
      ResourceArns: 'resourceNames',
      ContextEntries: 'contextEntries',
      ...list,
    },
    ['PolicySourceArn', 'ActionNames'],
  ),
  AssumeRole: struct(
    {
      RoleArn: 'arn',
      RoleSessionName: 'roleSessionName',
      DurationSeconds: 'durationSeconds',
      Policy: 'sessionPolicy',
      ExternalId: 'externalId',
    },
    ['RoleArn', 'RoleSessionName'],
  ),
  GetCallerIdentity: struct({}),
}
shapes['versionId'] = str(1, 128, 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?')

export const iamValidation: ValidationTable = {
  operations: Object.fromEntries(Object.keys(inputs).map((op) => [op, `${op}Input`])),
  shapes: {
    ...shapes,
    ...Object.fromEntries(Object.entries(inputs).map(([op, rule]) => [`${op}Input`, rule])),
  },
}

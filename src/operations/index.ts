/**
 * @module operations
 * Every operation of the connections API. The map is typed over the generated `OperationName`, so
 * an operation added to the models fails the type check until it is implemented or explicitly
 * marked `notSupported`.
 */
import type { OperationName } from '../generated/operations.js'
import { notSupported, type Operation } from './operation.js'
import { createConnection } from './create-connection.js'
import { getConnection } from './get-connection.js'
import { listConnections } from './list-connections.js'
import { deleteConnection } from './delete-connection.js'
import { createHost } from './create-host.js'
import { getHost } from './get-host.js'
import { listHosts } from './list-hosts.js'
import { updateHost } from './update-host.js'
import { deleteHost } from './delete-host.js'
import { tagResource } from './tag-resource.js'
import { untagResource } from './untag-resource.js'
import { listTagsForResource } from './list-tags-for-resource.js'

export type { Operation, OperationContext, Limits } from './operation.js'

export const operations: { [K in OperationName]: Operation<K> } = {
  CreateConnection: createConnection,
  GetConnection: getConnection,
  ListConnections: listConnections,
  DeleteConnection: deleteConnection,
  CreateHost: createHost,
  GetHost: getHost,
  ListHosts: listHosts,
  UpdateHost: updateHost,
  DeleteHost: deleteHost,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
  // Git sync (repository links, sync configurations) comes with a later roadmap step.
  CreateRepositoryLink: notSupported('CreateRepositoryLink'),
  CreateSyncConfiguration: notSupported('CreateSyncConfiguration'),
  DeleteRepositoryLink: notSupported('DeleteRepositoryLink'),
  DeleteSyncConfiguration: notSupported('DeleteSyncConfiguration'),
  GetRepositoryLink: notSupported('GetRepositoryLink'),
  GetRepositorySyncStatus: notSupported('GetRepositorySyncStatus'),
  GetResourceSyncStatus: notSupported('GetResourceSyncStatus'),
  GetSyncBlockerSummary: notSupported('GetSyncBlockerSummary'),
  GetSyncConfiguration: notSupported('GetSyncConfiguration'),
  ListRepositoryLinks: notSupported('ListRepositoryLinks'),
  ListRepositorySyncDefinitions: notSupported('ListRepositorySyncDefinitions'),
  ListSyncConfigurations: notSupported('ListSyncConfigurations'),
  UpdateRepositoryLink: notSupported('UpdateRepositoryLink'),
  UpdateSyncBlocker: notSupported('UpdateSyncBlocker'),
  UpdateSyncConfiguration: notSupported('UpdateSyncConfiguration'),
}

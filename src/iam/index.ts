export { authorize, actionPrefix, type AuthorizationRequest } from './authorize.js'
export { rootArn, type Principal } from './principal.js'

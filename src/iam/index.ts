export { actionPrefix } from './authorize.js'
export { Authorizer } from './authorizer.js'
export { rootArn, iamArn, type Principal } from './principal.js'

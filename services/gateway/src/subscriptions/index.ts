export { CloseReason, SubscriptionCloseCode } from './close-codes.js';
export { attachSubscriptions, type SubscriptionLimits, type SubscriptionServer, type SubscriptionStats } from './server.js';
export { routingTable, type RoutingTable, type Subscriber, type SubscriptionRoute } from './routing.js';
export { workspacesSubscriptionRoute } from './workspaces-route.js';

/** The full 360 query of the foundation issue: every relation of Customer at once. */
export const FULL_360 = /* GraphQL */ `
query($first: Int) { customers(first: $first) { totalCount edges { cursor node {
  id displayName email phone lifecycleStage externalIds { source externalId }
  tags { tag { key name category } value source assignedAt }
  metrics { orderCount totalSpent { amount currency } averageOrderValue { amount currency } lastPurchaseAt }
  transactions(first: 10) { totalCount edges { node { id occurredAt type amount { amount currency } items { sku quantity } } } }
  interactions(first: 10) { edges { node { id channel type occurredAt sentiment } } }
  timeline(first: 5) { edges { node { __typename } } }
} } pageInfo { hasNextPage endCursor } } }`;


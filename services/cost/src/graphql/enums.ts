import { registerEnumType } from 'type-graphql';

/** The values are the reader's strings: a value maps to the reader as it is. */
export enum CostBreakdownBy {
  CLUSTER = 'cluster',
  NAMESPACE = 'namespace',
  WORKLOAD = 'workload',
}

export enum UtilizationResolution {
  HOUR = 'hour',
  DAY = 'day',
}

export enum QuotaSource {
  OVERRIDE = 'override',
  NAMESPACE = 'namespace',
  NONE = 'none',
}

registerEnumType(CostBreakdownBy, { name: 'CostBreakdownBy', description: 'What a cost breakdown groups by: a namespace is one namespace across the workspace\'s clusters; a workload is (cluster, namespace, kind, name).' });
registerEnumType(UtilizationResolution, { name: 'UtilizationResolution', description: 'Buckets of a utilization trend: UTC hours (periods of whole hours, at most 31 days) or days (whole days).' });
registerEnumType(QuotaSource, {
  name: 'QuotaSource',
  description: 'Where the quota that holds on a cluster comes from.',
  valuesConfig: {
    OVERRIDE: { description: "The namespace's override for this cluster." },
    NAMESPACE: { description: "The namespace's quota for every cluster." },
    NONE: { description: 'No quota is set there.' },
  },
});

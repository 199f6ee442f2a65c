/**
 * What the tags domain offers the rest of the gateway. Other code imports this file, never the
 * domain's repositories or other files (an ESLint rule holds it); the registry reads module.ts.
 */
export { afterCustomerWrite, expireTags, refreshLifecycleStages, refreshRfmScores, runModels, startTagScheduler } from './tag-jobs.service';
export { runEnabledRules, runRule } from './tag-rules.service';
export type { TagChangeRow } from './tags.mappers';
export { mapTagChange } from './tags.repository';
export type { TagEventDbRow } from './tags.repository';
export { CONSENT_WITHDRAWN, PROFILING_PURPOSE, profilingAllowed } from './profiling-consent';
export { afterProfilingDecision, removeDerivedData } from './profiling-consent.service';

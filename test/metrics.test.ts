import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { REJECT } from '../src/filter/reasons.js';
import { tallyRejections } from '../src/filter/rejection-tally.js';
import { ExtenderMetrics } from '../src/http/metrics.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';

async function rejectionCounts(metrics: ExtenderMetrics): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric('sysctl_extender_filter_rejections_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason), v.value]));
}

describe('ExtenderMetrics', () => {
  it('counts every rejection by reason, in runs and interleaved, and no passing node', async () => {
    const metrics = new ExtenderMetrics(() => new ClusterIndex(DEFAULT_POLICY));
    const { otherTeam: team, busyOtherProfile: busy, declaredMismatch: declared } = REJECT;
    metrics.countRejections(tallyRejections([team, team, undefined, busy, team, busy, busy, undefined, declared, team]));
    expect(await rejectionCounts(metrics)).toEqual({ other_team: 4, busy_other_profile: 3, declared_mismatch: 1 });
    metrics.countRejections(tallyRejections([undefined, declared, declared]));
    expect(await rejectionCounts(metrics)).toEqual({ other_team: 4, busy_other_profile: 3, declared_mismatch: 3 });
  });
});

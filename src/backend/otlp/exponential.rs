//! Deltas of base-2 exponential histograms: what changed between two snapshots of one series,
//! the earlier one brought down to the later one's scale (a scale only shrinks).

use crate::{ExpBuckets, ExpHistogramSnapshot};

/// `side` at `scale - change`: buckets merged `2^change` at a time.
fn downscale(side: &ExpBuckets, change: i32) -> ExpBuckets {
    if change <= 0 || side.counts.is_empty() {
        return side.clone();
    }
    let lo = side.offset >> change;
    let hi = (side.offset + side.counts.len() as i32 - 1) >> change;
    let mut counts = vec![0u64; (hi - lo + 1) as usize];
    for (k, c) in side.counts.iter().enumerate() {
        counts[(((side.offset + k as i32) >> change) - lo) as usize] += c;
    }
    ExpBuckets { offset: lo, counts }
}

/// `now - before` per bucket, `before` already at `now`'s scale; empty leading and trailing
/// buckets are dropped.
fn side_minus(now: &ExpBuckets, before: &ExpBuckets) -> ExpBuckets {
    let at =
        |b: &ExpBuckets, i: i32| usize::try_from(i - b.offset).ok().and_then(|k| b.counts.get(k)).copied().unwrap_or(0);
    let counts: Vec<(i32, u64)> = (0..now.counts.len() as i32)
        .map(|k| now.offset + k)
        .map(|i| (i, at(now, i).saturating_sub(at(before, i))))
        .collect();
    let first = counts.iter().position(|(_, c)| *c > 0);
    let last = counts.iter().rposition(|(_, c)| *c > 0);
    match (first, last) {
        (Some(f), Some(l)) => {
            ExpBuckets { offset: counts[f].0, counts: counts[f..=l].iter().map(|(_, c)| *c).collect() }
        }
        _ => ExpBuckets::default(),
    }
}

/// What changed from `before` to `now` (min and max are not known for a delta).
pub(crate) fn minus(now: &ExpHistogramSnapshot, before: &ExpHistogramSnapshot) -> ExpHistogramSnapshot {
    if before.scale < now.scale || before.count > now.count {
        // Not the same series' past (it was made again): the whole of `now`.
        return now.clone();
    }
    let change = before.scale - now.scale;
    ExpHistogramSnapshot {
        scale: now.scale,
        zero_count: now.zero_count.saturating_sub(before.zero_count),
        positive: side_minus(&now.positive, &downscale(&before.positive, change)),
        negative: side_minus(&now.negative, &downscale(&before.negative, change)),
        count: now.count - before.count,
        sum: now.sum - before.sum,
        min_max: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_across_a_scale_change_counts_each_observation_once() {
        let before = ExpHistogramSnapshot {
            scale: 2,
            zero_count: 1,
            positive: ExpBuckets { offset: 4, counts: vec![1, 2, 3, 4] },
            negative: ExpBuckets::default(),
            count: 11,
            sum: 30.0,
            min_max: Some((0.0, 9.0)),
        };
        // At scale 1 the same buckets are 4..7 >> 1 = 2..3, plus new observations.
        let now = ExpHistogramSnapshot {
            scale: 1,
            zero_count: 1,
            positive: ExpBuckets { offset: 2, counts: vec![3 + 1, 7, 5] },
            negative: ExpBuckets { offset: -1, counts: vec![2] },
            count: 19,
            sum: 50.0,
            min_max: Some((-1.0, 20.0)),
        };
        let d = minus(&now, &before);
        assert_eq!(d.positive, ExpBuckets { offset: 2, counts: vec![1, 0, 5] });
        assert_eq!(d.negative, ExpBuckets { offset: -1, counts: vec![2] });
        assert_eq!((d.count, d.sum, d.zero_count, d.scale), (8, 20.0, 0, 1));
        let total: u64 = d.positive.counts.iter().chain(&d.negative.counts).sum::<u64>() + d.zero_count;
        assert_eq!(total, d.count);
    }
}

//! A base-2 exponential histogram, as OpenTelemetry defines it: bucket `i` at scale `s` holds
//! the values in `(base^i, base^(i+1)]` with `base = 2^(2^-s)`, positive and negative values
//! apart, zero in a bucket of its own. The scale starts at 20 and shrinks (each step merges
//! pairs of buckets) whenever the values seen would need more than the bucket limit [160] on
//! a side, so memory is fixed per series: 160 counters for positive values at creation, as
//! many for negative ones at the first negative value.
//!
//! One observation takes a spin flag (one atomic swap, released by a store), then updates the
//! counters with plain loads and stores: every field is an atomic only so that the code needs
//! no `unsafe`; the flag orders them. The classic histogram's two read-modify-write operations
//! become one, which pays for the logarithm.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::OnceLock;

/// Largest scale (finest buckets), as OpenTelemetry's default.
pub const EXP_MAX_SCALE: i32 = 20;
/// Smallest scale: at -10 two buckets cover every finite `f64`.
const MIN_SCALE: i32 = -10;
/// Buckets per side, as OpenTelemetry's default `max_size`.
pub const EXP_MAX_BUCKETS: usize = 160;

/// The bucket index of a finite `v > 0` at `scale`: `(base^i, base^(i+1)]` holds it.
pub(crate) fn bucket_index(v: f64, scale: i32) -> i32 {
    let bits = v.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    let mantissa = bits & ((1u64 << 52) - 1);
    // The exponent of v, subnormals included (v = 1.m * 2^exp).
    let exp = if raw_exp == 0 { -1023 - (mantissa.leading_zeros() as i32 - 12) } else { raw_exp - 1023 };
    let power_of_two = mantissa == 0 || (raw_exp == 0 && mantissa.is_power_of_two());
    if scale <= 0 {
        // An exact power of two is the upper bound of the bucket below.
        let e = if power_of_two { exp - 1 } else { exp };
        return e >> -scale;
    }
    if power_of_two {
        return (exp << scale) - 1;
    }
    if raw_exp != 0 && scale <= TABLE_SCALES {
        // The mantissa's place among the scale's bounds within one octave: no logarithm.
        let m = f64::from_bits(mantissa | (1023u64 << 52));
        return (exp << scale) + octave_bounds(scale).partition_point(|b| *b < m) as i32;
    }
    let factor = f64::from(1u32 << scale) / std::f64::consts::LN_2;
    (v.ln() * factor).ceil() as i32 - 1
}

/// Scales up to which bucket indices come from a table of bounds (1,024 at scale 10).
const TABLE_SCALES: i32 = 10;

/// The bounds `2^(k/2^scale)` for `k` in `1..2^scale`: the buckets within one octave.
fn octave_bounds(scale: i32) -> &'static [f64] {
    static TABLES: [OnceLock<Box<[f64]>>; TABLE_SCALES as usize + 1] =
        [const { OnceLock::new() }; TABLE_SCALES as usize + 1];
    TABLES[scale as usize].get_or_init(|| {
        let n = 1u32 << scale;
        (1..n).map(|k| (f64::from(k) / f64::from(n)).exp2()).collect()
    })
}

/// The upper bound of bucket `i` at `scale`: `2^((i+1) / 2^scale)`.
pub(crate) fn upper_bound(i: i32, scale: i32) -> f64 {
    (f64::from(i + 1) * (-f64::from(scale)).exp2()).exp2()
}

/// One side's buckets: a window of indices starting at `offset`.
#[derive(Debug)]
struct Side {
    /// Lowest index held (`i32::MAX` while empty).
    offset: AtomicI32,
    /// Highest index held.
    top: AtomicI32,
    counts: Box<[AtomicU64]>,
}

impl Side {
    fn new(size: usize) -> Self {
        Self {
            offset: AtomicI32::new(i32::MAX),
            top: AtomicI32::new(i32::MIN),
            counts: (0..size).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn range(&self) -> Option<(i32, i32)> {
        let (lo, hi) = (self.offset.load(Ordering::Relaxed), self.top.load(Ordering::Relaxed));
        (lo <= hi).then_some((lo, hi))
    }

    /// The scale steps down needed for `idx` to fit beside what is held.
    fn change_for(&self, idx: i32, size: usize) -> i32 {
        let Some((lo, hi)) = self.range() else { return 0 };
        let (mut lo, mut hi) = (lo.min(idx), hi.max(idx));
        let mut change = 0;
        while i64::from(hi) - i64::from(lo) + 1 > size as i64 {
            (lo, hi) = (lo >> 1, hi >> 1);
            change += 1;
        }
        change
    }

    /// Merges buckets `2^change` at a time (the caller holds the flag).
    fn downscale(&self, change: i32) {
        let Some((lo, hi)) = self.range().filter(|_| change > 0) else { return };
        let (new_lo, new_hi) = (lo >> change, hi >> change);
        let mut merged = vec![0u64; (new_hi - new_lo + 1) as usize];
        for i in lo..=hi {
            let c = self.counts[(i - lo) as usize].swap(0, Ordering::Relaxed);
            merged[((i >> change) - new_lo) as usize] += c;
        }
        for (slot, c) in self.counts.iter().zip(merged) {
            slot.store(c, Ordering::Relaxed);
        }
        self.offset.store(new_lo, Ordering::Relaxed);
        self.top.store(new_hi, Ordering::Relaxed);
    }

    /// Adds one at `idx`, which fits (the caller holds the flag).
    fn add(&self, idx: i32) {
        match self.range() {
            None => {
                self.offset.store(idx, Ordering::Relaxed);
                self.top.store(idx, Ordering::Relaxed);
            }
            Some((lo, hi)) if idx < lo => {
                // Shift the window up to make room below (rare: values reaching lower).
                let by = (lo - idx) as usize;
                for j in (0..=(hi - lo) as usize).rev() {
                    let c = self.counts[j].load(Ordering::Relaxed);
                    self.counts[j + by].store(c, Ordering::Relaxed);
                }
                for slot in &self.counts[..by] {
                    slot.store(0, Ordering::Relaxed);
                }
                self.offset.store(idx, Ordering::Relaxed);
            }
            Some((_, hi)) if idx > hi => self.top.store(idx, Ordering::Relaxed),
            Some(_) => {}
        }
        let slot = &self.counts[(idx - self.offset.load(Ordering::Relaxed)) as usize];
        slot.store(slot.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> ExpBuckets {
        match self.range() {
            None => ExpBuckets { offset: 0, counts: Vec::new() },
            Some((lo, hi)) => ExpBuckets {
                offset: lo,
                counts: self.counts[..=(hi - lo) as usize].iter().map(|c| c.load(Ordering::Relaxed)).collect(),
            },
        }
    }
}

/// One side of a snapshot: bucket `offset + k` holds `counts[k]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpBuckets {
    /// Index of the first bucket.
    pub offset: i32,
    /// Counts, one per bucket from `offset` up.
    pub counts: Vec<u64>,
}

/// A copy of an exponential histogram's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpHistogramSnapshot {
    /// The scale: `base = 2^(2^-scale)`.
    pub scale: i32,
    /// Observations of exactly zero.
    pub zero_count: u64,
    /// Buckets of positive values.
    pub positive: ExpBuckets,
    /// Buckets of negative values (by absolute value).
    pub negative: ExpBuckets,
    /// Number of observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
    /// Smallest and largest observation (`None` before the first).
    pub min_max: Option<(f64, f64)>,
}

/// An exponential histogram (see the module docs), behind a [`super::HistogramCell`].
#[derive(Debug)]
pub(crate) struct ExpHistogramCell {
    flag: AtomicBool,
    scale: AtomicI32,
    zero: AtomicU64,
    count: AtomicU64,
    sum: AtomicU64,
    min: AtomicU64,
    max: AtomicU64,
    positive: Side,
    negative: OnceLock<Side>,
}

impl Default for ExpHistogramCell {
    fn default() -> Self {
        Self {
            flag: AtomicBool::new(false),
            scale: AtomicI32::new(EXP_MAX_SCALE),
            zero: AtomicU64::new(0),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0f64.to_bits()),
            min: AtomicU64::new(f64::INFINITY.to_bits()),
            max: AtomicU64::new(f64::NEG_INFINITY.to_bits()),
            positive: Side::new(EXP_MAX_BUCKETS),
            negative: OnceLock::new(),
        }
    }
}

/// Holds the flag; released on drop.
struct Held<'a>(&'a AtomicBool);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl ExpHistogramCell {
    fn hold(&self) -> Held<'_> {
        let backoff = crossbeam_utils::Backoff::new();
        while self.flag.swap(true, Ordering::Acquire) {
            while self.flag.load(Ordering::Relaxed) {
                backoff.snooze();
            }
        }
        Held(&self.flag)
    }

    /// Records one observation; the caller has refused non-finite values.
    #[inline]
    pub(crate) fn observe(&self, v: f64) {
        let scale = self.scale.load(Ordering::Relaxed);
        // Computed before the flag is taken; again under it if the scale moved meanwhile.
        let guess = if v == 0.0 { 0 } else { bucket_index(v.abs(), scale) };
        let _held = self.hold();
        let bump = |a: &AtomicU64| a.store(a.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        bump(&self.count);
        self.sum.store((f64::from_bits(self.sum.load(Ordering::Relaxed)) + v).to_bits(), Ordering::Relaxed);
        if v < f64::from_bits(self.min.load(Ordering::Relaxed)) {
            self.min.store(v.to_bits(), Ordering::Relaxed);
        }
        if v > f64::from_bits(self.max.load(Ordering::Relaxed)) {
            self.max.store(v.to_bits(), Ordering::Relaxed);
        }
        if v == 0.0 {
            bump(&self.zero);
            return;
        }
        let side = if v > 0.0 { &self.positive } else { self.negative.get_or_init(|| Side::new(EXP_MAX_BUCKETS)) };
        let mut scale_now = self.scale.load(Ordering::Relaxed);
        let mut idx = if scale_now == scale { guess } else { bucket_index(v.abs(), scale_now) };
        // The usual case: a bucket already in the window.
        let lo = side.offset.load(Ordering::Relaxed);
        if idx >= lo && idx <= side.top.load(Ordering::Relaxed) {
            let slot = &side.counts[(idx - lo) as usize];
            slot.store(slot.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            return;
        }
        let change = side.change_for(idx, EXP_MAX_BUCKETS).min(scale_now - MIN_SCALE);
        if change > 0 {
            self.positive.downscale(change);
            if let Some(n) = self.negative.get() {
                n.downscale(change);
            }
            scale_now -= change;
            self.scale.store(scale_now, Ordering::Relaxed);
            idx = bucket_index(v.abs(), scale_now);
        }
        side.add(idx);
    }

    /// A consistent copy of the state.
    pub(crate) fn snapshot(&self) -> ExpHistogramSnapshot {
        let _held = self.hold();
        let count = self.count.load(Ordering::Relaxed);
        let (min, max) =
            (f64::from_bits(self.min.load(Ordering::Relaxed)), f64::from_bits(self.max.load(Ordering::Relaxed)));
        ExpHistogramSnapshot {
            scale: self.scale.load(Ordering::Relaxed),
            zero_count: self.zero.load(Ordering::Relaxed),
            positive: self.positive.snapshot(),
            negative: self.negative.get().map(Side::snapshot).unwrap_or_default(),
            count,
            sum: f64::from_bits(self.sum.load(Ordering::Relaxed)),
            min_max: (count > 0).then_some((min, max)),
        }
    }

    /// Number of observations.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Sum of observations.
    pub(crate) fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Ordering::Relaxed))
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.count() ^ self.sum().to_bits().rotate_left(29)
    }
}

impl ExpHistogramSnapshot {
    /// Calls `f(upper_bound, cumulative_count)` over every bucket in increasing value order
    /// (negative buckets, zero as `le="0"`, positive buckets), `+Inf` last; the classic-histogram
    /// view the text formats render.
    pub fn for_each_cumulative(&self, mut f: impl FnMut(f64, u64)) {
        let mut acc = 0u64;
        let n = &self.negative;
        for (k, c) in n.counts.iter().enumerate().rev() {
            acc += c;
            // Bucket i of the negative side holds [-base^(i+1), -base^i): its upper bound is -base^i.
            let i = n.offset + k as i32;
            f(-upper_bound(i - 1, self.scale), acc);
        }
        acc += self.zero_count;
        f(0.0, acc);
        let p = &self.positive;
        for (k, c) in p.counts.iter().enumerate() {
            acc += c;
            f(upper_bound(p.offset + k as i32, self.scale), acc);
        }
        f(f64::INFINITY, acc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index by the definition, from bounds computed in `f64`.
    fn by_definition(v: f64, scale: i32) -> i32 {
        let mut i = bucket_index(v, scale);
        while v <= upper_bound(i - 1, scale) {
            i -= 1;
        }
        while v > upper_bound(i, scale) {
            i += 1;
        }
        i
    }

    #[test]
    fn indices_follow_the_definition_at_every_scale() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(0x3000_0000_0000_0000 | (x >> 12)) * 1e-30 * (x % 97 + 1) as f64;
            for scale in [-4, -1, 0, 1, 3, 8, 20] {
                assert_eq!(bucket_index(v, scale), by_definition(v, scale), "{v} at scale {scale}");
            }
        }
        // Exact powers of two close the bucket below.
        assert_eq!(bucket_index(1.0, 0), -1);
        assert_eq!(bucket_index(2.0, 0), 0);
        assert_eq!(bucket_index(4.0, 1), 3);
        assert_eq!(bucket_index(f64::MIN_POSITIVE / 4.0, 0), -1025);
    }

    #[test]
    fn the_scale_shrinks_to_fit_and_counts_stay_exact() {
        let h = ExpHistogramCell::default();
        let values: Vec<f64> = (1..=10_000).map(|i| f64::from(i) * 0.37).chain([0.0, -3.0, -1e-3, 1e12]).collect();
        for v in &values {
            h.observe(*v);
        }
        let s = h.snapshot();
        assert!(s.positive.counts.len() <= EXP_MAX_BUCKETS && s.negative.counts.len() <= EXP_MAX_BUCKETS);
        assert!(s.scale < EXP_MAX_SCALE);
        // Every value is counted in the bucket its definition names at the final scale.
        let mut want_pos = std::collections::BTreeMap::new();
        let mut want_neg = std::collections::BTreeMap::new();
        for v in &values {
            match v.partial_cmp(&0.0) {
                Some(std::cmp::Ordering::Greater) => *want_pos.entry(by_definition(*v, s.scale)).or_insert(0u64) += 1,
                Some(std::cmp::Ordering::Less) => *want_neg.entry(by_definition(-v, s.scale)).or_insert(0u64) += 1,
                _ => {}
            }
        }
        let got = |b: &ExpBuckets| -> std::collections::BTreeMap<i32, u64> {
            b.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(k, c)| (b.offset + k as i32, *c)).collect()
        };
        assert_eq!(got(&s.positive), want_pos);
        assert_eq!(got(&s.negative), want_neg);
        assert_eq!((s.zero_count, s.count), (1, values.len() as u64));
        assert_eq!(s.min_max, Some((-3.0, 1e12)));
        let mut last = (f64::NEG_INFINITY, 0);
        s.for_each_cumulative(|le, c| {
            assert!(le > last.0 && c >= last.1, "{le} {c} after {last:?}");
            last = (le, c);
        });
        assert_eq!(last.1, values.len() as u64);
    }
}

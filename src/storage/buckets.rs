use std::sync::Arc;

/// The most buckets a layout may have: every bucket is one series on the wire.
pub const MAX_BUCKETS: usize = 256;

/// Why a bucket layout was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BucketsError {
    /// No bucket bounds were given.
    #[error("a histogram needs at least one bucket bound")]
    Empty,
    /// A bound is NaN or infinite (`+Inf` is always added by the crate).
    #[error("bucket bound #{index} is not finite ({value}); the +Inf bucket is added automatically")]
    NotFinite {
        /// Position of the bound.
        index: usize,
        /// The bound.
        value: f64,
    },
    /// Bounds are not strictly increasing.
    #[error("bucket bounds must be strictly increasing: #{index} ({value}) is not above the one before")]
    NotIncreasing {
        /// Position of the bound.
        index: usize,
        /// The bound.
        value: f64,
    },
    /// More bounds than [`MAX_BUCKETS`].
    #[error("{count} bucket bounds exceed the limit of {MAX_BUCKETS}")]
    TooMany {
        /// How many were asked for.
        count: usize,
    },
    /// A helper got a parameter it cannot build a layout from.
    #[error("invalid bucket layout parameter: {0}")]
    Parameter(&'static str),
}

/// A histogram's bucket upper bounds (`le`), strictly increasing and finite; `+Inf` is implied.
///
/// ```
/// use codomyrmex_metrics::Buckets;
/// assert_eq!(Buckets::linear(1.0, 1.0, 3).unwrap().bounds(), &[1.0, 2.0, 3.0]);
/// assert_eq!(Buckets::exponential(1.0, 2.0, 4).unwrap().bounds(), &[1.0, 2.0, 4.0, 8.0]);
/// assert_eq!(Buckets::prometheus_default().bounds().len(), 11);
/// assert!(Buckets::new([2.0, 1.0]).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Buckets {
    bounds: Arc<[f64]>,
    /// Each bound as the `le` label renders it, `+Inf` last; formatted once per layout.
    le: Arc<[Box<str>]>,
    /// A base-2 exponential histogram instead (no fixed bounds).
    base2: bool,
}

impl PartialEq for Buckets {
    fn eq(&self, other: &Self) -> bool {
        self.bounds == other.bounds && self.base2 == other.base2
    }
}

fn le_labels(bounds: &[f64]) -> Arc<[Box<str>]> {
    let mut buf = ryu::Buffer::new();
    bounds.iter().map(|b| Box::from(buf.format_finite(*b))).chain([Box::from("+Inf")]).collect()
}

impl Buckets {
    /// Prometheus' default layout (seconds): 0.005 … 10.
    pub const DEFAULT_BOUNDS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

    /// A layout from explicit bounds.
    ///
    /// # Errors
    /// [`BucketsError`] when the bounds are empty, not finite, not strictly increasing, or too many.
    pub fn new(bounds: impl IntoIterator<Item = f64>) -> Result<Self, BucketsError> {
        let bounds: Vec<f64> = bounds.into_iter().take(MAX_BUCKETS + 1).collect();
        if bounds.is_empty() {
            return Err(BucketsError::Empty);
        }
        if bounds.len() > MAX_BUCKETS {
            return Err(BucketsError::TooMany { count: bounds.len() });
        }
        for (index, &value) in bounds.iter().enumerate() {
            if !value.is_finite() {
                return Err(BucketsError::NotFinite { index, value });
            }
            if index > 0 && value <= bounds[index - 1] {
                return Err(BucketsError::NotIncreasing { index, value });
            }
        }
        Ok(Self { le: le_labels(&bounds), bounds: bounds.into(), base2: false })
    }

    /// Prometheus' default layout, [`Self::DEFAULT_BOUNDS`].
    pub fn prometheus_default() -> Self {
        Self { bounds: Arc::new(Self::DEFAULT_BOUNDS), le: le_labels(&Self::DEFAULT_BOUNDS), base2: false }
    }

    /// `count` bounds: `start`, `start + width`, …
    ///
    /// # Errors
    /// [`BucketsError::Parameter`] when `width <= 0` or `count == 0`, and the errors of [`Self::new`].
    pub fn linear(start: f64, width: f64, count: usize) -> Result<Self, BucketsError> {
        if count == 0 || width.is_nan() || width <= 0.0 {
            return Err(BucketsError::Parameter("linear buckets need width > 0 and count >= 1"));
        }
        if count > MAX_BUCKETS {
            return Err(BucketsError::TooMany { count });
        }
        Self::new((0..count).map(|i| start + width * i as f64))
    }

    /// `count` bounds: `start`, `start * factor`, …
    ///
    /// # Errors
    /// [`BucketsError::Parameter`] when `start <= 0`, `factor <= 1` or `count == 0`, and the errors of [`Self::new`].
    pub fn exponential(start: f64, factor: f64, count: usize) -> Result<Self, BucketsError> {
        if count == 0 || start.is_nan() || start <= 0.0 || factor.is_nan() || factor <= 1.0 {
            return Err(BucketsError::Parameter("exponential buckets need start > 0, factor > 1 and count >= 1"));
        }
        if count > MAX_BUCKETS {
            return Err(BucketsError::TooMany { count });
        }
        Self::new((0..count).map(|i| start * factor.powi(i as i32)))
    }

    /// A base-2 exponential histogram, as OpenTelemetry defines it, instead of fixed bounds:
    /// buckets `(2^(i/2^scale), 2^((i+1)/2^scale)]` for positive and negative values and one for
    /// zero, the scale starting at 20 and shrinking so that each side needs at most 160
    /// buckets. Memory is fixed per series (160 counters a side). OTLP exports it as an
    /// `ExponentialHistogram`; the text formats render its buckets as `le` bounds (see
    /// docs/backends.md).
    ///
    /// ```
    /// use codomyrmex_metrics::{Buckets, Registry};
    /// let r = Registry::default();
    /// let h = r.histogram("payload_bytes", "Payload sizes.", Buckets::base2_exponential()).unwrap();
    /// h.observe(1500.0);
    /// assert!(Buckets::base2_exponential().is_base2_exponential());
    /// ```
    pub fn base2_exponential() -> Self {
        Self { bounds: Arc::new([]), le: Arc::new([]), base2: true }
    }

    /// Whether this is [`Self::base2_exponential`].
    pub fn is_base2_exponential(&self) -> bool {
        self.base2
    }

    /// The finite upper bounds, increasing (none for [`Self::base2_exponential`]).
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// The `le` label values, `+Inf` last.
    pub(crate) fn le_labels(&self) -> &[Box<str>] {
        &self.le
    }

    pub(crate) fn shared(&self) -> Arc<[f64]> {
        Arc::clone(&self.bounds)
    }
}

impl Default for Buckets {
    fn default() -> Self {
        Self::prometheus_default()
    }
}

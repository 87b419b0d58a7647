//! A registry read as OTLP: one `Metric` per family (counters as monotonic sums, gauges as
//! gauges, histograms as explicit-bucket histograms), its series as data points whose
//! attributes are the global labels and the series' labels after the policy, packed into
//! requests of at most the configured size. The protobuf types are `opentelemetry-proto`'s.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point, metric::Data, number_data_point, AggregationTemporality, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::config::Temporality;
use super::state::{series_key, Accepted, Births, KeyMap, States};
use crate::export::{SeriesValue, SeriesView};
use crate::registry::Registry;
use crate::MetricKind;

/// A string attribute.
pub(crate) fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.to_owned())) }),
        ..Default::default()
    }
}

/// The unit as UCUM writes it, for the units the crate names; others as they are.
fn ucum(unit: &str) -> &str {
    match unit {
        "seconds" => "s",
        "bytes" => "By",
        "ratio" => "1",
        "celsius" => "Cel",
        other => other,
    }
}

/// What to remember of a delta series once the request carrying its point is accepted.
#[derive(Debug)]
pub(crate) struct Commit {
    pub(crate) id: u32,
    pub(crate) accepted: Accepted,
    pub(crate) at: u64,
}

/// One request: the message, how many data points it carries, the deltas it commits, and
/// the series of its points, in order.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) request: ExportMetricsServiceRequest,
    pub(crate) points: usize,
    pub(crate) commits: Vec<Commit>,
    pub(crate) ids: Vec<u32>,
}

/// What an export remembers of one point: its series' slot, and what it commits (a delta).
#[derive(Debug)]
pub(crate) struct Note {
    pub(crate) id: u32,
    pub(crate) commit: Option<Commit>,
    /// At least the bytes the point takes in a request (see [`point_bound`]).
    pub(crate) bound: usize,
}

/// At least the bytes attributes take: each key and string value with the most a tag and a
/// length prefix can take around them.
fn attributes_bound(attributes: &[KeyValue]) -> usize {
    let value_len = |kv: &KeyValue| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.len(),
        _ => 64,
    };
    attributes.iter().map(|kv| kv.key.len() + value_len(kv) + 24).sum()
}

/// At least the bytes the last point of `metric` takes, framed: its attributes, and a fixed
/// most for its other fields (fixed64 times and counts, doubles, varint bucket counts at 10
/// bytes each). Summed, they let a metric that surely fits skip a measuring pass.
fn point_bound(metric: &Metric) -> usize {
    match &metric.data {
        Some(Data::Sum(d)) => d.data_points.last().map_or(0, |p| 48 + attributes_bound(&p.attributes)),
        Some(Data::Gauge(d)) => d.data_points.last().map_or(0, |p| 48 + attributes_bound(&p.attributes)),
        Some(Data::Histogram(d)) => d.data_points.last().map_or(0, |p| {
            112 + 8 * (p.bucket_counts.len() + p.explicit_bounds.len()) + attributes_bound(&p.attributes)
        }),
        Some(Data::ExponentialHistogram(d)) => d.data_points.last().map_or(0, |p| {
            let n =
                |b: &Option<exponential_histogram_data_point::Buckets>| b.as_ref().map_or(0, |b| b.bucket_counts.len());
            140 + 10 * (n(&p.positive) + n(&p.negative)) + attributes_bound(&p.attributes)
        }),
        _ => 0,
    }
}

/// At least the bytes a metric takes without its points.
fn header_bound(metric: &Metric) -> usize {
    metric.name.len() + metric.description.len() + metric.unit.len() + 48
}

/// A family's metric and, point by point, its notes.
type Part = (Metric, Vec<Note>);

/// Reads the registry into one metric per family.
pub(crate) struct Reader<'a> {
    pub(crate) states: &'a mut States,
    /// The creation times noted since the last export; what is left was not used.
    pub(crate) births: KeyMap<u64>,
    /// Where times noted while this export reads go.
    pub(crate) late: &'a Births,
    /// Points per metric at the last export, to size this one's vectors.
    pub(crate) sizes: &'a mut std::collections::HashMap<String, usize>,
    pub(crate) temporality: Temporality,
    /// Start of series that were there before the exporter.
    pub(crate) default_start: u64,
    pub(crate) now: u64,
}

impl Reader<'_> {
    /// Every family of `registry` as a metric, and the creation times it did not use.
    pub(crate) fn read(mut self, registry: &Registry) -> (Vec<Part>, KeyMap<u64>) {
        let global: Vec<KeyValue> = registry.global_labels().iter().map(|(k, v)| attribute(k, v)).collect();
        let mut parts: Vec<Part> = Vec::new();
        let mut key = String::new();
        let mut family: Option<*const crate::Descriptor> = None;
        registry.for_each_series(|s| {
            let desc: *const crate::Descriptor = s.family;
            if family != Some(desc) {
                family = Some(desc);
                // Sized as the family was at the last export: a large family's points are not
                // moved again and again as their vector grows.
                let hint = self.sizes.get(s.name()).copied().unwrap_or(0);
                let metric = self.metric_of(s, hint);
                parts.push((metric, Vec::with_capacity(hint)));
            }
            let Some((metric, commits)) = parts.last_mut() else { return };
            series_key(&mut key, s.name(), s.labels.iter());
            let note = self.point(metric, &key, &global, s);
            commits.push(note);
        });
        self.states.end_export();
        self.sizes.clear();
        for (metric, commits) in &parts {
            self.sizes.insert(metric.name.clone(), commits.len());
        }
        (parts, self.births)
    }

    fn metric_of(&self, s: &SeriesView<'_>, hint: usize) -> Metric {
        let d = s.family;
        let temporality = if self.temporality.is_delta() {
            AggregationTemporality::Delta
        } else {
            AggregationTemporality::Cumulative
        } as i32;
        let data = match d.kind() {
            MetricKind::Counter => Data::Sum(Sum {
                data_points: Vec::with_capacity(hint),
                aggregation_temporality: temporality,
                is_monotonic: true,
            }),
            MetricKind::Gauge => Data::Gauge(Gauge { data_points: Vec::with_capacity(hint) }),
            MetricKind::Histogram if d.buckets.as_ref().is_some_and(crate::Buckets::is_base2_exponential) => {
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: Vec::with_capacity(hint),
                    aggregation_temporality: temporality,
                })
            }
            MetricKind::Histogram => Data::Histogram(Histogram {
                data_points: Vec::with_capacity(hint),
                aggregation_temporality: temporality,
            }),
        };
        Metric {
            name: d.name().to_owned(),
            description: d.help().to_string(),
            unit: d.unit().map(|u| ucum(u.as_str()).to_owned()).unwrap_or_default(),
            metadata: Vec::new(),
            data: Some(data),
        }
    }

    /// Adds the point of `s` to `metric`; what it commits, for a delta.
    fn point(&mut self, metric: &mut Metric, key: &str, global: &[KeyValue], s: &SeriesView<'_>) -> Note {
        let (now, delta) = (self.now, self.temporality.is_delta());
        let (state, lent) = self.states.visit(key, &mut self.births, self.late, self.default_start);
        let attributes = lent.unwrap_or_else(|| {
            let mut a = Vec::with_capacity(global.len() + s.labels.len());
            a.extend(global.iter().cloned());
            a.extend(s.labels.iter().map(|(k, v)| attribute(k, v)));
            a
        });
        let commit = point_data(metric, attributes, s, state, now, delta);
        Note { id: state.id, commit, bound: point_bound(metric) }
    }
}

/// Adds the point of `s`, with `attributes`, to `metric`; what it commits, for a delta.
fn point_data(
    metric: &mut Metric,
    attributes: Vec<KeyValue>,
    s: &SeriesView<'_>,
    state: &mut super::state::SeriesState,
    now: u64,
    delta: bool,
) -> Option<Commit> {
    let id = state.id;
    let commit = |accepted: Accepted| Some(Commit { id, accepted, at: now });
    match (&mut metric.data, s.value) {
        (Some(Data::Sum(sum)), SeriesValue::Counter(total)) => {
            let (value, start, commit) = match (&state.accepted, delta) {
                (_, false) => (total, state.start, None),
                (Some((Accepted::Counter(before), at)), true) => {
                    (total - before, *at, commit(Accepted::Counter(total)))
                }
                (_, true) => (total, state.start, commit(Accepted::Counter(total))),
            };
            sum.data_points.push(number(attributes, start, now, value));
            commit
        }
        (Some(Data::Gauge(gauge)), SeriesValue::Gauge(value)) => {
            gauge.data_points.push(number(attributes, state.start, now, value));
            None
        }
        (Some(Data::Histogram(h)), SeriesValue::Histogram(cell)) => {
            let snap = cell.snapshot();
            let mut counts: Vec<u64> = Vec::with_capacity(snap.cumulative.len());
            let mut below = 0;
            for c in &snap.cumulative {
                counts.push(c.saturating_sub(below));
                below = *c;
            }
            let count = snap.count();
            let now_accepted = Accepted::Histogram { counts: counts.clone(), sum: snap.sum, count };
            let (counts, sum, count, start, commit) = match (&state.accepted, delta) {
                (_, false) => (counts, snap.sum, count, state.start, None),
                (Some((Accepted::Histogram { counts: c0, sum: s0, count: n0 }, at)), true)
                    if c0.len() == counts.len() =>
                {
                    let diff = counts.iter().zip(c0).map(|(a, b)| a.saturating_sub(*b)).collect();
                    (diff, snap.sum - s0, count.saturating_sub(*n0), *at, commit(now_accepted))
                }
                (_, true) => (counts, snap.sum, count, state.start, commit(now_accepted)),
            };
            h.data_points.push(HistogramDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: now,
                count,
                sum: Some(sum),
                bucket_counts: counts,
                explicit_bounds: snap.bounds,
                exemplars: Vec::new(),
                flags: 0,
                min: None,
                max: None,
            });
            commit
        }
        (Some(Data::ExponentialHistogram(h)), SeriesValue::Histogram(cell)) => {
            let snap = cell.exponential()?;
            let (point, start, commit) = match (&state.accepted, delta) {
                (_, false) => (snap.clone(), state.start, None),
                (Some((Accepted::Exponential(before), at)), true) => {
                    (super::exponential::minus(&snap, before), *at, commit(Accepted::Exponential(snap)))
                }
                (_, true) => (snap.clone(), state.start, commit(Accepted::Exponential(snap))),
            };
            let side = |b: &crate::ExpBuckets| {
                Some(exponential_histogram_data_point::Buckets { offset: b.offset, bucket_counts: b.counts.clone() })
            };
            h.data_points.push(ExponentialHistogramDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: now,
                count: point.count,
                sum: Some(point.sum),
                scale: point.scale,
                zero_count: point.zero_count,
                positive: side(&point.positive),
                negative: side(&point.negative),
                flags: 0,
                exemplars: Vec::new(),
                min: point.min_max.map(|m| m.0),
                max: point.min_max.map(|m| m.1),
                zero_threshold: 0.0,
            });
            commit
        }
        _ => None,
    }
}

fn number(attributes: Vec<KeyValue>, start: u64, now: u64, value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: now,
        exemplars: Vec::new(),
        flags: 0,
        value: Some(number_data_point::Value::AsDouble(value)),
    }
}

/// Bytes a repeated message field adds around a message of `len` bytes (tag and length).
fn framed(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// Packs the metrics into requests whose bodies are at most `max_bytes` each (a metric too
/// large for one is split between its points; a single point larger than the bound goes alone).
pub(crate) fn batches(
    resource: &Resource,
    scope: &InstrumentationScope,
    parts: Vec<Part>,
    max_bytes: usize,
) -> Vec<Batch> {
    let envelope = framed(resource.encoded_len()) + framed(scope.encoded_len()) + 16;
    let budget = max_bytes.saturating_sub(envelope).max(1);
    let mut out = Vec::new();
    let (mut metrics, mut notes, mut size) = (Vec::new(), Vec::new(), 0);
    for (part, len) in parts.into_iter().flat_map(|p| split(p, budget)) {
        let (metric, part_notes) = part;
        if size + len > budget && !metrics.is_empty() {
            out.push(request(resource, scope, std::mem::take(&mut metrics), std::mem::take(&mut notes)));
            size = 0;
        }
        size += len;
        notes.extend(part_notes);
        metrics.push(metric);
    }
    if !metrics.is_empty() {
        out.push(request(resource, scope, metrics, notes));
    }
    out
}

fn request(resource: &Resource, scope: &InstrumentationScope, metrics: Vec<Metric>, notes: Vec<Note>) -> Batch {
    let points = notes.len();
    let ids = notes.iter().map(|n| n.id).collect();
    let commits = notes.into_iter().filter_map(|n| n.commit).collect();
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource.clone()),
            scope_metrics: vec![ScopeMetrics { scope: Some(scope.clone()), metrics, schema_url: String::new() }],
            schema_url: String::new(),
        }],
    };
    Batch { request, points, commits, ids }
}

/// `part` cut between its points into metrics of at most `budget` bytes each, each with its
/// framed length, measured once (every measure walks every point).
fn split(part: Part, budget: usize) -> Vec<(Part, usize)> {
    let (metric, commits) = part;
    // A metric whose bound fits is not measured (every measure walks every point).
    let bound = header_bound(&metric) + commits.iter().map(|n| n.bound).sum::<usize>();
    if bound <= budget {
        return vec![((metric, commits), bound)];
    }
    let len = framed(metric.encoded_len());
    if len <= budget {
        return vec![((metric, commits), len)];
    }
    split_points(metric, commits, budget)
        .into_iter()
        .map(|p| {
            let len = framed(p.0.encoded_len());
            (p, len)
        })
        .collect()
}

/// A metric too large for one request, cut between its points.
fn split_points(metric: Metric, commits: Vec<Note>, budget: usize) -> Vec<Part> {
    let header = Metric { data: None, ..metric.clone() };
    let room = budget.saturating_sub(framed(header.encoded_len()) + 8).max(1);
    let rebuild = |data: Data| Metric { data: Some(data), ..header.clone() };
    match metric.data {
        Some(Data::Sum(s)) => {
            let (temporality, monotonic) = (s.aggregation_temporality, s.is_monotonic);
            chunks(s.data_points, commits, room)
                .into_iter()
                .map(|(data_points, c)| {
                    let sum = Sum { data_points, aggregation_temporality: temporality, is_monotonic: monotonic };
                    (rebuild(Data::Sum(sum)), c)
                })
                .collect()
        }
        Some(Data::Gauge(g)) => chunks(g.data_points, commits, room)
            .into_iter()
            .map(|(data_points, c)| (rebuild(Data::Gauge(Gauge { data_points })), c))
            .collect(),
        Some(Data::ExponentialHistogram(h)) => {
            let temporality = h.aggregation_temporality;
            chunks(h.data_points, commits, room)
                .into_iter()
                .map(|(data_points, c)| {
                    let e = ExponentialHistogram { data_points, aggregation_temporality: temporality };
                    (rebuild(Data::ExponentialHistogram(e)), c)
                })
                .collect()
        }
        Some(Data::Histogram(h)) => {
            let temporality = h.aggregation_temporality;
            chunks(h.data_points, commits, room)
                .into_iter()
                .map(|(data_points, c)| {
                    (rebuild(Data::Histogram(Histogram { data_points, aggregation_temporality: temporality })), c)
                })
                .collect()
        }
        other => vec![(Metric { data: other, ..header }, commits)],
    }
}

/// `points` (with their commits) in runs of at most `room` encoded bytes.
fn chunks<P: Message>(points: Vec<P>, commits: Vec<Note>, room: usize) -> Vec<(Vec<P>, Vec<Note>)> {
    let mut out = Vec::new();
    let (mut run, mut run_commits, mut size) = (Vec::new(), Vec::new(), 0);
    for (p, c) in points.into_iter().zip(commits) {
        let len = framed(p.encoded_len());
        if size + len > room && !run.is_empty() {
            out.push((std::mem::take(&mut run), std::mem::take(&mut run_commits)));
            size = 0;
        }
        size += len;
        run.push(p);
        run_commits.push(c);
    }
    if !run.is_empty() {
        out.push((run, run_commits));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge_part(n: usize) -> Part {
        let points: Vec<NumberDataPoint> =
            (0..n).map(|i| number(vec![attribute("i", &i.to_string())], 1, 2, i as f64)).collect();
        let bounds: Vec<usize> = points.iter().map(|p| 48 + attributes_bound(&p.attributes)).collect();
        let metric = Metric {
            name: "g".into(),
            description: String::new(),
            unit: String::new(),
            metadata: Vec::new(),
            data: Some(Data::Gauge(Gauge { data_points: points })),
        };
        (metric, bounds.into_iter().enumerate().map(|(i, bound)| Note { id: i as u32, commit: None, bound }).collect())
    }

    /// The bounds are never below what the points take, whatever their values.
    #[test]
    fn bounds_are_never_below_the_encoded_size() {
        let mut m = gauge_part(0).0;
        let Some(Data::Gauge(g)) = &mut m.data else { unreachable!() };
        for i in 0..300u32 {
            let long = "é\"{}=,".repeat((i % 40) as usize);
            let attrs = vec![attribute(&format!("key_{i}"), &long), attribute("b", &i.to_string())];
            g.data_points.push(number(attrs, u64::MAX, u64::MAX, f64::MIN));
        }
        let Some(Data::Gauge(g)) = &m.data else { unreachable!() };
        let mut bound = header_bound(&m);
        for (k, p) in g.data_points.iter().enumerate() {
            let one =
                Metric { data: Some(Data::Gauge(Gauge { data_points: g.data_points[..=k].to_vec() })), ..m.clone() };
            let b = point_bound(&one);
            assert!(b >= framed(p.encoded_len()), "point {k}: {b} < {}", framed(p.encoded_len()));
            bound += b;
        }
        assert!(bound >= framed(m.encoded_len()), "{bound} < {}", framed(m.encoded_len()));
        let h = HistogramDataPoint {
            attributes: vec![attribute("k", "v")],
            start_time_unix_nano: u64::MAX,
            time_unix_nano: u64::MAX,
            count: u64::MAX,
            sum: Some(f64::MAX),
            bucket_counts: vec![u64::MAX; 40],
            explicit_bounds: vec![f64::MAX; 39],
            exemplars: Vec::new(),
            flags: u32::MAX,
            min: Some(f64::MIN),
            max: Some(f64::MAX),
        };
        let hm = Metric {
            data: Some(Data::Histogram(Histogram { data_points: vec![h.clone()], aggregation_temporality: 2 })),
            ..m.clone()
        };
        assert!(point_bound(&hm) >= framed(h.encoded_len()));
        let side =
            Some(exponential_histogram_data_point::Buckets { offset: i32::MIN, bucket_counts: vec![u64::MAX; 160] });
        let e = ExponentialHistogramDataPoint {
            attributes: vec![attribute("k", "v")],
            start_time_unix_nano: u64::MAX,
            time_unix_nano: u64::MAX,
            count: u64::MAX,
            sum: Some(f64::MAX),
            scale: i32::MIN,
            zero_count: u64::MAX,
            positive: side.clone(),
            negative: side,
            flags: u32::MAX,
            exemplars: Vec::new(),
            min: Some(f64::MIN),
            max: Some(f64::MAX),
            zero_threshold: f64::MAX,
        };
        let em = Metric {
            data: Some(Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![e.clone()],
                aggregation_temporality: 2,
            })),
            ..m
        };
        assert!(point_bound(&em) >= framed(e.encoded_len()));
    }

    #[test]
    fn requests_stay_under_the_bound_and_keep_every_point() {
        let resource = Resource { attributes: vec![attribute("service.name", "t")], ..Default::default() };
        let scope = InstrumentationScope { name: "s".into(), ..Default::default() };
        let parts = vec![gauge_part(3_000), gauge_part(10), gauge_part(500)];
        let batches = batches(&resource, &scope, parts, 8_192);
        assert!(batches.len() > 5, "{}", batches.len());
        let mut points = 0;
        for b in &batches {
            let body = b.request.encode_to_vec();
            assert!(body.len() <= 8_192, "{}", body.len());
            let decoded = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap();
            let n: usize = decoded.resource_metrics[0].scope_metrics[0]
                .metrics
                .iter()
                .map(|m| match &m.data {
                    Some(Data::Gauge(g)) => g.data_points.len(),
                    _ => 0,
                })
                .sum();
            assert_eq!(n, b.points);
            points += n;
        }
        assert_eq!(points, 3_510);
    }
}

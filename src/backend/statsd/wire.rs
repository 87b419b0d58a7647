//! The StatsD wire: a series' key in each tag dialect (rendered once per series), and its
//! lines, formatted by cadence. Every name and tag passes [`statsd_wire`] first, so no label
//! value can add a field or a line.

use std::borrow::Cow;

use cadence::prelude::*;
use cadence::{Metric, MetricBuilder, NopMetricSink, StatsdClient};

use super::config::{Dialect, EtsyLabels, HistogramAs};
use super::events::{Counters, StatsdEvent};
use crate::policy::sanitize::statsd_wire;

/// A series' name and tags as they go on the wire (tags only in the DogStatsD dialect; the
/// others fold them into the name or drop them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WireKey {
    pub(crate) name: Box<str>,
    pub(crate) tags: Box<[(Box<str>, Box<str>)]>,
    /// For a duration, the multiplier that turns a sample into milliseconds (1000 for a family
    /// in seconds, 1 for one in milliseconds); `None` for any other value (bytes, euros).
    pub(crate) duration_scale: Option<f64>,
}

/// Renders wire keys for one backend.
#[derive(Debug, Clone)]
pub(crate) struct KeyRenderer {
    pub(crate) dialect: Dialect,
    pub(crate) etsy_labels: EtsyLabels,
    /// The backend's own global tags, before the registry's global labels.
    pub(crate) tags: Vec<(String, String)>,
}

fn clean<'a>(s: &'a str, events: &Counters, also_dot: bool) -> Cow<'a, str> {
    let mut out = statsd_wire(s);
    if also_dot && out.contains('.') {
        out = Cow::Owned(out.replace('.', "_"));
    }
    if matches!(out, Cow::Owned(_)) {
        events.record(StatsdEvent::Wire);
    }
    out
}

impl KeyRenderer {
    pub(crate) fn for_config(c: &super::config::StatsdConfig) -> Self {
        Self { dialect: c.dialect, etsy_labels: c.etsy_labels, tags: c.tags.clone() }
    }

    /// The key of a series of the family `name` with label `pairs` (global labels first);
    /// `seconds` when its unit is seconds.
    pub(crate) fn render<'p>(
        &self,
        name: &str,
        seconds: bool,
        pairs: impl Iterator<Item = (&'p str, &'p str)>,
        events: &Counters,
    ) -> WireKey {
        let duration_scale = if seconds || name.ends_with("_seconds") {
            Some(1000.0)
        } else if name.ends_with("_milliseconds") || name.ends_with("_ms") {
            Some(1.0)
        } else {
            None
        };
        let mut all: Vec<(&str, &str)> = self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for (k, v) in pairs {
            all.push((k, v));
        }
        let mut name = clean(name, events, false).into_owned();
        let mut tags = Vec::new();
        match (self.dialect, self.etsy_labels) {
            (Dialect::DogStatsd, _) => {
                tags =
                    all.iter().map(|(k, v)| (clean(k, events, false).into(), clean(v, events, false).into())).collect();
            }
            (Dialect::Influx, _) => {
                // Line protocol has no empty tag values.
                for (k, v) in all.iter().filter(|(_, v)| !v.is_empty()) {
                    name.push(',');
                    name.push_str(&clean(k, events, false));
                    name.push('=');
                    name.push_str(&clean(v, events, false));
                }
            }
            (Dialect::Etsy, EtsyLabels::Fold) => {
                for (k, v) in all.iter().filter(|(_, v)| !v.is_empty()) {
                    name.push('.');
                    name.push_str(&clean(k, events, true));
                    name.push('.');
                    name.push_str(&clean(v, events, true));
                }
            }
            (Dialect::Etsy, EtsyLabels::Drop) => {}
        }
        WireKey { name: name.into(), tags: tags.into(), duration_scale }
    }
}

/// Lines for one point: one line, or two for a negative gauge where a leading `-` means
/// "subtract" (Etsy and InfluxDB/Telegraf: `0|g` first, then the value).
#[derive(Debug, Default)]
pub(crate) struct Lines {
    pub(crate) text: String,
    pub(crate) lines: u32,
}

/// Formats lines with cadence's formatter (the client's sink does nothing: the caller packs
/// the returned text itself).
pub(crate) struct LineFormatter {
    client: StatsdClient,
    histogram_as: HistogramAs,
    dialect: Dialect,
    gauge_reset: bool,
    sample_rate: f64,
}

impl std::fmt::Debug for LineFormatter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineFormatter").field("histogram_as", &self.histogram_as).finish_non_exhaustive()
    }
}

fn finish<'m, T: Metric + From<String>>(mut b: MetricBuilder<'m, '_, T>, key: &'m WireKey, rate: f64, out: &mut Lines) {
    for (k, v) in key.tags.iter() {
        b = b.with_tag(k, v);
    }
    if rate < 1.0 {
        b = b.with_sampling_rate(rate);
    }
    if let Ok(m) = b.try_send() {
        if out.lines > 0 {
            out.text.push('\n');
        }
        out.text.push_str(m.as_metric_str());
        out.lines += 1;
    }
}

impl LineFormatter {
    pub(crate) fn new(prefix: &str, dialect: Dialect, histogram_as: HistogramAs, sample_rate: f64) -> Self {
        Self {
            client: StatsdClient::from_sink(prefix, NopMetricSink),
            histogram_as,
            dialect,
            gauge_reset: !matches!(dialect, Dialect::DogStatsd),
            sample_rate,
        }
    }

    /// A whole counter increment (cadence writes whole counts).
    pub(crate) fn count(&self, key: &WireKey, n: i64) -> Lines {
        let mut out = Lines::default();
        finish(self.client.count_with_tags(&key.name, n), key, 1.0, &mut out);
        out
    }

    /// A gauge value; `None` when StatsD cannot carry it (infinite).
    pub(crate) fn gauge(&self, key: &WireKey, v: f64) -> Option<Lines> {
        if !v.is_finite() {
            return None;
        }
        let mut out = Lines::default();
        if v.is_sign_negative() && v != 0.0 && self.gauge_reset {
            finish(self.client.gauge_with_tags(&key.name, 0.0), key, 1.0, &mut out);
        }
        finish(self.client.gauge_with_tags(&key.name, if v == 0.0 { 0.0 } else { v }), key, 1.0, &mut out);
        Some(out)
    }

    /// One histogram sample, written with the backend's sampling rate, at full precision;
    /// `None` when StatsD cannot carry it (a negative or non-finite timer).
    ///
    /// `Auto` sends a duration as an `ms` timer in (fractional) milliseconds, and any other
    /// value as recorded: `h` in DogStatsD and InfluxDB, an `ms` line in Etsy (whose only
    /// distribution type it is; its daemon counts every other type as a counter).
    pub(crate) fn sample(&self, key: &WireKey, v: f64) -> Option<Lines> {
        let mut out = Lines::default();
        let timer = |ms: f64, out: &mut Lines| {
            if !(ms.is_finite() && ms >= 0.0) {
                return false;
            }
            // cadence writes timers in whole milliseconds only; its `h` line has the full value,
            // and only the type differs.
            finish(self.client.histogram_with_tags(&key.name, ms), key, self.sample_rate, out);
            into_timer(&mut out.text);
            true
        };
        let as_recorded_h = |out: &mut Lines| {
            finish(self.client.histogram_with_tags(&key.name, v), key, self.sample_rate, out);
        };
        match self.histogram_as {
            HistogramAs::Timer => {
                if !timer(v * key.duration_scale.unwrap_or(1.0), &mut out) {
                    return None;
                }
            }
            HistogramAs::Auto => match (key.duration_scale, self.dialect) {
                (Some(scale), _) => {
                    if !timer(v * scale, &mut out) {
                        return None;
                    }
                }
                (None, Dialect::Etsy) => {
                    if !timer(v, &mut out) {
                        return None;
                    }
                }
                (None, _) => as_recorded_h(&mut out),
            },
            HistogramAs::Histogram => as_recorded_h(&mut out),
            HistogramAs::Distribution => {
                finish(self.client.distribution_with_tags(&key.name, v), key, self.sample_rate, &mut out)
            }
        }
        Some(out)
    }
}

/// Turns `name:value|h…` into `name:value|ms…` in place: names and tags carry no `:` or `|`,
/// so the first `|` after the first `:` starts the type.
fn into_timer(line: &mut String) {
    if let Some(at) = line.find(':').and_then(|colon| Some(colon + line[colon..].find("|h")?)) {
        line.replace_range(at..at + 2, "|ms");
    }
}

/// How many points a payload holds: its lines, less the `0|g` line in front of each negative
/// gauge when the dialect writes one.
pub(crate) fn points_in(payload: &str, gauge_reset: bool) -> u64 {
    payload.split('\n').filter(|l| !l.is_empty()).filter(|l| !(gauge_reset && is_negative_gauge(l))).count() as u64
}

fn is_negative_gauge(line: &str) -> bool {
    // Names and tags carry no `:` or `|`, so the first `:` starts the value.
    let Some((_, rest)) = line.split_once(':') else { return false };
    rest.starts_with('-') && rest.split('|').nth(1) == Some("g")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> WireKey {
        WireKey { name: name.into(), tags: Box::new([]), duration_scale: Some(1000.0) }
    }

    #[test]
    fn negative_gauges_reset_first_except_in_dogstatsd() {
        let f = LineFormatter::new("app", Dialect::Etsy, HistogramAs::Timer, 1.0);
        let l = f.gauge(&key("g"), -3.5).unwrap();
        assert_eq!((l.text.as_str(), l.lines), ("app.g:0|g\napp.g:-3.5|g", 2));
        assert_eq!(points_in(&l.text, true), 1);
        let d = LineFormatter::new("", Dialect::DogStatsd, HistogramAs::Timer, 1.0);
        assert_eq!(d.gauge(&key("g"), -3.5).unwrap().text, "g:-3.5|g");
        assert!(f.gauge(&key("g"), f64::INFINITY).is_none());
        assert_eq!(f.gauge(&key("g"), -0.0).unwrap().text, "app.g:0|g");
    }

    #[test]
    fn timers_keep_their_precision_and_samples_carry_the_rate() {
        let f = LineFormatter::new("", Dialect::Etsy, HistogramAs::Timer, 0.25);
        assert_eq!(f.sample(&key("t"), 0.0126).unwrap().text, "t:12.6|ms|@0.25");
        assert_eq!(f.sample(&key("t"), 0.000_25).unwrap().text, "t:0.25|ms|@0.25");
        assert_eq!(f.sample(&key("t"), 2.0).unwrap().text, "t:2000|ms|@0.25");
        assert!(f.sample(&key("t"), -1.0).is_none());
        let h = LineFormatter::new("", Dialect::DogStatsd, HistogramAs::Distribution, 1.0);
        let k = WireKey { name: "t".into(), tags: vec![("k".into(), "v".into())].into(), duration_scale: None };
        assert_eq!(h.sample(&k, 0.5).unwrap().text, "t:0.5|d|#k:v");
    }

    #[test]
    fn auto_sends_durations_as_timers_and_other_values_as_recorded() {
        let euros = WireKey { name: "basket_euros".into(), tags: Box::new([]), duration_scale: None };
        let dog = LineFormatter::new("", Dialect::DogStatsd, HistogramAs::Auto, 1.0);
        assert_eq!(dog.sample(&key("t"), 0.000_4).unwrap().text, "t:0.4|ms");
        assert_eq!(dog.sample(&euros, 12.5).unwrap().text, "basket_euros:12.5|h");
        let influx = LineFormatter::new("", Dialect::Influx, HistogramAs::Auto, 1.0);
        assert_eq!(influx.sample(&euros, 12.5).unwrap().text, "basket_euros:12.5|h");
        let etsy = LineFormatter::new("", Dialect::Etsy, HistogramAs::Auto, 1.0);
        assert_eq!(etsy.sample(&euros, 12.5).unwrap().text, "basket_euros:12.5|ms", "the value as recorded");
        assert_eq!(etsy.sample(&key("t"), 0.000_4).unwrap().text, "t:0.4|ms");
    }
}

//! The worker thread of one StatsD backend: it takes points from the recording side's bounded
//! queue, reads aggregates from the registry at each flush, formats lines (cadence), packs them
//! into payloads no larger than the limit and hands each payload to cadence's queuing sink,
//! whose own thread writes them to the transport.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use cadence::{MetricSink, QueuingMetricSink};
use crossbeam_channel::{select, Receiver};

use super::aggregate::{Aggregates, Out};
use super::config::StatsdConfig;
use super::events::{Counters, StatsdEvent};
use super::tap::{ImmediateGauges, Point, PointKind, TapKey, UNSENT};
use super::wire::{KeyRenderer, LineFormatter, Lines};
use crate::registry::Registry;

/// Lines packed into payloads of at most `limit` bytes. On a stream every line ends with `\n`;
/// in a datagram lines are separated by `\n`.
struct Packer {
    buf: String,
    points: u64,
    limit: usize,
    stream: bool,
}

pub(crate) struct Worker {
    pub(crate) points: Receiver<Point>,
    /// Immediate mode's gauges, checked at every flush.
    pub(crate) gauges: ImmediateGauges,
    pub(crate) stop: Receiver<()>,
    pub(crate) registry: Registry,
    pub(crate) config: StatsdConfig,
    pub(crate) render: KeyRenderer,
    pub(crate) send: QueuingMetricSink,
    /// Payloads the transport has finished with (sent or not).
    pub(crate) done: Arc<AtomicU64>,
    pub(crate) abandon: Arc<AtomicBool>,
}

struct State {
    fmt: LineFormatter,
    packer: Packer,
    submitted: u64,
    agg: Aggregates,
    /// Fractions of counter increments not sent yet (cadence writes whole counts).
    carry: HashMap<usize, (Weak<TapKey>, f64)>,
    events: Counters,
}

impl Worker {
    pub(crate) fn run(self) {
        let c = &self.config;
        let mut st = State {
            fmt: LineFormatter::new(&c.prefix, c.dialect, c.histogram_as, c.sample_rate),
            packer: Packer { buf: String::new(), points: 0, limit: c.max_payload, stream: c.transport.is_stream() },
            submitted: 0,
            agg: Aggregates::default(),
            carry: HashMap::new(),
            events: self.registry.self_metrics().register_own::<StatsdEvent>(),
        };
        let mut next_flush = Instant::now() + c.flush_interval;
        loop {
            // The flush is due on the worker's own clock: checked before every wait, because
            // `select!` takes a ready receive over an expired timeout, and a producer that never
            // lets the queue empty would otherwise hold the flushes back for ever.
            let now = Instant::now();
            if now >= next_flush {
                self.flush(&mut st);
                next_flush = (next_flush + c.flush_interval).max(now);
            }
            let wait = next_flush.saturating_duration_since(Instant::now());
            select! {
                recv(self.points) -> p => match p {
                    Ok(p) => {
                        self.point(&mut st, p);
                        // Take what is queued now, then send it at once in immediate mode.
                        for p in self.points.try_iter().take(4096) {
                            self.point(&mut st, p);
                        }
                        if !c.aggregate {
                            self.emit(&mut st);
                        }
                    }
                    Err(_) => break,
                },
                recv(self.stop) -> _ => break,
                default(wait) => {}
            }
        }
        self.finish(st);
    }

    fn point(&self, st: &mut State, p: Point) {
        let key = &p.key.key;
        let out = match p.kind {
            PointKind::Count => {
                let v = p.value;
                if v.fract() == 0.0 && v <= i64::MAX as f64 {
                    Some(st.fmt.count(key, v as i64))
                } else {
                    let id = Arc::as_ptr(&p.key) as usize;
                    let e = st.carry.entry(id).or_insert_with(|| (Arc::downgrade(&p.key), 0.0));
                    e.1 += v;
                    let n = e.1.floor();
                    e.1 -= n;
                    (n >= 1.0).then(|| st.fmt.count(key, n.min(i64::MAX as f64) as i64))
                }
            }
            PointKind::Gauge => {
                p.key.sent(p.value);
                st.fmt.gauge(key, p.value).or_else(|| {
                    st.events.record(StatsdEvent::NotRepresentable);
                    None
                })
            }
            PointKind::Sample => st.fmt.sample(key, p.value).or_else(|| {
                st.events.record(StatsdEvent::NotRepresentable);
                None
            }),
        };
        if let Some(lines) = out {
            self.put(st, &lines);
        }
    }

    /// Adds one point's lines to the payload, sending the payload first when they do not fit.
    fn put(&self, st: &mut State, lines: &Lines) {
        if lines.lines == 0 {
            return;
        }
        let pk = &mut st.packer;
        let alone = lines.text.len() + usize::from(pk.stream);
        if alone > pk.limit {
            st.events.record(StatsdEvent::Oversize);
            return;
        }
        let need = lines.text.len() + usize::from(pk.stream || !pk.buf.is_empty());
        if pk.buf.len() + need > pk.limit {
            self.emit(st);
        }
        let pk = &mut st.packer;
        if !pk.stream && !pk.buf.is_empty() {
            pk.buf.push('\n');
        }
        pk.buf.push_str(&lines.text);
        if pk.stream {
            pk.buf.push('\n');
        }
        pk.points += 1;
    }

    /// Hands the payload to the send queue; a full queue drops it, counted.
    fn emit(&self, st: &mut State) {
        let pk = &mut st.packer;
        if pk.buf.is_empty() {
            return;
        }
        match self.send.emit(&pk.buf) {
            Ok(_) => st.submitted += 1,
            Err(_) => {
                st.events.add(StatsdEvent::SendQueueFull, pk.points);
                // Whichever gauge lines were in it, the next flush sends every gauge again.
                for (key, _) in self.gauges.lock().iter() {
                    key.last_sent.store(UNSENT, Ordering::Relaxed);
                }
            }
        }
        pk.buf.clear();
        pk.points = 0;
    }

    /// Aggregates and buffered lines go out.
    fn flush(&self, st: &mut State) {
        let mut lines = Vec::new();
        st.agg.flush(&self.registry, &self.render, &st.fmt, &self.config, |o| lines.push(o));
        for o in lines {
            match o {
                Out::Lines(l) => self.put(st, &l),
                Out::NotRepresentable => st.events.record(StatsdEvent::NotRepresentable),
            }
        }
        if !self.config.aggregate {
            self.resend_gauges(st);
        }
        self.emit(st);
        st.carry.retain(|_, (w, _)| w.strong_count() > 0);
    }

    /// Immediate mode: each gauge whose last line sent is not its value now (its point was
    /// dropped by a full queue, or two threads' points were queued in the other order) is
    /// sent again, counted as `statsd_gauges_resent`. When nothing was lost, nothing is added.
    fn resend_gauges(&self, st: &mut State) {
        let mut lines = Vec::new();
        self.gauges.lock().retain(|(key, series)| {
            let Some(v) = series.value() else { return false };
            if key.last_sent.load(Ordering::Relaxed) != v.to_bits() {
                key.sent(v);
                // A value StatsD cannot carry was counted when its point came, not again here.
                if let Some(l) = st.fmt.gauge(&key.key, v) {
                    lines.push(l);
                }
            }
            true
        });
        for l in lines {
            st.events.record(StatsdEvent::GaugeResent);
            self.put(st, &l);
        }
    }

    /// Shutdown: everything queued, a last flush, then wait (within the budget) for the
    /// transport; what it has not sent by then is given up and counted.
    fn finish(self, mut st: State) {
        for p in self.points.try_iter().collect::<Vec<_>>() {
            self.point(&mut st, p);
        }
        self.flush(&mut st);
        let deadline = Instant::now() + self.config.shutdown_budget;
        let drained = |until: Instant| {
            while self.done.load(Ordering::Acquire) < st.submitted {
                if Instant::now() >= until {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            true
        };
        if !drained(deadline) {
            tracing::warn!("StatsD shutdown budget spent; dropping what is still queued");
            self.abandon.store(true, Ordering::Release);
            drained(Instant::now() + Duration::from_secs(1));
        }
        self.send.flush().ok();
    }
}

//! StatsD: the cost of recording one event with a StatsD backend (aggregated and immediate),
//! against cadence used directly; the same with the server unreachable; and end-to-end
//! throughput (events recorded and packets sent per second) against a live UDP receiver.
//! Run: `cargo bench -p codomyrmex-metrics-checks --features statsd --bench statsd` (`BENCH_QUICK=1` for a short run).

mod common;

use std::hint::black_box;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cadence::prelude::*;
use cadence::{BufferedUdpMetricSink, QueuingMetricSink, StatsdClient};
use codomyrmex_metrics::StatsdEvent;
use codomyrmex_metrics::{get_metrics, Backend, Buckets, Metrics, StatsdBuilder, StatsdConfig};
use common::{median_ns, Table};

const SAMPLES: usize = 11;

fn iters() -> u64 {
    if common::quick() {
        200_000
    } else {
        2_000_000
    }
}

/// A UDP receiver counting datagrams and lines until dropped.
struct Receiver {
    addr: String,
    packets: Arc<AtomicU64>,
    lines: Arc<AtomicU64>,
    /// Sum of the counter values received (events delivered).
    sum: Arc<AtomicU64>,
    /// Nanoseconds since `epoch` of the last packet.
    last: Arc<AtomicU64>,
    epoch: Instant,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    fn start() -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let addr = sock.local_addr().unwrap().to_string();
        let new = || Arc::new(AtomicU64::new(0));
        let (packets, lines, sum, last, stop) = (new(), new(), new(), new(), Arc::new(AtomicBool::new(false)));
        let (p, l, su, la, s) =
            (Arc::clone(&packets), Arc::clone(&lines), Arc::clone(&sum), Arc::clone(&last), Arc::clone(&stop));
        let epoch = Instant::now();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            while !s.load(Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    p.fetch_add(1, Ordering::Relaxed);
                    la.store(epoch.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    for line in String::from_utf8_lossy(&buf[..n]).split('\n').filter(|x| !x.is_empty()) {
                        l.fetch_add(1, Ordering::Relaxed);
                        let v = line
                            .split_once(':')
                            .and_then(|(_, r)| r.split('|').next())
                            .and_then(|v| v.parse::<u64>().ok());
                        su.fetch_add(v.unwrap_or(0), Ordering::Relaxed);
                    }
                }
            }
        });
        Self { addr, packets, lines, sum, last, epoch, stop }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// An address nothing listens on.
fn unreachable_udp() -> String {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().to_string()
}

fn ours(config: StatsdConfig) -> Metrics {
    get_metrics(Backend::Statsd(config)).unwrap()
}

fn cadence_client(addr: &str) -> StatsdClient {
    let sink = BufferedUdpMetricSink::from(addr, UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    StatsdClient::from_sink("", QueuingMetricSink::with_capacity(sink, 16_384))
}

fn recording(rx: &Receiver) {
    let n = iters();
    let mut t = Table::new("StatsD: recording one event (1 thread)", "ns/event");
    let agg = ours(StatsdConfig::udp(&rx.addr).build().unwrap());
    let c = agg.counter("bench_agg", "B.").unwrap();
    t.add("ours, aggregated: counter inc", median_ns(SAMPLES, n, |k| (0..k).for_each(|_| c.inc())));
    let h = agg.histogram("bench_h", "B.", Buckets::default()).unwrap();
    t.add(
        "ours: histogram observe (sample queued)",
        median_ns(SAMPLES, n, |k| (0..k).for_each(|i| h.observe(black_box(i as f64)))),
    );
    let hs = ours(StatsdConfig::udp(&rx.addr).sample_rate(0.1).unwrap().build().unwrap());
    let h10 = hs.histogram("bench_h10", "B.", Buckets::default()).unwrap();
    t.add(
        "ours: histogram observe, 10% sampled",
        median_ns(SAMPLES, n, |k| (0..k).for_each(|i| h10.observe(black_box(i as f64)))),
    );
    let imm = ours(StatsdConfig::udp(&rx.addr).aggregate(false).build().unwrap());
    let ci = imm.counter("bench_imm", "B.").unwrap();
    t.add("ours, immediate: counter inc", median_ns(SAMPLES, n, |k| (0..k).for_each(|_| ci.inc())));
    let client = cadence_client(&rx.addr);
    t.add(
        "cadence direct: count (queuing + buffered UDP)",
        median_ns(SAMPLES, n, |k| {
            (0..k).for_each(|_| {
                let _ = client.count("bench_cad", 1);
            })
        }),
    );
    t.add(
        "cadence direct: time (queuing + buffered UDP)",
        median_ns(SAMPLES, n, |k| {
            (0..k).for_each(|i| {
                let _ = client.time("bench_cad_t", black_box(i));
            })
        }),
    );
    for m in [agg, hs, imm] {
        m.shutdown().unwrap();
    }
    t.print("ours, immediate: counter inc", Some(("cadence direct: count (queuing + buffered UDP)", 1.0)));
}

fn unreachable(rx: &Receiver) {
    let n = iters();
    let mut t = Table::new("StatsD: recording with the server up and unreachable", "ns/event");
    let down = unreachable_udp();
    type Transport = fn(String) -> StatsdBuilder;
    let cases: [(&str, Transport, String); 4] = [
        ("UDP, server up", StatsdConfig::udp, rx.addr.clone()),
        ("UDP, nobody listening", StatsdConfig::udp, down.clone()),
        ("TCP, connection refused", StatsdConfig::tcp, down),
        ("TCP, unroutable (connect times out)", StatsdConfig::tcp, "10.255.255.1:8125".to_owned()),
    ];
    for (name, transport, addr) in cases {
        let agg = ours(transport(addr.clone()).build().unwrap());
        let c = agg.counter("bench_down_agg", "B.").unwrap();
        t.add(&format!("{name}: aggregated counter inc"), median_ns(SAMPLES, n, |k| (0..k).for_each(|_| c.inc())));
        let h = agg.histogram("bench_down_h", "B.", Buckets::default()).unwrap();
        t.add(
            &format!("{name}: histogram observe"),
            median_ns(SAMPLES, n, |k| (0..k).for_each(|i| h.observe(black_box(i as f64)))),
        );
        let imm = ours(transport(addr.clone()).aggregate(false).build().unwrap());
        let ci = imm.counter("bench_down", "B.").unwrap();
        t.add(&format!("{name}: immediate counter inc"), median_ns(SAMPLES, n, |k| (0..k).for_each(|_| ci.inc())));
        for m in [agg, imm] {
            let start = Instant::now();
            m.shutdown().unwrap();
            eprintln!(
                "  {name}: shutdown took {:?}; dropped {}",
                start.elapsed(),
                m.self_metrics().get(StatsdEvent::QueueFull)
            );
        }
    }
    t.print(
        "TCP, unroutable (connect times out): aggregated counter inc",
        Some(("UDP, server up: aggregated counter inc", 1.10)),
    );
}

impl Receiver {
    /// Waits until nothing has arrived for 300 ms; returns (events delivered, seconds from
    /// `start` to the last packet).
    fn settle(&self, start: Instant) -> (u64, f64) {
        let mut seen = (u64::MAX, Instant::now());
        loop {
            let now = self.sum.load(Ordering::Relaxed);
            if now != seen.0 {
                seen = (now, Instant::now());
            } else if seen.1.elapsed() > Duration::from_millis(300) {
                let last = self.epoch + Duration::from_nanos(self.last.load(Ordering::Relaxed));
                return (now, last.saturating_duration_since(start).as_secs_f64());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn throughput() {
    let n = iters();
    let mut rec = Table::new("StatsD: recording rate of the caller (1 thread, counter +1)", "M events/s");
    let mut del = Table::new("StatsD: events delivered to a UDP receiver, until the last packet", "M events/s");
    let mut packets = Table::new("StatsD: packets for the same events", "packets");
    let mut report = |name: &str, recorded: f64, (delivered, secs): (u64, f64), rx: &Receiver| {
        rec.add(name, n as f64 / recorded / 1e6);
        del.add(name, delivered as f64 / secs / 1e6);
        packets.add(name, rx.packets.load(Ordering::Relaxed) as f64);
        eprintln!("  {name}: {delivered} of {n} events delivered in {} lines", rx.lines.load(Ordering::Relaxed));
    };
    for (name, aggregate) in [("ours, aggregated", true), ("ours, immediate", false)] {
        let rx = Receiver::start();
        let m = ours(StatsdConfig::udp(&rx.addr).aggregate(aggregate).self_metrics(false).build().unwrap());
        let c = m.counter("tp", "B.").unwrap();
        let start = Instant::now();
        for _ in 0..n {
            c.inc();
        }
        let recorded = start.elapsed().as_secs_f64();
        m.shutdown().unwrap();
        report(name, recorded, rx.settle(start), &rx);
    }
    let rx = Receiver::start();
    let sink = BufferedUdpMetricSink::from(&*rx.addr, UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    let client = StatsdClient::from_sink("", QueuingMetricSink::with_capacity(sink, 16_384));
    let start = Instant::now();
    for _ in 0..n {
        let _ = client.count("tp", 1);
    }
    let recorded = start.elapsed().as_secs_f64();
    drop(client);
    report("cadence direct", recorded, rx.settle(start), &rx);
    rec.print("ours, aggregated", Some(("cadence direct", f64::INFINITY)));
    del.print("ours, aggregated", Some(("cadence direct", f64::INFINITY)));
    packets.print("ours, aggregated", Some(("cadence direct", 1.0)));
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("## StatsD (median of {SAMPLES} samples, {} events per sample)", iters());
    let rx = Receiver::start();
    recording(&rx);
    unreachable(&rx);
    throughput();
}

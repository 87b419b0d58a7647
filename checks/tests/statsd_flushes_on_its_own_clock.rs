//! The StatsD worker flushes aggregated counters and gauges on its own clock, whatever arrives
//! meanwhile: a producer that never lets the sample queue empty must not hold the flushes back.
#![cfg(feature = "statsd")]

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use codomyrmex_metrics::{get_metrics, Backend, Buckets, StatsdConfig};

#[test]
fn a_producer_that_never_stops_does_not_hold_the_flushes_back() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    server.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let interval = Duration::from_millis(100);
    let config = StatsdConfig::udp(server.local_addr().unwrap().to_string())
        .flush_interval(interval)
        .self_metrics(false)
        .build()
        .unwrap();
    let m = get_metrics(Backend::Statsd(config)).unwrap();
    let latency = m.histogram("work_seconds", "Work.", Buckets::default()).unwrap();
    let flushed = m.counter("flushed_marker", "Counted at each flush.").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (stop, latency, flushed) = (Arc::clone(&stop), latency.clone(), flushed.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                latency.observe(0.001);
                flushed.inc();
                n += 1;
            }
            n
        })
    };
    let window = Duration::from_secs(5);
    let end = Instant::now() + window;
    let mut buf = vec![0u8; 65_536];
    let mut flushes = 0;
    while Instant::now() < end {
        if let Ok(n) = server.recv(&mut buf) {
            let payload = String::from_utf8_lossy(&buf[..n]);
            flushes += payload.lines().filter(|l| l.starts_with("flushed_marker")).count();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let observed = producer.join().unwrap();
    m.shutdown().unwrap();
    let expected = (window.as_millis() / interval.as_millis()) as usize;
    assert!(observed > 10_000, "the producer kept the queue busy ({observed} samples)");
    assert!(flushes * 10 >= expected * 9, "{flushes} flushes of the counter in {window:?}, expected about {expected}");
}

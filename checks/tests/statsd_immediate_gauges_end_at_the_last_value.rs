//! Immediate mode sends every gauge change as it happens; the server (the real statsd daemon)
//! still ends at the value last set when the queue drops points under a burst, and when two
//! threads' points are queued in the other order than their sets.
#![cfg(feature = "statsd")]

mod support;

use std::time::{Duration, Instant};

use codomyrmex_metrics::StatsdEvent;
use codomyrmex_metrics::{get_metrics, Backend, StatsdConfig};
use support::statsd::Statsd;

#[test]
fn the_server_ends_at_the_value_last_set_whatever_the_queue_dropped() {
    let Some(server) = Statsd::start(false) else { return };
    let config = StatsdConfig::tcp(format!("127.0.0.1:{}", server.tcp))
        .aggregate(false)
        .queue_capacity(4)
        .flush_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let m = get_metrics(Backend::Statsd(config)).unwrap();
    let level = m.gauge("queue_level", "Level.").unwrap();
    let g = &level;
    std::thread::scope(|s| {
        for t in 0..2 {
            s.spawn(move || {
                for i in 0..20_000 {
                    g.set(f64::from(t * 100_000 + i));
                }
            });
        }
    });
    // The value last set is one thread's last; its point was most likely dropped, with
    // thousands of others, by the 4-point queue.
    let last = level.value();
    assert!(m.self_metrics().get(StatsdEvent::QueueFull) > 0, "the burst overflowed the 4-point queue");
    // Before shutdown: the flush on the worker's clock corrects the server.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let dump = server.dump();
        if dump["gauges"]["queue_level"].as_f64() == Some(last) {
            break;
        }
        assert!(Instant::now() < deadline, "the server's gauge stayed at {}", dump["gauges"]["queue_level"]);
        std::thread::sleep(Duration::from_millis(50));
    }
    level.set(7.0);
    m.shutdown().unwrap();
    let dump = server.dump();
    assert_eq!(dump["gauges"]["queue_level"].as_f64(), Some(7.0), "{dump:#}");
}

//! A small timing harness shared by the benches: every implementation of a scenario runs in
//! the same process, one after another, and the table shows ratios against the reference.
#![allow(dead_code)]

pub mod tracking_alloc;

use std::time::{Duration, Instant};

/// Three labels for `measured`, each interned with `ParaCord` (its dynamic form).
#[derive(Clone, Copy, PartialEq, Debug, measured::LabelGroup)]
#[label(set = ThreeSet)]
pub struct Three<'a> {
    #[label(dynamic_with = paracord::ParaCord)]
    pub method: &'a str,
    #[label(dynamic_with = paracord::ParaCord)]
    pub route: &'a str,
    #[label(dynamic_with = paracord::ParaCord)]
    pub status: &'a str,
}

/// `routes` routes x 5 methods x 5 statuses, in a scrambled, repeatable order.
pub fn label_sets(routes: usize) -> (Vec<[&'static str; 3]>, [Vec<&'static str>; 3]) {
    let methods = vec!["GET", "POST", "PUT", "DELETE", "PATCH"];
    let statuses = vec!["200", "201", "404", "500", "503"];
    let route_names: Vec<&'static str> =
        (0..routes).map(|i| &*Box::leak(format!("/api/v1/resource{i}/:id").into_boxed_str())).collect();
    let mut sets = Vec::new();
    for m in &methods {
        for r in &route_names {
            for s in &statuses {
                sets.push([*m, *r, *s]);
            }
        }
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..sets.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sets.swap(i, (x % (i as u64 + 1)) as usize);
    }
    (sets, [methods, route_names, statuses])
}

/// Median nanoseconds per operation: `samples` runs of `f(iters)`, each doing `iters` ops.
pub fn median_ns(samples: usize, iters: u64, mut f: impl FnMut(u64)) -> f64 {
    f(iters / 10 + 1); // warm up
    let mut times: Vec<f64> = (0..samples)
        .map(|_| {
            let start = Instant::now();
            f(iters);
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Median nanoseconds per operation with `threads` threads each doing `iters` ops at once.
pub fn median_ns_threads(samples: usize, iters: u64, threads: usize, f: impl Fn(u64) + Sync) -> f64 {
    let mut times: Vec<f64> = (0..samples)
        .map(|_| {
            let barrier = std::sync::Barrier::new(threads);
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| {
                        barrier.wait();
                        f(iters);
                    });
                }
            });
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// One scenario's results, printed as a table with ratios against `reference`.
pub struct Table {
    scenario: String,
    unit: &'static str,
    rows: Vec<(String, f64)>,
}

impl Table {
    pub fn new(scenario: &str, unit: &'static str) -> Self {
        Self { scenario: scenario.to_owned(), unit, rows: Vec::new() }
    }

    pub fn add(&mut self, name: &str, value: f64) {
        eprintln!("  {name}: {value:.2} {}", self.unit);
        self.rows.push((name.to_owned(), value));
    }

    pub fn value(&self, name: &str) -> f64 {
        self.rows.iter().find(|r| r.0 == name).map_or(f64::NAN, |r| r.1)
    }

    /// Prints the table; `target` is (reference row, the largest ratio ours may have).
    pub fn print(&self, ours: &str, target: Option<(&str, f64)>) {
        println!("\n### {}\n", self.scenario);
        let reference = target.map(|t| t.0);
        println!("| implementation | {} | ratio to {} |", self.unit, reference.unwrap_or("-"));
        println!("|---|---|---|");
        for (name, v) in &self.rows {
            let ratio = reference.map(|r| v / self.value(r)).map_or("-".into(), |r| format!("{r:.2}x"));
            println!("| {name} | {v:.2} | {ratio} |");
        }
        if let Some((reference, max)) = target {
            let ratio = self.value(ours) / self.value(reference);
            let verdict = if ratio <= max { "MET" } else { "MISSED" };
            println!("\nTarget: {ours} <= {max}x {reference}: {ratio:.2}x, {verdict}");
        }
    }
}

pub fn quick() -> bool {
    std::env::var("BENCH_QUICK").is_ok()
}

pub fn budget(d: Duration) -> Duration {
    if quick() {
        d / 10
    } else {
        d
    }
}

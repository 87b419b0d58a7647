//! Runs the crate the way a user's program does, with the features this build chose, and
//! checks what comes out. Every check runs even when an earlier one fails; a panic anywhere
//! is a failure, and the process exits non-zero when anything failed.

mod backends;
mod facade;
#[cfg(feature = "tower")]
mod http_layer;
mod policy;
mod quickstart;
mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};

type Check = (&'static str, fn());

fn main() {
    let mut checks: Vec<Check> = Vec::new();
    checks.extend_from_slice(quickstart::CHECKS);
    checks.extend_from_slice(policy::CHECKS);
    checks.extend_from_slice(facade::CHECKS);
    checks.extend_from_slice(backends::CHECKS);
    #[cfg(feature = "tower")]
    checks.extend_from_slice(http_layer::CHECKS);

    // One short report per failure: the message (cut) and where it was raised.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        let cut: String = msg.chars().take(1500).collect();
        let more = if cut.len() < msg.len() { " …" } else { "" };
        let at = info.location().map(ToString::to_string).unwrap_or_default();
        eprintln!("  panicked at {at}: {cut}{more}");
    }));
    let (mut passed, mut failed) = (0usize, Vec::new());
    for (name, check) in checks {
        match catch_unwind(AssertUnwindSafe(check)) {
            Ok(()) => {
                passed += 1;
                println!("ok     {name}");
            }
            Err(_) => {
                println!("FAILED {name}");
                failed.push(name);
            }
        }
    }
    println!("features: {}", support::FEATURES.join(","));
    println!("downstream: {passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        std::process::exit(1);
    }
}

//! The Pushgateway client's own self-metrics, registered when it starts.

use crate::registry::self_events;

self_events! {
    /// What became of each push, and of the circuit breaker.
    pub enum PushEvent, help: help {
        Sent => ("pushes", "sent"),
        Retried => ("pushes", "retried"),
        Failed => ("pushes", "failed"),
        Deleted => ("pushes", "deleted"),
        PinMismatch => ("pushes", "pin_mismatch"),
        SkippedCircuitOpen => ("pushes", "skipped_circuit_open"),
        CircuitOpened => ("pushes", "circuit_opened"),
        CircuitClosed => ("pushes", "circuit_closed"),
    }
}

fn help(_family: &str) -> &'static str {
    "Pushgateway pushes: sent, retried, failed after every retry, groups deleted, refused for a pin mismatch, \
     skipped while the circuit breaker is open; and the breaker's openings and closings."
}

//! The OTLP exporter's own self-metrics, registered when it starts.

use crate::registry::self_events;

self_events! {
    /// What became of each export request, its data points, and the circuit breaker.
    pub enum OtlpEvent, help: help {
        Sent => ("otlp_requests", "sent"),
        Retried => ("otlp_requests", "retried"),
        Failed => ("otlp_requests", "failed"),
        PinMismatch => ("otlp_requests", "pin_mismatch"),
        SkippedCircuitOpen => ("otlp_requests", "skipped_circuit_open"),
        CircuitOpened => ("otlp_requests", "circuit_opened"),
        CircuitClosed => ("otlp_requests", "circuit_closed"),
        PointsSent => ("otlp_points", "sent"),
        PointsDropped => ("otlp_points", "dropped"),
        PointsRejected => ("otlp_points", "rejected"),
    }
}

fn help(family: &str) -> &'static str {
    match family {
        "otlp_points" => {
            "OTLP data points: accepted by the receiver, dropped after every retry failed (or refused), and \
             rejected by the receiver in a partial success."
        }
        _ => {
            "OTLP export requests: sent, retried, failed after every retry, refused for a pin mismatch, skipped \
             while the circuit breaker is open; and the breaker's openings and closings."
        }
    }
}

//! The StatsD client's own self-metrics, registered when it starts.

use crate::registry::{self_events, SelfCounters};

/// The StatsD client's counters.
pub(crate) type Counters = SelfCounters<StatsdEvent>;

self_events! {
    /// What became of each StatsD point, line and payload, and of the transport.
    pub enum StatsdEvent, help: help {
        PointsSent => ("statsd_points", "sent"),
        QueueFull => ("statsd_points", "queue_full"),
        SendQueueFull => ("statsd_points", "send_queue_full"),
        SendFailed => ("statsd_points", "send_failed"),
        Oversize => ("statsd_points", "oversize"),
        NotRepresentable => ("statsd_points", "not_representable"),
        Shutdown => ("statsd_points", "shutdown"),
        CircuitOpen => ("statsd_points", "circuit_open"),
        LinesSent => ("statsd_lines", "sent"),
        PayloadsSent => ("statsd_payloads", "sent"),
        BytesSent => ("statsd_bytes", "sent"),
        ConnectError => ("statsd_send_errors", "connect"),
        TlsError => ("statsd_send_errors", "tls_handshake"),
        WriteError => ("statsd_send_errors", "write"),
        PinMismatch => ("statsd_send_errors", "pin_mismatch"),
        Reconnect => ("statsd_reconnects", "reconnected"),
        GaugeResent => ("statsd_gauges_resent", "last_value"),
        CircuitOpened => ("statsd_circuit", "opened"),
        CircuitClosed => ("statsd_circuit", "closed"),
        Wire => ("statsd_sanitized", "wire"),
    }
}

fn help(family: &str) -> &'static str {
    match family {
        "statsd_points" => "StatsD points (one recorded value or aggregate each): sent, or why dropped.",
        "statsd_lines" => {
            "StatsD lines written to the transport (a negative gauge is two lines in the Etsy and InfluxDB dialects)."
        }
        "statsd_payloads" => "StatsD payloads (datagrams or stream writes) sent.",
        "statsd_bytes" => "StatsD payload bytes sent.",
        "statsd_send_errors" => "StatsD transport errors: failed connects, TLS handshakes, pin mismatches and writes.",
        "statsd_reconnects" => "StatsD stream connections re-established after one was lost.",
        "statsd_gauges_resent" => {
            "Immediate mode: gauges sent again at a flush because the last line sent was not their value."
        }
        "statsd_circuit" => "StatsD circuit breaker state changes: opened after repeated failures, closed by a probe.",
        _ => "Names and tags the StatsD wire sanitizer changed (white space, control characters, : | @ # , =).",
    }
}

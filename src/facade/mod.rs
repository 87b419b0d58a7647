//! The `metrics` facade: the registry as a [`metrics::Recorder`]. Every macro call goes
//! through the same policy as the typed API.

mod recorder;

pub use recorder::FacadeRecorder;

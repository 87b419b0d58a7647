//! The tests (`tests/`) and benchmarks (`benches/`) of `codomyrmex-metrics`, in a workspace
//! member of their own so that the crate, its examples and the README's main command never
//! compile the crates used only to drive it or compare against it. This library is empty.

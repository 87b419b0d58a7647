#!/usr/bin/env bash
# Cold build cost of the README's main command against the same app on metrics +
# metrics-exporter-prometheus + axum-prometheus, side by side on this machine: each in a fresh
# target directory, sources already downloaded, dev profile (what `cargo run` builds).
# Prints crates compiled and wall-clock seconds for each, and the default build's crate count.
# Run from the repository root: bash checks/build-compare/measure.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # name, dir, cargo args...
  local name=$1 dir=$2; shift 2
  (cd "$dir" && cargo fetch --quiet >/dev/null 2>&1 || true)
  local start=$SECONDS
  (cd "$dir" && CARGO_TARGET_DIR="$work/$name" cargo build "$@" 2>&1) > "$work/$name.log"
  local secs=$((SECONDS - start))
  local crates
  crates=$(grep -c '^ *Compiling ' "$work/$name.log")
  printf '%-34s %4s crates compiled  %4ss\n' "$name" "$crates" "$secs"
}

echo "cargo $(cargo --version | cut -d' ' -f2), $(nproc) cores"
measure "quickstart (--features full)" "$root" --example quickstart --features full
measure "equivalent app (MEP + axum-prom)" "$root/checks/build-compare/equivalent-app"
measure "downstream (default features)" "$root/downstream"

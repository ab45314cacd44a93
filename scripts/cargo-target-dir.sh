#!/usr/bin/env bash
# Prints Cargo's target directory for this workspace as Cargo resolves it: CARGO_TARGET_DIR, a
# Cargo config's `build.target-dir`, or target/. The scripts that run what Cargo built find it
# here, and keep what they install beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --no-deps --format-version 1 --locked \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'

//! PATCH benchmarks (placeholder; the PATCH work fills this in).

fn main() {}

//! Percentiles, and the process's peak memory.

use std::time::Duration;

/// Milliseconds, as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `p`th percentile (0–100) of `values`, nearest rank; `None` when there are none.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Rounded to 3 decimals for the JSON lines.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// p50, p99, mean and max of `values` in milliseconds, as JSON fields named `<prefix>p50_ms`, …
pub fn latency_fields(prefix: &str, values: &[f64]) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let field = |x: Option<f64>| serde_json::json!(x.map(round3));
    out.insert(format!("{prefix}p50_ms"), field(percentile(values, 50.0)));
    out.insert(format!("{prefix}p99_ms"), field(percentile(values, 99.0)));
    out.insert(format!("{prefix}mean_ms"), field(mean(values)));
    out.insert(
        format!("{prefix}max_ms"),
        field(values.iter().copied().reduce(f64::max)),
    );
    out
}

/// The process's peak resident set (`VmHWM` in /proc/self/status), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&[3.0], 50.0), Some(3.0));
        assert_eq!(percentile(&[], 50.0), None);
    }
}

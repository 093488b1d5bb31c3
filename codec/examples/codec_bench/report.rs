//! Markdown tables.

use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::{Measured, Outcome, Tool};

/// One pair's results, every tool.
pub(crate) struct PairResult {
    pub(crate) name: String,
    pub(crate) reference: u64,
    pub(crate) target: u64,
    pub(crate) outcomes: Vec<(Tool, Outcome)>,
}

/// Decimal megabytes per second of target.
pub(crate) fn mbps(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64().max(1e-9)
}

pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn megabytes(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1e6)
}

fn peak_cell(peak: Option<u64>, inputs: u64, with_bytes: bool) -> String {
    match peak {
        Some(p) if with_bytes => format!("{:.2}× ({})", p as f64 / inputs as f64, megabytes(p)),
        Some(p) => format!("{:.2}×", p as f64 / inputs as f64),
        None => "—".into(),
    }
}

const HEADER: &str = "| tool | delta bytes | delta / target | encode MB/s | decode MB/s \
    | peak RSS encode | peak RSS decode |\n|---|--:|--:|--:|--:|--:|--:|\n";

/// One pair, one row per tool.
pub(crate) fn pair_table(r: &PairResult) -> String {
    let mut out = String::from(HEADER);
    let inputs = r.reference + r.target;
    for (tool, outcome) in &r.outcomes {
        let cells = match outcome {
            Outcome::Done(m) => format!(
                "{} | {:.3} % | {:.1} | {:.1} | {} | {}",
                thousands(m.delta),
                100.0 * m.delta as f64 / r.target as f64,
                mbps(r.target, m.encode),
                mbps(r.target, m.decode),
                peak_cell(m.peak_encode, inputs, true),
                peak_cell(m.peak_decode, inputs, true),
            ),
            Outcome::NotInstalled => "not installed | — | — | — | — | —".into(),
            Outcome::Failed(_) => "FAILED | — | — | — | — | —".into(),
        };
        let _ = writeln!(out, "| {} | {cells} |", tool.label());
    }
    out
}

/// Per family and tool: Σ delta / Σ target over the pairs, mean MB/s over the pairs, the
/// largest peak-memory multiple.
pub(crate) fn family_table(families: &[(String, Vec<PairResult>)]) -> String {
    let mut out = String::from(
        "| family | pairs | Σ target | tool | Σ delta | Σ delta / Σ target | mean encode MB/s \
         | mean decode MB/s | max peak RSS encode | max peak RSS decode |\n\
         |---|--:|--:|---|--:|--:|--:|--:|--:|--:|\n",
    );
    for (family, pairs) in families {
        let total_target: u64 = pairs.iter().map(|p| p.target).sum();
        for (i, tool) in Tool::ALL.iter().enumerate() {
            let mut done: Vec<(&PairResult, &Measured)> = Vec::new();
            let (mut missing, mut failed) = (false, 0);
            for p in pairs {
                match p.outcomes.get(i).map(|(_, o)| o) {
                    Some(Outcome::Done(m)) => done.push((p, m)),
                    Some(Outcome::NotInstalled) => missing = true,
                    _ => failed += 1,
                }
            }
            let cells = if missing {
                "not installed | — | — | — | — | —".to_string()
            } else if done.is_empty() {
                "FAILED | — | — | — | — | —".to_string()
            } else {
                let delta: u64 = done.iter().map(|(_, m)| m.delta).sum();
                let target: u64 = done.iter().map(|(p, _)| p.target).sum();
                let n = done.len() as f64;
                let enc = done
                    .iter()
                    .map(|(p, m)| mbps(p.target, m.encode))
                    .sum::<f64>()
                    / n;
                let dec = done
                    .iter()
                    .map(|(p, m)| mbps(p.target, m.decode))
                    .sum::<f64>()
                    / n;
                let worst = |f: fn(&Measured) -> Option<u64>| {
                    done.iter()
                        .filter_map(|(p, m)| Some(f(m)? as f64 / (p.reference + p.target) as f64))
                        .reduce(f64::max)
                        .map_or("—".to_string(), |x| format!("{x:.2}×"))
                };
                let note = if failed > 0 {
                    format!(" ({failed} FAILED)")
                } else {
                    String::new()
                };
                format!(
                    "{}{note} | {:.3} % | {enc:.1} | {dec:.1} | {} | {}",
                    thousands(delta),
                    100.0 * delta as f64 / target as f64,
                    worst(|m| m.peak_encode),
                    worst(|m| m.peak_decode),
                )
            };
            let (name, count, size) = if i == 0 {
                (
                    family.as_str(),
                    pairs.len().to_string(),
                    megabytes(total_target),
                )
            } else {
                ("", String::new(), String::new())
            };
            let _ = writeln!(
                out,
                "| {name} | {count} | {size} | {} | {cells} |",
                tool.label()
            );
        }
    }
    out
}

/// Per pair: delta bytes of every tool.
pub(crate) fn per_pair_table(families: &[(String, Vec<PairResult>)]) -> String {
    let mut out = String::from("| family | pair | target bytes |");
    for tool in Tool::ALL {
        let _ = write!(out, " {} |", tool.label());
    }
    out.push_str("\n|---|---|--:|");
    out.push_str(&"--:|".repeat(Tool::ALL.len()));
    out.push('\n');
    for (family, pairs) in families {
        for p in pairs {
            let _ = write!(out, "| {family} | {} | {} |", p.name, thousands(p.target));
            for (_, outcome) in &p.outcomes {
                let cell = match outcome {
                    Outcome::Done(m) => thousands(m.delta),
                    Outcome::NotInstalled => "not installed".into(),
                    Outcome::Failed(_) => "FAILED".into(),
                };
                let _ = write!(out, " {cell} |");
            }
            out.push('\n');
        }
    }
    out
}

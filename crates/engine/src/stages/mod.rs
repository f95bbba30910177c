//! The search pipeline, one stage per file, in the order a query flows through them:
//! decode -> segment -> route -> embed -> retrieve (top-50) -> texture + color -> rerank (top-10,
//! then the `match` verdict). Catalog images may also pass `refine` (SAM 2, index time only)
//! after segment; its time counts as segment's.
//! Segment also finds the photo's separate objects (`objects`: what a region search can pick).
//! [`Stage`] is that list, written once: timings, the CLI, `lookalike bench` and the UI iterate it.

pub mod color;
pub mod decode;
pub mod embed;
pub mod objects;
pub mod refine;
pub mod rerank;
pub mod retrieve;
pub mod route;
pub mod segment;
pub mod texture;
pub mod verdict;

use std::time::Instant;

use serde::Serialize;
use ts_rs::TS;

use crate::error::{EngineError, Result};

/// `N` comma-separated numbers, as the CLI takes a region or blend weights; `what` ("region `..`")
/// and `shape` ("four numbers x,y,w,h like 0.1,0.2,0.5,0.6") make the error.
pub(crate) fn parse_numbers<const N: usize>(s: &str, what: &str, shape: &str) -> Result<[f32; N]> {
    let parts: Vec<f32> = s
        .split(',')
        .map(|p| p.trim().parse::<f32>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| {
            EngineError::InvalidOptions(format!("{what} `{s}`: {e} (expected {shape})"))
        })?;
    parts
        .try_into()
        .map_err(|_| EngineError::InvalidOptions(format!("{what} `{s}`: expected {shape}")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Decode,
    Segment,
    Route,
    Embed,
    Retrieve,
    Texture,
    Color,
    Rerank,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 8] = [
        Stage::Decode,
        Stage::Segment,
        Stage::Route,
        Stage::Embed,
        Stage::Retrieve,
        Stage::Texture,
        Stage::Color,
        Stage::Rerank,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Segment => "segment",
            Stage::Route => "route",
            Stage::Embed => "embed",
            Stage::Retrieve => "retrieve",
            Stage::Texture => "texture",
            Stage::Color => "color",
            Stage::Rerank => "rerank",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
pub struct StageTime {
    pub stage: Stage,
    pub ms: f64,
}

/// Milliseconds spent in each stage, in pipeline order, and in the whole search. A model pass is
/// charged to the first stage that needs it (in the lite profile the router's pass also yields
/// the embedding and the texture descriptor, so `embed` is near zero).
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
pub struct Timings {
    pub stages: Vec<StageTime>,
    pub total_ms: f64,
}

impl Timings {
    /// Time spent in `stage` (0 if it did not run).
    pub fn ms(&self, stage: Stage) -> f64 {
        self.stages
            .iter()
            .filter(|t| t.stage == stage)
            .map(|t| t.ms)
            .sum()
    }

    fn add(&mut self, stage: Stage, ms: f64) {
        match self.stages.iter_mut().find(|t| t.stage == stage) {
            Some(t) => t.ms += ms,
            None => self.stages.push(StageTime { stage, ms }),
        }
    }
}

/// Times each stage of one search as it runs.
#[derive(Debug)]
pub struct Clock {
    start: Instant,
    timings: Timings,
}

impl Clock {
    pub fn start() -> Self {
        Clock {
            start: Instant::now(),
            timings: Timings::default(),
        }
    }

    /// Runs `f`, charging its time to `stage`.
    pub fn time<T>(&mut self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let s = Instant::now();
        let out = f();
        self.timings.add(stage, s.elapsed().as_secs_f64() * 1000.0);
        out
    }

    /// The timings so far, every stage listed in pipeline order (0 for one that did not run).
    pub fn finish(mut self) -> Timings {
        let mut stages: Vec<StageTime> = Stage::ALL
            .iter()
            .map(|&stage| StageTime {
                stage,
                ms: self.timings.ms(stage),
            })
            .collect();
        std::mem::swap(&mut self.timings.stages, &mut stages);
        self.timings.total_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        self.timings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_parsed_exactly_n_and_errors_say_the_shape() {
        assert_eq!(
            parse_numbers::<3>(" 0.5, 0.3 ,0.2", "weights", "three").unwrap(),
            [0.5, 0.3, 0.2]
        );
        for (bad, says) in [
            ("0.5,0.3", "expected three"),
            ("0.5,0.3,0.2,0.1", "expected three"),
            ("0.5,x,0.2", "invalid float literal (expected three)"),
            ("", "(expected three)"),
        ] {
            let e = parse_numbers::<3>(bad, "weights", "three").unwrap_err();
            assert!(matches!(e, EngineError::InvalidOptions(_)), "{bad}");
            assert!(e.to_string().contains(says), "{bad}: {e}");
            assert!(e.to_string().contains(&format!("weights `{bad}`")), "{e}");
        }
    }

    #[test]
    fn clock_lists_every_stage_in_order_and_adds_repeats() {
        let mut clock = Clock::start();
        clock.time(Stage::Rerank, || {
            std::thread::sleep(std::time::Duration::from_millis(2))
        });
        clock.time(Stage::Decode, || ());
        clock.time(Stage::Rerank, || ());
        let t = clock.finish();
        let names: Vec<_> = t.stages.iter().map(|s| s.stage).collect();
        assert_eq!(names, Stage::ALL);
        assert!(t.ms(Stage::Rerank) >= 2.0);
        assert_eq!(t.ms(Stage::Segment), 0.0);
        assert!(t.total_ms >= t.stages.iter().map(|s| s.ms).sum::<f64>());
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["stages"][0]["stage"], "decode");
    }
}

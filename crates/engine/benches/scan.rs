//! Retrieval scan benchmarks: exact top-50 over N x 768 f32 rows (N = 1k .. 1M, generated), one
//! query and a batch of 8, next to this machine's memory read bandwidth measured the same way
//! (all cores streaming the same 1M-row matrix). `cargo xtask bench-scan` runs this and prints
//! the GB/s table; throughput here counts the matrix bytes read per scan.

use std::hint::black_box;
use std::ops::Range;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lookalike_engine::stages::retrieve::{scan_top_k, scan_top_k_batch};

const DIMS: usize = 768;
const K: usize = 50;
const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
const BATCH: usize = 8;

/// Pseudo-random rows in [-0.5, 0.5) (xorshift; no rand dependency, same data every run).
fn matrix(rows: usize, seed: u64) -> Vec<f32> {
    let mut x = seed | 1;
    (0..rows * DIMS)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

/// Sum of every float with one thread per core: the memory read bandwidth the scan competes with.
fn read_all(m: &[f32], threads: usize) -> f32 {
    let chunk = m.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = m
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    let mut acc = [0f32; 16];
                    let (body, _) = c.as_chunks::<16>();
                    for x in body {
                        for i in 0..16 {
                            acc[i] += x[i];
                        }
                    }
                    acc.iter().sum::<f32>()
                })
            })
            .collect();
        parts.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
    })
}

#[allow(clippy::single_range_in_vec_init)] // one block of rows is the scan under test
fn benches(c: &mut Criterion) {
    let largest = SIZES[SIZES.len() - 1];
    let m = matrix(largest, 42);
    let queries: Vec<Vec<f32>> = (0..BATCH as u64).map(|i| matrix(1, 1000 + i)).collect();
    let refs: Vec<&[f32]> = queries.iter().map(Vec::as_slice).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut g = c.benchmark_group("memory_read");
    g.sample_size(10);
    g.throughput(Throughput::Bytes((m.len() * 4) as u64));
    for threads in [1, cores] {
        g.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| black_box(read_all(black_box(&m), threads)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("scan_top50");
    for &n in &SIZES {
        let rows: Vec<Range<usize>> = vec![0..n];
        g.sample_size(if n >= 100_000 { 10 } else { 50 });
        g.throughput(Throughput::Bytes((n * DIMS * 4) as u64));
        g.bench_function(BenchmarkId::new("single", n), |b| {
            b.iter(|| black_box(scan_top_k(&m, DIMS, &rows, black_box(refs[0]), K)))
        });
        g.bench_function(BenchmarkId::new(format!("batch{BATCH}"), n), |b| {
            b.iter(|| black_box(scan_top_k_batch(&m, DIMS, &rows, black_box(&refs), K)))
        });
    }
    g.finish();
}

criterion_group!(scan, benches);
criterion_main!(scan);

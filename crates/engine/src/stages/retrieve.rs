//! Stage 5, retrieve: exact dot-product scan of the query against every category's L2-normalised
//! embeddings (so the dot product is the cosine) in the spaces the query was embedded in, keeping
//! each query view's top-k (50) rows.
//!
//! Pure: vectors and row ranges in, ranked rows out. [`shortlist`] is the whole stage (one search
//! per embedding space, both views in one pass, a second space aligned onto the first). Which rows
//! are nearest is asked of a [`Retriever`]: [`ExactScan`] (a fused, multi-threaded scan of every
//! row, [`scan_top_k`]) today; an ANN index, or a vector engine too big for a phone
//! (docs/retrieval.md), can answer the same question. The rows found are re-scored exactly here.

use std::ops::Range;

use crate::vector::{dot, order, top_k};

pub mod hnsw;
pub mod int8;
pub mod ivf;

/// What one scan found: its top-k rows, plus the score moments over every row it scored (the
/// two-expert alignment needs the whole distribution, not just the shortlist).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// `(row, score)`, best first.
    pub top: Vec<(usize, f32)>,
    pub count: usize,
    sum: f64,
    sum_sq: f64,
}

impl Scan {
    /// Mean and standard deviation of every score the scan computed.
    pub fn moments(&self) -> (f32, f32) {
        let n = self.count.max(1) as f64;
        let mean = self.sum / n;
        let var = (self.sum_sq / n - mean * mean).max(0.0);
        (mean as f32, var.sqrt() as f32)
    }

    fn merge(parts: Vec<Scan>, k: usize) -> Scan {
        let mut all = Scan::default();
        let mut top = Vec::new();
        for p in parts {
            all.count += p.count;
            all.sum += p.sum;
            all.sum_sq += p.sum_sq;
            top.extend(p.top);
        }
        all.top = top_k(top, k);
        all
    }
}

/// Running top-k of one scan: keeps at most 2k pairs and prunes back to k with a selection,
/// so a million-row scan never sorts (or even stores) a million scores.
struct TopK {
    k: usize,
    buf: Vec<(usize, f32)>,
    floor: f32,
    scan: Scan,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            buf: Vec::with_capacity(2 * k.max(1)),
            floor: f32::NEG_INFINITY,
            scan: Scan::default(),
        }
    }

    #[inline]
    fn push(&mut self, row: usize, score: f32) {
        self.scan.count += 1;
        self.scan.sum += f64::from(score);
        self.scan.sum_sq += f64::from(score) * f64::from(score);
        // rows arrive in ascending order, so a tie with the floor loses to the rows already kept
        if self.k == 0 || (self.buf.len() >= self.k && score.total_cmp(&self.floor).is_le()) {
            return;
        }
        self.buf.push((row, score));
        if self.buf.len() == self.buf.capacity() {
            self.buf.select_nth_unstable_by(self.k - 1, order);
            self.buf.truncate(self.k);
            self.floor = self.buf[self.k - 1].1;
        }
    }

    fn finish(mut self) -> Scan {
        self.scan.top = top_k(self.buf, self.k);
        self.scan
    }
}

/// Below this many floats (4 MiB of rows) one thread scans faster than starting more.
const PARALLEL_MIN_FLOATS: usize = 1 << 20;

/// Splits the rows of `ranges` into `parts` contiguous pieces of (nearly) equal length.
fn split_rows(ranges: &[Range<usize>], parts: usize) -> Vec<Vec<Range<usize>>> {
    let total: usize = ranges.iter().map(|r| r.len()).sum();
    let per = total.div_ceil(parts.max(1)).max(1);
    let mut out: Vec<Vec<Range<usize>>> = vec![Vec::new()];
    let mut room = per;
    for r in ranges {
        let mut start = r.start;
        while start < r.end {
            if room == 0 {
                out.push(Vec::new());
                room = per;
            }
            let end = r.end.min(start + room);
            if let Some(last) = out.last_mut() {
                last.push(start..end);
            }
            room -= end - start;
            start = end;
        }
    }
    out
}

fn threads_for(ranges: &[Range<usize>], dims: usize) -> usize {
    let floats = ranges.iter().map(|r| r.len()).sum::<usize>() * dims;
    if floats < PARALLEL_MIN_FLOATS {
        return 1;
    }
    cores()
}

/// Finds each query's nearest rows among `ranges` of one embedding matrix. The shortlist re-scores
/// what it returns against the stored vectors, so a retriever decides which rows are considered,
/// never their scores.
pub trait Retriever: Sync {
    /// A short name for reports (`exact`, `hnsw`, ...).
    fn name(&self) -> &'static str;
    /// Each query's top-`k` rows, best first (ties to the lower row), and the score moments over
    /// the rows it scored (an index that scores only some rows reports those: the two-expert
    /// alignment then works from a sample of the distribution, not all of it).
    fn top_k(&self, ranges: &[Range<usize>], queries: &[&[f32]], k: usize) -> Vec<Scan>;
}

/// Every row read and scored: exact, and the reference any other retriever's recall is measured
/// against.
pub struct ExactScan<'m> {
    pub matrix: &'m [f32],
    pub dims: usize,
}

impl Retriever for ExactScan<'_> {
    fn name(&self) -> &'static str {
        "exact"
    }

    fn top_k(&self, ranges: &[Range<usize>], queries: &[&[f32]], k: usize) -> Vec<Scan> {
        scan_top_k_batch(self.matrix, self.dims, ranges, queries, k)
    }
}

/// Exact top-`k` of `query` against the rows in `ranges` of the row-major `matrix` (`dims`
/// columns). Large scans are split across the machine's cores; the answer does not depend on
/// how (ties go to the lower row).
pub fn scan_top_k(
    matrix: &[f32],
    dims: usize,
    ranges: &[Range<usize>],
    query: &[f32],
    k: usize,
) -> Scan {
    scan_top_k_batch(matrix, dims, ranges, &[query], k)
        .pop()
        .unwrap_or_default()
}

/// [`scan_top_k`] for several queries in one pass over the rows: each block of rows is read from
/// memory once and scored against every query while it is in cache.
pub fn scan_top_k_batch(
    matrix: &[f32],
    dims: usize,
    ranges: &[Range<usize>],
    queries: &[&[f32]],
    k: usize,
) -> Vec<Scan> {
    scan_with(ranges, dims, queries.len(), k, |row, q| {
        dot(&matrix[row * dims..(row + 1) * dims], queries[q])
    })
}

/// The scan loop every retriever that reads all rows shares: `score(row, query)` for every row
/// of `ranges` and every query, split across the cores when the rows hold at least
/// `PARALLEL_MIN_FLOATS` values (`width` per row); each query's top-`k` and moments.
fn scan_with<F>(
    ranges: &[Range<usize>],
    width: usize,
    queries: usize,
    k: usize,
    score: F,
) -> Vec<Scan>
where
    F: Fn(usize, usize) -> f32 + Sync,
{
    let threads = threads_for(ranges, width);
    if threads <= 1 {
        return scan_part(ranges, queries, k, &score);
    }
    let parts = split_rows(ranges, threads);
    let score = &score;
    let results: Vec<Vec<Scan>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|p| s.spawn(move || scan_part(p, queries, k, score)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    (0..queries)
        .map(|q| Scan::merge(results.iter().map(|r| r[q].clone()).collect(), k))
        .collect()
}

/// The threads a scan, a walk or a build may use: the machine's cores, at most 8.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// `f(i, state)` for every `i` of `items`, split in contiguous parts across one thread per entry
/// of `states` (each thread's own scratch, at least one); the results in `items` order. One
/// thread when there is one state or fewer than two items.
fn in_parallel<S, T, F>(items: Range<usize>, states: &mut [S], f: &F) -> Vec<T>
where
    S: Send,
    T: Send,
    F: Fn(usize, &mut S) -> T + Sync,
{
    if states.len() < 2 || items.len() < 2 {
        let state = &mut states[0];
        return items.map(|i| f(i, state)).collect();
    }
    let per = items.len().div_ceil(states.len());
    std::thread::scope(|s| {
        let parts: Vec<_> = states
            .iter_mut()
            .enumerate()
            .map(|(t, state)| {
                let start = (items.start + t * per).min(items.end);
                let part = start..(start + per).min(items.end);
                s.spawn(move || part.map(|i| f(i, state)).collect::<Vec<T>>())
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// `one(query)` for each query: a batch's queries split across the cores (for retrievers that
/// answer one query at a time, such as a graph walk).
fn each_query<F>(queries: &[&[f32]], one: F) -> Vec<Scan>
where
    F: Fn(&[f32]) -> Scan + Sync,
{
    in_parallel(0..queries.len(), &mut vec![(); cores()], &|i, _| {
        one(queries[i])
    })
}

/// Rows per block in a batch scan: 16 rows of 768 f32 are 48 KiB, which stay in L2 while every
/// query visits them.
const BLOCK_ROWS: usize = 16;

fn scan_part<F>(ranges: &[Range<usize>], queries: usize, k: usize, score: &F) -> Vec<Scan>
where
    F: Fn(usize, usize) -> f32,
{
    let mut tops: Vec<TopK> = (0..queries).map(|_| TopK::new(k)).collect();
    for r in ranges {
        if queries == 1 {
            let top = &mut tops[0];
            for row in r.clone() {
                top.push(row, score(row, 0));
            }
            continue;
        }
        let mut start = r.start;
        while start < r.end {
            let end = r.end.min(start + BLOCK_ROWS);
            for (q, top) in tops.iter_mut().enumerate() {
                for row in start..end {
                    top.push(row, score(row, q));
                }
            }
            start = end;
        }
    }
    tops.into_iter().map(TopK::finish).collect()
}

/// One category as retrieval sees it: its block of rows and the embedding space (the expert
/// output) its vectors live in. Categories of one space can be scored against one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubCatalog {
    pub rows: Range<usize>,
    pub space: usize,
}

/// The query in one embedding space: the cut-out's embedding and, when a saliency model cut the
/// product out of a photo, the whole frame's too (a cut-out can keep too little of the product:
/// the frame is the second view, see `Features::frame_embedding`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryViews {
    pub cutout: Vec<f32>,
    pub frame: Option<Vec<f32>>,
}

/// A shortlisted row with its cosine in each view (aligned across spaces; `frame` equals
/// `cutout` when the query has no second view).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub row: usize,
    pub cutout: f32,
    pub frame: f32,
}

/// The spaces a search must embed its query in: those of the routed categories, and every other
/// space too when the routed categories plus the rest of their spaces hold fewer than `top_k`
/// rows (a tiny catalog still answers `top_k` products).
pub fn spaces_needed(cats: &[SubCatalog], selected: &[usize], top_k: usize) -> Vec<usize> {
    let mut spaces: Vec<usize> = Vec::new();
    for &ci in selected {
        if !spaces.contains(&cats[ci].space) {
            spaces.push(cats[ci].space);
        }
    }
    let reachable: usize = cats
        .iter()
        .filter(|c| spaces.contains(&c.space))
        .map(|c| c.rows.len())
        .sum();
    if reachable < top_k {
        for c in cats {
            if !spaces.contains(&c.space) {
                spaces.push(c.space);
            }
        }
    }
    spaces
}

/// The stage: the rows of the `scope` categories whose space the query was embedded in
/// (`queries[space]`, `None`: skipped), searched by `retriever` for each view of the query. The
/// shortlist is the union of each view's top-`k` with every row scored exactly in both views
/// against `matrix` (row-major, `dims` columns), so that any later mix of the two views ranks from
/// the same rows. Best first by the mean of the two views.
pub fn shortlist(
    retriever: &dyn Retriever,
    matrix: &[f32],
    dims: usize,
    cats: &[SubCatalog],
    scope: &[usize],
    queries: &[Option<QueryViews>],
    k: usize,
) -> Vec<Candidate> {
    // one group per embedded space: its query views and the rows of its categories in scope
    let mut groups: Vec<(&QueryViews, Vec<Range<usize>>)> = Vec::new();
    let mut group_space: Vec<usize> = Vec::new();
    for &ci in scope {
        let space = cats[ci].space;
        let Some(Some(q)) = queries.get(space) else {
            continue;
        };
        match group_space.iter().position(|s| *s == space) {
            Some(g) => groups[g].1.push(cats[ci].rows.clone()),
            None => {
                group_space.push(space);
                groups.push((q, vec![cats[ci].rows.clone()]));
            }
        }
    }
    // the first group's score moments, per view: a second space is aligned onto them
    let mut reference: Option<[(f32, f32); 2]> = None;
    let mut out: Vec<Candidate> = Vec::new();
    for (q, ranges) in &groups {
        let views: Vec<&[f32]> = std::iter::once(q.cutout.as_slice())
            .chain(q.frame.as_deref())
            .collect();
        let scans = retriever.top_k(ranges, &views, k);
        let moments = [
            scans[0].moments(),
            scans.last().map_or((0.0, 0.0), Scan::moments),
        ];
        let mut rows: Vec<usize> = scans
            .iter()
            .flat_map(|s| s.top.iter().map(|t| t.0))
            .collect();
        rows.sort_unstable();
        rows.dedup();
        // the first group is the reference: its raw cosines stay exactly as they are
        let first = reference.is_none();
        let to = *reference.get_or_insert(moments);
        for row in rows {
            let v = &matrix[row * dims..(row + 1) * dims];
            let mut scores: Vec<(usize, f32)> = views.iter().map(|q| (row, dot(v, q))).collect();
            for (i, s) in scores.iter_mut().enumerate().filter(|_| !first) {
                let m = if i == 0 { 0 } else { 1 };
                align(std::slice::from_mut(s), moments[m], to[m]);
            }
            let cutout = scores[0].1;
            out.push(Candidate {
                row,
                cutout,
                frame: scores.get(1).map_or(cutout, |s| s.1),
            });
        }
    }
    out.sort_by(|a, b| {
        (b.cutout + b.frame)
            .total_cmp(&(a.cutout + a.frame))
            .then(a.row.cmp(&b.row))
    });
    out
}

/// Two experts' cosines live on different scales (one model's "close" may be 0.3, another's 0.8),
/// so a merged ranking compares them after mapping one onto the other: same mean and spread over
/// the sub-catalogs each one scanned. A group too small to have a spread keeps its raw scores.
pub fn align(scored: &mut [(usize, f32)], from: (f32, f32), to: (f32, f32)) {
    if from.1 <= 1e-6 || to.1 <= 1e-6 {
        return;
    }
    for s in scored.iter_mut() {
        s.1 = to.0 + (s.1 - from.0) * (to.1 / from.1);
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one range of rows is a legitimate scan
mod tests {
    use super::*;
    use crate::vector::{l2_normalize, moments};

    fn sub(rows: Range<usize>, space: usize) -> SubCatalog {
        SubCatalog { rows, space }
    }

    #[test]
    fn spaces_needed_adds_other_spaces_only_when_too_few_rows() {
        let cats = [sub(0..3, 0), sub(3..5, 1), sub(5..6, 0)];
        assert_eq!(spaces_needed(&cats, &[0], 4), vec![0]);
        assert_eq!(spaces_needed(&cats, &[1], 2), vec![1]);
        // space 1 holds 2 rows: a top-3 needs space 0 as well
        assert_eq!(spaces_needed(&cats, &[1], 3), vec![1, 0]);
        assert_eq!(spaces_needed(&cats, &[2, 1], 10), vec![0, 1]);
    }

    fn one_view(q: Vec<f32>) -> Option<QueryViews> {
        Some(QueryViews {
            cutout: q,
            frame: None,
        })
    }

    /// 6 rows of 2 dims: (1,0) (0.6,0.8) (0,1) (0.8,0.6) (1,0) (-1,0).
    const SIX_ROWS: [f32; 12] = [
        1.0, 0.0, 0.6, 0.8, //
        0.0, 1.0, 0.8, 0.6, //
        1.0, 0.0, -1.0, 0.0,
    ];

    #[test]
    fn shortlist_scans_every_category_in_scope() {
        // category 0 = rows 0..2, category 1 = rows 2..4, category 2 = rows 4..6
        let m = SIX_ROWS;
        let cats = [sub(0..2, 0), sub(2..4, 0), sub(4..6, 0)];
        let q = vec![one_view(vec![0.0, 1.0])];
        let got = shortlist(
            &ExactScan {
                matrix: &m,
                dims: 2,
            },
            &m,
            2,
            &cats,
            &[0, 1, 2],
            &q,
            4,
        );
        let rows: Vec<usize> = got.iter().map(|c| c.row).collect();
        // best first, whichever category
        assert_eq!(rows, vec![2, 1, 3, 0]);
        assert!((got[0].cutout - 1.0).abs() < 1e-6 && got[0].frame == got[0].cutout);
        // a category out of scope is never scanned
        let got = shortlist(
            &ExactScan {
                matrix: &m,
                dims: 2,
            },
            &m,
            2,
            &cats,
            &[1],
            &q,
            6,
        );
        assert_eq!(got.iter().map(|c| c.row).collect::<Vec<_>>(), vec![2, 3]);
    }

    /// An approximate retriever: it sees only the even rows (like an index that missed some),
    /// and reports made-up scores.
    struct EvenRowsOnly<'m>(&'m [f32]);

    impl Retriever for EvenRowsOnly<'_> {
        fn name(&self) -> &'static str {
            "even-rows"
        }
        fn top_k(&self, ranges: &[Range<usize>], queries: &[&[f32]], k: usize) -> Vec<Scan> {
            let even: Vec<Range<usize>> = ranges
                .iter()
                .flat_map(|r| r.clone().filter(|i| i % 2 == 0).map(|i| i..i + 1))
                .collect();
            let mut scans = scan_top_k_batch(self.0, 2, &even, queries, k);
            for s in &mut scans {
                s.top.iter_mut().for_each(|t| t.1 = 42.0);
            }
            scans
        }
    }

    #[test]
    fn the_retriever_picks_the_rows_and_the_shortlist_scores_them_exactly() {
        let m = SIX_ROWS;
        let cats = [sub(0..6, 0)];
        let q = vec![one_view(vec![0.0, 1.0])];
        let exact = shortlist(
            &ExactScan {
                matrix: &m,
                dims: 2,
            },
            &m,
            2,
            &cats,
            &[0],
            &q,
            3,
        );
        let approx = shortlist(&EvenRowsOnly(&m), &m, 2, &cats, &[0], &q, 3);
        let rows = |v: &[Candidate]| v.iter().map(|c| c.row).collect::<Vec<_>>();
        assert_eq!(rows(&exact), vec![2, 1, 3]);
        // only the rows it found, but each with its true cosine, not the retriever's score
        assert_eq!(rows(&approx), vec![2, 0, 4], "ties to the lower row");
        for c in &approx {
            let want = dot(&m[c.row * 2..c.row * 2 + 2], &[0.0, 1.0]);
            assert!(
                (c.cutout - want).abs() < 1e-6 && c.frame == c.cutout,
                "{c:?}"
            );
        }
        assert_eq!(
            ExactScan {
                matrix: &m,
                dims: 2
            }
            .name(),
            "exact"
        );
    }

    #[test]
    fn shortlist_is_the_union_of_both_views_scored_in_both() {
        // rows: 0 = what the cut-out sees, 1 = what the whole frame sees, 2 = neither
        let m = vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.0];
        let cats = [sub(0..3, 0)];
        let q = vec![Some(QueryViews {
            cutout: vec![1.0, 0.0],
            frame: Some(vec![0.0, 1.0]),
        })];
        let got = shortlist(
            &ExactScan {
                matrix: &m,
                dims: 2,
            },
            &m,
            2,
            &cats,
            &[0],
            &q,
            1,
        );
        let rows: Vec<(usize, f32, f32)> = got.iter().map(|c| (c.row, c.cutout, c.frame)).collect();
        assert_eq!(
            rows,
            vec![(0, 1.0, 0.0), (1, 0.0, 1.0)],
            "each view's top-1, both scores"
        );
    }

    #[test]
    fn shortlist_aligns_a_second_space_and_skips_spaces_not_embedded() {
        // space 0 scores everything near 0.9, space 1 near 0.1; each has one standout row
        let m = vec![
            0.90, 0.0, 0.80, 0.0, 0.82, 0.0, 0.78, 0.0, // space 0, rows 0..4
            0.40, 0.0, 0.10, 0.0, 0.12, 0.0, 0.08, 0.0, // space 1, rows 4..8
        ];
        let cats = [sub(0..4, 0), sub(4..8, 1)];
        let both = vec![one_view(vec![1.0, 0.0]), one_view(vec![1.0, 0.0])];
        let mut top = shortlist(
            &ExactScan {
                matrix: &m,
                dims: 2,
            },
            &m,
            2,
            &cats,
            &[0, 1],
            &both,
            2,
        );
        top.truncate(2);
        assert!(
            top.iter().any(|c| c.row == 4),
            "aligned standout competes: {top:?}"
        );
        assert!(top.iter().any(|c| c.row == 0), "{top:?}");
        let only0 = vec![one_view(vec![1.0, 0.0]), None];
        let got = shortlist(
            &ExactScan {
                matrix: &m,
                dims: 2,
            },
            &m,
            2,
            &cats,
            &[0, 1],
            &only0,
            8,
        );
        assert_eq!(got.len(), 4, "space 1 was not embedded: {got:?}");
    }

    #[test]
    fn aligned_experts_rank_fairly() {
        // expert A scores everything high, expert B low; each has one clear best match
        let a = vec![(0, 0.90), (1, 0.80), (2, 0.82), (3, 0.78)];
        let mut b = vec![(10, 0.40), (11, 0.10), (12, 0.12), (13, 0.08)];
        let (ma, mb) = (moments(&a), moments(&b));
        align(&mut b, mb, ma);
        assert!((moments(&b).0 - ma.0).abs() < 1e-5);
        assert!((moments(&b).1 - ma.1).abs() < 1e-5);
        let merged = top_k(a.iter().copied().chain(b.iter().copied()).collect(), 2);
        // B's standout match (far above B's own mean) now competes with A's best instead of losing to all of A
        assert!(merged.iter().any(|m| m.0 == 10), "{merged:?}");
        let mut single = vec![(5, 0.3)];
        align(&mut single, moments(&[(5, 0.3)]), ma);
        assert_eq!(single, vec![(5, 0.3)], "no spread: left as is");
    }

    #[test]
    fn scan_covers_only_the_requested_rows() {
        // 4 rows of 2 dims; query picks the second axis
        let m = vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8, 0.0, -1.0];
        let s = scan_top_k(&m, 2, &[1..3], &[0.0, 1.0], 5);
        assert_eq!(s.top, vec![(1, 1.0), (2, 0.8)]);
        assert_eq!(s.count, 2);
        let s = scan_top_k(&m, 2, &[0..1, 3..4], &[0.0, 1.0], 1);
        assert_eq!(s.top, vec![(0, 0.0)]);
        assert!(scan_top_k(&m, 2, &[0..4], &[0.0, 1.0], 0).top.is_empty());
    }

    /// Pseudo-random unit rows (xorshift: no rand dependency, same numbers everywhere).
    fn rows(n: usize, dims: usize, seed: u64) -> Vec<f32> {
        let mut x = seed;
        let mut m: Vec<f32> = (0..n * dims)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        m.chunks_mut(dims).for_each(l2_normalize);
        m
    }

    fn naive(m: &[f32], dims: usize, ranges: &[Range<usize>], q: &[f32], k: usize) -> Scan {
        let mut all = Vec::new();
        for r in ranges {
            for row in r.clone() {
                all.push((row, dot(&m[row * dims..(row + 1) * dims], q)));
            }
        }
        let (mean, sd) = moments(&all);
        let mut s = Scan {
            count: all.len(),
            top: top_k(all, k),
            ..Scan::default()
        };
        s.sum = f64::from(mean) * s.count as f64;
        s.sum_sq = (f64::from(sd).powi(2) + f64::from(mean).powi(2)) * s.count as f64;
        s
    }

    #[test]
    fn fused_parallel_and_batched_scans_equal_the_naive_one() {
        // big enough to run on several threads, with duplicate rows to exercise ties
        let dims = 64;
        let n = PARALLEL_MIN_FLOATS / dims + 3001;
        let mut m = rows(n, dims, 7);
        let dup = m[dims * 10..dims * 11].to_vec();
        for r in [500, 9000, n - 1] {
            m[r * dims..(r + 1) * dims].copy_from_slice(&dup);
        }
        let queries: Vec<Vec<f32>> = (0..3).map(|i| rows(1, dims, 100 + i)).collect();
        let q10 = m[dims * 10..dims * 11].to_vec();
        let ranges = [0..n / 3, n / 3 + 5..n];
        for (i, q) in queries.iter().chain([&q10]).enumerate() {
            for k in [1, 50, 333] {
                let want = naive(&m, dims, &ranges, q, k);
                let got = scan_top_k(&m, dims, &ranges, q, k);
                assert_eq!(got.top, want.top, "query {i}, k {k}");
                assert_eq!(got.count, want.count);
                let (gm, gs) = got.moments();
                let (wm, ws) = want.moments();
                assert!(
                    (gm - wm).abs() < 1e-5 && (gs - ws).abs() < 1e-4,
                    "query {i}"
                );
            }
        }
        // the duplicates of row 10 tie with it: lower rows first
        let top = scan_top_k(&m, dims, &[0..n], &q10, 4).top;
        assert_eq!(
            top.iter().map(|t| t.0).collect::<Vec<_>>(),
            vec![10, 500, 9000, n - 1]
        );
        let refs: Vec<&[f32]> = queries.iter().map(Vec::as_slice).collect();
        let batch = scan_top_k_batch(&m, dims, &ranges, &refs, 50);
        for (q, b) in refs.iter().zip(&batch) {
            assert_eq!(b.top, scan_top_k(&m, dims, &ranges, q, 50).top);
        }
    }

    #[test]
    fn rows_split_evenly_across_ranges() {
        let parts = split_rows(&[0..5, 10..17], 3);
        let lens: Vec<usize> = parts
            .iter()
            .map(|p| p.iter().map(|r| r.len()).sum())
            .collect();
        assert_eq!(lens, vec![4, 4, 4]);
        assert_eq!(parts[1], vec![4..5, 10..13]);
        assert_eq!(split_rows(&[0..2], 4).len(), 2);
    }
}

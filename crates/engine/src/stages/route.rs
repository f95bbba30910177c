//! Stage 3, route: score every catalog category, then pick the top-1 category, plus the top-2
//! when it also clears the catalog's threshold. Once retrieval found the query's nearest catalog
//! products, their categories vote too ([`Router::with_neighbours`]). The route is soft: every
//! category is searched and its share weighs in at the rerank (the full profile embeds the
//! query only in the picked categories' experts, so another expert's categories are reached
//! through a top-2 route). Categories, their router data and the thresholds come from the catalog.
//!
//! Two router kinds (the profile picks one):
//! - `class_table` (lite): softmax over ImageNet logits; a category's score is the probability mass
//!   of its class-id table. Scores are reported as shares of the mass that any category claims;
//!   if categories claim almost nothing (an object the tables do not know), every category is searched.
//! - `text_prototypes` (full): cosine of the image embedding with each category's text prototype,
//!   turned into shares with a softmax at the catalog's temperature (CLIP/SigLIP style).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalog::schema::CatalogFile;
use crate::models::manifest::RouterKind;
use crate::vector::dot;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RouterConfig {
    /// The second category is picked too when its share is at least this.
    pub second_threshold: f32,
    /// With less class mass than this (class tables) the router is unsure: it picks every
    /// category and gives no prior (the nearest products' votes alone then decide).
    pub min_confidence: f32,
    /// Softmax temperature for prototype cosines.
    #[serde(default = "default_temperature")]
    pub temperature: f32,
}

fn default_temperature() -> f32 {
    100.0
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            second_threshold: 0.25,
            min_confidence: 0.05,
            temperature: default_temperature(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct CategoryScore {
    pub name: String,
    pub score: f32,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum RouteReason {
    /// Only the best category cleared the bar.
    Top1,
    /// The second category also cleared the threshold: both are picked.
    Top2,
    /// The router was not confident: every category is picked.
    Unsure,
    /// The caller chose the category.
    Override,
}

#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// Every category, best first.
    pub scores: Vec<CategoryScore>,
    /// Indices (into the catalog's categories) the router picked, best first.
    #[serde(skip)]
    pub selected: Vec<usize>,
    /// Every category's share, by catalog index (the rerank's router prior).
    #[serde(skip)]
    pub shares: Vec<f32>,
    pub searched: Vec<String>,
    pub reason: RouteReason,
    /// Class mass claimed by the categories (class tables) or the best share (prototypes).
    pub confidence: f32,
}

pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|x| (x - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// A soft class-id table: for every ImageNet class, how its probability mass is shared among the
/// categories. Curated ids (the products file's `imagenet_classes`) weigh 1; classes that the
/// catalog's own images trigger at index time (`learned_classes`) add their probability, so a
/// class claimed by two categories splits its mass between them instead of all going to one.
#[derive(Debug, Clone)]
pub struct ClassTable {
    categories: usize,
    /// `classes x categories`, each row summing to 1 (or 0 for classes no category claims).
    weights: Vec<f32>,
}

impl ClassTable {
    /// `curated[c]`: class ids of category `c`; `learned[c]`: (class id, weight) pairs.
    pub fn new(classes: usize, curated: &[&[u32]], learned: &[&[(u32, f32)]]) -> Self {
        let categories = curated.len();
        let mut weights = vec![0f32; classes * categories];
        for (c, ids) in curated.iter().enumerate() {
            for &k in ids.iter().filter(|k| (**k as usize) < classes) {
                weights[k as usize * categories + c] = 1.0;
            }
        }
        for (c, pairs) in learned.iter().enumerate() {
            for &(k, w) in pairs
                .iter()
                .filter(|(k, w)| (*k as usize) < classes && w.is_finite() && *w > 0.0)
            {
                weights[k as usize * categories + c] += w;
            }
        }
        for row in weights.chunks_mut(categories.max(1)) {
            let sum: f32 = row.iter().sum();
            if sum > 0.0 {
                row.iter_mut().for_each(|w| *w /= sum);
            }
        }
        ClassTable {
            categories,
            weights,
        }
    }

    /// Per-category shares (summing to 1 when any mass is claimed) and the total claimed mass.
    pub fn scores(&self, logits: &[f32]) -> (Vec<f32>, f32) {
        let probs = softmax(logits);
        let mut mass = vec![0f32; self.categories];
        for (p, row) in probs
            .iter()
            .zip(self.weights.chunks(self.categories.max(1)))
        {
            for (m, w) in mass.iter_mut().zip(row) {
                *m += p * w;
            }
        }
        let total: f32 = mass.iter().sum();
        let shares = if total > 0.0 {
            mass.iter().map(|m| m / total).collect()
        } else {
            vec![0.0; mass.len()]
        };
        (shares, total)
    }
}

/// The classes an index-time image votes for: its `top` most likely classes above `min_prob`.
pub fn top_classes(logits: &[f32], top: usize, min_prob: f32) -> Vec<(u32, f32)> {
    let probs = softmax(logits);
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|a, b| probs[*b].total_cmp(&probs[*a]));
    order
        .into_iter()
        .take(top)
        .filter(|k| probs[*k] >= min_prob)
        .map(|k| (k as u32, probs[k]))
        .collect()
}

/// Per-category shares from cosines with (normalised) prototypes.
pub fn prototype_scores(embedding: &[f32], prototypes: &[&[f32]], temperature: f32) -> Vec<f32> {
    let cos: Vec<f32> = prototypes
        .iter()
        .map(|p| dot(embedding, p) * temperature)
        .collect();
    softmax(&cos)
}

/// Applies the top-1 / top-2 / unsure rule to per-category shares.
pub fn decide(names: &[String], shares: &[f32], confidence: f32, cfg: &RouterConfig) -> Route {
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*b].total_cmp(&shares[*a]).then(a.cmp(b)));
    let (selected, reason) = if order.is_empty() || confidence < cfg.min_confidence {
        (order.clone(), RouteReason::Unsure)
    } else if order.len() > 1 && shares[order[1]] >= cfg.second_threshold {
        (order[..2].to_vec(), RouteReason::Top2)
    } else {
        (order[..1].to_vec(), RouteReason::Top1)
    };
    Route {
        scores: order
            .iter()
            .map(|i| CategoryScore {
                name: names[*i].clone(),
                score: shares[*i],
            })
            .collect(),
        searched: selected.iter().map(|i| names[*i].clone()).collect(),
        selected,
        shares: shares.to_vec(),
        reason,
        confidence,
    }
}

/// A catalog's router, built once when the catalog opens: its categories' names, thresholds and
/// either the class table (lite) or the text prototypes (full).
#[derive(Debug, Clone)]
pub struct Router {
    names: Vec<String>,
    config: RouterConfig,
    kind: RouterData,
}

#[derive(Debug, Clone)]
enum RouterData {
    Classes(ClassTable),
    Prototypes(Vec<Vec<f32>>),
}

impl Router {
    /// `classes`: the length of the router model's logits (class tables only).
    pub fn new(catalog: &CatalogFile, classes: usize) -> Self {
        let cats = &catalog.categories;
        let kind = match catalog.router.kind {
            RouterKind::ClassTable => {
                let curated: Vec<&[u32]> = cats
                    .iter()
                    .map(|c| c.def.imagenet_classes.as_slice())
                    .collect();
                let learned: Vec<&[(u32, f32)]> =
                    cats.iter().map(|c| c.learned_classes.as_slice()).collect();
                RouterData::Classes(ClassTable::new(classes, &curated, &learned))
            }
            RouterKind::TextPrototypes => RouterData::Prototypes(
                cats.iter()
                    .map(|c| c.prototype.clone().unwrap_or_default())
                    .collect(),
            ),
        };
        Router {
            names: cats.iter().map(|c| c.def.name.clone()).collect(),
            config: catalog.router.config.clone(),
            kind,
        }
    }

    /// The stage: scores every category from the router's input (logits or an image embedding)
    /// and decides which to search; `category` overrides the decision (the scores stay).
    pub fn route(&self, input: &[f32], category: Option<usize>) -> Route {
        let route = match &self.kind {
            RouterData::Classes(table) => {
                let (shares, mass) = table.scores(input);
                decide(&self.names, &shares, mass, &self.config)
            }
            RouterData::Prototypes(protos) => {
                let q = crate::vector::normalized(input);
                let protos: Vec<&[f32]> = protos.iter().map(Vec::as_slice).collect();
                let shares = prototype_scores(&q, &protos, self.config.temperature);
                let best = shares.iter().copied().fold(0.0, f32::max);
                decide(&self.names, &shares, best, &self.config)
            }
        };
        match category {
            Some(i) if i < self.names.len() => overridden(route, &self.names, i),
            _ => route,
        }
    }
}

/// How many of the query's nearest catalog products vote on its category, and how sharply the
/// closest ones count more (a vote weighs exp((cosine - best cosine) / temperature)).
pub const NEIGHBOURS: usize = 10;
pub const NEIGHBOUR_TEMPERATURE: f32 = 0.05;

/// Per-category shares (summing to 1) from the categories of the query's nearest catalog
/// products: `(category index, semantic score)` of the best candidates, any order.
pub fn neighbour_shares(categories: usize, nearest: &[(usize, f32)]) -> Vec<f32> {
    let mut order: Vec<&(usize, f32)> = nearest.iter().filter(|(c, _)| *c < categories).collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    order.truncate(NEIGHBOURS);
    let mut shares = vec![0f32; categories];
    let Some(best) = order.first().map(|n| n.1) else {
        return shares;
    };
    for (c, s) in order {
        shares[*c] += ((s - best) / NEIGHBOUR_TEMPERATURE).exp();
    }
    let total: f32 = shares.iter().sum();
    if total > 0.0 && total.is_finite() {
        shares.iter_mut().for_each(|x| *x /= total);
    }
    shares
}

impl Router {
    /// The route once retrieval has found the query's nearest catalog products: the router's
    /// own shares blended half and half with the neighbours' categories (the neighbours alone
    /// when the router was unsure), then the top-1 / top-2 rule again. A category the caller
    /// chose stays the only one.
    pub fn with_neighbours(&self, route: Route, neighbours: &[f32]) -> Route {
        if route.reason == RouteReason::Override || neighbours.len() != route.shares.len() {
            return route;
        }
        let unsure = route.reason == RouteReason::Unsure;
        let shares: Vec<f32> = route
            .shares
            .iter()
            .zip(neighbours)
            .map(|(r, n)| if unsure { *n } else { 0.5 * r + 0.5 * n })
            .collect();
        let best = shares.iter().copied().fold(0.0, f32::max);
        decide(
            &self.names,
            &shares,
            route.confidence.max(best),
            &self.config,
        )
    }
}

/// The caller picked the category: keep the scores for display, search only that one.
pub fn overridden(mut route: Route, names: &[String], index: usize) -> Route {
    route.selected = vec![index];
    route.searched = vec![names[index].clone()];
    route.reason = RouteReason::Override;
    route
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn softmax_sums_to_one_and_is_stable() {
        let p = softmax(&[1000.0, 1000.0, -1000.0]);
        assert!((p[0] - 0.5).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6 && p[2] < 1e-6);
    }

    #[test]
    fn class_tables_collect_probability_mass() {
        // classes 0..4; class 1 dominates
        let logits = [0.0, 5.0, 0.0, 0.0, 0.0];
        let t0: &[u32] = &[1, 2];
        let t1: &[u32] = &[3];
        let t2: &[u32] = &[999]; // ids past the table are ignored
        let table = ClassTable::new(5, &[t0, t1, t2], &[&[], &[], &[]]);
        let (shares, total) = table.scores(&logits);
        assert!(shares[0] > 0.9 && shares[1] < 0.1 && shares[2] == 0.0);
        assert!((shares.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(
            total > 0.9 && total < 1.0,
            "class 0 and 4 belong to no category"
        );
    }

    #[test]
    fn learned_classes_split_a_shared_class() {
        let logits = [0.0, 8.0, 0.0];
        let home: &[u32] = &[1];
        let furniture: &[u32] = &[];
        // a furniture item in the catalog triggered class 1 with p = 0.6
        let learned: &[(u32, f32)] = &[(1, 0.6)];
        let table = ClassTable::new(3, &[home, furniture], &[&[], learned]);
        let (shares, _) = table.scores(&logits);
        assert!(
            (shares[0] - 1.0 / 1.6).abs() < 0.01 && (shares[1] - 0.6 / 1.6).abs() < 0.01,
            "{shares:?}"
        );
        assert_eq!(
            top_classes(&logits, 2, 0.05),
            vec![(1, softmax(&logits)[1])]
        );
    }

    #[test]
    fn top1_top2_and_unsure() {
        let cfg = RouterConfig {
            second_threshold: 0.25,
            min_confidence: 0.05,
            temperature: 100.0,
        };
        let r = decide(&names(3), &[0.1, 0.8, 0.1], 0.9, &cfg);
        assert_eq!((r.reason, r.selected.clone()), (RouteReason::Top1, vec![1]));
        assert_eq!(r.scores[0].name, "c1");
        let r = decide(&names(3), &[0.3, 0.6, 0.1], 0.9, &cfg);
        assert_eq!(
            (r.reason, r.selected.clone()),
            (RouteReason::Top2, vec![1, 0])
        );
        assert_eq!(r.searched, vec!["c1", "c0"]);
        let r = decide(&names(3), &[0.3, 0.6, 0.1], 0.01, &cfg);
        assert_eq!((r.reason, r.selected.len()), (RouteReason::Unsure, 3));
        let r = overridden(r, &names(3), 2);
        assert_eq!(
            (r.reason, r.searched.clone()),
            (RouteReason::Override, vec!["c2".to_string()])
        );
    }

    #[test]
    fn neighbours_vote_for_their_categories_the_closest_most() {
        let s = neighbour_shares(3, &[(1, 0.90), (0, 0.89), (1, 0.50), (2, 0.1)]);
        assert!(s[1] > s[0] && s[0] > s[2], "{s:?}");
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(s[2] < 1e-5, "far neighbours hardly count");
        assert_eq!(neighbour_shares(2, &[]), vec![0.0, 0.0]);
        // only the NEIGHBOURS best vote
        let many: Vec<(usize, f32)> = (0..20).map(|i| (usize::from(i >= 10), 0.9)).collect();
        assert_eq!(neighbour_shares(2, &many), vec![1.0, 0.0]);
    }

    #[test]
    fn prototypes_pick_the_closest_text() {
        let p0: &[f32] = &[1.0, 0.0];
        let p1: &[f32] = &[0.0, 1.0];
        let s = prototype_scores(&[0.96, 0.28], &[p0, p1], 100.0);
        assert!(s[0] > 0.99);
    }
}

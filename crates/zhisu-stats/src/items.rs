//! Item analysis (classical test theory) for questionnaire authors: how hard each scored item
//! was, whether it tells those who know from those who do not, which options were chosen, and
//! how consistently each dimension's items measure one thing. Formulas and a hand-worked
//! example: `docs/statistics.md`, "Item analysis".
//!
//! - **Difficulty** `p`: the mean score of the item as a share of its points, over the
//!   respondents who were asked it (the share answering right, for one-point items).
//! - **Discrimination**: the corrected item–total (point-biserial) correlation — Pearson's `r`
//!   between the item's score and the respondent's score on the *other* items of the test,
//!   over the respondents asked the item (an item is not correlated with itself).
//! - **Options**: the share of the respondents asked the item who chose each option.
//! - **Cronbach's alpha** per group (dimension): `α = k/(k−1) · (1 − Σ s²ᵢ / s²ₜ)` over the
//!   respondents asked all `k` items of the group (listwise), with `s²` sample variances of the
//!   item scores and of their sum; and **alpha if item deleted**, the same over the other
//!   `k − 1` items, from the same sums (`s²₍ₜ₋ᵢ₎ = s²ₜ + s²ᵢ − 2 cov(t, i)`).
//!
//! One pass, memory proportional to the items (not the respondents): every figure comes from
//! sums of scores, squares and products.

use std::collections::BTreeMap;

/// A scored item as the analysis sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemColumn {
    pub id: String,
    /// The group its alpha belongs to (the item's dimension).
    pub group: String,
    /// Every option the item offers, in its order (empty for items without options).
    pub options: Vec<String>,
    /// The options that are (part of) the right answer.
    pub keyed: Vec<String>,
}

/// One respondent: per item (in the order of the columns), the score as a share of the item's
/// points (`None`: not asked) and the options chosen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    pub scores: Vec<Option<f64>>,
    pub chosen: Vec<Vec<String>>,
}

/// The thresholds of the flags.
pub mod thresholds {
    /// Too easy: more than this share right.
    pub const TOO_EASY: f64 = 0.95;
    /// Too hard: less than this share right.
    pub const TOO_HARD: f64 = 0.20;
    /// Not discriminating: corrected item–total correlation below this.
    pub const LOW_DISCRIMINATION: f64 = 0.20;
    /// A distractor (a wrong option) chosen by less than this share is one nobody picks.
    pub const UNUSED_DISTRACTOR: f64 = 0.01;
    /// Below this many respondents asked, no flag is raised (the figures are shown, marked).
    pub const MIN_N: u64 = 30;
}

/// What is odd about an item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "flag")]
pub enum ItemFlag {
    TooEasy,
    TooHard,
    NotDiscriminating,
    /// Wrong options chosen by (almost) nobody.
    UnusedDistractors {
        options: Vec<String>,
    },
}

/// The figures of one item.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemFigures {
    pub id: String,
    pub group: String,
    /// Respondents asked the item.
    pub n: u64,
    /// Mean score as a share of the item's points (`None` when nobody was asked).
    pub difficulty: Option<f64>,
    /// Corrected item–total correlation (`None` when either side does not vary).
    pub discrimination: Option<f64>,
    /// (option, share of those asked who chose it), in the item's order.
    pub options: Vec<(String, f64)>,
    /// Alpha of the item's group without it (`None` when it cannot be computed).
    pub alpha_if_deleted: Option<f64>,
    pub flags: Vec<ItemFlag>,
    /// Fewer than [`thresholds::MIN_N`] asked: no flags raised.
    pub small: bool,
}

/// The alpha of one group.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupFigures {
    pub group: String,
    pub items: usize,
    /// Respondents asked every item of the group.
    pub n: u64,
    pub alpha: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemAnalysis {
    /// Respondents analysed.
    pub respondents: u64,
    pub items: Vec<ItemFigures>,
    pub groups: Vec<GroupFigures>,
}

/// Sums for a Pearson correlation.
#[derive(Debug, Clone, Copy, Default)]
struct Pair {
    n: f64,
    x: f64,
    y: f64,
    xx: f64,
    yy: f64,
    xy: f64,
}

impl Pair {
    fn add(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        self.x += x;
        self.y += y;
        self.xx += x * x;
        self.yy += y * y;
        self.xy += x * y;
    }

    fn correlation(&self) -> Option<f64> {
        let sxx = self.xx - self.x * self.x / self.n;
        let syy = self.yy - self.y * self.y / self.n;
        let sxy = self.xy - self.x * self.y / self.n;
        let denominator = (sxx * syy).sqrt();
        (self.n >= 2.0 && denominator > 1e-12).then(|| (sxy / denominator).clamp(-1.0, 1.0))
    }
}

/// Sums of one group over the respondents asked all its items.
#[derive(Debug, Clone, Default)]
struct Group {
    items: Vec<usize>,
    n: f64,
    total: f64,
    total_sq: f64,
    /// Per item of the group: Σx, Σx², Σx·t.
    item: Vec<(f64, f64, f64)>,
}

impl Group {
    fn variance(n: f64, sum: f64, sum_sq: f64) -> f64 {
        (sum_sq - sum * sum / n) / (n - 1.0)
    }

    fn covariance(&self, sum_x: f64, sum_xt: f64) -> f64 {
        (sum_xt - sum_x * self.total / self.n) / (self.n - 1.0)
    }

    fn alpha(k: usize, item_variances: f64, total_variance: f64) -> Option<f64> {
        (k >= 2 && total_variance > 1e-12)
            .then(|| k as f64 / (k as f64 - 1.0) * (1.0 - item_variances / total_variance))
    }

    /// The alpha of the group, and of the group without each of its items.
    fn alphas(&self) -> (Option<f64>, Vec<Option<f64>>) {
        let k = self.items.len();
        if self.n < 2.0 {
            return (None, vec![None; k]);
        }
        let variances: Vec<f64> = self
            .item
            .iter()
            .map(|&(s, ss, _)| Self::variance(self.n, s, ss))
            .collect();
        let sum_variances: f64 = variances.iter().sum();
        let total_variance = Self::variance(self.n, self.total, self.total_sq);
        let alpha = Self::alpha(k, sum_variances, total_variance);
        let without = self
            .item
            .iter()
            .zip(&variances)
            .map(|(&(s, _, st), &v)| {
                let rest_variance = total_variance + v - 2.0 * self.covariance(s, st);
                Self::alpha(k - 1, sum_variances - v, rest_variance)
            })
            .collect();
        (alpha, without)
    }
}

/// Accumulates responses one at a time; [`finish`](Self::finish) gives the analysis.
pub struct ItemAnalyser {
    columns: Vec<ItemColumn>,
    respondents: u64,
    asked: Vec<u64>,
    score_sum: Vec<f64>,
    rest: Vec<Pair>,
    chosen: Vec<BTreeMap<String, u64>>,
    groups: Vec<Group>,
    group_of: Vec<usize>,
}

impl ItemAnalyser {
    pub fn new(columns: Vec<ItemColumn>) -> Self {
        let mut groups: Vec<Group> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let mut group_of = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            let g = match names.iter().position(|n| *n == c.group) {
                Some(g) => g,
                None => {
                    names.push(&c.group);
                    groups.push(Group::default());
                    groups.len() - 1
                }
            };
            groups[g].items.push(i);
            groups[g].item.push((0.0, 0.0, 0.0));
            group_of.push(g);
        }
        let k = columns.len();
        ItemAnalyser {
            respondents: 0,
            asked: vec![0; k],
            score_sum: vec![0.0; k],
            rest: vec![Pair::default(); k],
            chosen: vec![BTreeMap::new(); k],
            groups,
            group_of,
            columns,
        }
    }

    /// Adds one respondent. Scores are clamped to 0..=1; a response with fewer entries than
    /// there are items counts the missing ones as not asked.
    pub fn add(&mut self, response: &Response) {
        self.respondents += 1;
        let score = |i: usize| {
            response
                .scores
                .get(i)
                .copied()
                .flatten()
                .filter(|s| s.is_finite())
                .map(|s| s.clamp(0.0, 1.0))
        };
        let total: f64 = (0..self.columns.len()).filter_map(score).sum();
        for i in 0..self.columns.len() {
            let Some(x) = score(i) else { continue };
            self.asked[i] += 1;
            self.score_sum[i] += x;
            self.rest[i].add(x, total - x);
            for option in response.chosen.get(i).into_iter().flatten() {
                *self.chosen[i].entry(option.clone()).or_default() += 1;
            }
        }
        for group in &mut self.groups {
            let scores: Option<Vec<f64>> = group.items.iter().map(|&i| score(i)).collect();
            let Some(scores) = scores else { continue };
            let t: f64 = scores.iter().sum();
            group.n += 1.0;
            group.total += t;
            group.total_sq += t * t;
            for (sums, x) in group.item.iter_mut().zip(scores) {
                sums.0 += x;
                sums.1 += x * x;
                sums.2 += x * t;
            }
        }
    }

    pub fn finish(self) -> ItemAnalysis {
        let alphas: Vec<(Option<f64>, Vec<Option<f64>>)> =
            self.groups.iter().map(Group::alphas).collect();
        let items = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let n = self.asked[i];
                let difficulty = (n > 0).then(|| self.score_sum[i] / n as f64);
                let discrimination = self.rest[i].correlation();
                let share = |count: u64| if n == 0 { 0.0 } else { count as f64 / n as f64 };
                let options: Vec<(String, f64)> = column
                    .options
                    .iter()
                    .map(|o| {
                        (
                            o.clone(),
                            share(self.chosen[i].get(o).copied().unwrap_or(0)),
                        )
                    })
                    .collect();
                let g = self.group_of[i];
                let position = self.groups[g].items.iter().position(|&j| j == i);
                let alpha_if_deleted = position.and_then(|p| alphas[g].1[p]);
                let small = n < thresholds::MIN_N;
                let mut flags = Vec::new();
                if !small {
                    if difficulty.is_some_and(|p| p > thresholds::TOO_EASY) {
                        flags.push(ItemFlag::TooEasy);
                    }
                    if difficulty.is_some_and(|p| p < thresholds::TOO_HARD) {
                        flags.push(ItemFlag::TooHard);
                    }
                    if discrimination.is_none_or(|r| r < thresholds::LOW_DISCRIMINATION) {
                        flags.push(ItemFlag::NotDiscriminating);
                    }
                    let unused: Vec<String> = options
                        .iter()
                        .filter(|(o, s)| {
                            !column.keyed.contains(o) && *s < thresholds::UNUSED_DISTRACTOR
                        })
                        .map(|(o, _)| o.clone())
                        .collect();
                    if !unused.is_empty() {
                        flags.push(ItemFlag::UnusedDistractors { options: unused });
                    }
                }
                ItemFigures {
                    id: column.id.clone(),
                    group: column.group.clone(),
                    n,
                    difficulty,
                    discrimination,
                    options,
                    alpha_if_deleted,
                    flags,
                    small,
                }
            })
            .collect();
        let groups = self
            .groups
            .iter()
            .zip(&alphas)
            .map(|(g, (alpha, _))| GroupFigures {
                group: self.columns[g.items[0]].group.clone(),
                items: g.items.len(),
                n: g.n as u64,
                alpha: *alpha,
            })
            .collect();
        ItemAnalysis {
            respondents: self.respondents,
            items,
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(id: &str, group: &str) -> ItemColumn {
        ItemColumn {
            id: id.into(),
            group: group.into(),
            options: vec!["a".into(), "b".into(), "c".into()],
            keyed: vec!["a".into()],
        }
    }

    /// The hand-worked example of `docs/statistics.md`, "Item analysis": five respondents,
    /// three one-point items of one dimension (1 = right).
    ///
    /// | respondent | i1 | i2 | i3 | total |
    /// |---|---|---|---|---|
    /// | R1 | 1 | 1 | 1 | 3 |
    /// | R2 | 1 | 1 | 0 | 2 |
    /// | R3 | 1 | 0 | 1 | 2 |
    /// | R4 | 0 | 0 | 0 | 0 |
    /// | R5 | 1 | 1 | 0 | 2 |
    fn example() -> ItemAnalysis {
        let rows = [[1, 1, 1], [1, 1, 0], [1, 0, 1], [0, 0, 0], [1, 1, 0]];
        let mut analyser = ItemAnalyser::new(vec![
            column("i1", "d"),
            column("i2", "d"),
            column("i3", "d"),
        ]);
        for row in rows {
            analyser.add(&Response {
                scores: row.iter().map(|&x| Some(f64::from(x))).collect(),
                chosen: row
                    .iter()
                    .map(|&x| vec![if x == 1 { "a" } else { "b" }.to_string()])
                    .collect(),
            });
        }
        analyser.finish()
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn the_hand_worked_example() {
        let a = example();
        assert_eq!(a.respondents, 5);
        let [i1, i2, i3] = &a.items[..] else { panic!() };
        // difficulty: 4/5, 3/5, 2/5
        assert!(
            close(i1.difficulty, 0.8) && close(i2.difficulty, 0.6) && close(i3.difficulty, 0.4)
        );
        // i1 against the rest (i2 + i3 = 2, 1, 1, 0, 1): Sxy = 5 − 4·5/5 = 1; Sxx = 4 − 16/5 = 0.8;
        // Syy = 7 − 25/5 = 2; r = 1 / √(0.8 · 2) = 0.7905694
        assert!(
            close(i1.discrimination, 1.0 / (0.8f64 * 2.0).sqrt()),
            "{:?}",
            i1.discrimination
        );
        // i2 against (i1 + i3 = 2, 1, 2, 0, 1): Sxy = 4 − 3·6/5 = 0.4; Sxx = 1.2; Syy = 10 − 36/5 = 2.8
        assert!(close(i2.discrimination, 0.4 / (1.2f64 * 2.8).sqrt()));
        // i3 against (i1 + i2 = 2, 2, 1, 0, 2): Sxy = 3 − 2·7/5 = 0.2; Sxx = 1.2; Syy = 13 − 49/5 = 3.2
        assert!(close(i3.discrimination, 0.2 / (1.2f64 * 3.2).sqrt()));
        // alpha: item variances 0.2, 0.3, 0.3 (sum 0.8); totals 3,2,2,0,2 → variance 1.2;
        // α = 3/2 · (1 − 0.8/1.2) = 0.5
        assert!(close(a.groups[0].alpha, 0.5), "{:?}", a.groups[0].alpha);
        assert_eq!(a.groups[0].n, 5);
        // without i1: i2 + i3 = 2,1,1,0,1 → variance 0.5; α = 2 · (1 − 0.6/0.5) = −0.4
        assert!(
            close(i1.alpha_if_deleted, -0.4),
            "{:?}",
            i1.alpha_if_deleted
        );
        // without i2: i1 + i3 = 2,1,2,0,1 → variance 0.7; α = 2 · (1 − 0.5/0.7) = 0.5714286
        assert!(close(i2.alpha_if_deleted, 2.0 * (1.0 - 0.5 / 0.7)));
        // without i3: i1 + i2 = 2,2,1,0,2 → variance 0.8; α = 2 · (1 − 0.5/0.8) = 0.75
        assert!(close(i3.alpha_if_deleted, 0.75));
        // options: i1 chose a 4×, b 1×, c never
        assert_eq!(
            i1.options,
            vec![("a".into(), 0.8), ("b".into(), 0.2), ("c".into(), 0.0)]
        );
        // five respondents: too few for flags
        assert!(i1.small && i1.flags.is_empty());
    }

    #[test]
    fn flags_are_raised_with_enough_respondents() {
        let mut analyser = ItemAnalyser::new(vec![
            column("easy", "d"),
            column("good", "d"),
            column("hard", "d"),
        ]);
        for r in 0..100 {
            let good = r % 2 == 0;
            analyser.add(&Response {
                // "easy": all but one right; "hard": 10 % right, all among the able
                scores: vec![
                    Some(f64::from(u8::from(r != 0))),
                    Some(f64::from(u8::from(good))),
                    Some(f64::from(u8::from(good && r % 10 == 0))),
                ],
                chosen: vec![
                    vec![if r != 0 { "a" } else { "b" }.into()],
                    vec![if good {
                        "a"
                    } else if r % 4 == 1 {
                        "b"
                    } else {
                        "c"
                    }
                    .into()],
                    vec![if good && r % 10 == 0 { "a" } else { "b" }.into()],
                ],
            });
        }
        let a = analyser.finish();
        let flags = |i: usize| a.items[i].flags.clone();
        assert!(flags(0).contains(&ItemFlag::TooEasy));
        assert!(flags(0).contains(&ItemFlag::UnusedDistractors {
            options: vec!["c".into()]
        }));
        assert!(flags(1).is_empty(), "{:?}", flags(1));
        assert!(flags(2).contains(&ItemFlag::TooHard));
        assert!(!flags(2).contains(&ItemFlag::NotDiscriminating));
    }

    #[test]
    fn items_not_asked_and_constant_items_give_no_figure_rather_than_nan() {
        let mut analyser = ItemAnalyser::new(vec![column("x", "d"), column("never", "e")]);
        for _ in 0..40 {
            analyser.add(&Response {
                scores: vec![Some(1.0)],
                chosen: vec![],
            });
        }
        let a = analyser.finish();
        assert_eq!(a.items[1].n, 0);
        assert_eq!(a.items[1].difficulty, None);
        assert_eq!(a.items[0].discrimination, None);
        assert_eq!(a.groups[0].alpha, None, "one item: no alpha");
        assert!(a.items[0].flags.contains(&ItemFlag::NotDiscriminating));
        let json = serde_json::to_string(&a).unwrap();
        assert!(!json.contains("NaN") && !json.contains("null,null,null,null"));
    }
}

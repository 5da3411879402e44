//! The printable district report.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use zhisu_server_service::analysis::{self, By};
use zhisu_server_service::storage::QcStatus;
use zhisu_server_service::t;

use super::*;
use crate::HttpState;

pub(super) async fn report_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    let filter = q.filter_for(&session.person);
    let ask = Ask::new(&state, &session.person, &q);
    let (report, items, progress, queue) = match run(move || {
        let report = ask.literacy()?;
        let items = ask.weakest_items()?;
        let progress = analysis::progress(ask.storage.as_ref(), &ask.scope)?;
        let queue = ask.storage.qc_queue(&ask.scope, None, 100_000)?;
        Ok((report, items, progress, queue))
    })
    .await
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    let place = filter
        .district
        .clone()
        .unwrap_or_else(|| t(&lang, "全市", "the whole city").to_string());
    let today = Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .format("%Y-%m-%d");
    let mut b = format!("<h1 id=\"report-title\">{} {}</h1><p class=\"note\">{} {today} · <a class=\"no-print\" href=\"javascript:window.print()\">{}</a></p>", esc(&place), t(&lang, "职业健康素养监测报告", "occupational health literacy monitoring report"), t(&lang, "生成日期", "Generated"), t(&lang, "打印 / 保存为 PDF", "Print / save as PDF"));
    let _ = write!(
        b,
        "<h2>{}</h2>",
        t(&lang, "一、主要结果", "1. Main findings")
    );
    match &report.overall {
        Some(o) => {
            let _ = write!(
                b,
                "<p id=\"summary\">{}{}，{}{}（95% CI {} – {}）。</p>",
                t(&lang, "本次共调查有效问卷 ", "Valid interviews: "),
                o.n,
                t(&lang, "职业健康素养水平为 ", "literacy level "),
                pct(o.proportion),
                pct(o.interval.low),
                pct(o.interval.high)
            );
            if let (Some(low), Some(high)) = (
                report
                    .dimensions
                    .iter()
                    .min_by(|a, b| a.proportion.total_cmp(&b.proportion)),
                report
                    .dimensions
                    .iter()
                    .max_by(|a, b| a.proportion.total_cmp(&b.proportion)),
            ) {
                let _ = write!(
                    b,
                    "<p>{}{}（{}），{}{}（{}）。</p>",
                    t(&lang, "四个维度中最高的是", "Highest dimension: "),
                    esc(&high.label),
                    pct(high.proportion),
                    t(&lang, "最低的是", "lowest: "),
                    esc(&low.label),
                    pct(low.proportion)
                );
            }
            b.push_str(&estimate_table(
                "report-dimensions",
                t(&lang, "维度", "Dimension"),
                &report.dimensions,
                &lang,
            ));
            b.push_str(&bars("report-chart-dimensions", &report.dimensions, &lang));
            for breakdown in report
                .breakdowns
                .iter()
                .filter(|b| matches!(b.by, By::Population | By::Industry) && !b.rows.is_empty())
            {
                b.push_str(&breakdown_section("h3", "report-", breakdown, &lang));
            }
        }
        None => {
            let _ = write!(
                b,
                "<p>{}</p>",
                t(&lang, "还没有调查数据。", "No interviews yet.")
            );
        }
    }
    let _ = write!(
        b,
        "<h2>{}</h2><ol id=\"report-weakest\">",
        t(&lang, "二、最薄弱的十个知识点", "2. The ten weakest items")
    );
    for item in items.iter().take(10) {
        let _ = write!(
            b,
            "<li>{}（{} {}，n = {}）</li>",
            esc(&item.label),
            t(&lang, "答对率", "correct"),
            pct(item.share),
            item.asked
        );
    }
    b.push_str("</ol>");
    let rejected = queue
        .iter()
        .filter(|e| e.status == QcStatus::Rejected)
        .count();
    let flagged = queue
        .iter()
        .filter(|e| !e.flags.is_empty() || e.same_fingerprint > 0)
        .count();
    let _ = write!(
        b,
        "<h2>{}</h2><p id=\"report-sample\">{} {} / {}；{} {}；{} {}。</p>",
        t(&lang, "三、样本和质量", "3. Sample and quality"),
        t(&lang, "完成调查", "Interviews done against the plan:"),
        progress.total,
        progress.wanted,
        t(&lang, "质控标记问卷", "flagged in quality control:"),
        flagged,
        t(
            &lang,
            "作废（不计入统计）",
            "rejected (left out of the estimates):"
        ),
        rejected
    );
    let _ = write!(b, "<h2>{}</h2><p class=\"method\">{}。{}</p>", t(&lang, "四、方法说明", "4. Method"), esc(&report.method_note), t(&lang, "具备职业健康素养：总分达到满分的 80% 及以上；维度素养同理按该维度满分的 80% 判定。素养水平为具备素养者所占比例。样本量小于 30 的格子标 *，结果仅供参考。公式见 docs/statistics.md。", "Has literacy: a score of at least 80 % of the maximum; a dimension likewise at 80 % of its maximum. The literacy level is the share with literacy. Cells with n below 30 are marked * (read with care). Formulas: docs/statistics.md."));
    page(
        Some(&session.person),
        &lang,
        "report",
        t(&lang, "区县报告", "District report"),
        &b,
    )
    .into_response()
}

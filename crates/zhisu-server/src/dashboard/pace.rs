//! Rounds in time on the progress page (issue 15): the round's window, interviews expected by
//! today at an even pace against those done, per day and per site, and the quotas that will
//! not be met at the current pace (`zhisu_server_service::pace`).

use maud::{html, Markup};
use zhisu_server_service::analysis::{By, Labels};
use zhisu_server_service::pace::{Pace, QuotaPace};
use zhisu_server_service::t;
use zhisu_server_service::wording::district_name;

use super::html::scroll_box;

fn one_decimal(x: f64) -> String {
    format!("{x:.1}")
}

fn verdict(q: &QuotaPace, lang: &str) -> Markup {
    html! {
        @if q.short {
            strong.short { (t(lang, "✘ 按目前速度完不成", "✘ Will not be met at this pace")) }
        } @else if q.projected.is_some() {
            (t(lang, "✔ 能完成", "✔ On course"))
        } @else {
            "—"
        }
    }
}

/// The section of the progress page.
pub(super) fn section(pace: &Pace, labels: &Labels, lang: &str) -> Markup {
    let heading = t(lang, "本轮进度与预期", "This round: expected and done");
    html! {
        h2 #pace-heading { (heading) }
        p #pace-window {
            (t(lang, "轮次", "Round")) " " (pace.round) "："
            (pace.starts_on) " — " (pace.ends_on) "，"
            (t(lang, "共", "")) (pace.days_total) (t(lang, " 天，已过 ", " days, begun: ")) (pace.days_begun)
            (t(lang, " 天。按平均速度到今天应完成 ", " days. Expected by today at an even pace: "))
            strong #pace-expected { (one_decimal(pace.total.expected)) }
            (t(lang, "，已完成 ", "; done: ")) strong #pace-done { (pace.total.done) } "。"
        }
        (scroll_box(heading, html! { table #pace-sites {
            tr {
                th { (t(lang, "区县", "District")) }
                th { (t(lang, "调查点", "Site")) }
                th { (t(lang, "人群", "Population")) }
                th { (t(lang, "配额", "Quota")) }
                th { (t(lang, "已完成", "Done")) }
                th { (t(lang, "到今天应完成", "Expected by today")) }
                th { (t(lang, "按目前速度到结束", "At this pace by the end")) }
                th { (t(lang, "判断", "Verdict")) }
            }
            @for site in &pace.sites {
                @for (population, q) in &site.populations {
                    tr data-site=(site.site_id) data-population=(population) data-short=(q.short) {
                        td { (district_name(&site.district, lang)) }
                        td { (site.name) }
                        td { (labels.label(By::Population, population)) }
                        td.num { (q.wanted) }
                        td.num { (q.done) }
                        td.num { (one_decimal(q.expected)) }
                        td.num { @match q.projected { Some(p) => (one_decimal(p)), None => "—" } }
                        td { (verdict(q, lang)) }
                    }
                }
            }
        } }))
        h3 { (t(lang, "每天：应完成和已完成", "Per day: expected and done")) }
        (scroll_box(heading, html! { table #pace-days {
            tr {
                th { (t(lang, "日期", "Day")) }
                th { (t(lang, "应完成", "Expected")) }
                th { (t(lang, "已完成", "Done")) }
            }
            @for day in pace.days.iter().rev() {
                tr data-day=(day.day) {
                    td { (day.day) }
                    td.num { (one_decimal(day.expected)) }
                    td.num { (day.done) }
                }
            }
        } }))
    }
}

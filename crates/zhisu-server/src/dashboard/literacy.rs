//! Literacy levels with their intervals, and the weakest items.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use zhisu_server_service::analysis::Labels;
use zhisu_server_service::t;

use super::*;
use crate::HttpState;

pub(super) async fn literacy_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    let ask = Ask::new(&state, &session.person, &q);
    let report = match run(move || ask.literacy()).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), &lang);
    let mut b = format!(
        "<h1>{}</h1>",
        t(
            &lang,
            "职业健康素养水平",
            "Occupational health literacy levels"
        )
    );
    b.push_str(&filter_form(
        "literacy",
        &q,
        &session.person,
        &labels,
        &lang,
    ));
    let _ = write!(
        b,
        "<p class=\"method\" id=\"method\">{}：{}。{}</p>",
        t(&lang, "估计方法", "Method"),
        esc(&report.method_note),
        esc(&format!(
            "{} n < {} {}",
            t(&lang, "标 * 的格子", "Cells marked * have"),
            report.min_cell_n,
            t(
                &lang,
                "，样本量小，结果仅供参考",
                ": small samples, read with care"
            )
        ))
    );
    match &report.overall {
        None => {
            let _ = write!(
                b,
                "<p id=\"no-data\">{}</p>",
                t(
                    &lang,
                    "当前筛选条件下还没有调查数据。",
                    "No interviews match this selection yet."
                )
            );
        }
        Some(o) => {
            let _ = write!(
                b,
                "<p id=\"overall\" style=\"font-size:22px\">{}：<strong class=\"level\">{}</strong>（95% CI {} – {}，n = <span class=\"n\">{}</span>）</p>",
                t(&lang, "总体素养水平", "Overall literacy level"),
                pct(o.proportion),
                pct(o.interval.low),
                pct(o.interval.high),
                o.n
            );
            let _ = write!(
                b,
                "<h2>{}</h2>",
                t(&lang, "四个维度", "The four dimensions")
            );
            b.push_str(&estimate_table(
                "dimensions",
                t(&lang, "维度", "Dimension"),
                &report.dimensions,
                &lang,
            ));
            b.push_str(&bars("chart-dimensions", &report.dimensions, &lang));
            for breakdown in &report.breakdowns {
                if breakdown.rows.is_empty() {
                    continue;
                }
                b.push_str(&breakdown_section("h2", "", breakdown, &lang));
            }
        }
    }
    let query = {
        let fq = filter_query(&q.filter_for(&session.person));
        if fq.is_empty() {
            format!("lang={lang}")
        } else {
            format!("{fq}&lang={lang}")
        }
    };
    let _ = write!(
        b,
        "<h2>{}</h2><p class=\"no-print\"><a data-export id=\"export-csv\" href=\"/dashboard/export.csv?{query}\">CSV</a> · <a data-export id=\"export-xlsx\" href=\"/dashboard/export.xlsx?{query}\">Excel (XLSX)</a> · <a data-export id=\"codebook\" href=\"/dashboard/codebook.csv?{query}\">{}</a></p>\
         <p class=\"no-print\" aria-live=\"polite\"><progress id=\"export-progress\" max=\"1\" value=\"0\" hidden></progress> <span id=\"export-status\"></span></p>{}",
        t(&lang, "导出数据", "Export"),
        t(&lang, "编码本", "Codebook"),
        export_script(&lang)
    );
    page(
        Some(&session.person),
        &lang,
        "literacy",
        t(&lang, "素养水平", "Literacy"),
        &b,
    )
    .into_response()
}

pub(super) async fn items_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    let ask = Ask::new(&state, &session.person, &q);
    let items = match run(move || ask.weakest_items()).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), &lang);
    let mut b = format!("<h1>{}</h1><p class=\"note\">{}</p>", t(&lang, "薄弱知识和技能", "Weakest knowledge and skills"), t(&lang, "按答对率从低到高排列；答对率低的题目，就是需要加强宣传教育的知识点。", "Items ranked by the share answered correctly, lowest first: the facts and skills to target."));
    b.push_str(&filter_form("items", &q, &session.person, &labels, &lang));
    let _ = write!(b, "<table id=\"items\"><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>", t(&lang, "题目", "Item"), t(&lang, "维度", "Dimension"), t(&lang, "答对率", "Correct"), t(&lang, "95% 置信区间", "95% interval"), t(&lang, "作答人数", "Asked"));
    for (i, item) in items.iter().enumerate() {
        let dim = labels
            .dimensions
            .iter()
            .find(|(id, _)| *id == item.dimension)
            .map_or(item.dimension.clone(), |(_, l)| l.clone());
        let mark = if item.small {
            " <span class=\"small\">*</span>"
        } else {
            ""
        };
        let _ = write!(b, "<tr data-item=\"{}\"><td class=\"num\">{}</td><td>{}{mark}</td><td>{}</td><td class=\"num share\">{}</td><td class=\"num\">{} – {}</td><td class=\"num asked\">{}</td></tr>", esc(&item.item_id), i + 1, esc(&item.label), esc(&dim), pct(item.share), pct(item.interval.low), pct(item.interval.high), item.asked);
    }
    b.push_str("</table>");
    page(
        Some(&session.person),
        &lang,
        "items",
        t(&lang, "薄弱知识", "Weakest items"),
        &b,
    )
    .into_response()
}

/// Downloads an export with a progress bar (bytes received of the announced length, and the
/// number of interviews), then hands the file to the browser. Without script the links still
/// download directly.
pub(super) fn export_script(lang: &str) -> String {
    let preparing = t(lang, "正在准备导出文件…", "Preparing the export…");
    let received = t(lang, "已下载", "Downloaded");
    let done = t(lang, "完成：", "Done: ");
    let rows = t(lang, "份问卷", "interviews");
    let failed = t(lang, "导出失败，请重试：", "The export failed; try again: ");
    format!(
        r#"<script>
document.querySelectorAll('a[data-export]').forEach(function (link) {{
  link.addEventListener('click', async function (event) {{
    event.preventDefault();
    var bar = document.getElementById('export-progress');
    var status = document.getElementById('export-status');
    bar.hidden = false; bar.removeAttribute('value'); status.textContent = '{preparing}';
    try {{
      var response = await fetch(link.href, {{ credentials: 'same-origin' }});
      if (!response.ok) throw new Error(response.status + ' ' + response.statusText);
      var total = Number(response.headers.get('content-length')) || 0;
      var count = response.headers.get('x-zhisu-rows') || '';
      var reader = response.body.getReader(), chunks = [], got = 0;
      bar.max = total || 1; bar.value = 0;
      for (;;) {{
        var step = await reader.read();
        if (step.done) break;
        chunks.push(step.value); got += step.value.length; bar.value = total ? got : 0;
        status.textContent = '{received} ' + Math.round(got / 1024) + (total ? ' / ' + Math.round(total / 1024) : '') + ' KB';
      }}
      var name = (response.headers.get('content-disposition') || '').split('filename="')[1] || 'zhisu-export';
      var blob = new Blob(chunks, {{ type: response.headers.get('content-type') || 'application/octet-stream' }});
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob); a.download = name.replace('"', ''); document.body.appendChild(a); a.click(); a.remove();
      bar.value = bar.max;
      status.textContent = '{done}' + a.download + (count ? '（' + count + ' {rows}）' : '');
    }} catch (e) {{
      status.textContent = '{failed}' + e.message;
    }}
  }});
}});
</script>"#
    )
}

//! The annual report as a Word/WPS document (DOCX), built natively with docx-rs from
//! [`AnnualReport`]: headings, sentences, tables and the charts as PNG pictures
//! ([`chart`]). A CDC edits it and sends it on; the recommendations are marked as drafts.
//! What each section holds: `docs/annual-report.md`.

pub mod chart;
pub mod download;

use axum::routing::get;
use axum::Router;

use docx_rs::{
    AlignmentType, Docx, PageMargin, Paragraph, Pic, Run, RunFonts, Style, StyleType, Table,
    TableCell, TableRow, WidthType,
};
use zhisu_server_service::analysis::{Breakdown, By, Estimate};
use zhisu_server_service::annual_report::{AnnualReport, Indicator};
use zhisu_server_service::wording::{district_name, percent};
use zhisu_server_service::{references, t};
use zhisu_stats::Method;

/// The report's two downloads: the dashboard's link and the API's.
pub fn routes() -> Router<crate::HttpState> {
    Router::new()
        .route("/dashboard/report.docx", get(download::dashboard_report))
        .route("/api/v1/report.docx", get(download::api_report))
}

/// A4 in twips (1/20 pt), with 2.5 cm side margins and 2.54 cm top and bottom.
const PAGE: (u32, u32) = (11_906, 16_838);
const SIDE_MARGIN: i32 = 1_417;
/// The text width in twips, and in EMU for pictures (635 EMU a twip).
const TEXT_TWIPS: u32 = PAGE.0 - 2 * SIDE_MARGIN as u32;
const TEXT_WIDTH_EMU: u32 = TEXT_TWIPS * 635;

/// Builds the document. `Err` only when writing the ZIP fails.
pub fn docx_bytes(report: &AnnualReport) -> Result<Vec<u8>, String> {
    let mut doc = Document::new(report);
    doc.title();
    doc.overview();
    doc.sample();
    doc.literacy();
    doc.groups();
    doc.modules();
    doc.weakest();
    doc.health();
    doc.comparison();
    doc.recommendations();
    let mut out = std::io::Cursor::new(Vec::new());
    doc.docx.build().pack(&mut out).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

struct Document<'a> {
    docx: Docx,
    report: &'a AnnualReport,
    lang: &'a str,
    charts: usize,
}

fn fonts() -> RunFonts {
    RunFonts::new()
        .east_asia("宋体")
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
}

fn heading_fonts() -> RunFonts {
    RunFonts::new()
        .east_asia("黑体")
        .ascii("Arial")
        .hi_ansi("Arial")
}

impl<'a> Document<'a> {
    fn new(report: &'a AnnualReport) -> Self {
        let docx = Docx::new()
            .page_size(PAGE.0, PAGE.1)
            .page_margin(PageMargin {
                top: 1_440,
                left: SIDE_MARGIN,
                bottom: 1_440,
                right: SIDE_MARGIN,
                header: 851,
                footer: 992,
                gutter: 0,
            })
            .default_fonts(fonts())
            .default_size(24)
            .add_style(
                Style::new("Title", StyleType::Paragraph)
                    .name("Title")
                    .fonts(heading_fonts())
                    .size(40)
                    .bold()
                    .align(AlignmentType::Center),
            )
            .add_style(
                Style::new("Heading1", StyleType::Paragraph)
                    .name("heading 1")
                    .fonts(heading_fonts())
                    .size(32)
                    .bold()
                    .outline_lvl(0),
            )
            .add_style(
                Style::new("Heading2", StyleType::Paragraph)
                    .name("heading 2")
                    .fonts(heading_fonts())
                    .size(28)
                    .bold()
                    .outline_lvl(1),
            );
        Document {
            docx,
            report,
            lang: &report.lang,
            charts: 0,
        }
    }

    fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        t(self.lang, zh, en)
    }

    fn en(&self) -> bool {
        self.lang.starts_with("en")
    }

    fn push(&mut self, p: Paragraph) {
        let docx = std::mem::take(&mut self.docx);
        self.docx = docx.add_paragraph(p);
    }

    fn heading(&mut self, text: &str, level: u8) {
        let style = if level == 1 { "Heading1" } else { "Heading2" };
        self.push(
            Paragraph::new()
                .style(style)
                .add_run(Run::new().add_text(text)),
        );
    }

    fn para(&mut self, text: &str) {
        self.push(Paragraph::new().add_run(Run::new().add_text(text)));
    }

    fn note(&mut self, text: &str) {
        self.push(Paragraph::new().add_run(Run::new().add_text(text).size(20).color("4A4A4A")));
    }

    /// A table over the text width, its columns as wide as `weights` say (relative).
    fn table(&mut self, headers: &[&str], rows: Vec<Vec<String>>, weights: &[u32]) {
        let total: u32 = weights.iter().sum::<u32>().max(1);
        let widths: Vec<usize> = weights
            .iter()
            .map(|w| (TEXT_TWIPS * w / total) as usize)
            .collect();
        let row = |cells: Vec<(&str, bool)>| {
            TableRow::new(
                cells
                    .into_iter()
                    .zip(&widths)
                    .map(|((text, bold), &width)| {
                        let run = Run::new().add_text(text).size(21);
                        let run = if bold { run.bold() } else { run };
                        TableCell::new()
                            .width(width, WidthType::Dxa)
                            .add_paragraph(Paragraph::new().add_run(run))
                    })
                    .collect(),
            )
        };
        let mut table_rows = vec![row(headers.iter().map(|h| (*h, true)).collect())];
        for cells in &rows {
            table_rows.push(row(cells.iter().map(|c| (c.as_str(), false)).collect()));
        }
        let table = Table::new(table_rows)
            .set_grid(widths.clone())
            .width(TEXT_TWIPS as usize, WidthType::Dxa);
        let docx = std::mem::take(&mut self.docx);
        self.docx = docx.add_table(table).add_paragraph(Paragraph::new());
    }

    fn chart(&mut self, title: &str, bars: Vec<chart::Bar>) {
        match chart::bars(title, &bars) {
            Ok(png) => {
                self.charts += 1;
                let height = (u64::from(TEXT_WIDTH_EMU) * u64::from(png.height)
                    / u64::from(png.width)) as u32;
                let pic = Pic::new_with_dimensions(png.bytes, png.width, png.height)
                    .size(TEXT_WIDTH_EMU, height);
                self.push(
                    Paragraph::new()
                        .align(AlignmentType::Center)
                        .add_run(Run::new().add_image(pic)),
                );
            }
            Err(why) => {
                let text = if self.en() {
                    format!("(Chart \"{title}\" not drawn: {why}.)")
                } else {
                    format!("（图“{title}”未生成：{why}。）")
                };
                self.note(&text);
            }
        }
    }

    fn estimate_rows(
        &self,
        rows: &[Estimate],
        label: impl Fn(&Estimate) -> String,
    ) -> Vec<Vec<String>> {
        rows.iter()
            .map(|e| {
                let mark = if e.small { " *" } else { "" };
                vec![
                    format!("{}{mark}", label(e)),
                    e.n.to_string(),
                    e.successes.to_string(),
                    percent(e.proportion),
                    format!("{} – {}", percent(e.interval.low), percent(e.interval.high)),
                ]
            })
            .collect()
    }

    fn estimate_table(
        &mut self,
        first: &str,
        rows: &[Estimate],
        label: impl Fn(&Estimate) -> String,
    ) {
        let body = self.estimate_rows(rows, label);
        let headers = [
            first,
            self.t("调查人数", "n"),
            self.t("具备素养人数", "With literacy"),
            self.t("素养水平", "Literacy level"),
            self.t("95% 置信区间", "95 % interval"),
        ];
        self.table(&headers, body, &[4, 2, 2, 2, 3]);
    }

    fn bars(rows: &[Estimate], label: impl Fn(&Estimate) -> String) -> Vec<chart::Bar> {
        rows.iter()
            .map(|e| chart::Bar {
                label: label(e),
                level: e.proportion,
                low: e.interval.low,
                high: e.interval.high,
                small: e.small,
            })
            .collect()
    }

    fn title(&mut self) {
        let r = self.report;
        let title = if self.en() {
            format!(
                "{}: occupational health literacy monitoring report",
                r.coverage.subject
            )
        } else {
            format!("{}职业健康素养监测报告", r.coverage.subject)
        };
        self.push(
            Paragraph::new()
                .style("Title")
                .add_run(Run::new().add_text(&title)),
        );
        let made = if self.en() {
            format!(
                "Questionnaire: {} · made on {}",
                r.questionnaire_title, r.made_on
            )
        } else {
            format!("问卷：{} · 生成日期 {}", r.questionnaire_title, r.made_on)
        };
        self.push(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Run::new().add_text(&made)),
        );
        self.note(self.t(
            "本文件由职素系统根据服务器上的数据自动生成，供编辑修改后上报。第九部分的建议是草稿。",
            "Made by Zhisu from the data on the server, for editing before it is sent on. The recommendations in part 9 are drafts.",
        ));
    }

    fn overview(&mut self) {
        let r = self.report;
        let l = &r.literacy;
        self.heading(self.t("一、概述与方法", "1. Overview and methods"), 1);
        self.para(&r.coverage.sentence);
        if let Some(round) = &r.round {
            let which = if self.en() {
                format!(
                    "Every figure in parts 2 to 7 is of round {round} only (its interviews and its sample design); part 8 compares it with the round before."
                )
            } else {
                format!("第二至第七部分的数字只来自 {round} 轮的访谈（按这一轮的抽样设计计算）；第八部分把它和上一轮比较。")
            };
            self.para(&which);
        }
        let dimensions: Vec<&str> = l.dimensions.iter().map(|d| d.label.as_str()).collect();
        let content = if self.en() {
            format!(
                "The survey asks about {} dimensions of occupational health literacy: {}.",
                dimensions.len(),
                dimensions.join(", ")
            )
        } else {
            format!(
                "监测内容包括职业健康素养的{}个维度：{}。",
                zhisu_server_service::wording::count_in_words(dimensions.len(), self.lang),
                dimensions.join("、")
            )
        };
        self.para(&content);
        if let Some(cut) = r.literacy_threshold_percent {
            let rule = if self.en() {
                format!("A worker has occupational health literacy when their score is at least {cut} % of the maximum; a dimension likewise at {cut} % of its maximum. The literacy level of a group is the share of its workers who have literacy.")
            } else {
                format!("总分达到满分的 {cut}% 及以上者判定为具备职业健康素养；维度素养同理按该维度满分的 {cut}% 判定。某一人群的素养水平即其中具备素养者所占的比例。")
            };
            self.para(&rule);
        }
        self.heading(self.t("抽样设计和权重", "Design and weights"), 2);
        let design = match (l.method, self.en()) {
            (Method::DesignTaylor, false) => "本报告的问卷全部来自抽样方案中有层和权重的调查点：按分层整群抽样设计，以用人单位（调查点）为群，每名被调查者的权重为其调查点在抽样方案中的权重。".to_string(),
            (Method::DesignTaylor, true) => "Every interview in this report comes from a site with a stratum and a weight in the sample plan: a stratified cluster design with employers (sites) as clusters; each worker carries the weight of their site.".to_string(),
            (Method::UnweightedWilson, false) => format!("本报告有 {} 份问卷没有抽样权重（没有调查点，或调查点在抽样方案中没有层和权重），因此全部按未加权比例报告。", l.unweighted_interviews),
            (Method::UnweightedWilson, true) => format!("{} interviews in this report have no weight (no site, or a site without a stratum and weight in the sample plan), so every figure is an unweighted proportion.", l.unweighted_interviews),
        };
        self.para(&design);
        self.heading(self.t("估计方法", "Estimation"), 2);
        let method = match (l.method, self.en()) {
            (Method::DesignTaylor, false) => "素养水平是加权比例：具备素养者的权重之和除以全部被调查者的权重之和。95% 置信区间用 Taylor 线性化计算方差，只看各层内调查点之间的差异（按放回抽样近似），再按 t 分布取区间。",
            (Method::DesignTaylor, true) => "A literacy level is a weighted proportion: the weights of those with literacy over the weights of everyone asked. Its 95 % interval comes from a Taylor-linearised variance, which looks at the differences between sites within each stratum (as if sampled with replacement), with a t quantile.",
            (Method::UnweightedWilson, false) => "素养水平是具备素养的人数除以调查人数。95% 置信区间用 Wilson 得分法计算，样本小或比例接近 0、100% 时也不会超出 0–100%。",
            (Method::UnweightedWilson, true) => "A literacy level is the number with literacy over the number asked. Its 95 % interval is Wilson's score interval, which stays within 0–100 % even for small samples or levels near the ends.",
        };
        self.para(method);
        let small = if self.en() {
            format!("({}.) Groups with fewer than {} interviews are marked * and should be read with care.", l.method_note, l.min_cell_n)
        } else {
            format!(
                "（{}。）调查人数少于 {} 的组标 *，结果仅供参考。",
                l.method_note, l.min_cell_n
            )
        };
        self.note(&small);
    }

    fn sample(&mut self) {
        let r = self.report;
        let s = &r.sample;
        self.heading(self.t("二、样本情况", "2. The sample"), 1);
        let done = if self.en() {
            format!(
                "Interviews done: {} of {} planned (districts with interviews: {}; sites: {}). Quality control flagged {}; {} were rejected and are left out of every figure.",
                s.progress.total, s.progress.wanted, s.districts_with_interviews, s.sites_with_interviews, s.flagged, s.rejected
            )
        } else {
            format!(
                "完成调查 {} 份，计划 {} 份，来自 {} 个区县的 {} 个调查点。质量控制标记 {} 份，作废 {} 份（作废问卷不计入任何结果）。",
                s.progress.total, s.progress.wanted, s.districts_with_interviews, s.sites_with_interviews, s.flagged, s.rejected
            )
        };
        self.para(&done);
        self.heading(self.t("接触结果", "Contact outcomes"), 2);
        let contacts = zhisu_server_service::fieldwork::summary_sentence(&s.fieldwork, &r.lang);
        self.para(&contacts);
        if let Some(backchecks) = &s.backchecks {
            self.para(&zhisu_server_service::backcheck::summary_sentence(
                backchecks, &r.lang,
            ));
        }
        let titles: Vec<&str> = s.not_narrowed_by.iter().map(String::as_str).collect();
        if let Some(note) = zhisu_server_service::wording::not_narrowed(&titles, &r.lang) {
            self.note(&note);
        }
        let Some(overall) = &r.literacy.overall else {
            return;
        };
        self.heading(self.t("样本构成", "Who was interviewed"), 2);
        let mut rows = Vec::new();
        for b in &r.literacy.breakdowns {
            if !matches!(b.by, By::Sex | By::AgeBand | By::Education) {
                continue;
            }
            for e in &b.rows {
                rows.push(vec![
                    b.title.clone(),
                    e.label.clone(),
                    e.n.to_string(),
                    percent(e.n as f64 / overall.n.max(1) as f64),
                ]);
            }
        }
        let headers = [
            self.t("特征", "Characteristic"),
            self.t("组别", "Group"),
            self.t("人数", "n"),
            self.t("构成比", "Share of the sample"),
        ];
        self.table(&headers, rows, &[2, 4, 2, 2]);
    }

    fn literacy(&mut self) {
        let r = self.report;
        self.heading(self.t("三、职业健康素养水平", "3. Literacy levels"), 1);
        let Some(overall) = &r.literacy.overall else {
            self.para(self.t(
                "这个范围内还没有调查数据。",
                "There are no interviews in this scope yet.",
            ));
            return;
        };
        let text = if self.en() {
            format!(
                "{} valid interviews; the occupational health literacy level is {} (95 % interval {} – {}).",
                overall.n, percent(overall.proportion), percent(overall.interval.low), percent(overall.interval.high)
            )
        } else {
            format!(
                "共调查有效问卷 {} 份，职业健康素养水平为 {}（95% 置信区间 {} – {}）。",
                overall.n,
                percent(overall.proportion),
                percent(overall.interval.low),
                percent(overall.interval.high)
            )
        };
        self.para(&text);
        if let Some(extremes) = &r.dimension_extremes {
            self.para(extremes);
        }
        let dims = r.literacy.dimensions.clone();
        self.estimate_table(self.t("维度", "Dimension"), &dims, |e| e.label.clone());
        let title = self.t("各维度素养水平", "Literacy by dimension");
        self.chart(title, Self::bars(&dims, |e| e.label.clone()));
    }

    fn groups(&mut self) {
        let r = self.report;
        self.heading(
            self.t(
                "四、不同人群、行业和区县的素养水平",
                "4. By population, industry and district",
            ),
            1,
        );
        let lang = self.lang.to_string();
        for by in [By::Population, By::Industry, By::District] {
            let Some(b) = r.literacy.breakdowns.iter().find(|b| b.by == by) else {
                continue;
            };
            self.breakdown(b, &lang);
        }
    }

    fn breakdown(&mut self, b: &Breakdown, lang: &str) {
        self.heading(&b.title, 2);
        let label = |e: &Estimate| {
            if b.by == By::District {
                district_name(&e.key, lang)
            } else {
                e.label.clone()
            }
        };
        match b.rows.len() {
            0 => self.para(self.t("没有数据。", "No data.")),
            1 => {
                let e = &b.rows[0];
                let text = if self.en() {
                    format!(
                        "Only one group in this report: {} ({}, n = {}).",
                        label(e),
                        percent(e.proportion),
                        e.n
                    )
                } else {
                    format!(
                        "本报告只有一个组：{}（{}，n = {}），不作组间比较。",
                        label(e),
                        percent(e.proportion),
                        e.n
                    )
                };
                self.para(&text);
            }
            _ => {
                self.estimate_table(&b.title, &b.rows, label);
                let title = if self.en() {
                    format!("Literacy by {}", b.title.to_lowercase())
                } else {
                    format!("不同{}的素养水平", b.title)
                };
                self.chart(&title, Self::bars(&b.rows, label));
            }
        }
    }

    fn modules(&mut self) {
        let r = self.report;
        self.heading(self.t("五、重点人群专题模块", "5. Population modules"), 1);
        if r.modules.is_empty() {
            self.para(self.t(
                "这个范围内没有专题模块的答题。",
                "No module items were answered in this scope.",
            ));
            return;
        }
        self.para(self.t(
            "专题模块只问相应重点人群，结果为该模块各题的答对比例（所有被问到的题次合计）。",
            "Each module is asked of its population only; its result is the share of its items answered correctly (all answers together).",
        ));
        let rows = r
            .modules
            .iter()
            .map(|m| {
                vec![
                    m.title.clone(),
                    m.respondents.to_string(),
                    percent(m.correct as f64 / m.answers.max(1) as f64),
                    m.weakest.as_ref().map_or_else(String::new, |w| {
                        format!("{}（{}）", w.label, percent(w.share))
                    }),
                ]
            })
            .collect();
        let headers = [
            self.t("专题", "Module"),
            self.t("回答人数", "Respondents"),
            self.t("答对比例", "Share correct"),
            self.t("答对率最低的题", "Item answered worst"),
        ];
        self.table(&headers, rows, &[3, 2, 2, 6]);
    }

    fn weakest(&mut self) {
        let r = self.report;
        self.heading(
            self.t("六、最薄弱的知识点", "6. The weakest knowledge points"),
            1,
        );
        if r.weakest.is_empty() {
            self.para(self.t("没有足够的答题数据。", "Not enough answers yet."));
            return;
        }
        let dimension_label = |id: &str| {
            r.literacy
                .dimensions
                .iter()
                .find(|d| d.key == id)
                .map_or_else(|| id.to_string(), |d| d.label.clone())
        };
        let intro = if self.en() {
            format!("The {} items answered correctly least often (items asked of fewer than {} people are left out).", r.weakest.len(), r.literacy.min_cell_n)
        } else {
            format!(
                "答对率最低的 {} 个题目（被问人数少于 {} 的题目不列入）。",
                r.weakest.len(),
                r.literacy.min_cell_n
            )
        };
        self.para(&intro);
        let rows = r
            .weakest
            .iter()
            .enumerate()
            .map(|(i, w)| {
                vec![
                    (i + 1).to_string(),
                    w.label.clone(),
                    dimension_label(&w.dimension),
                    w.asked.to_string(),
                    percent(w.share),
                ]
            })
            .collect();
        let headers = [
            self.t("序号", "#"),
            self.t("题目", "Item"),
            self.t("维度", "Dimension"),
            self.t("回答人数", "Asked"),
            self.t("答对率", "Correct"),
        ];
        self.table(&headers, rows, &[1, 8, 3, 2, 2]);
        let title = self.t("答对率最低的题目", "Items answered worst");
        let bars = r
            .weakest
            .iter()
            .enumerate()
            .map(|(i, w)| chart::Bar {
                // numbered as in the table above
                label: format!("{}. {}", i + 1, w.label),
                level: w.share,
                low: w.interval.low,
                high: w.interval.high,
                small: w.small,
            })
            .collect();
        self.chart(title, bars);
    }

    fn indicator_table(&mut self, list: &[Indicator]) {
        let rows = list
            .iter()
            .map(|i| {
                vec![
                    i.label.clone(),
                    i.counted.clone(),
                    i.answered.to_string(),
                    i.yes.to_string(),
                    percent(i.share()),
                ]
            })
            .collect();
        let headers = [
            self.t("问题", "Question"),
            self.t("统计的回答", "Answer counted"),
            self.t("回答人数", "Answered"),
            self.t("人数", "Count"),
            self.t("比例", "Share"),
        ];
        self.table(&headers, rows, &[7, 3, 2, 2, 2]);
    }

    fn health(&mut self) {
        let r = self.report;
        self.heading(
            self.t("七、健康状况和相关指标", "7. Health and related indicators"),
            1,
        );
        self.heading(
            self.t("防护和健康服务指标", "Protection and health services"),
            2,
        );
        if r.indicators.is_empty() {
            self.para(self.t(
                "问卷没有这类问题，或还没有回答。",
                "The questionnaire has no such questions, or none were answered.",
            ));
        } else {
            let list = r.indicators.clone();
            self.indicator_table(&list);
        }
        self.heading(self.t("身心健康状况", "Physical and mental health"), 2);
        if r.health.is_empty() {
            self.para(self.t(
                "问卷没有这类问题，或还没有回答。",
                "The questionnaire has no such questions, or none were answered.",
            ));
        } else {
            self.para(self.t(
                "以下为选择量表最后两档回答（见“统计的回答”一栏，如“经常”“总是”）的人所占比例。",
                "The share giving either of the scale's last two answers (the column \"Answer counted\" names them, such as often, always).",
            ));
            let list = r.health.clone();
            self.indicator_table(&list);
        }
    }

    fn comparison(&mut self) {
        let r = self.report;
        self.heading(
            self.t(
                "八、与上一轮监测和目标的比较",
                "8. Against the last round and the targets",
            ),
            1,
        );
        let c = &r.comparison;
        let en = self.en();
        let round = |name: &str| {
            if en {
                format!("round {name}")
            } else {
                format!("{name} 轮")
            }
        };
        match (&c.current, &c.previous) {
            (Some(current), Some(previous)) if !c.rows.is_empty() => {
                let (cur, prev) = (round(current), round(previous));
                if let Some(overall) = c.rows.iter().find(|row| row.key.is_empty()) {
                    let text = if self.en() {
                        format!(
                            "Overall occupational health literacy: {} in {prev}, {} in {cur}, a change of {} percentage points (95 % interval {} to {}): {}.",
                            percent(overall.previous.proportion),
                            percent(overall.current.proportion),
                            points(overall.difference),
                            points(overall.ci_low),
                            points(overall.ci_high),
                            overall.change.label("en"),
                        )
                    } else {
                        format!(
                            "职业健康素养水平：{prev} {}，{cur} {}，变化 {} 个百分点（95% 置信区间 {} 至 {}），{}。",
                            percent(overall.previous.proportion),
                            percent(overall.current.proportion),
                            points(overall.difference),
                            points(overall.ci_low),
                            points(overall.ci_high),
                            overall.change.label("zh-CN"),
                        )
                    };
                    self.para(&text);
                }
                let rows = c
                    .rows
                    .iter()
                    .map(|row| {
                        let small = row.current.small || row.previous.small;
                        vec![
                            format!("{}{}", row.label, if small { " *" } else { "" }),
                            percent(row.previous.proportion),
                            percent(row.current.proportion),
                            points(row.difference),
                            format!("{} – {}", points(row.ci_low), points(row.ci_high)),
                            row.change.label(&r.lang).to_string(),
                        ]
                    })
                    .collect();
                let change = self.t("变化（百分点）", "Change (points)");
                let interval = self.t("95% 置信区间", "95 % interval");
                let judged = self.t("判断", "Reading");
                let first = self.t("指标", "Measure");
                self.table(
                    &[first, prev.as_str(), cur.as_str(), change, interval, judged],
                    rows,
                    &[4, 2, 2, 2, 3, 2],
                );
                self.note(&c.method_note);
                if c.rows.iter().any(|row| row.current.small || row.previous.small) {
                    self.note(self.t(
                        "* 人数较少，数值不稳定，解读时请谨慎。",
                        "* Few respondents: the figure is unstable.",
                    ));
                }
            }
            (Some(only), _) => {
                let text = if self.en() {
                    format!(
                        "The server holds interviews of one round only ({}), so this report makes no comparison with an earlier round; add the published figures of the last round when editing if one is needed.",
                        round(only)
                    )
                } else {
                    format!(
                        "服务器上只有 {} 的调查数据，没有上一轮的，本报告不作与上一轮的比较；如需比较，请在编辑时补入已发布的上一轮数据。",
                        round(only)
                    )
                };
                self.para(&text);
            }
            _ => self.para(self.t(
                "服务器上没有按轮次上传的调查数据，本报告不作与上一轮的比较。",
                "The server holds no interviews sent by tablets of a round, so this report makes no comparison between rounds.",
            )),
        }
        if c.without_round > 0 {
            let text = if self.en() {
                format!(
                    "{} interviews were not sent by a tablet of a round (imported from backups) and are left out of the comparison.",
                    c.without_round
                )
            } else {
                format!(
                    "另有 {} 份问卷不是由某一轮的平板上传的（从备份导入），未计入轮次比较。",
                    c.without_round
                )
            };
            self.note(&text);
        }
        self.references();
    }

    /// The reference levels entered for the round: each with the round's estimate and where
    /// it stands, judged by the whole 95 % interval.
    fn references(&mut self) {
        let r = self.report;
        if r.references.is_empty() {
            self.para(self.t(
                "服务器上没有录入本轮的目标值或参考水平，本报告不作与目标的比较。",
                "No targets or reference levels have been entered on the server for this round, so this report makes no comparison with targets.",
            ));
            return;
        }
        let round = r.references_round.clone().unwrap_or_default();
        let text = if self.en() {
            format!("Targets and reference levels entered for round {round}:")
        } else {
            format!("{round} 轮录入的目标和参考水平：")
        };
        self.para(&text);
        let compared_round = r.comparison.current.as_deref() == Some(round.as_str());
        let mut rows = Vec::new();
        for level in &r.references {
            // the compared round's own estimate when the levels are of it, else the report's
            let estimate = r
                .comparison
                .rows
                .iter()
                .find(|row| compared_round && row.key == level.measure)
                .map(|row| &row.current)
                .or_else(|| {
                    if level.measure.is_empty() {
                        r.literacy.overall.as_ref()
                    } else {
                        r.literacy
                            .dimensions
                            .iter()
                            .find(|d| d.key == level.measure)
                    }
                });
            let measure = if level.measure.is_empty() {
                self.t("职业健康素养水平", "Occupational health literacy")
                    .to_string()
            } else {
                r.literacy
                    .dimensions
                    .iter()
                    .find(|d| d.key == level.measure)
                    .map_or_else(|| level.measure.clone(), |d| d.label.clone())
            };
            let (level_now, standing) = match estimate {
                Some(e) => (
                    format!(
                        "{}（{} – {}）",
                        percent(e.proportion),
                        percent(e.interval.low),
                        percent(e.interval.high)
                    ),
                    references::standing_words(level.kind, references::standing(e, level), &r.lang)
                        .to_string(),
                ),
                None => (
                    "—".to_string(),
                    self.t("没有数据", "no interviews").to_string(),
                ),
            };
            rows.push(vec![
                measure,
                references::describe(level, &r.lang),
                level_now,
                standing,
            ]);
        }
        let headers = [
            self.t("指标", "Measure"),
            self.t("目标或参考水平", "Target or reference"),
            self.t("本轮水平（95% 置信区间）", "This round (95 % interval)"),
            self.t("判断", "Reading"),
        ];
        self.table(&headers, rows, &[3, 4, 3, 5]);
    }

    fn recommendations(&mut self) {
        let r = self.report;
        self.heading(self.t("九、建议（草稿）", "9. Recommendations (draft)"), 1);
        self.note(self.t(
            "以下建议根据素养水平最低的维度和答对率最低的题目自动起草，请结合本地情况修改后使用。",
            "Drafted from the lowest dimension and the items answered worst: revise them to the local situation before use.",
        ));
        if r.recommendations.is_empty() {
            self.para(self.t("数据不足，未起草建议。", "Too little data to draft any."));
        }
        for (i, text) in r.recommendations.iter().enumerate() {
            self.para(&format!("{}. {text}", i + 1));
        }
    }
}

/// A difference of two shares in percentage points, signed ("+3.2", "-1.0").
fn points(d: f64) -> String {
    format!("{:+.1}", d * 100.0)
}

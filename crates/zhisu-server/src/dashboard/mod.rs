//! The monitoring dashboard: server-rendered HTML in Chinese (English with `?lang=en`), no
//! script needed to read it, printable. Every view reads through the signed-in person's scope;
//! the figures come from `zhisu_server_service::analysis`, the same code the JSON API and the reports use.
//!
//! Sessions: the sign-in form sets an HttpOnly, SameSite=Strict cookie holding the same kind
//! of session token the API issues; forms that change data are POSTs, which SameSite=Strict
//! keeps from other sites.

mod backchecks;
mod enrolment_sheet;
mod export;
mod fieldwork;
mod html;
mod item_analysis;
mod library;
mod literacy;
mod login;
mod outreach;
mod pace;
mod progress;
mod qc;
mod quality;
mod recordings;
mod references;
mod report;
mod surveyors;
mod training;
mod updates;

use zhisu_server_service::QuestionnaireRegistry;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use zhisu_server_service::analysis::{self, Filter};
use zhisu_server_service::people::Person;

use crate::extract::Session;
use crate::HttpState;
use item_analysis::*;
use literacy::*;
use login::*;
use progress::*;
use qc::*;
use report::*;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route(
            "/dashboard",
            get(|| async { Redirect::to("/dashboard/progress") }),
        )
        .route("/dashboard/login", get(login_page).post(login))
        .route("/dashboard/logout", post(logout))
        .route("/dashboard/dashboard.js", get(script))
        .route("/dashboard/progress", get(progress_page))
        .route("/dashboard/literacy", get(literacy_page))
        .route("/dashboard/measures", get(measures_page))
        .route("/dashboard/items", get(items_page))
        .route("/dashboard/item-analysis", get(item_analysis_page))
        .route("/dashboard/qc", get(qc_page))
        .route("/dashboard/qc/{id}", post(qc_review))
        .route(
            "/dashboard/devices/{id}/revoke",
            post(progress::revoke_device_form),
        )
        .route("/dashboard/report", get(report_page))
        .route(
            "/dashboard/references",
            get(references::references_page).post(references::references_form),
        )
        .route("/dashboard/rounds", get(references::rounds_page))
        .route(
            "/dashboard/outreach",
            get(outreach::outreach_page).post(outreach::outreach_form),
        )
        .route(
            "/dashboard/outreach/delete",
            post(outreach::outreach_delete),
        )
        .route(
            "/dashboard/library",
            get(library::library_page).post(library::piece_form_post),
        )
        .route("/dashboard/library/handout", get(library::handout))
        .route("/dashboard/export.csv", get(export::csv))
        .route("/dashboard/fieldwork.csv", get(fieldwork::csv))
        .route("/dashboard/quality", get(quality::quality_page))
        .route("/dashboard/quality.csv", get(quality::quality_csv_download))
        .route(
            "/dashboard/quality.xlsx",
            get(quality::quality_xlsx_download),
        )
        .route("/dashboard/backchecks", get(backchecks::backchecks_page))
        .route("/dashboard/backchecks/draw", post(backchecks::draw_form))
        .route(
            "/dashboard/backchecks/{id}",
            get(backchecks::task_page).post(backchecks::task_form),
        )
        .route(
            "/dashboard/surveyors",
            get(surveyors::surveyors_page).post(surveyors::surveyors_form),
        )
        .route("/dashboard/training", get(training::training_page))
        .route("/dashboard/training.csv", get(training::training_csv))
        .route("/dashboard/codebook.csv", get(export::codebook_csv))
        .route("/dashboard/export.xlsx", get(export::xlsx))
        .route("/dashboard/recordings", get(recordings::recordings_page))
        .route(
            "/dashboard/recordings/{id}/{version}",
            get(recordings::version_page)
                .post(recordings::upload_form)
                .layer(recordings::upload_limit()),
        )
        .route(
            "/dashboard/recordings/{id}/{version}/record",
            post(recordings::record).layer(recordings::upload_limit()),
        )
        .route("/dashboard/media/{sha256}", get(recordings::media))
        .route(
            "/dashboard/updates",
            get(updates::updates_page)
                .post(updates::upload_form)
                .layer(updates::upload_limit()),
        )
        .route(
            "/dashboard/enrolment-sheet",
            get(enrolment_sheet::sheet_page).post(enrolment_sheet::sheet_form),
        )
}

/// Query parameters every view understands: the language and the filter.
#[derive(Debug, Default, Deserialize)]
pub struct ViewQuery {
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(flatten)]
    pub filter: Filter,
    #[serde(default)]
    pub status: Option<String>,
}

/// The rounds a comparison is asked for: `round` (the current one) and `against` (the one to
/// compare it with); the newest two by default.
#[derive(Debug, Default, Deserialize)]
pub struct RoundsQuery {
    #[serde(default)]
    pub round: Option<String>,
    #[serde(default)]
    pub against: Option<String>,
}

/// The page language a `lang` parameter asks for: English for `en…`, otherwise Chinese.
pub(super) fn language(lang: Option<&str>) -> &'static str {
    match lang {
        Some(l) if l.starts_with("en") => "en",
        _ => "zh-CN",
    }
}

impl ViewQuery {
    pub fn lang(&self) -> &str {
        language(self.lang.as_deref())
    }

    pub fn questionnaire(&self) -> &str {
        self.q
            .as_deref()
            .filter(|q| !q.is_empty())
            .unwrap_or(analysis::DEFAULT_QUESTIONNAIRE)
    }

    /// The filter, with a district admin's or supervisor's district imposed (they may not
    /// look elsewhere; the storage scope enforces it too).
    pub fn filter_for(&self, person: &Person) -> Filter {
        let mut filter = self.filter.clone();
        if let Some(d) = person.role.district() {
            filter.district = Some(d.to_string());
        }
        filter
    }
}

/// What a view asks the analysis for: the viewer's scope, the filter, the questionnaire and the
/// language, with what it needs to answer on the blocking pool.
pub(super) struct Ask {
    storage: std::sync::Arc<dyn crate::Storage>,
    registry: std::sync::Arc<QuestionnaireRegistry>,
    scope: zhisu_server_service::people::Scope,
    filter: Filter,
    questionnaire: String,
    lang: String,
    min_cell_n: u64,
}

impl Ask {
    fn new(state: &HttpState, person: &Person, q: &ViewQuery) -> Ask {
        Ask {
            storage: state.storage.clone(),
            registry: state.questionnaires.clone(),
            scope: person.role.scope(),
            filter: q.filter_for(person),
            questionnaire: q.questionnaire().to_string(),
            lang: q.lang().to_string(),
            min_cell_n: state.min_cell_n,
        }
    }

    fn literacy(&self) -> Result<analysis::LiteracyReport, crate::StorageError> {
        analysis::literacy(
            self.storage.as_ref(),
            &self.registry,
            &self.scope,
            &self.questionnaire,
            &self.filter,
            self.min_cell_n,
            &self.lang,
        )
    }

    /// The tables the literacy page adds from the interviews (modules, more breakdowns,
    /// indicators, health), by the report's `method`.
    fn measured(
        &self,
        role: &zhisu_server_service::people::Role,
        method: zhisu_stats::Method,
    ) -> Result<Vec<zhisu_server_service::estimates::EstimateTable>, crate::StorageError> {
        use zhisu_server_service::estimates;
        let ask = estimates::Ask {
            storage: self.storage.as_ref(),
            registry: &self.registry,
            role,
            questionnaire_id: &self.questionnaire,
            filter: &self.filter,
            min_cell_n: self.min_cell_n,
            lang: &self.lang,
        };
        estimates::measured_tables(&ask, method)
    }

    fn weakest_items(&self) -> Result<Vec<analysis::ItemShare>, crate::StorageError> {
        analysis::weakest_items(
            self.storage.as_ref(),
            &self.registry,
            &self.scope,
            &self.questionnaire,
            &self.filter,
            self.min_cell_n,
            &self.lang,
        )
    }
}

/// What the analysis filter offers: the districts for a viewer who may choose one (the city's
/// people: those of the sample plan and of the enrolled tablets, by name; a district's people
/// get none, their own district is imposed) and the rounds of the enrolled tablets, oldest
/// first (as versions compare: 2025 < 2026 < 2026b).
pub(super) struct FilterChoices {
    pub districts: Vec<(String, String)>,
    pub rounds: Vec<String>,
}

/// The [`FilterChoices`] for `person`, from one read of the tablets (and of the plan's sites
/// when districts are offered).
pub(super) async fn filter_choices(
    state: &HttpState,
    person: &Person,
    lang: &str,
) -> Result<FilterChoices, Response> {
    use std::collections::BTreeSet;
    let choose_district = person.role.district().is_none();
    let storage = state.storage.clone();
    let (devices, site_districts) = run(move || {
        let sites: Vec<String> = if choose_district {
            storage
                .all_sites()?
                .into_iter()
                .map(|s| s.district)
                .collect()
        } else {
            Vec::new()
        };
        Ok((storage.devices()?, sites))
    })
    .await?;
    let mut rounds: Vec<String> = devices
        .iter()
        .map(|d| d.round.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    rounds.sort_by(|a, b| zhisu_core::compare_versions(a, b));
    let mut districts: Vec<(String, String)> = Vec::new();
    if choose_district {
        let ids: BTreeSet<String> = site_districts
            .into_iter()
            .chain(devices.into_iter().map(|d| d.district))
            .filter(|id| !id.is_empty())
            .collect();
        districts = ids
            .into_iter()
            .map(|id| {
                let name = zhisu_server_service::wording::district_name(&id, lang);
                (id, name)
            })
            .collect();
        districts.sort_by(|a, b| a.1.cmp(&b.1));
    }
    Ok(FilterChoices { districts, rounds })
}

/// What the pages say about how literacy is decided, from the questionnaire: its cut-off and
/// its number of dimensions (the small-cell threshold comes with each report).
pub(super) struct Rules {
    /// `None` when the server has no such questionnaire.
    pub literacy_threshold_percent: Option<u32>,
    pub dimensions: usize,
}

impl Rules {
    fn of(state: &HttpState, questionnaire_id: &str) -> Rules {
        let newest = state.questionnaires.newest(questionnaire_id);
        let q = newest.as_ref().map(|p| &p.questionnaire);
        Rules {
            literacy_threshold_percent: q.map(|q| q.literacy_threshold_percent),
            dimensions: q.map_or(0, |q| q.dimensions.len()),
        }
    }
}

/// A signed-in person, or a redirect to the sign-in page.
pub struct Viewer(pub Session);

impl axum::extract::FromRequestParts<HttpState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &HttpState,
    ) -> Result<Self, Response> {
        match Session::of_request(parts, state, true).await {
            Ok(s) => Ok(Viewer(s)),
            Err(_) => Err(Redirect::to("/dashboard/login").into_response()),
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct LangOnly {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// A dashboard form without this session's CSRF token: not sent by this server's page (or from
/// a page older than the session). Nothing changed.
pub(super) fn csrf_refused(lang: &str) -> Response {
    tracing::warn!("a dashboard form came without its session's CSRF token: refused");
    (
        StatusCode::FORBIDDEN,
        html::page(
            None,
            lang,
            "",
            "403",
            maud::html! {
                p.error role="alert" {
                    (zhisu_server_service::t(lang, "这个表单不是从本系统的页面提交的，或者页面已过期。没有做任何更改。请重新打开页面再试。",
                        "This form was not sent from a current page of this server; nothing was changed. Open the page again and retry."))
                }
            },
        ),
    )
        .into_response()
}

/// The dashboard's script (exports with a progress bar, the report's print button).
async fn script() -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("dashboard.js"),
    )
        .into_response()
}

/// A file as a download, with its row count in `x-zhisu-rows` (the page's progress line).
pub(crate) fn attachment(file: zhisu_server_service::export::File) -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                file.content_type.to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.name),
            ),
            (
                axum::http::header::HeaderName::from_static("x-zhisu-rows"),
                file.rows.to_string(),
            ),
        ],
        file.bytes,
    )
        .into_response()
}

pub(super) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; see the server log",
    )
        .into_response()
}

pub async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::StorageError> + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(internal)?
        .map_err(internal)
}

//! Today's work: the round and district, the assigned sites, and the quotas of the chosen one.

use yew::prelude::*;
use zhisu_app_api::{self as api, ChooseSiteArgs, CommandError, SiteView, TodayView};

use super::home_button;
use crate::backend::call;
use crate::context::{app_context, error_view, AppContext};
use crate::i18n::{error_text, name, Lang, Words};

pub enum Msg {
    Context(AppContext),
    Loaded(Result<TodayView, CommandError>),
    Choose(String),
}

pub struct Today {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    today: Option<TodayView>,
    error: Option<String>,
}

async fn load() -> Msg {
    Msg::Loaded(call::<api::Today>(()).await)
}

impl Component for Today {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        ctx.link().send_future(load());
        let (app, handle) = app_context(ctx, Msg::Context);
        Today {
            app,
            _context: handle,
            today: None,
            error: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Context(app) => self.app = app,
            Msg::Loaded(Ok(today)) => self.today = Some(today),
            Msg::Loaded(Err(e)) => self.error = Some(error_text(&e, self.app.ui)),
            Msg::Choose(site_id) => {
                ctx.link().send_future(async move {
                    match call::<api::ChooseSite>(ChooseSiteArgs { site_id }).await {
                        Ok(()) => load().await,
                        Err(e) => Msg::Loaded(Err(e)),
                    }
                });
                return false;
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let ui = self.app.ui;
        let Some(today) = &self.today else {
            return html! {
                <>
                    <p>{ ui.pick("正在加载……", "Loading…") }</p>
                    { error_view(&self.error) }
                </>
            };
        };
        html! {
            <>
                <h1>{ ui.pick("今日工作", "Today's work") }</h1>
                <dl class="facts" id="today-round">
                    { fact("round", ui.pick("监测轮次", "Monitoring round"), today.round.clone().unwrap_or_default()) }
                    { fact("district", ui.pick("区县", "District"), today.district.as_ref().map(|d| name(d, ui)).unwrap_or_default()) }
                </dl>
                { self.sites_view(ctx, today) }
                if let Some(site) = today.chosen_site() {
                    { site_details(site, ui) }
                } else if !today.sites.is_empty() {
                    <p class="hint">{ ui.pick("选好调查点，新的访谈就记在这个调查点下。", "Choose a site: new interviews are recorded at it.") }</p>
                }
                { home_button(&self.app) }
                { error_view(&self.error) }
            </>
        }
    }
}

impl Today {
    fn sites_view(&self, ctx: &Context<Self>, today: &TodayView) -> Html {
        let ui = self.app.ui;
        if today.sites.is_empty() {
            return html! {
                <p id="no-sites">{ ui.pick("还没有分配调查点。请连上网络同步一下，或者联系管理员。",
                    "No sites assigned yet. Sync with the server, or call the administrator.") }</p>
            };
        }
        html! {
            <>
                <h2>{ ui.pick("选择调查点", "Choose the site") }</h2>
                <div class="choices" role="radiogroup">
                    { for today.sites.iter().map(|site| {
                        let id = site.id.clone();
                        let pressed = today.current_site.as_deref() == Some(site.id.as_str());
                        html! {
                            <button class="choice" id={format!("site-{}", site.id)} aria-pressed={pressed.to_string()}
                                onclick={ctx.link().callback(move |_| Msg::Choose(id.clone()))}>
                                { format!("{}（{}）", site.name, name(&site.site_type_label, ui)) }
                            </button>
                        }
                    }) }
                </div>
            </>
        }
    }
}

fn fact(id: &'static str, label: &str, value: String) -> Html {
    html! {
        <>
            <dt>{ label.to_string() }</dt>
            <dd id={id}>{ value }</dd>
        </>
    }
}

/// The chosen site: what it is, and its quotas with what this tablet has done.
fn site_details(site: &SiteView, ui: Lang) -> Html {
    let named =
        |text: &Option<zhisu_core::Text>| text.as_ref().map(|t| name(t, ui)).unwrap_or_default();
    html! {
        <section id="site-details">
            <h2>{ site.name.clone() }</h2>
            <dl class="facts">
                { fact("site-district", ui.pick("区县", "District"), name(&site.district, ui)) }
                { fact("site-type", ui.pick("类型", "Type"), name(&site.site_type_label, ui)) }
                if site.site_type == "enterprise" {
                    { fact("site-name", ui.pick("单位名称", "Enterprise"), site.name.clone()) }
                    { fact("site-industry", ui.pick("行业", "Industry"), named(&site.industry)) }
                    { fact("site-ownership", ui.pick("单位性质", "Ownership"), named(&site.ownership)) }
                    { fact("site-size", ui.pick("单位规模", "Size"), named(&site.size)) }
                }
            </dl>
            <h2>{ ui.pick("各类人群的任务", "Quota per population") }</h2>
            <table class="quotas" id="quotas">
                <thead><tr>
                    <th>{ ui.pick("人群", "Population") }</th>
                    <th>{ ui.pick("本机已完成 / 任务数", "Done here / quota") }</th>
                </tr></thead>
                <tbody>
                    { for site.quotas.iter().map(|q| html! {
                        <tr id={format!("quota-{}", q.population)} class={if q.done >= q.quota { "result-good" } else { "" }}>
                            <td>{ name(&q.label, ui) }</td>
                            <td class="count">{ format!("{} / {}", q.done, q.quota) }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            <p id="site-done">{ match ui {
                Lang::Zh => format!("这台平板在这里一共完成了 {} 份。", site.done),
                Lang::En => format!("{} interviews completed here on this tablet.", site.done),
            } }</p>
            if let Some(slot) = &site.current_slot {
                <p id="site-slot" class={if slot.done >= slot.target { "result-good" } else { "" }}
                    data-done={slot.done.to_string()} data-target={slot.target.to_string()}>{ match ui {
                    Lang::Zh => format!(
                        "现在是「{}」时段（{}–{}）：本机已完成 {} 份，目标 {} 份。",
                        slot.label, slot.from, slot.to, slot.done, slot.target
                    ),
                    Lang::En => format!(
                        "Time slot now: {} ({}–{}). Done here: {} of a target of {}.",
                        slot.label, slot.from, slot.to, slot.done, slot.target
                    ),
                } }</p>
            }
        </section>
    }
}

//! Back-checks (复核, issue 15): the respondents another surveyor interviewed, to call and ask a
//! few questions again. The surveyor sees who to call and the questions, never the first
//! answers; the server compares them. Not reached is an outcome too.

use std::collections::BTreeMap;
use std::rc::Rc;

use yew::prelude::*;
use zhisu_app_api::{self as api, BackcheckView, CommandError, SaveBackcheckArgs};
use zhisu_core::{AnswerValue, Answers, Item, ItemKind, Questionnaire};

use super::{home_button, typed};
use crate::backend::call;
use crate::context::{app_context, error_view, AppContext};
use crate::i18n::{error_text, Words};

pub enum Msg {
    Context(AppContext),
    Loaded(Result<Vec<BackcheckView>, CommandError>),
    Open(usize),
    /// Boxed: a questionnaire is much larger than the other messages.
    Questionnaire(Result<Box<Questionnaire>, CommandError>),
    /// A choice, true/false or "don't know" tapped for an item.
    Choose(String, AnswerValue),
    /// A multiple-choice key ticked or unticked.
    Toggle(String, String),
    /// Text typed for a number, date or text item.
    Typed(String, String),
    Save(bool),
    Saved(Result<(), CommandError>),
}

pub struct Backchecks {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    tasks: Option<Vec<BackcheckView>>,
    open: Option<usize>,
    questionnaire: Option<Rc<Questionnaire>>,
    answers: Answers,
    typed: BTreeMap<String, String>,
    saved: bool,
    busy: bool,
    error: Option<String>,
}

async fn load() -> Msg {
    Msg::Loaded(call::<api::Backchecks>(()).await)
}

impl Backchecks {
    fn task(&self) -> Option<&BackcheckView> {
        self.tasks.as_ref()?.get(self.open?)
    }

    /// The answers to send: those tapped, and those typed read as their item takes them.
    fn collected(&self) -> Result<Answers, String> {
        let ui = self.app.ui;
        let mut answers = self.answers.clone();
        let Some(q) = &self.questionnaire else {
            return Ok(answers);
        };
        for (item_id, text) in &self.typed {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let value = match q.item(item_id).map(|i| &i.kind) {
                Some(ItemKind::Integer { .. }) => text.parse().map(AnswerValue::Integer).ok(),
                Some(ItemKind::Decimal { .. }) => text
                    .parse::<f64>()
                    .ok()
                    .filter(|d| d.is_finite())
                    .map(AnswerValue::Decimal),
                Some(ItemKind::Date { .. }) => Some(AnswerValue::Date(text.to_string())),
                _ => Some(AnswerValue::Text(text.to_string())),
            };
            match value {
                Some(v) => {
                    answers.insert(item_id.clone(), v);
                }
                None => {
                    return Err(format!(
                        "{}: {}",
                        q.item(item_id)
                            .map_or(item_id.as_str(), |i| i.label.get(ui.code(), "zh-CN")),
                        ui.pick("请填数字", "type a number")
                    ))
                }
            }
        }
        Ok(answers)
    }

    fn item_view(&self, ctx: &Context<Self>, item: &Item) -> Html {
        let ui = self.app.ui;
        let link = ctx.link();
        let id = item.id.clone();
        let given = self.answers.get(&item.id);
        let pressed = |v: &AnswerValue| (given == Some(v)).to_string();
        let choice_button = |value: AnswerValue, key: &str, label: String| {
            let (id, chosen) = (id.clone(), pressed(&value));
            html! {
                <button class="choice" id={format!("bc-{id}-{key}")} aria-pressed={chosen}
                    onclick={link.callback(move |_| Msg::Choose(id.clone(), value.clone()))}>{ label }</button>
            }
        };
        let controls = match &item.kind {
            ItemKind::SingleChoice { choices, .. } | ItemKind::Likert { choices } => html! {
                <div class="choices" role="group">
                    { for choices.iter().map(|c| choice_button(
                        AnswerValue::Choice(c.key.clone()), &c.key, c.label.get(ui.code(), "zh-CN").to_string())) }
                </div>
            },
            ItemKind::TrueFalse => html! {
                <div class="choices" role="group">
                    { choice_button(AnswerValue::Bool(true), "true", ui.pick("对", "True").to_string()) }
                    { choice_button(AnswerValue::Bool(false), "false", ui.pick("错", "False").to_string()) }
                </div>
            },
            ItemKind::MultipleChoice { choices } => {
                let ticked: Vec<String> = match given {
                    Some(AnswerValue::Choices(keys)) => keys.clone(),
                    _ => Vec::new(),
                };
                html! {
                    <div class="choices" role="group">
                        { for choices.iter().map(|c| {
                            let (id, key) = (id.clone(), c.key.clone());
                            let on = ticked.contains(&c.key).to_string();
                            html! {
                                <button class="choice" id={format!("bc-{id}-{key}")} aria-pressed={on}
                                    onclick={link.callback(move |_| Msg::Toggle(id.clone(), key.clone()))}>
                                    { c.label.get(ui.code(), "zh-CN") }</button>
                            }
                        }) }
                    </div>
                }
            }
            _ => {
                let id = id.clone();
                let value = self.typed.get(&id).cloned().unwrap_or_default();
                let mode = if matches!(
                    item.kind,
                    ItemKind::Integer { .. } | ItemKind::Decimal { .. }
                ) {
                    "decimal"
                } else {
                    "text"
                };
                html! {
                    <input id={format!("bc-{id}")} inputmode={mode} value={value}
                        aria-label={item.label.get(ui.code(), "zh-CN").to_string()}
                        oninput={link.callback(move |e| Msg::Typed(id.clone(), typed(e)))} />
                }
            }
        };
        html! {
            <fieldset class="backcheck-item" data-item={item.id.clone()}>
                <legend>{ item.label.get(ui.code(), "zh-CN") }</legend>
                { controls }
                if item.dont_know {
                    <div class="choices" role="group">
                        { choice_button(AnswerValue::DontKnow, "dont_know", ui.pick("不知道", "Don't know").to_string()) }
                    </div>
                }
            </fieldset>
        }
    }
}

impl Component for Backchecks {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        ctx.link().send_future(load());
        let (app, handle) = app_context(ctx, Msg::Context);
        Backchecks {
            app,
            _context: handle,
            tasks: None,
            open: None,
            questionnaire: None,
            answers: Answers::new(),
            typed: BTreeMap::new(),
            saved: false,
            busy: false,
            error: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Context(app) => self.app = app,
            Msg::Loaded(Ok(tasks)) => {
                self.tasks = Some(tasks);
                self.busy = false;
            }
            Msg::Loaded(Err(e)) | Msg::Questionnaire(Err(e)) => {
                self.error = Some(error_text(&e, self.app.ui));
                self.busy = false;
            }
            Msg::Open(i) => {
                self.open = Some(i);
                self.answers.clear();
                self.typed.clear();
                self.saved = false;
                self.error = None;
                self.questionnaire = None;
                if let Some(task) = self.task() {
                    let args = api::VersionArgs {
                        id: task.questionnaire_id.clone(),
                        version: task.version.clone(),
                    };
                    ctx.link().send_future(async move {
                        Msg::Questionnaire(call::<api::GetQuestionnaire>(args).await.map(Box::new))
                    });
                }
            }
            Msg::Questionnaire(Ok(q)) => self.questionnaire = Some(Rc::new(*q)),
            Msg::Choose(item, value) => {
                self.answers.insert(item, value);
            }
            Msg::Toggle(item, key) => {
                let mut keys = match self.answers.remove(&item) {
                    Some(AnswerValue::Choices(keys)) => keys,
                    _ => Vec::new(),
                };
                if let Some(at) = keys.iter().position(|k| *k == key) {
                    keys.remove(at);
                } else {
                    keys.push(key);
                }
                if !keys.is_empty() {
                    self.answers.insert(item, AnswerValue::Choices(keys));
                }
            }
            Msg::Typed(item, text) => {
                self.typed.insert(item, text);
            }
            Msg::Save(reached) => {
                let Some(task) = self.task() else {
                    return false;
                };
                let answers = if reached {
                    match self.collected() {
                        Ok(a) => a,
                        Err(e) => {
                            self.error = Some(e);
                            return true;
                        }
                    }
                } else {
                    Answers::new()
                };
                let args = SaveBackcheckArgs {
                    task_id: task.id,
                    reached,
                    answers,
                };
                self.busy = true;
                ctx.link()
                    .send_future(async move { Msg::Saved(call::<api::SaveBackcheck>(args).await) });
            }
            Msg::Saved(Ok(())) => {
                self.saved = true;
                self.open = None;
                self.busy = true;
                ctx.link().send_future(load());
            }
            Msg::Saved(Err(e)) => {
                self.busy = false;
                self.error = Some(error_text(&e, self.app.ui));
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let ui = self.app.ui;
        let link = ctx.link();
        let body = match (self.task(), &self.tasks) {
            (Some(task), _) => html! {
                <>
                    <p class="status" id="backcheck-contact">
                        { ui.pick("请打电话：", "Call: ") }<strong>{ &task.contact }</strong>
                    </p>
                    <p class="note">{ ui.pick(
                        "说明是疾控中心回访，再问几道题。照实记下对方这次的回答。",
                        "Say the CDC is calling back to ask a few questions again. Write down the answers given now.") }</p>
                    if let Some(q) = &self.questionnaire {
                        { for task.items.iter().filter_map(|i| q.item(i)).map(|item| self.item_view(ctx, item)) }
                    }
                    { error_view(&self.error) }
                    <div class="nav">
                        <button id="backcheck-not-reached" disabled={self.busy}
                            onclick={link.callback(|_| Msg::Save(false))}>{ ui.pick("没联系上", "Not reached") }</button>
                        <button id="backcheck-save" class="primary" disabled={self.busy || self.questionnaire.is_none()}
                            onclick={link.callback(|_| Msg::Save(true))}>{ ui.pick("保存复核", "Save the back-check") }</button>
                    </div>
                </>
            },
            (None, Some(tasks)) if tasks.is_empty() => html! {
                <>
                    if self.saved {
                        <p class="status" id="backcheck-saved">{ ui.pick("已保存，会自动上传。", "Saved; it will be sent.") }</p>
                    }
                    <p class="note" id="backchecks-none">{ ui.pick(
                        "现在没有要复核的访谈（先选好调查员；同步后会收到新的）。",
                        "No back-checks now (choose the surveyor first; new ones arrive when the tablet syncs).") }</p>
                    { error_view(&self.error) }
                </>
            },
            (None, Some(tasks)) => html! {
                <>
                    if self.saved {
                        <p class="status" id="backcheck-saved">{ ui.pick("已保存，会自动上传。", "Saved; it will be sent.") }</p>
                    }
                    <div class="choices" id="backcheck-list">
                        { for tasks.iter().enumerate().map(|(i, t)| html! {
                            <button class="choice" id={format!("backcheck-{}", t.id)}
                                onclick={link.callback(move |_| Msg::Open(i))}>
                                { ui.pick("复核：", "Back-check: ") }{ &t.contact }
                            </button>
                        }) }
                    </div>
                    { error_view(&self.error) }
                </>
            },
            (None, None) => html! { { error_view(&self.error) } },
        };
        html! {
            <>
                <h1>{ ui.pick("复核", "Back-checks") }</h1>
                { body }
                <div class="nav">{ home_button(&self.app) }</div>
            </>
        }
    }
}

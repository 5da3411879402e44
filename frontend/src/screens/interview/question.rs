//! One question on screen: its answer buttons or input, the long list's search, "don't
//! know", the recording, back and next.

use yew::prelude::*;
use zhisu_core::{AnswerValue, Choice, Item, ItemKind};

use super::feedback::yes_no;
use super::{Interview, Msg};
use crate::i18n::{t, Lang, Words};
use crate::screens::typed;

/// What is being picked or typed on a question before "next".
#[derive(Default)]
pub struct Drafts {
    /// Multiple-choice keys.
    pub choices: Vec<String>,
    /// A number, text or date.
    pub text: String,
    /// What is typed in a long list's search box.
    pub search: String,
}

impl Drafts {
    /// The drafts of a question showing its saved answer.
    pub fn of(saved: Option<&AnswerValue>) -> Drafts {
        let choices = match saved {
            Some(AnswerValue::Choices(keys)) => keys.clone(),
            _ => Vec::new(),
        };
        let text = match saved {
            Some(AnswerValue::Integer(n)) => n.to_string(),
            Some(AnswerValue::Decimal(x)) => x.to_string(),
            Some(AnswerValue::Text(t)) | Some(AnswerValue::Date(t)) => t.clone(),
            _ => String::new(),
        };
        Drafts {
            choices,
            text,
            search: String::new(),
        }
    }

    pub fn toggle(&mut self, key: String) {
        match self.choices.iter().position(|k| k == &key) {
            Some(pos) => drop(self.choices.remove(pos)),
            None => self.choices.push(key),
        }
    }

    /// The answer typed or picked, for items answered with "next" (`None`: nothing yet).
    pub fn answer(&self, item: &Item, lang: Lang) -> Result<Option<AnswerValue>, String> {
        let text = self.text.trim();
        Ok(Some(match &item.kind {
            ItemKind::MultipleChoice { .. } if self.choices.is_empty() => return Ok(None),
            ItemKind::MultipleChoice { .. } => AnswerValue::Choices(self.choices.clone()),
            _ if text.is_empty() => return Ok(None),
            ItemKind::Integer { .. } => AnswerValue::Integer(text.parse().map_err(|_| {
                lang.pick(
                    "请填一个整数，不要带小数点。",
                    "Please enter a whole number.",
                )
                .to_string()
            })?),
            ItemKind::Decimal { .. } => AnswerValue::Decimal(text.parse().map_err(|_| {
                lang.pick("请填一个数字。", "Please enter a number.")
                    .to_string()
            })?),
            ItemKind::Text { .. } => AnswerValue::Text(text.to_string()),
            ItemKind::Date { .. } => AnswerValue::Date(text.to_string()),
            _ => return Ok(None),
        }))
    }
}

/// The mark of the chosen answer (its outline and colour change too): a tick, so the choice
/// is seen without telling colours apart.
fn chosen_mark(chosen: bool) -> Html {
    html! {
        <span class="mark" aria-hidden="true">{ if chosen { "✔" } else { "" } }</span>
    }
}

/// What a required question without an answer says.
pub fn needs_answer(item: &Item, lang: Lang) -> &'static str {
    if matches!(item.kind, ItemKind::MultipleChoice { .. }) {
        lang.pick("请至少选择一项。", "Please choose at least one.")
    } else {
        lang.pick("这道题必须回答。", "This question needs an answer.")
    }
}

/// How well a choice matches what is typed in a long list's search, best first: 0 when its
/// label or its usual pinyin initials start with it, 1 when another reading's initials or the
/// pinyin do, 2 when it is found further in; `None` when it does not match. `key` is the
/// choice's pinyin search key (made on the native side).
fn rank(choice: &Choice, key: Option<&String>, typed: &str) -> Option<u8> {
    let needle = typed.trim().to_lowercase();
    if needle.is_empty() {
        return Some(0);
    }
    // pinyin initials or pinyin ("jz", "jian zhu") are looked up without spaces
    let letters: String = needle.chars().filter(|c| !c.is_whitespace()).collect();
    let labels = || choice.label.0.values().map(|l| l.to_lowercase());
    let key = key.filter(|_| !letters.is_empty());
    let mut tokens = key.into_iter().flat_map(|k| k.split(' '));
    if labels().any(|l| l.starts_with(&needle))
        || tokens
            .next()
            .is_some_and(|first| first.starts_with(&letters))
    {
        Some(0)
    } else if tokens.any(|t| t.starts_with(&letters)) {
        Some(1)
    } else if choice.key.contains(&needle)
        || labels().any(|l| l.contains(&needle))
        || key.is_some_and(|k| k.contains(&letters))
    {
        Some(2)
    } else {
        None
    }
}

impl Interview {
    pub(super) fn question_view(&self, ctx: &Context<Self>, index: usize) -> Html {
        let link = ctx.link();
        let (q, rl) = (&self.q, self.rl());
        let item = &q.items[index];
        let saved = self.answers.get(&item.id);
        let (position, total) = q.progress(&self.answers, index);
        let percent = position.saturating_sub(1) * 100 / total.max(1);
        // Single choice, Likert and true/false move on when tapped; the rest need "next".
        let taps_advance = matches!(
            item.kind,
            ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } | ItemKind::TrueFalse
        );
        let show_next = !taps_advance || saved.is_some() || !item.required;
        let no_back = q.previous_item(&self.answers, index).is_none() || self.busy;
        html! {
            <>
                <div class="progress" aria-hidden="true"><div style={format!("width:{percent}%")}></div></div>
                <p class="counter" id="counter">{ match rl {
                    Lang::Zh => format!("第 {position} 题，共 {total} 题"),
                    Lang::En => format!("Question {position} of {total}"),
                } }</p>
                <h2 id="question" data-item={item.id.clone()}>{ t(q, &self.language, &item.label) }</h2>
                { self.audio_view(ctx, item) }
                { self.picture_view(item) }
                if let Some(hint) = &item.hint {
                    <p class="hint">{ t(q, &self.language, hint) }</p>
                }
                { self.answer_view(ctx, item, saved) }
                if item.dont_know {
                    <button class="choice" id="dont-know" aria-pressed={(saved == Some(&AnswerValue::DontKnow)).to_string()}
                        disabled={self.busy} onclick={link.callback(|_| Msg::Answer(AnswerValue::DontKnow))}>
                        { chosen_mark(saved == Some(&AnswerValue::DontKnow)) }{ rl.pick("不知道", "Don't know") }
                    </button>
                }
                <div class="nav">
                    <button id="back" disabled={no_back} onclick={link.callback(|_| Msg::Back)}>
                        <span aria-hidden="true">{ "← " }</span>{ rl.pick("上一题", "Back") }
                    </button>
                    if show_next {
                        <button id="next" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::Next)}>
                            { rl.pick("下一题", "Next") }<span aria-hidden="true">{ " →" }</span>
                        </button>
                    }
                </div>
                // the surveyor leaves the interview as it is (every answer is saved): it waits in
                // "my interviews" to be resumed or closed with its outcome
                <button id="pause" disabled={self.busy}
                    onclick={self.app.navigate.reform(|_| crate::context::Route::Home)}>
                    { self.app.ui.pick("暂停，回首页", "Pause, go home") }
                </button>
            </>
        }
    }

    /// The item's picture, once fetched, with what it shows in words: the questionnaire's
    /// `image_alt`, else the app's description of a built-in picture, else the question's words.
    fn picture_view(&self, item: &Item) -> Html {
        let Some((_, Some(picture))) = self.picture.as_ref().filter(|(id, _)| id == &item.id)
        else {
            return html! {};
        };
        let alt = match item.image_alt.as_ref().or(picture.alt.as_ref()) {
            Some(alt) => t(&self.q, &self.language, alt).to_string(),
            None => format!(
                "{}{}",
                self.rl().pick("题目的图：", "The question's picture: "),
                t(&self.q, &self.language, &item.label)
            ),
        };
        html! {
            <figure class="item-picture">
                <img id="item-picture" src={picture.url.clone()} alt={alt} />
            </figure>
        }
    }

    /// The speaker button of the question (when it has a recording: delivered with the
    /// questionnaire version or named in it), and the recording last fetched for this item
    /// (the question's or an answer's).
    fn audio_view(&self, ctx: &Context<Self>, item: &Item) -> Html {
        let rl = self.rl();
        let url = self.audio.as_ref().filter(|(id, _, _)| id == &item.id);
        html! {
            <>
                if item.audio.is_some() || self.has_recording(&item.id, "") {
                    <button id="play-audio" class="speaker" onclick={ctx.link().callback(|_| Msg::PlayAudio(String::new()))}>
                        <span aria-hidden="true">{ "🔊 " }</span>
                        { rl.pick("听题目", "Listen to the question") }
                    </button>
                }
                if let Some((_, option, url)) = url {
                    <audio id="item-audio" src={url.clone()} data-option={option.clone()} preload="auto"></audio>
                }
            </>
        }
    }

    /// An answer's button, with a small speaker button beside it that plays the answer's
    /// recording when the tablet has one (named "播放选项" and the answer, for screen readers).
    fn with_recording(
        &self,
        ctx: &Context<Self>,
        item: &Item,
        option: &str,
        label: &str,
        button: Html,
    ) -> Html {
        if !self.has_recording(&item.id, option) {
            return button;
        }
        let key = option.to_string();
        let name = format!("{}{label}", self.rl().pick("播放选项 ", "Play the answer "));
        html! {
            <div class="choice-row">
                { button }
                <button class="speaker play-option" id={format!("play-choice-{option}")} aria-label={name.clone()} title={name}
                    onclick={ctx.link().callback(move |_| Msg::PlayAudio(key.clone()))}>
                    <span aria-hidden="true">{ "🔊" }</span>
                </button>
            </div>
        }
    }

    fn answer_view(&self, ctx: &Context<Self>, item: &Item, saved: Option<&AnswerValue>) -> Html {
        let text_input = |input_type: &'static str, mode: &'static str| {
            html! {
                <div class="choices">
                    <input id="text-input" aria-labelledby="question" type={input_type} inputmode={mode} value={self.drafts.text.clone()}
                        oninput={ctx.link().callback(|e| Msg::Draft(typed(e)))} />
                </div>
            }
        };
        match &item.kind {
            ItemKind::SingleChoice { .. }
            | ItemKind::Likert { .. }
            | ItemKind::MultipleChoice { .. } => self.choice_buttons(ctx, item, saved),
            ItemKind::TrueFalse => self.true_false(ctx, item, saved),
            ItemKind::Integer { .. } => text_input("number", "numeric"),
            ItemKind::Decimal { .. } => text_input("number", "decimal"),
            ItemKind::Text { .. } => text_input("text", "text"),
            ItemKind::Date { .. } => text_input("date", "numeric"),
            ItemKind::Note => html! {},
        }
    }

    fn true_false(&self, ctx: &Context<Self>, item: &Item, saved: Option<&AnswerValue>) -> Html {
        html! {
            <div class="choices" role="radiogroup" aria-labelledby="question">
                { for [true, false].into_iter().map(|b| {
                    let pressed = saved == Some(&AnswerValue::Bool(b));
                    let button = html! {
                        <button class="choice" id={format!("choice-{b}")} aria-pressed={pressed.to_string()}
                            disabled={self.busy} onclick={ctx.link().callback(move |_| Msg::Answer(AnswerValue::Bool(b)))}>
                            { chosen_mark(pressed) }{ yes_no(item, b, self.rl()) }
                        </button>
                    };
                    self.with_recording(ctx, item, &b.to_string(), yes_no(item, b, self.rl()), button)
                }) }
            </div>
        }
    }

    /// The choices offered (choice filters), the long list's best matches first.
    fn visible_choices<'a>(&'a self, item: &'a Item) -> Vec<&'a Choice> {
        let keys = self.search_keys.get(&item.id);
        let mut ranked: Vec<_> = self
            .q
            .visible_choices(item, &self.answers)
            .into_iter()
            .filter_map(|c| {
                Some((
                    rank(c, keys.and_then(|k| k.get(&c.key)), &self.drafts.search)?,
                    c,
                ))
            })
            .collect();
        // stable: within a rank, the questionnaire's order
        ranked.sort_by_key(|(rank, _)| *rank);
        ranked.into_iter().map(|(_, c)| c).collect()
    }

    fn choice_buttons(
        &self,
        ctx: &Context<Self>,
        item: &Item,
        saved: Option<&AnswerValue>,
    ) -> Html {
        let link = ctx.link();
        let search = matches!(item.kind, ItemKind::SingleChoice { search: true, .. });
        let multiple = matches!(item.kind, ItemKind::MultipleChoice { .. });
        let button = |c: &Choice| {
            let key = c.key.clone();
            let label = t(&self.q, &self.language, &c.label);
            let button = if multiple {
                let pressed = self.drafts.choices.contains(&c.key);
                html! {
                    <button class="choice" id={format!("choice-{key}")} aria-pressed={pressed.to_string()}
                        onclick={link.callback(move |_| Msg::ToggleChoice(key.clone()))}>
                        <span class="mark" aria-hidden="true">{ if pressed { "☑" } else { "☐" } }</span>{ label }
                    </button>
                }
            } else {
                let value = AnswerValue::Choice(key.clone());
                let pressed = saved == Some(&value);
                html! {
                    <button class="choice" id={format!("choice-{key}")} aria-pressed={pressed.to_string()}
                        disabled={self.busy} onclick={link.callback(move |_| Msg::Answer(value.clone()))}>
                        { chosen_mark(pressed) }{ label }
                    </button>
                }
            };
            self.with_recording(ctx, item, &c.key, label, button)
        };
        html! {
            <>
                if search {
                    <input id="choice-search" type="search" placeholder={self.rl().pick("输入文字或拼音首字母查找", "Type words or pinyin initials to search")} value={self.drafts.search.clone()}
                        oninput={link.callback(|e| Msg::Search(typed(e)))} />
                }
                <div class="choices" role={if multiple { "group" } else { "radiogroup" }} aria-labelledby="question">
                    { for self.visible_choices(item).into_iter().map(button) }
                </div>
            </>
        }
    }
}

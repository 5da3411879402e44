//! The review of every answer before completing, and the quality warning.

use yew::prelude::*;
use zhisu_core::QcFlag;

use super::feedback::answer_text;
use super::{Interview, Msg};
use crate::i18n::{t, Words};

impl Interview {
    pub(super) fn review_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let (q, rl) = (&self.q, self.rl());
        let relevance = q.relevance(&self.answers);
        html! {
            <>
                <h1>{ rl.pick("请检查答案", "Please check the answers") }</h1>
                <ul class="review" id="review">
                    { for q.items.iter().zip(relevance).filter(|(item, r)| *r && item.kind.takes_answer()).map(|(item, _)| html! {
                        <li>
                            <div>{ t(q, &self.language, &item.label) }</div>
                            <b>{ answer_text(q, &self.language, item, self.answers.get(&item.id)) }</b>
                        </li>
                    }) }
                </ul>
                <div class="nav">
                    <button id="back" disabled={self.busy} onclick={link.callback(|_| Msg::Back)}>{ rl.pick("返回修改", "Go back and change") }</button>
                    <button id="complete" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::Complete)}>{ rl.pick("完成访谈", "Complete the interview") }</button>
                </div>
            </>
        }
    }

    /// Before completing a flagged interview: what quality control noticed (for the surveyor).
    pub(super) fn quality_view(&self, ctx: &Context<Self>, flags: &[QcFlag]) -> Html {
        let link = ctx.link();
        let ui = self.app.ui;
        html! {
            <>
                <h1 id="qc-title">{ ui.pick("完成前请再看一下", "Please check before completing") }</h1>
                <p>{ ui.pick("这份答卷有下面的情况，可能需要重新核对：", "Quality control noticed this; the answers may need checking:") }</p>
                <ul class="review" id="qc-flags">
                    { for flags.iter().map(|f| html! {
                        <li data-flag={f.code()}>{ f.describe(ui.code()) }</li>
                    }) }
                </ul>
                <p class="hint">{ ui.pick("如果确实是这样答的，可以直接完成。", "If this is really how it was answered, complete anyway.") }</p>
                <div class="nav">
                    <button id="qc-back" disabled={self.busy} onclick={link.callback(|_| Msg::BackToReview)}>{ ui.pick("返回检查", "Go back and check") }</button>
                    <button id="qc-complete" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::CompleteAnyway)}>{ ui.pick("仍然完成", "Complete anyway") }</button>
                </div>
            </>
        }
    }
}

//! An interview on screen: one question a screen, then the review, the quality warning and
//! the feedback. Once the fingerprint items are all answered, the native side says whether the
//! respondent may already have answered here today (`repeat_respondent`); a match shows the
//! surveyor a warning above the questions and the review (`repeat.rs`), never a block. Every answer goes to the native side (`save_answer`), which commits it to
//! SQLite; only when that returns does the next screen appear. Which screen comes next (skip
//! logic, eligibility) is decided by `zhisu-core`, the same code the server runs.

pub(crate) mod feedback;
mod practice;
mod question;
mod recontact;
mod repeat;
mod review;

use std::rc::Rc;

use uuid::Uuid;
use yew::prelude::*;
use zhisu_app_api::{
    self as api, CommandError, Completion, InterviewArgs, InterviewSummary, LocationMoment,
    SaveAnswerArgs, SearchKeys, StartInterviewArgs, VersionArgs,
};
use zhisu_core::{
    AnswerValue, Answers, EligibilityStatus, Item, QcFlag, Questionnaire, ScoreReport,
};

use crate::backend::{self, call};
use crate::context::{app_context, error_view, AppContext, Opened};
use crate::i18n::{error_text, lang_of, Lang, Words};

/// Starts an interview of questionnaire `id` `version`, in the surveyor's language `ui` when
/// the questionnaire has it (the native side decides), and notes where it starts. `practice`:
/// a practice interview of surveyor training.
pub async fn start(
    id: String,
    version: String,
    ui: Lang,
    practice: bool,
) -> Result<Opened, CommandError> {
    let args = VersionArgs {
        id: id.clone(),
        version: version.clone(),
    };
    let questionnaire = call::<api::GetQuestionnaire>(args).await?;
    let language = Some(ui.code().to_string());
    let started = call::<api::StartInterview>(StartInterviewArgs {
        id,
        version,
        language,
        practice,
    })
    .await?;
    // where it starts, when the platform can tell (without holding up the consent screen)
    backend::record_location(started.id, LocationMoment::Start);
    Ok(Opened {
        interview_id: started.id,
        questionnaire: Rc::new(questionnaire),
        answers: Answers::new(),
        language: started.language,
        feedback: None,
        practice,
    })
}

/// Opens an unfinished interview where it stopped, in the language it was started in.
pub async fn resume(listing: InterviewSummary) -> Result<Opened, CommandError> {
    let args = VersionArgs {
        id: listing.questionnaire_id,
        version: listing.questionnaire_version,
    };
    let questionnaire = call::<api::GetQuestionnaire>(args).await?;
    let interview = InterviewArgs {
        interview_id: listing.id,
    };
    let answers = call::<api::InterviewAnswers>(interview).await?;
    let language = questionnaire
        .interview_language(listing.language.as_deref())
        .to_string();
    Ok(Opened {
        interview_id: listing.id,
        questionnaire: Rc::new(questionnaire),
        answers,
        language,
        feedback: None,
        practice: listing.practice,
    })
}

/// Opens the feedback page of an interview completed on this tablet in the last day again.
pub async fn feedback_again(listing: InterviewSummary) -> Result<Opened, CommandError> {
    let args = VersionArgs {
        id: listing.questionnaire_id,
        version: listing.questionnaire_version,
    };
    let questionnaire = call::<api::GetQuestionnaire>(args).await?;
    let kept = call::<api::FeedbackAgain>(InterviewArgs {
        interview_id: listing.id,
    })
    .await?;
    let language = questionnaire
        .interview_language(kept.language.as_deref())
        .to_string();
    Ok(Opened {
        interview_id: listing.id,
        questionnaire: Rc::new(questionnaire),
        // the answers are sealed: the page shows the right ones, not what was answered
        answers: Answers::new(),
        language,
        feedback: Some(kept.completion),
        practice: listing.practice,
    })
}

/// Where the interview is.
#[derive(Clone, PartialEq)]
enum Step {
    Question(usize),
    Review,
    /// The polite ending for someone the survey is not for.
    Ineligible,
    /// Before completing a flagged interview: what quality control noticed.
    QualityWarning(Vec<QcFlag>),
    Done {
        report: ScoreReport,
        /// The round lets the respondent see the right answers and explanations.
        show_answer_key: bool,
        /// The take-home QR code is offered (decided natively, as the paradata records it).
        take_home_qr: bool,
        /// The library's pieces for the wrong answers.
        pieces: Vec<api::LibraryPiece>,
        /// The quality flags the interview was sealed with (shown to a trainee after a
        /// practice interview).
        flags: Vec<QcFlag>,
        /// The re-contact card is asked (the round has back-checks; not answered yet).
        ask_recontact: bool,
    },
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub opened: Rc<Opened>,
}

pub enum Msg {
    Context(AppContext),
    /// Save this answer to the current item, then move on.
    Answer(AnswerValue),
    ToggleChoice(String),
    Draft(String),
    Search(String),
    Next,
    Back,
    Saved {
        item_id: String,
        value: AnswerValue,
        result: Result<(), CommandError>,
    },
    /// "Complete" on the review: check the quality flags first.
    Complete,
    Checked(Result<Vec<QcFlag>, CommandError>),
    /// Complete without (or despite) the quality warning.
    CompleteAnyway,
    /// From the quality warning back to the review.
    BackToReview,
    Completed(Result<Completion, CommandError>),
    /// The rule screened the respondent out: record the contact's outcome and go home.
    EndContact,
    ContactClosed(Result<InterviewSummary, CommandError>),
    SearchKeysLoaded(Result<SearchKeys, CommandError>),
    /// A speaker button: fetch the recording of the question (empty) or of an answer (its
    /// key, `true` or `false`) and play it.
    PlayAudio(String),
    AudioLoaded {
        item_id: String,
        option: String,
        result: Result<String, CommandError>,
    },
    /// Which questions and answers have their recording on the tablet.
    RecordedLoaded(Result<Vec<zhisu_core::RecordingSlot>, CommandError>),
    PictureLoaded {
        item_id: String,
        result: Result<api::ItemPicture, CommandError>,
    },
    /// What the native side said about a repeat respondent.
    RepeatChecked(Result<api::RepeatCheck, CommandError>),
    /// "Not the same person": hide the warning for this interview.
    DismissRepeat,
    /// The respondent already took part today: end the contact as "other" and go home.
    EndRepeat,
}

pub struct Interview {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    id: Uuid,
    q: Rc<Questionnaire>,
    /// The language of the respondent's screens.
    language: String,
    answers: Answers,
    step: Step,
    drafts: question::Drafts,
    /// Pinyin search keys of the long lists.
    search_keys: SearchKeys,
    /// The recording last asked for (item id, option — empty for the question —, `data:`
    /// URL).
    audio: Option<(String, String, String)>,
    /// The questions and answers (item id, option) whose recordings are on the tablet.
    recorded: std::collections::HashSet<(String, String)>,
    /// Play the recording after the next render.
    play_audio: bool,
    /// The picture of the item on screen (item id, the picture when there is one), once
    /// asked for.
    picture: Option<(String, Option<api::ItemPicture>)>,
    /// Waiting for the native side: no second tap meanwhile.
    busy: bool,
    error: Option<String>,
    /// The screen last reported for paradata (`Some(None)`: one that is not a question).
    reported: Option<Option<String>>,
    /// The earlier interview here today with the same background answers, if any.
    repeat: Option<api::RepeatMatch>,
    /// The surveyor said it is not the same person.
    repeat_dismissed: bool,
    /// A practice interview of surveyor training.
    practice: bool,
}

impl Component for Interview {
    type Message = Msg;
    type Properties = Props;

    fn create(ctx: &Context<Self>) -> Self {
        let opened = &ctx.props().opened;
        let q = Rc::clone(&opened.questionnaire);
        let (id, version) = (q.id.clone(), q.version.clone());
        let args = VersionArgs {
            id: id.clone(),
            version: version.clone(),
        };
        ctx.link().send_future(async move {
            let keys = call::<api::GetSearchKeys>(VersionArgs { id, version }).await;
            Msg::SearchKeysLoaded(keys)
        });
        ctx.link().send_future(async move {
            Msg::RecordedLoaded(call::<api::RecordedPlaces>(args).await)
        });
        let (app, handle) = app_context(ctx, Msg::Context);
        let mut interview = Interview {
            app,
            _context: handle,
            id: opened.interview_id,
            language: opened.language.clone(),
            answers: opened.answers.clone(),
            step: Step::Review,
            drafts: question::Drafts::default(),
            search_keys: SearchKeys::new(),
            audio: None,
            recorded: Default::default(),
            play_audio: false,
            picture: None,
            busy: false,
            error: None,
            reported: None,
            repeat: None,
            repeat_dismissed: false,
            practice: opened.practice,
            q,
        };
        if let Some(Completion {
            report,
            show_answer_key,
            take_home_qr,
            pieces,
            flags,
            ask_recontact,
            ..
        }) = opened.feedback.clone()
        {
            // shown again: the interview is sealed, nothing is asked or reported (but the
            // re-contact card, while unanswered)
            interview.step = Step::Done {
                report,
                show_answer_key,
                take_home_qr,
                pieces,
                flags,
                ask_recontact,
            };
            return interview;
        }
        interview.open();
        interview.report_screen();
        // a resumed interview may have its fingerprint items answered already
        if !interview.answers.is_empty() {
            interview.check_repeat(ctx);
        }
        interview
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let render = self.handle(ctx, msg);
        self.report_screen();
        render
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let body = match &self.step {
            Step::Question(index) => self.question_view(ctx, *index),
            Step::Review => self.review_view(ctx),
            Step::Ineligible => feedback::ineligible_view(
                &self.q,
                &self.language,
                ctx.link().callback(|_| Msg::EndContact),
                ctx.link().callback(|_| Msg::Back),
                self.busy,
            ),
            Step::QualityWarning(flags) => self.quality_view(ctx, flags),
            Step::Done {
                report,
                show_answer_key,
                take_home_qr,
                pieces,
                flags,
                ask_recontact,
            } => html! {
                <>
                    if self.practice {
                        { practice::after_practice(self.app.ui, flags) }
                    }
                    { feedback::done_view(
                        &self.app,
                        &self.q,
                        report,
                        &self.answers,
                        feedback::Offer {
                            show_answer_key: *show_answer_key,
                            take_home_qr: *take_home_qr,
                            pieces,
                            ask_recontact: *ask_recontact,
                        },
                        self.id,
                        &self.language,
                    ) }
                </>
            },
        };
        html! {
            <>
                if self.practice {
                    { practice::banner(self.app.ui) }
                }
                if matches!(self.step, Step::Question(_) | Step::Review | Step::Done { .. }) {
                    { self.text_size_button() }
                }
                if matches!(self.step, Step::Question(_) | Step::Review) {
                    { self.repeat_warning(ctx) }
                }
                { body }
                { error_view(&self.error) }
            </>
        }
    }

    fn rendered(&mut self, ctx: &Context<Self>, _first_render: bool) {
        self.ask_for_picture(ctx);
        if std::mem::take(&mut self.play_audio) {
            backend::play_item_audio();
        }
    }

    fn destroy(&mut self, _ctx: &Context<Self>) {
        // leaving the interview closes the visit of the question on screen
        if let Some(Some(_)) = self.reported {
            backend::report_screen(self.id, None);
        }
    }
}

impl Interview {
    fn handle(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Context(app) => self.app = app,
            Msg::Answer(value) => self.save(ctx, value),
            Msg::ToggleChoice(key) => {
                self.drafts.toggle(key);
                self.error = None;
            }
            Msg::Draft(text) => {
                self.drafts.text = text;
                self.error = None;
            }
            Msg::Search(text) => self.drafts.search = text,
            Msg::Next => self.next(ctx),
            Msg::Back => self.back(),
            Msg::Saved {
                item_id,
                value,
                result,
            } => self.saved(ctx, item_id, value, result),
            Msg::Complete => self.check_quality(ctx),
            Msg::Checked(result) => self.checked(ctx, result),
            Msg::BackToReview => self.show(Step::Review),
            Msg::CompleteAnyway => self.complete(ctx),
            Msg::Completed(result) => self.completed(result),
            Msg::EndContact => self.end_contact(ctx),
            Msg::ContactClosed(result) => {
                self.busy = false;
                match result {
                    Ok(_) => self.app.navigate.emit(crate::context::Route::Home),
                    Err(e) => self.error = Some(error_text(&e, self.app.ui)),
                }
            }
            // without them, lists are still searched by characters
            Msg::SearchKeysLoaded(result) => {
                self.search_keys = result.unwrap_or_default();
                return false;
            }
            Msg::PlayAudio(option) => return self.play_audio(ctx, option),
            Msg::AudioLoaded {
                item_id,
                option,
                result,
            } => self.audio_loaded(item_id, option, result),
            // without it, only recordings the questionnaire names are offered
            Msg::RecordedLoaded(result) => {
                self.recorded = result
                    .unwrap_or_default()
                    .into_iter()
                    .map(|slot| (slot.item_id, slot.option))
                    .collect();
            }
            // a picture that cannot be shown leaves the question as it is (it is read aloud or
            // told by the surveyor); the question's words stand without it
            Msg::PictureLoaded { item_id, result } => self.picture = Some((item_id, result.ok())),
            // a warning only: when the check fails, the interview goes on without it
            Msg::RepeatChecked(result) => {
                let repeat = result.ok().and_then(|check| check.first_match().cloned());
                // another earlier interview (answers changed): the surveyor is asked again
                if repeat.as_ref().map(|m| m.interview_id)
                    != self.repeat.as_ref().map(|m| m.interview_id)
                {
                    self.repeat_dismissed = false;
                }
                self.repeat = repeat;
            }
            Msg::DismissRepeat => self.repeat_dismissed = true,
            Msg::EndRepeat => self.end_repeat(ctx),
        }
        true
    }

    /// The language of the respondent's screens, for the app's own words.
    fn rl(&self) -> Lang {
        lang_of(&self.language)
    }

    fn current_item(&self) -> Option<&Item> {
        match self.step {
            Step::Question(index) => self.q.items.get(index),
            _ => None,
        }
    }

    fn show(&mut self, step: Step) {
        self.step = step;
        self.error = None;
        let saved = self
            .current_item()
            .and_then(|item| self.answers.get(&item.id));
        self.drafts = question::Drafts::of(saved);
    }

    /// A new interview starts at its first screen (the consent note); a resumed one at the
    /// first unanswered question; one with everything answered at the review (or the end).
    fn open(&mut self) {
        let resume = if self.answers.is_empty() {
            self.q.next_item(&self.answers, None)
        } else {
            self.q.resume_point(&self.answers)
        };
        match resume {
            Some(index) => self.show(Step::Question(index)),
            None => self.advance(Some(self.q.items.len())),
        }
    }

    /// Shows the item after `after` (`None`: the first), the review, or the polite ending.
    fn advance(&mut self, after: Option<usize>) {
        let step = match self.q.next_item(&self.answers, after) {
            Some(index) => Step::Question(index),
            None if self.q.eligibility_status(&self.answers) == EligibilityStatus::Ineligible => {
                Step::Ineligible
            }
            None => Step::Review,
        };
        self.show(step);
    }

    fn back(&mut self) {
        let before = match self.step {
            Step::Question(index) => index,
            Step::Review | Step::Ineligible => self.q.items.len(),
            _ => return,
        };
        if let Some(index) = self.q.previous_item(&self.answers, before) {
            self.show(Step::Question(index));
        }
    }

    /// Saves `value` for the current item; the next screen comes when the save returned.
    fn save(&mut self, ctx: &Context<Self>, value: AnswerValue) {
        let Some(item) = self.current_item() else {
            return;
        };
        // The same checks the store makes, for an instant message; the store checks again.
        if let Err(e) = self.q.check_answer(&item.id, &value, &self.answers) {
            self.error = Some(e.message(&self.language));
            return;
        }
        let (interview_id, item_id) = (self.id, item.id.clone());
        self.busy = true;
        ctx.link().send_future(async move {
            let args = SaveAnswerArgs {
                interview_id,
                item_id: item_id.clone(),
                value: value.clone(),
            };
            let result = call::<api::SaveAnswer>(args).await;
            Msg::Saved {
                item_id,
                value,
                result,
            }
        });
    }

    fn saved(
        &mut self,
        ctx: &Context<Self>,
        item_id: String,
        value: AnswerValue,
        result: Result<(), CommandError>,
    ) {
        self.busy = false;
        match result {
            Ok(()) => {
                if self.q.fingerprint_items().any(|item| item.id == item_id) {
                    self.check_repeat(ctx);
                }
                self.answers.insert(item_id, value);
                if let Step::Question(index) = self.step {
                    self.advance(Some(index));
                }
            }
            Err(e) => self.error = Some(error_text(&e, self.app.ui)),
        }
    }

    /// "Next": saves what was typed or picked, or moves on past an optional question.
    fn next(&mut self, ctx: &Context<Self>) {
        let (Some(item), Step::Question(index)) = (self.current_item().cloned(), &self.step) else {
            return;
        };
        let index = *index;
        match self.drafts.answer(&item, self.rl()) {
            Err(message) => self.error = Some(message),
            Ok(Some(value)) => self.save(ctx, value),
            Ok(None) if item.required && !self.answers.contains_key(&item.id) => {
                self.error = Some(question::needs_answer(&item, self.rl()).to_string());
            }
            Ok(None) => self.advance(Some(index)),
        }
    }

    fn check_quality(&mut self, ctx: &Context<Self>) {
        if self.step != Step::Review {
            return;
        }
        self.busy = true;
        let interview_id = self.id;
        ctx.link().send_future(async move {
            Msg::Checked(call::<api::QualityCheck>(InterviewArgs { interview_id }).await)
        });
    }

    fn checked(&mut self, ctx: &Context<Self>, result: Result<Vec<QcFlag>, CommandError>) {
        self.busy = false;
        if self.step != Step::Review {
            return;
        }
        match result {
            Ok(flags) if flags.is_empty() => ctx.link().send_message(Msg::CompleteAnyway),
            Ok(flags) => self.show(Step::QualityWarning(flags)),
            Err(e) => self.error = Some(error_text(&e, self.app.ui)),
        }
    }

    fn complete(&mut self, ctx: &Context<Self>) {
        if !matches!(self.step, Step::Review | Step::QualityWarning(_)) {
            return;
        }
        self.busy = true;
        let interview_id = self.id;
        ctx.link().send_future(async move {
            Msg::Completed(call::<api::CompleteInterview>(InterviewArgs { interview_id }).await)
        });
    }

    fn end_contact(&mut self, ctx: &Context<Self>) {
        if self.step != Step::Ineligible || self.busy {
            return;
        }
        self.busy = true;
        let interview_id = self.id;
        ctx.link().send_future(async move {
            let args = api::CloseContactArgs {
                interview_id,
                disposition: None,
                reason: String::new(),
            };
            Msg::ContactClosed(call::<api::CloseContact>(args).await)
        });
    }

    fn completed(&mut self, result: Result<Completion, CommandError>) {
        self.busy = false;
        match result {
            Ok(Completion {
                report,
                show_answer_key,
                take_home_qr,
                pieces,
                flags,
                ask_recontact,
                ..
            }) => self.show(Step::Done {
                report,
                show_answer_key,
                take_home_qr,
                pieces,
                flags,
                ask_recontact,
            }),
            Err(e) => self.error = Some(error_text(&e, self.app.ui)),
        }
    }

    /// Whether the tablet has the recording of `option` (empty: the question) of `item_id`.
    pub(super) fn has_recording(&self, item_id: &str, option: &str) -> bool {
        self.recorded
            .contains(&(item_id.to_string(), option.to_string()))
    }

    fn play_audio(&mut self, ctx: &Context<Self>, option: String) -> bool {
        let Some(item) = self.current_item() else {
            return false;
        };
        if self
            .audio
            .as_ref()
            .is_some_and(|(id, o, _)| id == &item.id && o == &option)
        {
            self.play_audio = true;
            return true;
        }
        let (id, version, item_id) = (self.q.id.clone(), self.q.version.clone(), item.id.clone());
        ctx.link().send_future(async move {
            let args = api::ItemAudioArgs {
                id,
                version,
                item_id: item_id.clone(),
                option: option.clone(),
            };
            let result = call::<api::ItemAudio>(args).await;
            Msg::AudioLoaded {
                item_id,
                option,
                result,
            }
        });
        false
    }

    /// Asks the native side for the picture of the item on screen, once per item.
    fn ask_for_picture(&mut self, ctx: &Context<Self>) {
        let Some(item) = self.current_item().filter(|item| item.image.is_some()) else {
            return;
        };
        if self.picture.as_ref().is_some_and(|(id, _)| id == &item.id) {
            return;
        }
        let item_id = item.id.clone();
        self.picture = Some((item_id.clone(), None));
        let (id, version) = (self.q.id.clone(), self.q.version.clone());
        ctx.link().send_future(async move {
            let args = api::ItemAudioArgs {
                id,
                version,
                item_id: item_id.clone(),
                option: String::new(),
            };
            let result = call::<api::ItemImage>(args).await;
            Msg::PictureLoaded { item_id, result }
        });
    }

    fn audio_loaded(
        &mut self,
        item_id: String,
        option: String,
        result: Result<String, CommandError>,
    ) {
        match result {
            Ok(url) => {
                self.audio = Some((item_id, option, url));
                self.play_audio = true;
            }
            Err(e) if e.code == api::ErrorCode::AudioMissing => {
                let text = self.rl().pick(
                    "这台平板上没有这道题的录音。",
                    "This tablet does not have the recording of this question.",
                );
                self.error = Some(text.to_string());
            }
            Err(e) => self.error = Some(error_text(&e, self.app.ui)),
        }
    }

    /// Tells the store which screen is shown when it changed (paradata: time on each screen),
    /// and where the interview ends when the review first appears.
    fn report_screen(&mut self) {
        let now = match &self.step {
            Step::Question(_) => Some(self.current_item().map(|item| item.id.clone())),
            Step::Review | Step::QualityWarning(_) | Step::Ineligible => Some(None),
            // completing closes the last visit itself
            Step::Done { .. } => {
                self.reported = None;
                return;
            }
        };
        if now == self.reported {
            return;
        }
        if self.step == Step::Review {
            backend::record_location(self.id, LocationMoment::End);
        }
        self.reported = now.clone();
        if let Some(item_id) = now {
            backend::report_screen(self.id, item_id);
        }
    }

    fn text_size_button(&self) -> Html {
        crate::context::text_size_button(&self.app, self.rl())
    }
}

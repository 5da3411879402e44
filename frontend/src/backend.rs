//! Calls into the Rust side of the app: every command by its `zhisu-app-api` type
//! (`call::<api::SaveAnswer>(args)`), and the webview's own services the native side cannot
//! reach (location, drawing a picture's pixels, playing a recording).

use serde::Serialize;
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use zhisu_app_api::{self as api, Command, CommandError, ErrorCode, Fix, LocationMoment};

#[wasm_bindgen]
extern "C" {
    // window.__TAURI__.core.invoke: present because tauri.conf.json sets app.withGlobalTauri.
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// Calls command `C` with `args` (sent as `{"args": ...}`) and reads its answer.
pub async fn call<C: Command>(args: C::Args) -> Result<C::Output, CommandError> {
    #[derive(Serialize)]
    struct Envelope<A> {
        args: A,
    }
    let args = serde_wasm_bindgen::to_value(&Envelope { args })
        .map_err(|e| CommandError::new(ErrorCode::BadArguments, e.to_string()))?;
    match tauri_invoke(C::NAME, args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value)
            .map_err(|e| CommandError::new(ErrorCode::BadResponse, format!("{}: {e}", C::NAME))),
        Err(error) => Err(command_error(error)),
    }
}

/// The `{code, message}` a command failed with; anything else means the native side is not
/// there to answer.
fn command_error(error: JsValue) -> CommandError {
    serde_wasm_bindgen::from_value(error.clone()).unwrap_or_else(|_| {
        let message = error.as_string().unwrap_or_else(|| format!("{error:?}"));
        CommandError::new(ErrorCode::AppUnavailable, message)
    })
}

/// Tells the app, once, that its first interactive screen is shown (startup time, P5).
pub fn mark_interactive_once() {
    thread_local! {
        static MARKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if !MARKED.with(|m| m.replace(true)) {
        wasm_bindgen_futures::spawn_local(async {
            let _ = call::<api::MarkInteractive>(()).await;
        });
    }
}

/// Tells the store which interview screen is shown (`None`: one that is not a question).
/// Errors are not shown: a lost visit costs a little paradata, never an answer.
pub fn report_screen(interview_id: Uuid, item_id: Option<String>) {
    wasm_bindgen_futures::spawn_local(async move {
        let args = api::ScreenShownArgs {
            interview_id,
            item_id,
        };
        let _ = call::<api::ScreenShown>(args).await;
    });
}

/// Records where the tablet is as interview `interview_id` starts or ends, when the
/// platform can tell, in the background (nothing waits for a fix; one that comes too late
/// is lost).
pub fn record_location(interview_id: Uuid, moment: LocationMoment) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(fix) = current_fix(10_000).await {
            let args = api::RecordLocationArgs {
                interview_id,
                moment,
                fix,
            };
            let _ = call::<api::RecordLocation>(args).await;
        }
    });
}

#[wasm_bindgen(inline_js = r#"
export function locate(timeout_ms) {
  return new Promise((resolve) => {
    const geolocation = navigator.geolocation;
    if (!geolocation) { resolve(null); return; }
    let done = false;
    const finish = (value) => { if (!done) { done = true; resolve(value); } };
    // some webviews never answer (no permission handler): give up a little after the timeout
    setTimeout(() => finish(null), timeout_ms + 500);
    try {
      geolocation.getCurrentPosition(
        (p) => finish({ latitude: p.coords.latitude, longitude: p.coords.longitude,
                        accuracy_m: p.coords.accuracy }),
        () => finish(null),
        { enableHighAccuracy: true, timeout: timeout_ms, maximumAge: 300000 });
    } catch (e) { finish(null); }
  });
}
"#)]
extern "C" {
    fn locate(timeout_ms: u32) -> js_sys::Promise;
}

/// Where the tablet is, when the webview can tell within `timeout_ms` (a fix up to five
/// minutes old will do); `None` without a location service, permission or fix.
async fn current_fix(timeout_ms: u32) -> Option<Fix> {
    let value = wasm_bindgen_futures::JsFuture::from(locate(timeout_ms))
        .await
        .ok()?;
    serde_wasm_bindgen::from_value::<Option<Fix>>(value)
        .ok()
        .flatten()
}

#[wasm_bindgen(inline_js = r##"
export function qrPixels(input, maxSide) {
  return new Promise((resolve, reject) => {
    const file = input.files && input.files[0];
    if (!file) { resolve(null); return; }
    const reader = new FileReader();
    reader.onerror = () => reject("bad_picture");
    reader.onload = () => {
      const img = new Image();
      img.onerror = () => reject("bad_picture");
      img.onload = () => {
        let w = img.naturalWidth || img.width, h = img.naturalHeight || img.height;
        if (!w || !h) { w = maxSide; h = maxSide; }
        const scale = Math.min(1, maxSide / Math.max(w, h));
        w = Math.max(1, Math.round(w * scale));
        h = Math.max(1, Math.round(h * scale));
        const canvas = document.createElement("canvas");
        canvas.width = w; canvas.height = h;
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
        ctx.drawImage(img, 0, 0, w, h);
        const rgba = ctx.getImageData(0, 0, w, h).data;
        const out = new Uint8Array(8 + w * h);
        const view = new DataView(out.buffer);
        view.setUint32(0, w, true); view.setUint32(4, h, true);
        for (let i = 0, j = 8; i < rgba.length; i += 4, j++) {
          out[j] = (rgba[i] * 299 + rgba[i + 1] * 587 + rgba[i + 2] * 114) / 1000;
        }
        resolve(out);
      };
      img.src = reader.result;
    };
    reader.readAsDataURL(file);
  });
}
"##)]
extern "C" {
    #[wasm_bindgen(js_name = qrPixels)]
    fn qr_pixels(input: &web_sys::HtmlInputElement, max_side: u32) -> js_sys::Promise;
}

/// The text of the QR code in the picture chosen in `input` (drawn here, decoded on the native
/// side); `None` when no file was chosen.
pub async fn read_qr_code(
    input: &web_sys::HtmlInputElement,
) -> Result<Option<String>, CommandError> {
    let pixels = wasm_bindgen_futures::JsFuture::from(qr_pixels(input, api::QR_MAX_SIDE))
        .await
        .map_err(|_| CommandError::new(ErrorCode::BadPicture, "the picture could not be read"))?;
    if pixels.is_null() || pixels.is_undefined() {
        return Ok(None);
    }
    match tauri_invoke(api::ReadQrCode::NAME, pixels).await {
        Ok(value) => Ok(value.as_string()),
        Err(error) => Err(command_error(error)),
    }
}

/// Plays the `<audio id="item-audio">` of the question on screen from the start.
pub fn play_item_audio() {
    use wasm_bindgen::JsCast;
    let audio = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("item-audio"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlMediaElement>().ok());
    if let Some(audio) = audio {
        audio.set_current_time(0.0);
        // a webview without sound output refuses; the button stays for another try
        let _ = audio.play();
    }
}

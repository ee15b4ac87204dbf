use std::cell::Cell;
use std::rc::Rc;

use gloo::timers::future::TimeoutFuture;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{HtmlVideoElement, MediaStream, MediaStreamConstraints, MediaStreamTrack};
use yew::prelude::*;

use crate::i18n::Lang;

/// Time between two looks at the camera's picture.
const DETECT_EVERY_MS: u32 = 250;

/// Whether this browser reads QR codes itself (`BarcodeDetector`: Chrome
/// on Android and macOS, for instance). Elsewhere the number is typed.
pub fn can_scan() -> bool {
    web_sys::window().is_some_and(|w| Reflect::has(&w, &JsValue::from_str("BarcodeDetector")).unwrap_or(false))
}

#[derive(Debug, PartialEq, Properties)]
pub struct QrScannerProps {
    pub lang: Lang,
    /// The text of the first QR code seen.
    pub on_text: Callback<String>,
    /// The camera could not be opened or read.
    pub on_error: Callback<()>,
}

/// "Scan QR code": the back camera in a video element until a QR code is
/// seen, then its text. Nothing is shown where the browser cannot detect
/// QR codes; the camera stops when the code is read, on "Stop scanning"
/// and when the screen goes.
#[function_component(QrScanner)]
pub fn qr_scanner(props: &QrScannerProps) -> Html {
    let scanning = use_state(|| false);
    let video = use_node_ref();
    {
        let (video, on_text, on_error, scanning) = (
            video.clone(),
            props.on_text.clone(),
            props.on_error.clone(),
            scanning.clone(),
        );
        use_effect_with(*scanning, move |on| {
            let stop = Rc::new(Cell::new(false));
            if *on {
                spawn_local(scan(video, stop.clone(), on_text, on_error, scanning));
            }
            move || stop.set(true)
        });
    }
    if !can_scan() {
        return html! {};
    }
    let text = props.lang.text();
    let toggle = {
        let scanning = scanning.clone();
        Callback::from(move |_: MouseEvent| scanning.set(!*scanning))
    };
    html! {
        <div class="scanner">
            if *scanning {
                <video ref={video} class="camera" autoplay=true muted=true playsinline=true aria-label={text.point_camera}></video>
                <p class="muted" role="status">{ text.point_camera }</p>
                <button type="button" class="secondary" onclick={toggle}>{ text.stop_scanning }</button>
            } else {
                <button type="button" class="secondary" onclick={toggle}>{ text.scan_qr }</button>
            }
        </div>
    }
}

async fn scan(
    video: NodeRef,
    stop: Rc<Cell<bool>>,
    on_text: Callback<String>,
    on_error: Callback<()>,
    scanning: UseStateHandle<bool>,
) {
    let result = read_code(&video, &stop).await;
    if stop.get() {
        return;
    }
    scanning.set(false);
    match result {
        Ok(Some(text)) => on_text.emit(text),
        Ok(None) => {}
        Err(_) => on_error.emit(()),
    }
}

/// Opens the back camera, looks for a QR code until one is seen or `stop`
/// is set, then stops the camera whatever happened.
async fn read_code(video: &NodeRef, stop: &Rc<Cell<bool>>) -> Result<Option<String>, JsValue> {
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let devices = window.navigator().media_devices()?;
    let constraints = MediaStreamConstraints::new();
    let wanted = Object::new();
    Reflect::set(&wanted, &"facingMode".into(), &"environment".into())?;
    constraints.set_video(&wanted);
    let stream: MediaStream = JsFuture::from(devices.get_user_media_with_constraints(&constraints)?)
        .await?
        .dyn_into()?;
    let result = detect(video, &stream, stop).await;
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
    result
}

async fn detect(video: &NodeRef, stream: &MediaStream, stop: &Rc<Cell<bool>>) -> Result<Option<String>, JsValue> {
    let video: HtmlVideoElement = video.cast().ok_or(JsValue::NULL)?;
    video.set_src_object(Some(stream));
    // Autoplay starts it too; a refused play() only delays the first frame.
    let _ = video.play();
    let detector = new_detector()?;
    let detect: Function = Reflect::get(&detector, &"detect".into())?.dyn_into()?;
    while !stop.get() {
        TimeoutFuture::new(DETECT_EVERY_MS).await;
        let promise: Promise = detect.call1(&detector, &video)?.dyn_into()?;
        // Before the first frame, detect() rejects: look again.
        let Ok(codes) = JsFuture::from(promise).await else {
            continue;
        };
        let first = Array::from(&codes)
            .iter()
            .find_map(|code| Reflect::get(&code, &"rawValue".into()).ok()?.as_string());
        if first.is_some() {
            return Ok(first);
        }
    }
    Ok(None)
}

/// `new BarcodeDetector({ formats: ["qr_code"] })`.
fn new_detector() -> Result<JsValue, JsValue> {
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let class: Function = Reflect::get(&window, &"BarcodeDetector".into())?.dyn_into()?;
    let options = Object::new();
    Reflect::set(&options, &"formats".into(), &Array::of1(&"qr_code".into()))?;
    Reflect::construct(&class, &Array::of1(&options))
}

use kessai_protocol::Secret;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api;

#[derive(Debug, PartialEq, Properties)]
pub struct PortraitProps {
    pub terminal_key: Secret<String>,
    /// `portrait_url`: a path on the server, readable with the key only.
    pub path: String,
    pub alt: String,
}

/// The payer's portrait (D6). The image needs the Bearer header, so it is
/// fetched and shown through an object URL, revoked when it leaves.
#[function_component(Portrait)]
pub fn portrait(props: &PortraitProps) -> Html {
    let url = use_state(|| None::<String>);
    {
        let (url, key) = (url.clone(), props.terminal_key.clone());
        use_effect_with(props.path.clone(), move |path| {
            let path = path.clone();
            let shown = url.clone();
            spawn_local(async move {
                let Ok(blob) = api::portrait(&key, &path).await else {
                    return;
                };
                if let Ok(object_url) = web_sys::Url::create_object_url_with_blob(&blob) {
                    shown.set(Some(object_url));
                }
            });
            move || {
                if let Some(object_url) = (*url).clone() {
                    let _ = web_sys::Url::revoke_object_url(&object_url);
                }
            }
        });
    }
    match (*url).clone() {
        Some(src) => html! { <img class="portrait" {src} alt={props.alt.clone()} /> },
        None => html! { <span class="portrait placeholder" aria-hidden="true"></span> },
    }
}

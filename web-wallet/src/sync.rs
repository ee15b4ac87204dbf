//! The server calls several screens share: refreshing brand information
//! (B5 on a timer, B6 before a payment) and logging in to an address.
//! Each reports what happened as reducer actions.

use kessai_protocol::Secret;
use yew::Callback;

use crate::api::{self, ApiError};
use crate::state::Action;

/// Now, in Unix seconds.
pub fn now_s() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Asks each address for its brand information, one after the other (a
/// handful at most). A 401 marks the session expired; any other failure
/// keeps the old information, which the selector may still use.
pub async fn refresh(links: Vec<(String, Secret<String>)>, dispatch: &Callback<Action>) {
    for (address, token) in links {
        match api::brand_info(&address, &token).await {
            Ok(info) => dispatch.emit(Action::BrandInfoFetched {
                address,
                info,
                now_s: now_s(),
            }),
            Err(ApiError::SessionExpired) => dispatch.emit(Action::SessionExpired { address }),
            Err(_) => {}
        }
    }
}

/// Logs in to `address` as `user_id` and fetches its brand information:
/// a new connector, another address of `connector_id` (B7), or a new
/// session for an address already held.
pub async fn log_in(
    connector_id: Option<String>,
    address: String,
    user_id: String,
    password: Secret<String>,
    dispatch: &Callback<Action>,
) -> Result<(), ApiError> {
    let session = api::create_session(&address, &user_id, password).await?;
    let token = session.token.clone();
    dispatch.emit(Action::LoggedIn {
        connector_id,
        address: address.clone(),
        session,
    });
    let info = api::brand_info(&address, &token).await;
    match info {
        Ok(info) => {
            dispatch.emit(Action::BrandInfoFetched {
                address,
                info,
                now_s: now_s(),
            });
            Ok(())
        }
        Err(ApiError::SessionExpired) => {
            dispatch.emit(Action::SessionExpired { address });
            Err(ApiError::SessionExpired)
        }
        Err(error) => Err(error),
    }
}

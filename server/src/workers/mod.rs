//! Tasks that run beside the HTTP API for as long as the server does.

/// Posts due webhook deliveries from the outbox.
pub mod webhooks;

/// Resolves the payment authorizations this institution issued.
pub mod authorizations;

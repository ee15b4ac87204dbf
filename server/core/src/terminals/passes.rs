//! Passes the institution signs for the payer's phone to show a device
//! later: gate admissions (C6, `adm_…`) and tickets (C9, `tkt_…`). Both
//! are compact JWS EdDSA by the institution's own key (the one its peers
//! pin, `kessai_protocol::peer`), so a device's server checks them with no
//! lookup, and any JOSE library can read them.
//!
//! A pass is believed only when its signature is this institution's, its
//! issuer is this institution and its merchant is the device's: a pass of
//! another merchant, or altered by one byte, is refused alike.

use kessai_protocol::peer::InstitutionKey;
use kessai_protocol::terminal::{AdmissionClaims, TicketClaims};

use crate::error::{Error, Result};
use crate::institution::Institution;

/// Signs and checks passes as this institution.
pub struct Passes {
    iss: String,
    key: InstitutionKey,
}

impl std::fmt::Debug for Passes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passes").field("iss", &self.iss).finish_non_exhaustive()
    }
}

impl From<Institution> for Passes {
    fn from(institution: Institution) -> Self {
        Self {
            iss: institution.id,
            key: institution.key,
        }
    }
}

impl Passes {
    /// The institution's id: every pass's `iss`.
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// A signed pass.
    pub fn sign<C: serde::Serialize>(&self, claims: &C) -> Result<String> {
        self.key
            .sign(claims)
            .map_err(|e| Error::internal(format!("signing a pass: {e}")))
    }

    /// The admission's claims, if this institution signed it. Whose
    /// merchant it is, and whether it exited already, the exit's step
    /// checks (`gates::present`).
    pub fn admission(&self, token: &str) -> Result<AdmissionClaims> {
        let claims: AdmissionClaims = self.key.public().verify(token).map_err(|_| invalid_admission())?;
        if claims.iss != self.iss {
            return Err(invalid_admission());
        }
        Ok(claims)
    }

    /// The ticket's claims, if it is this institution's for `merchant_id`
    /// and valid at `now`.
    pub fn ticket(&self, token: &str, merchant_id: &str, now: i64) -> Result<TicketClaims> {
        let invalid = |message: &str| Error::Unprocessable {
            code: "invalid_ticket",
            message: message.into(),
            param: Some("ticket".into()),
        };
        let claims: TicketClaims = self
            .key
            .public()
            .verify(token)
            .map_err(|_| invalid("This is not a ticket of this institution, or it was altered."))?;
        if claims.iss != self.iss || claims.merchant != merchant_id {
            return Err(invalid("This ticket is for another merchant's entrances."));
        }
        if now < claims.valid_from || now >= claims.valid_until {
            return Err(invalid("This ticket is not valid now."));
        }
        Ok(claims)
    }
}

/// An admission this institution did not sign for this merchant's gate, or
/// one that was altered.
pub fn invalid_admission() -> Error {
    Error::Unprocessable {
        code: "invalid_admission",
        message: "This admission was not given by this merchant's entry gate, or was altered.".into(),
        param: Some("admission".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes(seed: u8, iss: &str) -> Passes {
        Passes {
            iss: iss.into(),
            key: InstitutionKey::from_seed(&[seed; 32]),
        }
    }

    fn ticket(merchant: &str) -> TicketClaims {
        TicketClaims {
            jti: "tkt_1".into(),
            event: "Concert".into(),
            valid_from: 100,
            valid_until: 200,
            merchant: merchant.into(),
            iss: "ins_a".into(),
        }
    }

    #[test]
    fn a_ticket_is_believed_only_from_this_institution_for_this_merchant_while_valid() {
        let ours = passes(1, "ins_a");
        let token = ours.sign(&ticket("mch_1")).unwrap();
        assert_eq!(ours.ticket(&token, "mch_1", 150).unwrap().event, "Concert");
        let code = |r: Result<TicketClaims>| r.unwrap_err().body().error.code;
        assert_eq!(code(ours.ticket(&token, "mch_2", 150)), "invalid_ticket");
        assert_eq!(code(ours.ticket(&token, "mch_1", 99)), "invalid_ticket");
        assert_eq!(code(ours.ticket(&token, "mch_1", 200)), "invalid_ticket");
        // Another institution's key, even claiming our id.
        let forged = passes(2, "ins_a").sign(&ticket("mch_1")).unwrap();
        assert_eq!(code(ours.ticket(&forged, "mch_1", 150)), "invalid_ticket");
        // One claim changed, the signature kept.
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let mut altered = ticket("mch_1");
        altered.valid_until = 10_000;
        parts[1] = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            serde_json::to_vec(&altered).unwrap(),
        );
        assert_eq!(code(ours.ticket(&parts.join("."), "mch_1", 150)), "invalid_ticket");
    }
}

//! The wallets offered beside the card form (PROTOCOL section 12), kept
//! from the page's `kessai:announceWallet` events. Pure, so that the rules
//! (which announcements are shown, which replace which) are unit-tested
//! natively; `app` listens for the events and renders the list.
//!
//! Any script in the page can announce a "wallet", so an announcement is
//! treated as untrusted input: its name is only ever text, its icon only a
//! raster `data:` URL (SVG can carry script), and the list is bounded.

use kessai_protocol::wallet::WalletAnnouncement;

/// Most wallets shown; later announcements are refused.
pub const WALLETS_MAX: usize = 8;
/// Most characters of a wallet's name on its button.
const NAME_CHARS_MAX: usize = 64;
/// Most bytes of a uuid or rdns.
const ID_BYTES_MAX: usize = 256;
/// Most bytes of an icon's `data:` URL (a 96 × 96 PNG is a few KB).
const ICON_BYTES_MAX: usize = 128 * 1024;

/// Why an announcement is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The icon is not a raster `data:` URL, or too large.
    Icon,
    /// A blank or overlong name, uuid or rdns.
    Fields,
    /// [`WALLETS_MAX`] wallets are shown already.
    Full,
}

/// What an announcement did to the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Added,
    /// It took the place of the wallet with the same rdns.
    Replaced,
    /// This uuid is shown already; the first announcement stays.
    Known,
    Refused(Refusal),
}

/// Whether an announcement may be shown.
pub fn check(wallet: &WalletAnnouncement) -> Result<(), Refusal> {
    if !wallet.has_raster_icon() || wallet.icon.len() > ICON_BYTES_MAX {
        return Err(Refusal::Icon);
    }
    let name_chars = wallet.name.trim().chars().count();
    let id_ok = |id: &str| !id.trim().is_empty() && id.len() <= ID_BYTES_MAX;
    if name_chars == 0 || name_chars > NAME_CHARS_MAX || !id_ok(&wallet.uuid) || !id_ok(&wallet.rdns) {
        return Err(Refusal::Fields);
    }
    Ok(())
}

/// The announced wallets, in the order they first announced themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wallets {
    list: Vec<WalletAnnouncement>,
}

impl Wallets {
    /// Takes an announcement: each uuid once, and a newer announcement of
    /// the same rdns (the wallet reloaded) in place of the older one.
    pub fn offer(&mut self, wallet: WalletAnnouncement) -> Offer {
        if let Err(refusal) = check(&wallet) {
            return Offer::Refused(refusal);
        }
        if self.list.iter().any(|known| known.uuid == wallet.uuid) {
            return Offer::Known;
        }
        if let Some(known) = self.list.iter_mut().find(|known| known.rdns == wallet.rdns) {
            *known = wallet;
            return Offer::Replaced;
        }
        if self.list.len() >= WALLETS_MAX {
            return Offer::Refused(Refusal::Full);
        }
        self.list.push(wallet);
        debug_assert!(self.list.len() <= WALLETS_MAX);
        Offer::Added
    }

    pub fn list(&self) -> &[WalletAnnouncement] {
        &self.list
    }

    pub fn find(&self, uuid: &str) -> Option<&WalletAnnouncement> {
        self.list.iter().find(|wallet| wallet.uuid == uuid)
    }
}

/// A request id from 16 random bytes: 32 lowercase hex digits.
pub fn request_id(random: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(32);
    for byte in random {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 15)]));
    }
    id
}

/// Most request ids remembered: a result for an older click is still
/// taken (the buyer may have gone back to the card form while the wallet
/// went on paying), but not without bound.
pub const REQUESTS_MAX: usize = 16;

/// Remembers a request id, forgetting the oldest past [`REQUESTS_MAX`].
pub fn remember(requests: &mut Vec<String>, request_id: String) {
    if requests.len() >= REQUESTS_MAX {
        requests.remove(0);
    }
    requests.push(request_id);
    debug_assert!(requests.len() <= REQUESTS_MAX);
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &str = "data:image/png;base64,iVBORw0KGgo=";

    fn wallet(uuid: &str, rdns: &str, icon: &str) -> WalletAnnouncement {
        WalletAnnouncement {
            uuid: uuid.into(),
            name: format!("Wallet {uuid}"),
            icon: icon.into(),
            rdns: rdns.into(),
        }
    }

    #[test]
    fn only_raster_data_url_icons_are_shown() {
        for icon in [
            PNG,
            "data:image/jpeg;base64,/9j/",
            "data:image/webp;base64,UklG",
            "data:image/gif;base64,R0lG",
        ] {
            assert_eq!(check(&wallet("u", "r", icon)), Ok(()), "{icon}");
        }
        for icon in [
            "data:image/svg+xml;base64,PHN2Zz4=",
            "data:image/svg+xml,<svg onload=alert(1)>",
            "data:text/html;base64,PGI+",
            "https://wallet.example/icon.png",
            "javascript:alert(1)",
            "DATA:IMAGE/PNG;base64,iVBO",
            "data:image/png,<svg>",
            "",
        ] {
            assert_eq!(check(&wallet("u", "r", icon)), Err(Refusal::Icon), "{icon}");
        }
        let huge = format!("{PNG}{}", "A".repeat(ICON_BYTES_MAX));
        assert_eq!(check(&wallet("u", "r", &huge)), Err(Refusal::Icon));
    }

    #[test]
    fn blank_or_overlong_fields_are_refused() {
        let mut blank = wallet("u", "r", PNG);
        blank.name = "  ".into();
        assert_eq!(check(&blank), Err(Refusal::Fields));
        let mut long = wallet("u", "r", PNG);
        long.name = "n".repeat(NAME_CHARS_MAX + 1);
        assert_eq!(check(&long), Err(Refusal::Fields));
        assert_eq!(check(&wallet("", "r", PNG)), Err(Refusal::Fields));
        assert_eq!(check(&wallet("u", "", PNG)), Err(Refusal::Fields));
    }

    #[test]
    fn each_uuid_once_and_the_same_rdns_replaces() {
        let mut wallets = Wallets::default();
        assert_eq!(wallets.offer(wallet("a", "org.one", PNG)), Offer::Added);
        assert_eq!(wallets.offer(wallet("b", "org.two", PNG)), Offer::Added);
        let mut again = wallet("a", "org.one", PNG);
        again.name = "Renamed".into();
        assert_eq!(wallets.offer(again), Offer::Known);
        assert_eq!(wallets.find("a").map(|w| w.name.as_str()), Some("Wallet a"));
        assert_eq!(wallets.offer(wallet("c", "org.one", PNG)), Offer::Replaced);
        let uuids: Vec<_> = wallets.list().iter().map(|w| w.uuid.as_str()).collect();
        assert_eq!(uuids, ["c", "b"]);
        assert_eq!(wallets.find("a"), None);
    }

    #[test]
    fn a_refused_announcement_changes_nothing() {
        let mut wallets = Wallets::default();
        wallets.offer(wallet("a", "org.one", PNG));
        let svg = wallet("b", "org.one", "data:image/svg+xml;base64,PHN2Zz4=");
        assert_eq!(wallets.offer(svg), Offer::Refused(Refusal::Icon));
        assert_eq!(wallets.list().len(), 1);
        assert_eq!(wallets.list()[0].uuid, "a");
    }

    #[test]
    fn the_list_is_bounded() {
        let mut wallets = Wallets::default();
        for index in 0..WALLETS_MAX {
            let id = index.to_string();
            assert_eq!(wallets.offer(wallet(&id, &id, PNG)), Offer::Added);
        }
        assert_eq!(wallets.offer(wallet("x", "x", PNG)), Offer::Refused(Refusal::Full));
        // Replacing needs no room.
        assert_eq!(wallets.offer(wallet("y", "0", PNG)), Offer::Replaced);
        assert_eq!(wallets.list().len(), WALLETS_MAX);
    }

    #[test]
    fn request_ids_are_hex_and_remembered_boundedly() {
        let id = request_id([0, 1, 0xab, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]);
        assert_eq!(id, "0001abff000000000000000000000010");
        let mut requests = Vec::new();
        for index in 0..REQUESTS_MAX + 2 {
            remember(&mut requests, index.to_string());
        }
        assert_eq!(requests.len(), REQUESTS_MAX);
        assert_eq!(requests[0], "2");
    }
}

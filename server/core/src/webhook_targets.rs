//! Where the server may send webhooks (issue 7, SSRF): the policy for
//! `notify_url` when it is given (merchant creation, the first request) and
//! for every address it resolves to at delivery. Pure: the delivery worker
//! applies [`address_allowed`] to what its resolver returns, so the address
//! checked is the address connected to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::error::Error;

/// What the operator allows beyond public `https` targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// `http://` notify URLs (`--allow-http-webhooks`): the payload is
    /// signed but readable on the way.
    pub allow_http: bool,
    /// Loopback, private, link-local and other non-public addresses
    /// (`--allow-private-webhooks`): for a shop on the same machine or LAN.
    pub allow_private: bool,
}

/// URLs longer than this are refused: no real webhook endpoint needs more.
const URL_LEN_MAX: usize = 2048;

/// Checks a notify URL against `policy`; returns it parsed. A host given as
/// an address (in any of the numeric forms browsers accept, such as
/// `http://2130706433/`, which the URL parser normalizes) is checked here;
/// a host name only at delivery, once resolved.
pub fn check_notify_url(text: &str, param: &str, policy: WebhookPolicy) -> Result<Url, Error> {
    let invalid = || {
        Error::field(
            "url_invalid",
            param,
            format!("{param} must be an absolute https URL of at most {URL_LEN_MAX} characters."),
        )
    };
    if text.len() > URL_LEN_MAX || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let url = Url::parse(text).map_err(|_| invalid())?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => {
            return Err(Error::field(
                "url_scheme_not_allowed",
                param,
                format!("{param} must use https; this server does not send webhooks over plain http."),
            ))
        }
        _ => return Err(invalid()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::field(
            "url_credentials_not_allowed",
            param,
            format!("{param} must not carry a user name or password; the webhook signature authenticates the server."),
        ));
    }
    let host_allowed = match url.host() {
        None => return Err(invalid()),
        Some(Host::Domain(_)) => true,
        Some(Host::Ipv4(ip)) => policy.allow_private || address_public(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => policy.allow_private || address_public(IpAddr::V6(ip)),
    };
    if !host_allowed {
        return Err(Error::field(
            "url_host_not_allowed",
            param,
            format!("{param} names a loopback, private, link-local or otherwise non-public address."),
        ));
    }
    Ok(url)
}

/// Whether a delivery may connect to `ip` under `policy`.
pub fn address_allowed(ip: IpAddr, policy: WebhookPolicy) -> bool {
    policy.allow_private || address_public(ip)
}

/// Whether `ip` is an ordinary public unicast address: not loopback,
/// private, link-local, unspecified, multicast, broadcast, carrier-grade
/// NAT or reserved, directly or through an IPv6 form that embeds such an
/// IPv4 address (mapped, compatible, NAT64, 6to4).
pub fn address_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_public(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => v4_public(v4),
            None => v6_public(v6),
        },
    }
}

fn v4_public(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    let this_network = a == 0;
    let carrier_grade_nat = a == 100 && (64..128).contains(&b);
    let ietf_protocol = a == 192 && b == 0 && ip.octets()[2] == 0;
    let benchmarking = a == 198 && (b == 18 || b == 19);
    let reserved = a >= 240;
    !(this_network
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || carrier_grade_nat
        || ietf_protocol
        || benchmarking
        || reserved)
}

fn v6_public(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00;
    let link_local = first & 0xffc0 == 0xfe80;
    let site_local = first & 0xffc0 == 0xfec0;
    !(ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || unique_local || link_local || site_local)
}

/// The IPv4 address an IPv6 address carries, when it is one of the forms
/// that reach an IPv4 host: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`, but not `::` or `::1`), NAT64 (`64:ff9b::/96`) and 6to4
/// (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some(mapped);
    }
    let compatible = s[..6].iter().all(|&x| x == 0) && !ip.is_unspecified() && !ip.is_loopback();
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0);
    if compatible || nat64 {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: WebhookPolicy = WebhookPolicy {
        allow_http: false,
        allow_private: false,
    };

    fn code(url: &str, policy: WebhookPolicy) -> Option<&'static str> {
        match check_notify_url(url, "notify_url", policy) {
            Ok(_) => None,
            Err(Error::Field(e)) => Some(e.code),
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn forbidden_hosts_are_refused_in_every_numeric_form() {
        for url in [
            "https://127.0.0.1:5432/",
            "https://[::1]/",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
            "https://127.1/",
            "https://0.0.0.0/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[fc00::1]/",
            "https://[fe80::1]/",
            "https://100.64.0.1/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://[64:ff9b::a00:1]/",
            "https://[2002:7f00:1::]/",
        ] {
            assert_eq!(code(url, STRICT), Some("url_host_not_allowed"), "{url}");
        }
    }

    #[test]
    fn scheme_and_credentials_are_checked() {
        assert_eq!(code("http://shop.example/hook", STRICT), Some("url_scheme_not_allowed"));
        assert_eq!(code("ftp://shop.example/hook", STRICT), Some("url_invalid"));
        assert_eq!(
            code("https://user:pw@shop.example/", STRICT),
            Some("url_credentials_not_allowed")
        );
        assert_eq!(
            code("https://user@shop.example/", STRICT),
            Some("url_credentials_not_allowed")
        );
        let open = WebhookPolicy {
            allow_http: true,
            allow_private: true,
        };
        assert_eq!(
            code("http://user:pw@127.0.0.1/", open),
            Some("url_credentials_not_allowed")
        );
        assert_eq!(code("http://127.0.0.1:3000/hook", open), None);
        assert_eq!(code("https://shop.example/hook", STRICT), None);
        assert_eq!(code("https://93.184.216.34/hook", STRICT), None);
    }

    #[test]
    fn public_addresses_pass_and_private_ones_only_with_the_opt_in() {
        let public: IpAddr = "8.8.8.8".parse().unwrap();
        let v6: IpAddr = "2606:4700::1111".parse().unwrap();
        assert!(address_allowed(public, STRICT));
        assert!(address_allowed(v6, STRICT));
        for private in [
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "::ffff:10.1.2.3",
            "fd12::1",
            "100.127.255.255",
        ] {
            let ip: IpAddr = private.parse().unwrap();
            assert!(!address_allowed(ip, STRICT), "{private}");
            assert!(
                address_allowed(
                    ip,
                    WebhookPolicy {
                        allow_private: true,
                        ..STRICT
                    }
                ),
                "{private}"
            );
        }
    }
}

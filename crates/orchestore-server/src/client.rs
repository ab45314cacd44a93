//! Who is on the other end of a request: its address and `User-Agent`.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::USER_AGENT;
use orchestore_domain::{ClientInfo, UserAgent};

use crate::state::AppState;

/// The client's address and `User-Agent`. The address is the connection's peer, unless the
/// peer is one of `server.trusted_proxies`: then it is the last address of `X-Forwarded-For`
/// that is not a trusted proxy (the header's earlier entries are the client's own word).
pub(crate) fn client_info(req: &HttpRequest, state: &AppState) -> ClientInfo {
    ClientInfo {
        address: client_address(req, &state.trusted_proxies),
        user_agent: req
            .headers()
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .and_then(UserAgent::parse),
    }
}

pub(crate) fn client_address(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|entry| entry.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|address| !trusted.contains(address))
        .or(forwarded.first())
        .copied()
        .or(Some(peer))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy = ip("10.0.0.1");
        let request = |peer: &str| {
            TestRequest::default()
                .peer_addr(format!("{peer}:4000").parse().expect("socket"))
                .insert_header(("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.0.0.2"))
                .to_http_request()
        };
        // A client talking directly cannot claim another address.
        assert_eq!(
            client_address(&request("192.0.2.5"), &[proxy]),
            Some(ip("192.0.2.5"))
        );
        // Behind the proxies, the last address no trusted proxy added is the client.
        assert_eq!(
            client_address(&request("10.0.0.1"), &[proxy, ip("10.0.0.2")]),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(client_address(&request("10.0.0.1"), &[]), Some(proxy));
    }
}

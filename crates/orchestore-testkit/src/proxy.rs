use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP proxy in front of a database that a test can take down and bring back, to see what
/// callers do while the database is unreachable. Down, it cuts every open connection and
/// refuses new ones.
pub struct TcpProxy {
    addr: SocketAddr,
    state: watch::Sender<State>,
}

/// Whether the proxy forwards, and how many times it has gone down: a connection opened before
/// an outage is cut even when the proxy is already up again when its task looks.
#[derive(Clone, Copy)]
struct State {
    up: bool,
    outages: u64,
}

impl TcpProxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (state, watcher) = watch::channel(State {
            up: true,
            outages: 0,
        });
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let now = *watcher.borrow();
                if !now.up {
                    continue; // dropped: the client sees the connection closed
                }
                tokio::spawn(forward(client, upstream, watcher.clone(), now.outages));
            }
        });
        Ok(Self { addr, state })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Takes the database "down" (cutting open connections) or brings it back.
    pub fn set_up(&self, up: bool) {
        self.state.send_modify(|state| {
            if state.up && !up {
                state.outages += 1;
            }
            state.up = up;
        });
    }

    /// `url` (`scheme://user:pass@host:port/db?query`) pointed at this proxy instead.
    pub fn url_through(&self, url: &str) -> String {
        let Some((scheme, rest)) = url.split_once("://") else {
            return url.to_owned();
        };
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let userinfo = authority
            .rsplit_once('@')
            .map(|(userinfo, _)| format!("{userinfo}@"))
            .unwrap_or_default();
        format!("{scheme}://{userinfo}{}{tail}", self.addr)
    }
}

async fn forward(
    mut client: TcpStream,
    upstream: SocketAddr,
    mut state: watch::Receiver<State>,
    outages_at_open: u64,
) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = state.wait_for(|now| now.outages != outages_at_open) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn url_is_rewritten_to_the_proxy() {
        let proxy = TcpProxy::start("127.0.0.1:5432".parse().expect("addr"))
            .await
            .expect("proxy");
        let port = proxy.addr().port();
        assert_eq!(
            proxy.url_through("postgres://u:p@db.example:5432/app?sslmode=disable"),
            format!("postgres://u:p@127.0.0.1:{port}/app?sslmode=disable")
        );
        assert_eq!(
            proxy.url_through("postgres://localhost/app"),
            format!("postgres://127.0.0.1:{port}/app")
        );
    }
}

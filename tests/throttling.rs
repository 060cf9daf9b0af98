//! Deletes against a throttling S3: a small HTTP proxy in front of the
//! real SeaweedFS of `tests/servers/` answers a chosen share of the delete
//! requests (`DELETE`, `POST ?delete`) with `503 SlowDown`, as AWS does,
//! and forwards everything else. The adaptive window must shrink, every
//! file must still go, and a store that never stops throttling must leave
//! its files in place with an error each.
//!
//! Skipped (with a message) unless the servers' environment is present:
//! `tests/servers/with-servers.sh cargo test --test cli -- throttling::`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flink_chk::storage::{Location, S3Settings, Settings, Storage, Storages};

use crate::object_stores::{Store, apply_cleanup, listing, setup, upload};

/// What the proxy did.
#[derive(Default)]
struct Counts {
    /// Delete requests received.
    deletes: AtomicUsize,
    /// Of them, answered with `503 SlowDown`.
    throttled: AtomicUsize,
}

/// A proxy on 127.0.0.1 in front of `upstream`: the delete request
/// numbered `n` (from 0) is answered `503 SlowDown` when `throttle(n)`.
/// One request a connection (`Connection: close` both ways). Its threads
/// end with the test process.
struct Proxy {
    addr: SocketAddr,
    counts: Arc<Counts>,
}

const SLOW_DOWN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>throttling-proxy</RequestId></Error>";

impl Proxy {
    fn start(upstream: &str, throttle: fn(usize) -> bool) -> Proxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let c = c.clone();
                std::thread::spawn(move || {
                    let _ = serve(client, upstream, throttle, &c);
                });
            }
        });
        Proxy { addr, counts }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn throttled(&self) -> u64 {
        self.counts.throttled.load(Ordering::SeqCst) as u64
    }

    fn deletes(&self) -> usize {
        self.counts.deletes.load(Ordering::SeqCst)
    }
}

/// One request of `client`: answered here, or forwarded.
fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    throttle: fn(usize) -> bool,
    counts: &Counts,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    let mut request_line = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if request_line.is_empty() {
            request_line = line.clone();
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        if !lower.starts_with("connection:") {
            head.extend_from_slice(line.as_bytes());
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut client = client;
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let is_delete = method == "DELETE"
        || (method == "POST"
            && target
                .split_once('?')
                .is_some_and(|(_, q)| q.starts_with("delete")));
    if is_delete {
        let n = counts.deletes.fetch_add(1, Ordering::SeqCst);
        if throttle(n) {
            counts.throttled.fetch_add(1, Ordering::SeqCst);
            write!(
                client,
                "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{SLOW_DOWN}",
                SLOW_DOWN.len()
            )?;
            client.flush()?;
            return client.shutdown(Shutdown::Both);
        }
    }
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(&head)?;
    up.write_all(&body)?;
    std::io::copy(&mut up, &mut client)?;
    client.shutdown(Shutdown::Both)
}

/// The test server's S3 settings, through `proxy`, 4 requests at once.
fn through(proxy: &Proxy) -> Settings {
    let mut s = Store::S3.settings();
    s.concurrency = Some(4);
    if let Some(s3) = &mut s.s3 {
        s3.endpoint = Some(proxy.endpoint());
    }
    s
}

fn endpoint() -> String {
    let s = Store::S3.settings();
    s.s3.and_then(|s: S3Settings| s.endpoint).unwrap()
}

/// Uploads `n` small objects under a fresh prefix: their locations.
fn objects(n: usize, tag: &str) -> (Location, Vec<Location>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut rel = Vec::new();
    for i in 0..n {
        let r = format!("d{}/f{i}", i % 7);
        let p = tmp.path().join(&r);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, format!("{i}")).unwrap();
        rel.push(r);
    }
    let prefix = format!("throttle-{tag}-{}", std::process::id());
    upload(Store::S3, tmp.path(), &prefix);
    let base = Location::parse(&Store::S3.uri(&prefix)).unwrap();
    let files = rel.iter().map(|r| base.join(r)).collect();
    (base, files)
}

/// 2100 objects (three `DeleteObjects` requests, 1000 keys at most) with
/// the first two delete requests throttled: both are sent again after a
/// backoff, the window halves once (both were sent under the first
/// window), and every object goes.
#[test]
fn s3_throttled_deletes_shrink_the_window_and_all_files_go() {
    if !Store::S3.available() {
        return;
    }
    let proxy = Proxy::start(&endpoint(), |n| n < 2);
    let (base, files) = objects(2100, "some");
    let storage = Storages::new(through(&proxy));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = storage.delete_files(&files).await;
        assert!(
            r.iter().all(Result::is_ok),
            "{:?}",
            r.iter().find(|r| r.is_err())
        );
        let t = storage.delete_throttling().unwrap();
        eprintln!("{} delete requests, {t:?}", proxy.deletes());
        assert_eq!(proxy.throttled(), 2);
        assert_eq!(t.responses, proxy.throttled());
        assert_eq!(t.max_window, Some(4));
        assert!(t.lowest_window.unwrap() < 4, "{t:?}");
        // Three batches, two of them twice.
        assert_eq!(proxy.deletes(), 5);
        assert!(listing(&storage, &base).await.is_empty());
    });
}

/// A store that throttles every delete: each request is tried
/// `TRIES` (6) times, the window falls to 1, and every file stays, with an
/// error saying the store still throttles; none is reported deleted.
#[test]
fn s3_always_throttled_deletes_fail_and_leave_the_files() {
    if !Store::S3.available() {
        return;
    }
    let proxy = Proxy::start(&endpoint(), |_| true);
    let (base, files) = objects(5, "all");
    let storage = Storages::new(through(&proxy));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = storage.delete_files(&files).await;
        for (f, r) in files.iter().zip(&r) {
            let e = r.as_ref().unwrap_err().to_string();
            assert!(e.contains(&f.to_string()), "{e}");
            assert!(e.contains("still throttles after 6 tries"), "{e}");
            assert!(e.contains("SlowDown"), "{e}");
        }
        let t = storage.delete_throttling().unwrap();
        // One batch request, tried 6 times; never sent file by file.
        assert_eq!(proxy.deletes(), 6);
        assert_eq!(t.responses, proxy.throttled());
        assert_eq!((t.lowest_window, t.final_window), (Some(1), Some(1)));
        assert_eq!(listing(&storage, &base).await.len(), 5, "nothing went");
        // A single file: a DELETE request, 6 times too.
        let one = storage.delete_files(&files[..1]).await;
        assert!(one[0].is_err());
        assert_eq!(proxy.deletes(), 12);
        assert_eq!(listing(&storage, &base).await.len(), 5);
        // Clean up, not through the proxy.
        let direct = Storages::new(Store::S3.settings());
        assert!(direct.delete_files(&files).await.iter().all(Result::is_ok));
    });
}

/// `safe-to-delete --yes` through the proxy, every third delete request
/// of the first 30 throttled: exactly the planned objects go, and
/// `applied.throttled` counts every 503 the proxy sent.
#[test]
fn s3_throttled_cleanup_applies_the_whole_plan_and_reports_it() {
    if !Store::S3.available() {
        return;
    }
    let proxy = Proxy::start(&endpoint(), |n| n < 30 && n % 3 == 0);
    let s = setup(Store::S3, "throttled-cleanup");
    let config = s.config.with_file_name("through-proxy.yaml");
    let text = std::fs::read_to_string(&s.config).unwrap();
    let text = text
        .replace(
            &format!("endpoint: {}", endpoint()),
            &format!("endpoint: {}", proxy.endpoint()),
        )
        .replace("    storage:\n", "    storage:\n      concurrency: 4\n");
    assert!(text.contains(&proxy.endpoint()), "{text}");
    std::fs::write(&config, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let v = apply_cleanup(Store::S3, &s, &config);
    let t = &v["applied"]["throttled"];
    eprintln!("{} delete requests, {t}", proxy.deletes());
    assert!(proxy.throttled() > 0, "no delete request was throttled");
    assert_eq!(t["responses"].as_u64(), Some(proxy.throttled()), "{t}");
    assert_eq!(t["max_window"], 4, "{t}");
    assert!(t["lowest_window"].as_u64().unwrap() < 4, "{t}");
    assert!(v["applied"]["failed"].as_array().unwrap().is_empty(), "{v}");
}

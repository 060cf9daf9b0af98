//! Removing credentials from text before anyone sees it. Store clients put
//! the request URL into their errors (an Azure SAS token is a query string,
//! `…&sig=…`), endpoints may carry `user:password@`, and CI logs keep
//! whatever a command prints; so every URL in a message loses its userinfo
//! and its query string, and stray `sig=…`-style parameters lose their
//! values. Storage errors are redacted where they are built, and the CLI
//! redacts again where it prints.

use std::borrow::Cow;

/// What masked userinfo becomes: `s3://***@bucket`.
pub const USERINFO_MASK: &str = "***";

/// What a removed query string becomes: `http://host/path?…`.
pub const QUERY_MASK: &str = "…";

/// Parameter names whose values are credentials wherever they appear as
/// `name=value` (compared in lowercase).
const SECRET_PARAMS: [&str; 18] = [
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "x-oss-signature",
    "access_token",
    "token",
    "sas_token",
    "password",
    "secret",
    "secret_access_key",
    "session_token",
    "account_key",
    "access_key_secret",
    "client_secret",
];

/// `text` without credentials: in every `scheme://` URL, userinfo becomes
/// `***@` and a query string or fragment becomes `?…`; elsewhere the value of
/// a credential parameter (`sig=`, `X-Amz-Signature=`, `password=`, …)
/// becomes `***`. Text without any of these is returned as is.
///
/// ```
/// use flink_chk::storage::redact::redact;
/// assert_eq!(
///     redact("GET http://u:pw@127.0.0.1:9/c?restype=container&sig=abc, called: x"),
///     "GET http://***@127.0.0.1:9/c?…, called: x"
/// );
/// assert_eq!(redact("wasbs://cont@acct.blob.core.windows.net/ck"), "wasbs://cont@acct.blob.core.windows.net/ck");
/// ```
pub fn redact(text: &str) -> Cow<'_, str> {
    let urls = if text.contains("://") {
        Cow::Owned(redact_urls(text))
    } else {
        Cow::Borrowed(text)
    };
    if !urls.contains('=') {
        return urls;
    }
    match redact_params(&urls) {
        Some(s) => Cow::Owned(s),
        None => urls,
    }
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// Where a URL written in running text ends.
fn is_url_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>')
}

/// Stores whose bucket names never contain `@` or `:`, so anything before
/// an `@` (or a `:` in the authority) is credentials.
fn is_bucket_scheme(scheme: &str) -> bool {
    matches!(
        scheme.to_ascii_lowercase().as_str(),
        "s3" | "s3a" | "s3n" | "s3p" | "gs" | "oss"
    )
}

/// Whether the userinfo of a `scheme://` URL is masked. Azure's
/// `container@account` and HDFS's `user@namenode` name things and stay;
/// anything with a password goes, and so does any userinfo of HTTP (tokens
/// are passed as `https://TOKEN@host`) and of bucket stores.
fn masks_userinfo(scheme: &str, userinfo: &str) -> bool {
    userinfo.contains(':')
        || is_bucket_scheme(scheme)
        || matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
}

fn redact_urls(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(off) = text[from..].find("://") {
        let sep = from + off;
        let mut start = sep;
        while start > copied && is_scheme_byte(bytes[start - 1]) {
            start -= 1;
        }
        while start < sep && !bytes[start].is_ascii_alphabetic() {
            start += 1;
        }
        let body_start = sep + 3;
        if start == sep {
            from = body_start;
            continue;
        }
        let scheme = &text[start..sep];
        let body_end = text[body_start..]
            .find(is_url_end)
            .map_or(text.len(), |n| body_start + n);
        let body = &text[body_start..body_end];
        out.push_str(&text[copied..body_start]);
        let auth_end = body.find(['/', '?', '#']).unwrap_or(body.len());
        let authority = &body[..auth_end];
        let mut tail = body;
        if let Some(at) = authority.rfind('@') {
            if masks_userinfo(scheme, &authority[..at]) {
                out.push_str(USERINFO_MASK);
                out.push('@');
                tail = &body[at + 1..];
            }
        } else if is_bucket_scheme(scheme) && authority.contains(':') {
            // `s3://KEY:SEC/RET@bucket`: a secret with an unencoded `/`.
            let query = body.find(['?', '#']).unwrap_or(body.len());
            out.push_str(USERINFO_MASK);
            match body[..query].find('@') {
                Some(at) => {
                    out.push('@');
                    tail = &body[at + 1..];
                }
                None => tail = &body[auth_end..],
            }
        }
        match tail.find(['?', '#']) {
            Some(q) => {
                out.push_str(&tail[..q]);
                let query = &tail[q..];
                // Punctuation after the URL belongs to the sentence.
                let kept = query.trim_end_matches([',', ';', '.', ')', ']', '}']);
                let kept = if kept.is_empty() { &query[..1] } else { kept };
                out.push_str(&query[..1]);
                out.push_str(QUERY_MASK);
                out.push_str(&query[kept.len()..]);
            }
            None => out.push_str(tail),
        }
        copied = body_end;
        from = body_end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Masks the values of [`SECRET_PARAMS`]; `None` when there is none.
fn redact_params(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(off) = text[from..].find('=') {
        let eq = from + off;
        let mut start = eq;
        while start > copied
            && (bytes[start - 1].is_ascii_alphanumeric() || matches!(bytes[start - 1], b'_' | b'-'))
        {
            start -= 1;
        }
        let boundary = start == 0
            || matches!(
                bytes[start - 1],
                b'?' | b'&' | b';' | b',' | b'"' | b'\'' | b'(' | b'{' | b'[' | b'`'
            )
            || bytes[start - 1].is_ascii_whitespace();
        let name = text[start..eq].to_ascii_lowercase();
        let value_end = text[eq + 1..]
            .find(|c: char| {
                c.is_whitespace()
                    || matches!(c, '&' | '"' | '\'' | ',' | ';' | ')' | ']' | '}' | '`')
            })
            .map_or(text.len(), |n| eq + 1 + n);
        if boundary && value_end > eq + 1 && SECRET_PARAMS.contains(&name.as_str()) {
            out.push_str(&text[copied..=eq]);
            out.push_str(USERINFO_MASK);
            copied = value_end;
        }
        from = value_end.max(eq + 1);
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_userinfo_and_query() {
        for (input, want) in [
            (
                "url: http://127.0.0.1:9/cont?restype=container&comp=list&sv=2020&sig=SECRET, called: reqwest::send",
                "url: http://127.0.0.1:9/cont?…, called: reqwest::send",
            ),
            ("http://user:PASS@host:9/p", "http://***@host:9/p"),
            ("https://TOKEN@host/p", "https://***@host/p"),
            ("s3://KEY:SECRET@bucket/x", "s3://***@bucket/x"),
            ("s3a://KEY@bucket/x", "s3a://***@bucket/x"),
            ("s3://KEY:SEC/RET@bucket/x", "s3://***@bucket/x"),
            ("s3://KEY:SECRET/x", "s3://***/x"),
            ("gs://a:b@bkt", "gs://***@bkt"),
            ("(see http://u:p@h/x?a=1).", "(see http://***@h/x?…)."),
            ("x http://h/p#frag y", "x http://h/p#… y"),
            ("\"http://h/p?sig=S\"", "\"http://h/p?…\""),
            (
                "two: http://a:b@h1/ and hdfs://u:p@nn:8020/x",
                "two: http://***@h1/ and hdfs://***@nn:8020/x",
            ),
            (
                "wasb://KEY:SECRET@cont@acct.blob.core.windows.net/x",
                "wasb://***@acct.blob.core.windows.net/x",
            ),
        ] {
            assert_eq!(redact(input), want, "{input}");
        }
    }

    #[test]
    fn names_are_kept() {
        for s in [
            "wasbs://cont@acct.blob.core.windows.net/ck/x",
            "abfss://fs@acct.dfs.core.windows.net:443/ck",
            "hdfs://flink@nn:8020/ck",
            "s3://bucket/ck/job/chk-3/_metadata",
            "/tmp/a:b@c?d",
            "no url here",
            "profile `prod`, min_age=5",
            "a://",
            "://x",
        ] {
            assert_eq!(redact(s), s);
        }
    }

    #[test]
    fn stray_secret_parameters_are_masked() {
        assert_eq!(
            redact(
                "sas sv=2020-08-04&ss=b&sig=abc%2Bdef and X-Amz-Signature=f00 and password=hunter2."
            ),
            "sas sv=2020-08-04&ss=b&sig=*** and X-Amz-Signature=*** and password=***"
        );
        assert_eq!(redact("design=ok, token= x"), "design=ok, token= x");
    }
}

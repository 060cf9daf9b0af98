//! The Hadoop configuration as flink-chk reads it: `core-site.xml` and
//! `hdfs-site.xml` from the configuration directory (following
//! `xi:include`s, which hdfs-native ignores), and what they say about an
//! authority: the default file system, nameservices and their NameNodes,
//! ViewFS mount tables. Everything found is also handed to hdfs-native (see
//! the parent module).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use roxmltree::{Document, ParsingOptions, TextPos};

use super::super::{Scheme, expand_home};

/// The fallback given to hdfs-native for a ViewFS mount table that has none
/// (it insists on one). Never contacted: paths it would serve are answered here.
const UNMOUNTED_FALLBACK: &str = "hdfs://unmounted.invalid:9/";
/// Hadoop's NameNode RPC port, for addresses configured without one.
const DEFAULT_NAMENODE_PORT: u16 = 8020;
/// How deep `xi:include`s may nest.
const MAX_INCLUDE_DEPTH: u32 = 8;

/// What is wrong with the Hadoop configuration (shown as a
/// [`super::super::Error::Config`] message).
#[derive(Debug, thiserror::Error)]
pub(super) enum ConfError {
    /// `storage.hdfs.conf_dir` names no directory.
    #[error("storage.hdfs.conf_dir {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// A site file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A site file (or a file it includes) is not well-formed XML.
    #[error("{}: {message}", path.display())]
    Xml { path: PathBuf, message: String },
    /// The configuration does not define what a location names: the default
    /// file system, a nameservice or its NameNodes, a mount table.
    #[error("{0}")]
    Undefined(String),
    /// The configuration contradicts itself.
    #[error("{0}")]
    Invalid(String),
    /// The configuration asks for what hdfs-native cannot follow.
    #[error("{0}")]
    Unsupported(String),
    /// A ViewFS mount entry `key = value` whose target is not usable.
    #[error("{key} = {value}: {source}")]
    Target {
        key: String,
        value: String,
        source: Box<ConfError>,
    },
}

/// `host:port` (as opposed to a nameservice).
fn has_port(authority: &str) -> bool {
    authority
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

fn with_default_port(addr: &str) -> String {
    if has_port(addr) {
        addr.to_owned()
    } else {
        format!("{addr}:{DEFAULT_NAMENODE_PORT}")
    }
}

/// What an `hdfs://` authority leads to.
pub(super) struct NameNodes {
    /// The authority to give hdfs-native: `host:port` or an HA nameservice.
    pub(super) authority: String,
    /// For messages: `NameNode h:p` or `nameservice ns (NameNodes …)`.
    pub(super) description: String,
}

/// A ViewFS mount table: (mount point, NameNodes) and the fallback's NameNodes.
pub(super) struct MountTable {
    pub(super) links: Vec<(String, String)>,
    pub(super) fallback: Option<String>,
    /// Mount points whose target is `hdfs://authority/`.
    pub(super) root_mounts: Vec<String>,
}

/// The Hadoop configuration: `core-site.xml` and `hdfs-site.xml`.
#[derive(Debug, Default)]
pub(super) struct HadoopConf {
    pub(super) dir: Option<PathBuf>,
    /// Where `dir` came from.
    source: &'static str,
    pub(super) map: HashMap<String, String>,
}

impl HadoopConf {
    /// Loads the configuration from `conf_dir`, else `$HADOOP_CONF_DIR`, else
    /// `$HADOOP_HOME/etc/hadoop` (like hdfs-native). An explicit `conf_dir`
    /// must exist; a directory from the environment may be missing.
    pub(super) fn load(conf_dir: Option<&str>) -> Result<Self, ConfError> {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let (dir, source) = if let Some(d) = conf_dir {
            let p = PathBuf::from(expand_home(d).as_ref());
            if !p.is_dir() {
                return Err(ConfError::NotADirectory(p));
            }
            (Some(p), "storage.hdfs.conf_dir")
        } else if let Some(d) = env("HADOOP_CONF_DIR") {
            (Some(PathBuf::from(d)), "HADOOP_CONF_DIR")
        } else if let Some(h) = env("HADOOP_HOME") {
            (Some(Path::new(&h).join("etc/hadoop")), "HADOOP_HOME")
        } else {
            (None, "")
        };
        let mut map = HashMap::new();
        if let Some(d) = &dir {
            for f in ["core-site.xml", "hdfs-site.xml"] {
                let p = d.join(f);
                let text = match std::fs::read_to_string(&p) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(source) => return Err(ConfError::Read { path: p, source }),
                };
                let mut pairs = Vec::new();
                parse_site_xml(&text, d, 0, &mut pairs)
                    .map_err(|message| ConfError::Xml { path: p, message })?;
                map.extend(pairs);
            }
        }
        Ok(Self { dir, source, map })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// "the Hadoop configuration in DIR (SOURCE)", for messages.
    fn describe(&self) -> String {
        match &self.dir {
            Some(d) if d.is_dir() => {
                format!(
                    "the Hadoop configuration in {} (from {})",
                    d.display(),
                    self.source
                )
            }
            Some(d) => format!(
                "the Hadoop configuration ({} names {}, which does not exist)",
                self.source,
                d.display()
            ),
            None => "the Hadoop configuration (none found: set storage.hdfs.conf_dir or \
                     HADOOP_CONF_DIR)"
                .to_owned(),
        }
    }

    /// The authority of `hdfs:///` or `viewfs:///`: from `fs.defaultFS`.
    pub(super) fn default_authority(&self, scheme: Scheme) -> Result<String, ConfError> {
        let want = scheme.canonical();
        let default_fs = self
            .get("fs.defaultFS")
            .or_else(|| self.get("fs.default.name"));
        let parsed = default_fs.and_then(|u| u.split_once("://"));
        match parsed {
            Some((s, rest)) if s.eq_ignore_ascii_case(want) => {
                let auth = rest.split('/').next().unwrap_or_default();
                if auth.is_empty() {
                    Err(ConfError::Undefined(format!(
                        "{want}:/// means the default file system, but fs.defaultFS in {} has no \
                         authority",
                        self.describe()
                    )))
                } else {
                    Ok(auth.to_owned())
                }
            }
            // Hadoop's mount table for viewfs:/// when the default FS is not ViewFS.
            _ if scheme == Scheme::ViewFs => Ok("default".to_owned()),
            _ => match default_fs {
                Some(fs) => Err(ConfError::Undefined(format!(
                    "{want}:/// means the default file system, but fs.defaultFS in {} is {fs}, \
                     not an {want}:// URI",
                    self.describe()
                ))),
                None => Err(ConfError::Undefined(format!(
                    "{want}:/// means the default file system, but fs.defaultFS is not set in {}",
                    self.describe()
                ))),
            },
        }
    }

    /// Resolves an `hdfs://` authority, adding to `overrides` what hdfs-native
    /// needs to see (trimmed NameNode lists and addresses).
    pub(super) fn namenodes(
        &self,
        authority: &str,
        overrides: &mut HashMap<String, String>,
    ) -> Result<NameNodes, ConfError> {
        if has_port(authority) {
            return Ok(NameNodes {
                authority: authority.to_owned(),
                description: format!("NameNode {authority}"),
            });
        }
        let ids_key = format!("dfs.ha.namenodes.{authority}");
        if let Some(ids) = self.get(&ids_key) {
            let ids: Vec<&str> = ids
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if ids.is_empty() {
                return Err(ConfError::Undefined(format!(
                    "{ids_key} is empty in {}",
                    self.describe()
                )));
            }
            let mut addrs = Vec::new();
            for id in &ids {
                let key = format!("dfs.namenode.rpc-address.{authority}.{id}");
                let Some(addr) = self.get(&key) else {
                    return Err(ConfError::Undefined(format!(
                        "nameservice {authority} lists NameNode {id}, but {key} is not set in {}",
                        self.describe()
                    )));
                };
                let addr = with_default_port(addr);
                addrs.push(format!("{id}={addr}"));
                overrides.insert(key, addr);
            }
            overrides.insert(ids_key, ids.join(","));
            return Ok(NameNodes {
                authority: authority.to_owned(),
                description: format!("nameservice {authority} (NameNodes {})", addrs.join(", ")),
            });
        }
        if let Some(addr) = self.get(&format!("dfs.namenode.rpc-address.{authority}")) {
            let addr = with_default_port(addr);
            return Ok(NameNodes {
                description: format!("NameNode {addr} of nameservice {authority}"),
                authority: addr,
            });
        }
        Err(ConfError::Undefined(format!(
            "{authority:?} is not a nameservice: neither dfs.ha.namenodes.{authority} nor \
             dfs.namenode.rpc-address.{authority} is set in {}; for a single NameNode give its \
             RPC port, e.g. hdfs://{authority}:{DEFAULT_NAMENODE_PORT}/",
            self.describe()
        )))
    }

    /// The mount table of `viewfs://cluster`, adding resolved targets (and a
    /// placeholder fallback when there is none) to `overrides`.
    pub(super) fn mount_table(
        &self,
        cluster: &str,
        overrides: &mut HashMap<String, String>,
    ) -> Result<MountTable, ConfError> {
        let prefix = format!("fs.viewfs.mounttable.{cluster}.");
        let mut keys: Vec<(&str, &str, &str)> = self
            .map
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(&prefix)
                    .map(|rest| (rest, k.as_str(), v.as_str()))
            })
            .collect();
        keys.sort_unstable();
        let mut links = Vec::new();
        let mut fallback: Option<String> = None;
        let mut unsupported = Vec::new();
        let mut root_mounts = Vec::new();
        for (rest, key, value) in keys {
            if let Some(path) = rest.strip_prefix("link.") {
                let (nn, url, is_root) = self.mount_target(key, value, overrides)?;
                let path = normalize_path(path);
                if is_root {
                    root_mounts.push(path.clone());
                }
                overrides.insert(key.to_owned(), url);
                links.push((path, nn));
            } else if rest == "linkFallback" || rest == "linkMergeSlash" {
                if fallback.is_some() {
                    return Err(ConfError::Invalid(format!(
                        "viewfs://{cluster} has both linkFallback and linkMergeSlash"
                    )));
                }
                let (nn, url, _) = self.mount_target(key, value, overrides)?;
                overrides.insert(format!("{prefix}linkFallback"), url);
                fallback = Some(nn);
            } else if ["linkRegex", "linkMerge", "linkNfly"]
                .iter()
                .any(|t| rest.starts_with(t))
            {
                unsupported.push(key.to_owned());
            }
        }
        if !unsupported.is_empty() {
            return Err(ConfError::Unsupported(format!(
                "hdfs-native cannot follow {} (only link.*, linkFallback and linkMergeSlash \
                 mount entries are supported)",
                unsupported.join(", ")
            )));
        }
        if links.is_empty() && fallback.is_none() {
            return Err(ConfError::Undefined(format!(
                "viewfs://{cluster} has no mount table in {} (no {prefix}link.* entries)",
                self.describe()
            )));
        }
        if fallback.is_none() {
            overrides.insert(
                format!("{prefix}linkFallback"),
                UNMOUNTED_FALLBACK.to_owned(),
            );
        }
        Ok(MountTable {
            links,
            fallback,
            root_mounts,
        })
    }

    /// A mount target `hdfs://authority/path`: its NameNodes, the URL
    /// hdfs-native can use, and whether the path is the root.
    fn mount_target(
        &self,
        key: &str,
        value: &str,
        overrides: &mut HashMap<String, String>,
    ) -> Result<(String, String, bool), ConfError> {
        let target = |source: ConfError| ConfError::Target {
            key: key.to_owned(),
            value: value.to_owned(),
            source: Box::new(source),
        };
        let rest = value
            .split_once("://")
            .filter(|(s, _)| s.eq_ignore_ascii_case("hdfs"))
            .map(|(_, r)| r)
            .ok_or_else(|| {
                target(ConfError::Unsupported(
                    "hdfs-native can only mount hdfs:// targets".to_owned(),
                ))
            })?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() {
            return Err(target(ConfError::Invalid(
                "the target needs a NameNode or nameservice".to_owned(),
            )));
        }
        let nn = self.namenodes(authority, overrides).map_err(target)?;
        let path = normalize_path(path);
        let is_root = path == "/";
        Ok((
            nn.description,
            format!("hdfs://{}{path}", nn.authority),
            is_root,
        ))
    }
}

/// Collapses `//` and `.`, drops a trailing `/` (mount point paths).
/// Unlike [`super::super::location`]'s normalization, `..` is kept as a
/// name: Hadoop's mount table does not resolve it either.
fn normalize_path(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Reads the `<property><name>…</name><value>…</value></property>` pairs of
/// a Hadoop `*-site.xml` in document order (later ones win), following
/// `xi:include`s relative to `dir`. Names and values are the text directly
/// inside `<name>` and `<value>` (CDATA included), trimmed; elements are
/// matched by local name, as Hadoop does.
fn parse_site_xml(
    text: &str,
    dir: &Path,
    depth: u32,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let text = lenient(text);
    let doc = Document::parse_with_options(&text, options()).map_err(|e| message(&text, e))?;
    let field = |property: roxmltree::Node, tag: &str| {
        property
            .children()
            .rfind(|c| c.tag_name().name() == tag)
            .map(|c| {
                let text: String = c.children().filter_map(|t| t.text()).collect();
                text.trim().to_owned()
            })
    };
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        match node.tag_name().name() {
            "include" => {
                let href = node.attribute("href").ok_or("<xi:include> without href")?;
                include(href, dir, depth, out)?;
            }
            "property" => {
                if let (Some(n), Some(v)) = (field(node, "name"), field(node, "value")) {
                    out.push((n, v));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn options<'a>() -> ParsingOptions<'a> {
    ParsingOptions {
        allow_dtd: true,
        ..ParsingOptions::default()
    }
}

/// `text` with each undefined entity reference (`&unknown;`) and each lone
/// `&` escaped, so that they are kept as written. Hadoop's own parser (and
/// roxmltree) rejects such files; flink-chk's earlier hand-written reader
/// accepted them, and a configuration that worked keeps working. Each
/// rejected `&` is escaped where roxmltree points, and the text parsed again.
fn lenient(text: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(text);
    loop {
        let err = Document::parse_with_options(&text, options()).err();
        let Some(
            roxmltree::Error::UnknownEntityReference(_, pos)
            | roxmltree::Error::MalformedEntityReference(pos),
        ) = err
        else {
            return text;
        };
        match byte_offset(&text, pos).filter(|&i| text[i..].starts_with('&')) {
            Some(i) => text.to_mut().insert_str(i + 1, "amp;"),
            None => return text,
        }
    }
}

/// The byte offset of a roxmltree position (1-based row, and column in
/// characters).
fn byte_offset(text: &str, pos: TextPos) -> Option<usize> {
    let row = usize::try_from(pos.row).ok()?;
    let line = match row {
        0 => return None,
        1 => 0,
        _ => text.match_indices('\n').nth(row - 2)?.0 + 1,
    };
    let col = usize::try_from(pos.col).ok()?.checked_sub(1)?;
    text[line..].char_indices().nth(col).map(|(i, _)| line + i)
}

/// A parse error's message. An element left open is named (`<configuration>
/// is not closed`): closing it with a name no element has makes roxmltree
/// say which one it expected.
fn message(text: &str, e: roxmltree::Error) -> String {
    if e == roxmltree::Error::UnclosedRootNode
        && let Err(roxmltree::Error::UnexpectedCloseTag(open, ..)) =
            Document::parse_with_options(&format!("{text}</flink-chk.unclosed>"), options())
    {
        return format!("<{open}> is not closed");
    }
    e.to_string()
}

/// Reads an `xi:include`d file into `out`.
fn include(
    href: &str,
    dir: &Path,
    depth: u32,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    if depth >= MAX_INCLUDE_DEPTH {
        return Err(format!("xi:include of {href} nested too deeply"));
    }
    let file = href
        .strip_prefix("file://")
        .or_else(|| href.strip_prefix("file:"))
        .unwrap_or(href);
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read included {}: {e}", path.display()))?;
    let sub_dir = path.parent().unwrap_or(dir);
    parse_site_xml(&text, sub_dir, depth + 1, out).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::super::HdfsStorage;
    use super::super::tests::{conf, loc, settings, site, testdata};
    use super::*;
    use crate::storage::Error;

    #[test]
    fn unknown_nameservice_is_a_config_error() {
        let s = settings(&testdata("ha"));
        let e = HdfsStorage::new(&loc("hdfs://nosuchns/x"), &s).unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("\"nosuchns\" is not a nameservice"), "{msg}");
        assert!(msg.contains("hdfs_testdata/ha"), "{msg}");
        assert!(msg.contains("hdfs://nosuchns:8020/"), "{msg}");

        let e =
            HdfsStorage::new(&loc("hdfs://testns/x"), &settings("/nonexistent/conf")).unwrap_err();
        assert!(e.to_string().contains("is not a directory"), "{e}");

        // hdfs:/// needs fs.defaultFS.
        let empty = conf(&[("core-site.xml", &site(&[]))]);
        let e = HdfsStorage::new(&loc("hdfs:///x"), &settings(empty.path().to_str().unwrap()))
            .unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
        assert!(e.to_string().contains("fs.defaultFS is not set"), "{e}");

        // A nameservice that lists a NameNode without an address.
        let half = conf(&[(
            "hdfs-site.xml",
            &site(&[
                ("dfs.ha.namenodes.ns", "nn1,nn2"),
                ("dfs.namenode.rpc-address.ns.nn1", "127.0.0.1:1"),
            ]),
        )]);
        let e = HdfsStorage::new(
            &loc("hdfs://ns/x"),
            &settings(half.path().to_str().unwrap()),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("dfs.namenode.rpc-address.ns.nn2 is not set"),
            "{e}"
        );
    }

    #[test]
    fn reads_hadoop_site_xml() {
        let d = conf(&[
            (
                "core-site.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>
<!DOCTYPE configuration [ <!ENTITY x "y > z"> ]>
<!-- <property><name>commented</name><value>out</value></property> -->
<configuration xmlns:xi="http://www.w3.org/2001/XInclude">
  <property>
    <name> a </name>
    <value>
      x &amp; &lt;y&gt; &#65;&#x42; &unknown;
    </value>
    <description>ignored <b>bold</b></description>
    <final>true</final>
  </property>
  <property><name>b</name><value><![CDATA[<raw>]]></value></property>
  <property><name>empty</name><value/></property>
  <property><name>no-value</name></property>
  <xi:include href='sub/more.xml'/>
  <property><name>over</name><value>last</value></property>
</configuration>
"#,
            ),
            ("hdfs-site.xml", &site(&[("c", "3")])),
        ]);
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(
            d.path().join("sub/more.xml"),
            site(&[("over", "first"), ("inc", "luded")]),
        )
        .unwrap();
        let c = HadoopConf::load(d.path().to_str()).unwrap();
        assert_eq!(c.get("a"), Some("x & <y> AB &unknown;"));
        assert_eq!(c.get("b"), Some("<raw>"));
        assert_eq!(c.get("empty"), Some(""));
        assert_eq!(c.get("no-value"), None);
        assert_eq!(c.get("commented"), None);
        assert_eq!(c.get("inc"), Some("luded"));
        assert_eq!(c.get("over"), Some("last"));
        assert_eq!(c.get("c"), Some("3"));

        let mut out = Vec::new();
        for bad in [
            "<configuration><property>",
            "<configuration></property>",
            "<!-- x",
            "<configuration><xi:include/></configuration>",
        ] {
            assert!(parse_site_xml(bad, d.path(), 0, &mut out).is_err(), "{bad}");
        }
        std::fs::write(d.path().join("hdfs-site.xml"), "<configuration>").unwrap();
        let e = HadoopConf::load(d.path().to_str()).unwrap_err().to_string();
        assert!(
            e.contains("hdfs-site.xml: <configuration> is not closed"),
            "{e}"
        );
    }

    #[test]
    fn helpers() {
        assert!(has_port("nn:8020"));
        assert!(has_port("[::1]:8020"));
        assert!(!has_port("ns1"));
        assert!(!has_port(":8020"));
        assert_eq!(with_default_port("nn"), "nn:8020");
        assert_eq!(normalize_path("//a/./b/"), "/a/b");
        assert_eq!(normalize_path("/"), "/");
    }
}

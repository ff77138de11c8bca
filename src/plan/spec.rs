//! The package model every emitter reads: one `PackageSpec` per package, fully resolved.
//!
//! Everything Kea- or distribution-specific has been decided by the time a spec exists (see
//! `plan`); an emitter only turns a spec into bytes of its format. Both emitters take the same
//! spec, so a new format is one new emitter.

pub use crate::support::format::Format;
use std::path::PathBuf;

/// Payload compression of a package (deb: data.tar/control.tar; rpm: the cpio payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gzip,
    Xz,
    Zstd,
    None,
}

/// A version comparison in a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// deb `=`, rpm `=`
    Eq,
    /// deb `>=`, rpm `>=`
    Ge,
    /// deb `<<`, rpm `<`
    Lt,
    /// deb `>>`, rpm `>`
    Gt,
    /// deb `<=`, rpm `<=`
    Le,
}

impl Op {
    /// The operator as a Debian relation writes it.
    pub fn deb(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Lt => "<<",
            Op::Gt => ">>",
            Op::Le => "<=",
        }
    }

    /// The operator as an rpm requirement writes it.
    pub fn rpm(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
        }
    }
}

/// One dependency clause: a package name and optional version constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub name: String,
    pub constraint: Option<(Op, String)>,
}

/// Where a file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Streamed from a file on disk (staged tree).
    Path(PathBuf),
    /// Generated in memory (docs, snippets).
    Bytes(Vec<u8>),
}

/// How rpm should mark a file; deb ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileRole {
    #[default]
    Plain,
    Doc,
    License,
}

/// A regular file in the package payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Absolute install path, e.g. `/usr/lib64/kea/hooks/libdhcp_host_cmds.so`.
    pub path: String,
    pub source: Source,
    /// Permission bits only (0o644, 0o755).
    pub mode: u32,
    pub role: FileRole,
    /// The group that owns the file (its owner is always root); `None`: root. rpm writes it
    /// (`%attr`); a `.deb` cannot name a group that exists only once its scripts ran, so the
    /// plan's post-install script sets it there.
    pub group: Option<String>,
    /// A configuration file the administrator may edit: a deb conffile, rpm `%config(noreplace)`.
    pub config: bool,
}

impl FileEntry {
    /// A plain file owned by root:root.
    pub fn new(path: impl Into<String>, source: Source, mode: u32, role: FileRole) -> FileEntry {
        FileEntry { path: path.into(), source, mode, role, group: None, config: false }
    }
}

/// A symbolic link in the package payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEntry {
    /// Absolute install path of the link, e.g. `/usr/lib/x86_64-linux-gnu/libkea-log.so.61`.
    pub path: String,
    /// What it points to, as written (`libkea-log.so.61.0.0`).
    pub target: String,
}

/// A directory whose mode or group differs from the default 0755 root:root (e.g. `/etc/kea`,
/// 0750 root:_kea). rpm writes it as `%attr(mode,root,group) %dir`; a `.deb` writes the mode
/// and the post-install script sets the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub path: String,
    pub mode: u32,
    pub group: Option<String>,
}

/// Everything needed to write one package, in format-neutral terms.
#[derive(Debug, Clone)]
pub struct PackageSpec {
    pub format: Format,
    pub name: String,
    /// Upstream version, already in the family's syntax (`2.6.5`, `3.1.0~rc1` for deb).
    pub version: String,
    /// Debian revision or rpm release, complete (`1`, `1.el9`).
    pub revision: String,
    /// Architecture in the format's own words (`amd64`, `x86_64`).
    pub arch: String,
    pub summary: String,
    /// Long description, plain text, paragraphs separated by blank lines.
    pub description: String,
    pub maintainer: String,
    pub homepage: String,
    pub license: String,
    /// deb `Section`; rpm `Group`, written `Unspecified` (as rpmbuild does) when empty.
    pub section: String,
    pub depends: Vec<Relation>,
    /// Packages that cannot be installed beside this one (deb `Conflicts`, rpm `Conflicts`): the
    /// other package layouts of the same hooks.
    pub conflicts: Vec<Relation>,
    /// Packages whose files this one takes over and whose place it takes (deb `Replaces`, rpm
    /// `Obsoletes`), so a package manager moves an installed system from one layout to another.
    pub replaces: Vec<Relation>,
    /// Regular files, sorted by path.
    pub files: Vec<FileEntry>,
    /// Symbolic links, sorted by path.
    pub links: Vec<LinkEntry>,
    /// Directories this package owns (rpm `%dir`); deb adds every parent directory anyway.
    pub owned_dirs: Vec<String>,
    /// Owned directories with their own mode or group (each also in `owned_dirs`).
    pub dir_attrs: Vec<DirEntry>,
    /// Pre-install script (deb `preinst`, rpm `%pre`), complete with its `#!` line.
    pub pre_install: Option<String>,
    /// Post-install script (deb `postinst`, rpm `%post`), complete with its `#!` line.
    pub post_install: Option<String>,
    /// Pre-removal script (deb `prerm`, rpm `%preun`), complete with its `#!` line.
    pub pre_remove: Option<String>,
    /// Post-removal script (deb `postrm`, rpm `%postun`), complete with its `#!` line.
    pub post_remove: Option<String>,
    /// Debian-only control members besides the generated ones: `shlibs` (the libraries a
    /// package provides) and `triggers` (`activate-noawait ldconfig`); rpm ignores them.
    pub deb_control: Vec<(String, String)>,
    /// Changelog entries, newest first (text without decoration).
    pub changelog: Vec<ChangelogEntry>,
    /// The one timestamp used for every time field (seconds since the epoch).
    pub mtime: u64,
    pub compression: Compression,
}

/// One changelog entry; emitters format it in their own style.
#[derive(Debug, Clone)]
pub struct ChangelogEntry {
    pub version: String,
    pub author: String,
    pub time: u64,
    pub text: String,
}

impl PackageSpec {
    /// The bytes of its files (a staged file's size as the disk says now; 0 if it cannot be
    /// read, which the emitter reports): what writing it costs, roughly.
    pub fn payload_size(&self) -> u64 {
        self.files.iter().map(|f| match &f.source {
            Source::Path(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
            Source::Bytes(b) => b.len() as u64,
        }).sum()
    }

    /// The conventional file name: `name_version-rev_arch.deb` or `name-version-rel.arch.rpm`.
    pub fn file_name(&self) -> String {
        match self.format {
            Format::Deb => format!("{}_{}-{}_{}.deb", self.name, self.version, self.revision, self.arch),
            Format::Rpm => format!("{}-{}-{}.{}.rpm", self.name, self.version, self.revision, self.arch),
        }
    }
}

//! The signature header of a binary rpm as rpmbuild and rpmsign write it, for the packages
//! keapack writes ([`super::rpm`]) and signs (`publish::sign`). It holds the main header's
//! digests, the sizes, `RPMSIGTAG_PAYLOADSIZE` (the uncompressed payload size, which
//! `rpm -q --qf %{ARCHIVESIZE}` and createrepo_c's `<size archive=…>` read) and room for a
//! signature. Here an OpenPGP signature made by any keyholder
//! (gpg) over the main header goes into `RSAHEADER` (RSA) or `DSAHEADER` (EdDSA, ECDSA), as
//! rpmsign puts them: header-only signatures, which rpm 4.16+ and RHEL 9 verify.

use anyhow::{Context, Result};
use rpm::{HeaderEntry, IndexData, IndexSignatureTag};
use sha2::Digest;
use std::io::Read;

/// Space rpmbuild reserves in the signature header for signatures added later (4096 + 32).
const RESERVED_SPACE: usize = 4128;

/// A header signature and the tag it goes under.
#[derive(Debug, Clone)]
pub(crate) struct HeaderSignature {
    /// OpenPGP public-key algorithm of the signing key (1 RSA, 22 EdDSA, 19 ECDSA).
    pub algorithm: u8,
    /// The binary OpenPGP signature packet over the main header's bytes.
    pub packet: Vec<u8>,
}

/// The size of a payload compressed with `compressor` (an rpm's `PAYLOADCOMPRESSOR`), read
/// from `data` by streaming it.
pub(crate) fn uncompressed_size(compressor: &str, data: impl Read) -> Result<u64> {
    let mut reader: Box<dyn Read + '_> = match compressor {
        "zstd" => Box::new(zstd::Decoder::new(data).context("reading the zstd payload")?),
        "xz" | "lzma" => Box::new(liblzma::read::XzDecoder::new(data)),
        "gzip" => Box::new(flate2::read::GzDecoder::new(data)),
        "" | "none" | "identity" => Box::new(data),
        other => anyhow::bail!("cannot read an rpm payload compressed with {other}"),
    };
    std::io::copy(&mut reader, &mut std::io::sink()).context("decompressing the rpm payload to measure it")
}

/// The signature header as rpmbuild and rpmsign write it: the main header's digests (SHA-1,
/// SHA-256), the size of header and payload, the uncompressed payload's size, reserved space,
/// and the header signature if given.
pub(crate) fn signature_header(header: &[u8], payload_len: u64, archive_size: u64, signature: Option<&HeaderSignature>) -> Result<rpm::Header<IndexSignatureTag>> {
    let size = u32::try_from(header.len() as u64 + payload_len).context("rpms of 4 GiB and more are not supported")?;
    let archive = u32::try_from(archive_size).context("rpm payloads of 4 GiB and more are not supported")?;
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut entries = vec![
        HeaderEntry::new(IndexSignatureTag::RPMSIGTAG_SHA1 as u32, IndexData::StringTag(hex(&sha1(header)))),
        HeaderEntry::new(IndexSignatureTag::RPMSIGTAG_SHA256 as u32, IndexData::StringTag(hex(&sha2::Sha256::digest(header)))),
        HeaderEntry::new(IndexSignatureTag::RPMSIGTAG_SIZE as u32, IndexData::Int32(vec![size])),
        HeaderEntry::new(IndexSignatureTag::RPMSIGTAG_PAYLOADSIZE as u32, IndexData::Int32(vec![archive])),
    ];
    let mut reserved = RESERVED_SPACE;
    if let Some(sig) = signature {
        let tag = match sig.algorithm {
            1..=3 => IndexSignatureTag::RPMSIGTAG_RSA,
            17 | 19 | 22 => IndexSignatureTag::RPMSIGTAG_DSA,
            other => anyhow::bail!("rpm cannot verify signatures of OpenPGP key algorithm {other}; use an RSA or EdDSA key"),
        };
        entries.push(HeaderEntry::new(tag as u32, IndexData::Bin(sig.packet.clone())));
        // As rpmsign does: the signature takes its room from the reserved space.
        reserved = reserved.saturating_sub(sig.packet.len() + 16);
    }
    if reserved > 0 {
        entries.push(HeaderEntry::new(IndexSignatureTag::RPMSIGTAG_RESERVEDSPACE as u32, IndexData::Bin(vec![0; reserved])));
    }
    Ok(rpm::Header::from_entries(entries, IndexSignatureTag::HEADER_SIGNATURES))
}

/// SHA-1 of `data` (rpm still records it in the signature header).
fn sha1(data: &[u8]) -> Vec<u8> {
    use sha1::Digest as _;
    sha1::Sha1::digest(data).to_vec()
}

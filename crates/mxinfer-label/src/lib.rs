//! Label: the priority-based provider inference of METHOD.md sections 2 to 9.
//!
//! Pure computation over the resolve records ([`DomainDns`]) and probe records
//! ([`HostProbe`]); the origin ASes come from the caller (the pipeline looks them up in [`pfx2as`]).
//!
//! The work is batch-aware, so it runs in phases:
//! 1. Per-address evidence: [`Labeller::add_probe`] for every probe record, or
//!    [`Labeller::add_evidence`] of its plain-data form [`AddressEvidence`]
//!    ([`AddressEvidence::from_probe`]; `add_probe` is exactly that). Its evidence is reduced
//!    at once to a compact form (parsed banner and EHLO candidates, leaf names with their
//!    registered domains, trust, origin ASes); of several records of one address, the one
//!    that [`AddressEvidence::wins_over`] the others is kept, so the order of the records
//!    does not matter.
//! 2. For every domain, the primary set (METHOD.md 2) is chosen and its contributions to the
//!    batch counts numIP, numMX, numCert (and to the domains a claim lists) are counted:
//!    - [`Labeller::count_domain_view`] keeps nothing of the domain (memory follows the
//!      addresses, names and certificates: the CLI reads the resolve records twice);
//!    - [`Labeller::add_domain`] / [`Labeller::add_domain_view`] also keep its compact form
//!      (names interned, addresses as indexes) for [`Labeller::label`].
//!
//!    [`Labeller::export_counts`] gives the counts so far as plain data ([`BatchCounts`]),
//!    [`BatchCounts::merge`] adds up counts made apart (associative and commutative), and
//!    [`Labeller::import_counts`] puts the merged counts of the whole batch in place of a
//!    labeller's own.
//! 3. [`Labeller::finish`] joins the names on each kept trusted certificate (union-find over
//!    registered domains) and names the groups (popularity, then the lexicographically
//!    smaller registered domain) from the counts in place.
//! 4. Each domain's record with all four approaches: [`Labeller::label_view`] (`&self`, so
//!    many threads at once; the records of phase 2 read again) or [`Labeller::label`].
//! 5. [`Labeller::claims`]: the suspicious claims, ordered by address.
//!
//! Every phase's result is independent of the order of the records (a property test in
//! `tests.rs` checks it).
//!
//! **One machine** (the CLI): one labeller; phase 1 over every probe record, phase 2 with
//! `count_domain_view` over the resolve records, `finish`, then `label_view` over the same
//! records again on every core, and `claims`.
//!
//! **Many machines** (a Spark job; nothing here knows of one). The plain data between the
//! steps is [`AddressEvidence`] and [`BatchCounts`], both serde-serialisable:
//! 1. where the probe records are: `AddressEvidence::from_probe` per record (with the
//!    address's origin ASes); reduce by address with `wins_over`; ship the winners to every
//!    worker (they grow with addresses, not domains);
//! 2. per part of the resolve records: a labeller given every winner (`add_evidence`),
//!    `count_domain_view` over the part, `export_counts`; merge the parts' counts;
//! 3. per part again: a labeller given every winner, `count_domain_view` over the part (so it
//!    knows the part's names), `import_counts` of the merged counts, `finish`, `label_view`
//!    over the part;
//! 4. `claims` of any one labeller of step 3 (each has every address and the merged counts).
//!
//! The labels, claims and certificate groups are then those of one labeller over the whole
//! batch, for any split into parts and any order (property test
//! `the_plain_data_phases_give_the_labels_of_one_labeller`).
//!
//! Readings of METHOD.md worth knowing: an exchange at the primary preference with no live
//! address stays in the primary set and is labelled from its MX name (2.3 read literally);
//! certificate names are joined across every trusted leaf of the probe file, popularity is
//! counted over the domains' primary sets; a check "applies" when it raises a flag or a
//! suggestion (otherwise the next check runs); the certificate pattern check runs for
//! certificate- and banner-sourced IDs; a provider ID needs a listed public suffix.
//!
//! Modules, each with the METHOD.md section it implements:
//! - `evidence`: per-address evidence, a probe record reduced to candidates (1; 3, 5 per address).
//! - `primary`: the primary set of a domain; the batch counts numIP, numMX, numCert (2; 7).
//! - `certgroups`: joining certificate names (union-find), naming the groups, phase 3 (4).
//! - `signals`: per-exchange signals (certificate, banner/EHLO, MX name) and scores (4 to 7, 10).
//! - `checks`: the misidentification checks (7).
//! - `split`: the split across providers; the domain's record with the four approaches (8, 10).
//! - `claims`: the suspicious claims (7, last paragraph).
//! - [`psl`]: registered domains, the provider ID (3).
//! - [`banner`]: the banner/EHLO parser (5).
//! - [`data`]: the tables of data/: companies, banner aliases, DNSBL names (5, 7, 9).
//! - [`pfx2as`]: origin ASes by longest-prefix match (1; used by the pipeline, not here).
//! - [`json`]: the fast writer of label records (output; no METHOD section).
//! - `error`, `hash`: the data-table errors and the internal hash maps (no METHOD section).
//!
//! [`DomainDns`]: mxinfer_record::DomainDns
//! [`HostProbe`]: mxinfer_record::HostProbe

pub mod banner;
mod batch;
mod certgroups;
mod checks;
mod claims;
pub mod data;
mod error;
mod evidence;
mod hash;
pub mod json;
pub mod pfx2as;
mod primary;
pub mod psl;
mod signals;
mod split;

pub use batch::{BatchCounts, CountsMismatch};
pub use certgroups::CertGroup;
pub use error::{DataError, EntryError};
pub use evidence::{AddressEvidence, LeafEvidence, ProbeParts, TlsParts};
pub use primary::UnseenDomain;

use data::LabelData;
use evidence::{AddrEv, Summary};
use mxinfer_record::Approach;
use primary::DomainWork;
use psl::Psl;
use std::net::IpAddr;

/// Default score threshold below which the checks run (METHOD.md 7).
pub const DEFAULT_THRESHOLD: u64 = 5;
/// Domains listed per address in a claim.
pub const CLAIM_DOMAINS_LISTED: usize = 100;

const NONE: u32 = u32::MAX;
/// `reg_cache` entry not computed yet.
const UNSET: u32 = u32::MAX - 2;
/// Per-address summary value: the address's own names point at different IDs.
const DISAGREE: u32 = u32::MAX - 1;

/// Settings of a label run.
#[derive(Debug, Clone)]
pub struct LabelSettings {
    pub threshold: u64,
    pub approach: Approach,
    /// Compact records: only the chosen approach and MX-only are computed and kept
    /// ([`mxinfer_record::DomainLabel::compact`]).
    pub compact: bool,
}

impl Default for LabelSettings {
    fn default() -> Self {
        LabelSettings {
            threshold: DEFAULT_THRESHOLD,
            approach: Approach::Priority,
            compact: false,
        }
    }
}

use hash::HashMap;

/// String interner: every name and ID is stored once, back to back in one buffer, and
/// referred to by index; the table holds only indexes. About the string's length plus 14
/// bytes each (two boxed copies and a map entry took about 80 more): with one or two
/// names per self-hosted domain, this is most of what a label run keeps per domain.
#[derive(Default)]
struct Interner {
    bytes: String,
    /// End of string `i` in `bytes` (its start is the end of `i - 1`).
    ends: Vec<u64>,
    table: hashbrown::HashTable<u32>,
}

impl Interner {
    fn hash(s: &str) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<hash::FastHasher>::default().hash_one(s)
    }

    fn slice<'a>(bytes: &'a str, ends: &[u64], i: u32) -> &'a str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        &bytes[start..ends[i] as usize]
    }

    fn get_or_add(&mut self, s: &str) -> u32 {
        let h = Self::hash(s);
        let Interner { bytes, ends, table } = self;
        if let Some(&i) = table.find(h, |&i| Self::slice(bytes, ends, i) == s) {
            return i;
        }
        let i = ends.len() as u32;
        bytes.push_str(s);
        ends.push(bytes.len() as u64);
        table.insert_unique(h, i, |&j| Self::hash(Self::slice(bytes, ends, j)));
        i
    }

    /// The index of `s`, if interned.
    fn find(&self, s: &str) -> Option<u32> {
        self.table
            .find(Self::hash(s), |&i| self.get(i) == s)
            .copied()
    }

    fn get(&self, i: u32) -> &str {
        Self::slice(&self.bytes, &self.ends, i)
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// Counters for the run metadata (defined with the schema).
pub use mxinfer_record::LabelCounts;

/// The labeller of one batch.
pub struct Labeller {
    psl: Psl,
    data: LabelData,
    settings: LabelSettings,
    strs: Interner,
    /// Registered domain of an interned name (NONE: none; unset entries are computed).
    reg_cache: Vec<u32>,
    addr_index: HashMap<IpAddr, u32>,
    addrs: Vec<AddrEv>,
    summ: Vec<Summary>,
    /// Union-find over registered domains seen on trusted certificates.
    node_of: HashMap<u32, u32>,
    node_str: Vec<u32>,
    parent: Vec<u32>,
    num_cert: Vec<u32>,
    /// numCert per registered domain (string index), counted by phase 2.
    num_cert_of: HashMap<u32, u32>,
    /// Group name (string index) per node, after `finish`.
    group: Vec<u32>,
    /// numMX per interned name (indexed by string; names only).
    num_mx: Vec<u32>,
    domains: Vec<DomainWork>,
    /// Domains counted by the first of two passes (not kept).
    counted_domains: u64,
    /// Interned strings that are provider IDs (registered domains, alias IDs).
    id_strs: Vec<u32>,
    /// Company index per interned string (NONE: none), filled by `finish` for IDs.
    str_company: Vec<u32>,
    counts: LabelCounts,
    finished: bool,
    /// Reused per-domain scratch space.
    scratch_addr: Vec<u32>,
    scratch_node: Vec<u32>,
}

impl Labeller {
    pub fn new(psl: Psl, data: LabelData, settings: LabelSettings) -> Labeller {
        Labeller {
            psl,
            data,
            settings,
            strs: Interner::default(),
            reg_cache: Vec::new(),
            addr_index: HashMap::default(),
            addrs: Vec::new(),
            summ: Vec::new(),
            node_of: HashMap::default(),
            node_str: Vec::new(),
            parent: Vec::new(),
            num_cert: Vec::new(),
            num_cert_of: HashMap::default(),
            group: Vec::new(),
            num_mx: Vec::new(),
            domains: Vec::new(),
            counted_domains: 0,
            id_strs: Vec::new(),
            str_company: Vec::new(),
            counts: LabelCounts::default(),
            finished: false,
            scratch_addr: Vec::new(),
            scratch_node: Vec::new(),
        }
    }

    pub fn counts(&self) -> &LabelCounts {
        &self.counts
    }

    pub fn settings(&self) -> &LabelSettings {
        &self.settings
    }

    /// Number of domains added.
    pub fn len(&self) -> usize {
        self.domains.len()
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }
}

#[cfg(test)]
mod tests;

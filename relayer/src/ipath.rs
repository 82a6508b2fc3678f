//! Resource paths (`zone.chain.resource`) and patterns, validated exactly like the contracts'
//! `IPath` library (`contracts/src/libraries/IPath.sol`).
//!
//! A segment is 1-32 bytes of `[A-Za-z0-9_-]`. On chain it is a `bytes32` holding the characters
//! left-aligned and zero-padded, so one name has exactly one encoding. A [`Pattern`] may replace
//! trailing segments by `*`: `zone.chain.*`, `zone.*` (= `zone.*.*`) and `*` (= `*.*.*`). Matching
//! is exact per segment, never by prefix.

use std::fmt;
use std::str::FromStr;

use alloy::primitives::{B256, keccak256};
use alloy::sol_types::SolValue;

/// Maximum length of a segment in bytes (one `bytes32`).
pub const MAX_SEGMENT_LEN: usize = 32;

/// The wildcard segment `*` as stored on chain (`bytes32("*")`).
pub const WILDCARD: B256 = {
    let mut word = [0u8; 32];
    word[0] = b'*';
    B256::new(word)
};

/// Which of the three segments of a path or pattern; the numbering (0, 1, 2) is the `position`
/// the contracts report in `PermBadSegment` / `ChainBadSegment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// The zone (position 0).
    Zone,
    /// The chain (position 1).
    Chain,
    /// The resource (position 2).
    Resource,
}

impl Position {
    /// The three positions in order.
    pub const ALL: [Position; 3] = [Position::Zone, Position::Chain, Position::Resource];

    /// The contracts' numbering: 0 zone, 1 chain, 2 resource.
    pub const fn index(self) -> u8 {
        match self {
            Position::Zone => 0,
            Position::Chain => 1,
            Position::Resource => 2,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Position::Zone => "zone",
            Position::Chain => "chain",
            Position::Resource => "resource",
        })
    }
}

/// Why a single segment is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// No characters.
    #[error("is empty; a segment needs 1 to 32 characters")]
    Empty,
    /// More than [`MAX_SEGMENT_LEN`] bytes.
    #[error("is {len} bytes long; a segment holds at most 32")]
    TooLong {
        /// Length in bytes.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9_-]` (the byte offset is counted in UTF-8).
    #[error("has {ch:?} at byte {index}; only A-Z, a-z, 0-9, '_' and '-' are allowed")]
    BadChar {
        /// The offending character.
        ch: char,
        /// Its byte offset in the segment.
        index: usize,
    },
    /// The segment is `*`, which only a pattern accepts (and only as a trailing segment).
    #[error("is the wildcard '*', which only patterns accept")]
    Wildcard,
    /// A `bytes32` with a non-zero byte after a zero byte: not the canonical encoding of any name.
    #[error("has a non-zero byte at {index} after the zero padding")]
    BadPadding {
        /// Offset of the first non-zero byte after the padding started.
        index: usize,
    },
}

/// Why a string or `bytes32` triple is not a valid [`IPath`] or [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IPathError {
    /// One segment is malformed.
    #[error("{position} segment {segment:?} {reason}")]
    Segment {
        /// Which segment.
        position: Position,
        /// The segment as written (lossy UTF-8 when it came from a `bytes32`).
        segment: String,
        /// What is wrong with it.
        reason: SegmentError,
    },
    /// Not three dot-separated segments (patterns may be shorter when they end in `*`).
    #[error("{input:?} has {found} segments; expected zone.chain.resource")]
    SegmentCount {
        /// The input.
        input: String,
        /// How many `.`-separated segments it has.
        found: usize,
    },
    /// A pattern with a concrete segment after a `*`: wildcards may only be trailing.
    #[error(
        "{position} segment {segment:?} follows a '*'; in a pattern only trailing segments may be '*'"
    )]
    WildcardNotTrailing {
        /// Which segment.
        position: Position,
        /// The segment as written.
        segment: String,
    },
    /// A pattern shorter than three segments that does not end in `*` (e.g. `zone.chain`).
    #[error("pattern {input:?} is incomplete; write the missing segments or end it with '*'")]
    Incomplete {
        /// The input.
        input: String,
    },
}

/// One concrete path segment: 1-32 bytes of `[A-Za-z0-9_-]`, stored as its `bytes32` form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Segment(B256);

impl Segment {
    /// Validates a segment name, returning why it is invalid.
    pub fn new(name: &str) -> Result<Self, SegmentError> {
        let bytes = name.as_bytes();
        if bytes.is_empty() {
            return Err(SegmentError::Empty);
        }
        if name == "*" {
            return Err(SegmentError::Wildcard);
        }
        if bytes.len() > MAX_SEGMENT_LEN {
            return Err(SegmentError::TooLong { len: bytes.len() });
        }
        if let Some((index, ch)) = name.char_indices().find(|&(_, c)| !is_allowed(c)) {
            return Err(SegmentError::BadChar { ch, index });
        }
        let mut word = [0u8; 32];
        word[..bytes.len()].copy_from_slice(bytes);
        Ok(Segment(B256::new(word)))
    }

    /// The segment's name when `word` is a valid segment, else the word in hex: for showing
    /// whatever a contract or request holds.
    pub fn name_or_hex(word: B256) -> String {
        Segment::from_word(word).map_or_else(|_| word.to_string(), |s| s.to_string())
    }

    /// Validates the on-chain `bytes32` form, exactly as `IPath.isSegment` does.
    pub fn from_word(word: B256) -> Result<Self, SegmentError> {
        if word == WILDCARD {
            return Err(SegmentError::Wildcard);
        }
        let len = word.iter().position(|&b| b == 0).unwrap_or(MAX_SEGMENT_LEN);
        if len == 0 {
            return Err(SegmentError::Empty);
        }
        if let Some(offset) = word[len..].iter().position(|&b| b != 0) {
            return Err(SegmentError::BadPadding { index: len + offset });
        }
        if let Some(index) = word[..len].iter().position(|&b| !is_allowed(char::from(b))) {
            // Report the character as the byte's Latin-1 reading: any non-ASCII byte is invalid anyway.
            return Err(SegmentError::BadChar { ch: char::from(word[index]), index });
        }
        Ok(Segment(word))
    }

    /// The left-aligned, zero-padded `bytes32` form used on chain.
    pub const fn to_word(self) -> B256 {
        self.0
    }

    /// The segment's text.
    pub fn as_str(&self) -> &str {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(MAX_SEGMENT_LEN);
        // Only ASCII is ever stored (checked by both constructors), so this cannot fail.
        std::str::from_utf8(&self.0[..len]).unwrap_or_default()
    }
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Segment({:?})", self.as_str())
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Segment {
    type Err = SegmentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Segment::new(s)
    }
}

impl TryFrom<B256> for Segment {
    type Error = SegmentError;
    fn try_from(word: B256) -> Result<Self, Self::Error> {
        Segment::from_word(word)
    }
}

impl From<Segment> for B256 {
    fn from(segment: Segment) -> Self {
        segment.0
    }
}

/// A concrete resource path `zone.chain.resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IPath {
    /// The zone.
    pub zone: Segment,
    /// The business chain within the zone.
    pub chain: Segment,
    /// The resource on that chain.
    pub resource: Segment,
}

impl IPath {
    /// Builds a path from validated segments.
    pub const fn new(zone: Segment, chain: Segment, resource: Segment) -> Self {
        IPath { zone, chain, resource }
    }

    /// Validates a `bytes32` triple as `IPath.firstInvalid` does.
    pub fn from_words(zone: B256, chain: B256, resource: B256) -> Result<Self, IPathError> {
        let seg = |position, word: B256| {
            Segment::from_word(word).map_err(|reason| IPathError::Segment {
                position,
                segment: word_text(word),
                reason,
            })
        };
        Ok(IPath {
            zone: seg(Position::Zone, zone)?,
            chain: seg(Position::Chain, chain)?,
            resource: seg(Position::Resource, resource)?,
        })
    }

    /// The `(zone, chain, resource)` words as passed to the contracts.
    pub const fn to_words(&self) -> (B256, B256, B256) {
        (self.zone.0, self.chain.0, self.resource.0)
    }

    /// `IPath.chainKey(zone, chain)`: the ChainRegistry key of this path's chain.
    pub fn chain_key(&self) -> B256 {
        chain_key(self.zone, self.chain)
    }

    /// `IPath.patternKey` of the exact path.
    pub fn pattern_key(&self) -> B256 {
        Pattern::Path(*self).key()
    }
}

/// `IPath.chainKey(zone, chain)` = `keccak256(abi.encode(zone, chain))`.
pub fn chain_key(zone: Segment, chain: Segment) -> B256 {
    keccak256((zone.0, chain.0).abi_encode())
}

impl fmt::Display for IPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.zone, self.chain, self.resource)
    }
}

impl FromStr for IPath {
    type Err = IPathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('.').collect();
        let [zone, chain, resource] = parts[..] else {
            return Err(IPathError::SegmentCount { input: s.to_owned(), found: parts.len() });
        };
        Ok(IPath {
            zone: parse_segment(Position::Zone, zone)?,
            chain: parse_segment(Position::Chain, chain)?,
            resource: parse_segment(Position::Resource, resource)?,
        })
    }
}

fn parse_segment(position: Position, text: &str) -> Result<Segment, IPathError> {
    Segment::new(text).map_err(|reason| IPathError::Segment {
        position,
        segment: text.to_owned(),
        reason,
    })
}

/// Lossy text of a `bytes32` segment for error messages: up to the first zero byte.
fn word_text(word: B256) -> String {
    let len = word.iter().position(|&b| b == 0).unwrap_or(MAX_SEGMENT_LEN);
    String::from_utf8_lossy(&word[..len]).into_owned()
}

/// A permission pattern: a concrete path, or one whose trailing segments are `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    /// `*` (= `*.*.*`): every path.
    Any,
    /// `zone.*` (= `zone.*.*`): every path in the zone.
    Zone(Segment),
    /// `zone.chain.*`: every resource of the chain.
    Chain(Segment, Segment),
    /// `zone.chain.resource`: exactly one path.
    Path(IPath),
}

impl Pattern {
    /// Validates a `bytes32` triple as `IPath.firstInvalidInPattern` does, reporting the same
    /// position: segments are checked left to right, and after a `*` every segment must be `*`.
    pub fn from_words(zone: B256, chain: B256, resource: B256) -> Result<Self, IPathError> {
        let words = [zone, chain, resource];
        let mut segments = Vec::with_capacity(3);
        for (i, (&position, &word)) in Position::ALL.iter().zip(&words).enumerate() {
            if word == WILDCARD {
                for (&later, &rest) in Position::ALL.iter().zip(&words).skip(i + 1) {
                    if rest != WILDCARD {
                        let segment = word_text(rest);
                        return Err(IPathError::WildcardNotTrailing { position: later, segment });
                    }
                }
                break;
            }
            let segment = Segment::from_word(word).map_err(|reason| IPathError::Segment {
                position,
                segment: word_text(word),
                reason,
            })?;
            segments.push(segment);
        }
        Ok(Pattern::from_leading(&segments))
    }

    /// The pattern whose concrete leading segments are `segments` (at most three) and the rest `*`.
    fn from_leading(segments: &[Segment]) -> Self {
        match *segments {
            [] => Pattern::Any,
            [zone] => Pattern::Zone(zone),
            [zone, chain] => Pattern::Chain(zone, chain),
            [zone, chain, resource, ..] => Pattern::Path(IPath { zone, chain, resource }),
        }
    }

    /// The `(zone, chain, resource)` words as passed to the contracts, with `*` for wildcards.
    pub const fn to_words(&self) -> (B256, B256, B256) {
        match self {
            Pattern::Any => (WILDCARD, WILDCARD, WILDCARD),
            Pattern::Zone(zone) => (zone.0, WILDCARD, WILDCARD),
            Pattern::Chain(zone, chain) => (zone.0, chain.0, WILDCARD),
            Pattern::Path(path) => path.to_words(),
        }
    }

    /// `IPath.patternKey(zone, chain, resource)` = `keccak256(abi.encode(zone, chain, resource))`.
    pub fn key(&self) -> B256 {
        let (zone, chain, resource) = self.to_words();
        keccak256((zone, chain, resource).abi_encode())
    }

    /// True when the pattern covers `path` (exact per segment).
    pub fn matches(&self, path: &IPath) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Zone(zone) => *zone == path.zone,
            Pattern::Chain(zone, chain) => *zone == path.zone && *chain == path.chain,
            Pattern::Path(exact) => exact == path,
        }
    }

    /// The four patterns the contract reads for a concrete path, most specific first.
    pub fn covering(path: &IPath) -> [Pattern; 4] {
        [
            Pattern::Path(*path),
            Pattern::Chain(path.zone, path.chain),
            Pattern::Zone(path.zone),
            Pattern::Any,
        ]
    }

    /// The zone and chain when the pattern stays within one chain (`zone.chain.*` or exact).
    pub fn chain(&self) -> Option<(Segment, Segment)> {
        match self {
            Pattern::Chain(zone, chain) => Some((*zone, *chain)),
            Pattern::Path(path) => Some((path.zone, path.chain)),
            Pattern::Any | Pattern::Zone(_) => None,
        }
    }
}

impl From<IPath> for Pattern {
    fn from(path: IPath) -> Self {
        Pattern::Path(path)
    }
}

impl fmt::Display for Pattern {
    /// The short form: `*`, `zone.*`, `zone.chain.*` or `zone.chain.resource`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Any => f.write_str("*"),
            Pattern::Zone(zone) => write!(f, "{zone}.*"),
            Pattern::Chain(zone, chain) => write!(f, "{zone}.{chain}.*"),
            Pattern::Path(path) => path.fmt(f),
        }
    }
}

impl FromStr for Pattern {
    type Err = IPathError;

    /// Accepts the short and the long forms: `zone.*` and `zone.*.*`, `*`, `*.*` and `*.*.*`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() > 3 {
            return Err(IPathError::SegmentCount { input: s.to_owned(), found: parts.len() });
        }
        let mut segments = Vec::with_capacity(3);
        let mut wildcard = false;
        for (&position, &text) in Position::ALL.iter().zip(&parts) {
            if text == "*" {
                wildcard = true;
            } else if wildcard {
                return Err(IPathError::WildcardNotTrailing { position, segment: text.to_owned() });
            } else {
                segments.push(parse_segment(position, text)?);
            }
        }
        if !wildcard && parts.len() < 3 {
            return Err(IPathError::Incomplete { input: s.to_owned() });
        }
        Ok(Pattern::from_leading(&segments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_or_hex_names_valid_segments_and_shows_others_in_hex() {
        assert_eq!(Segment::name_or_hex(seg("zoneA").to_word()), "zoneA");
        assert_eq!(Segment::name_or_hex(WILDCARD), WILDCARD.to_string());
        assert_eq!(Segment::name_or_hex(B256::ZERO), B256::ZERO.to_string());
    }

    fn seg(s: &str) -> Segment {
        Segment::new(s).expect("valid segment")
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Vectors {
        valid_segments: Vec<String>,
        invalid_segments: Vec<String>,
        too_long_segments: Vec<String>,
        valid_paths: Vec<String>,
        invalid_paths: Vec<String>,
        valid_patterns: Vec<String>,
        invalid_patterns: Vec<String>,
    }

    fn vectors() -> Vectors {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/ipath_vectors.json");
        let text = std::fs::read_to_string(path).expect("read fixtures/ipath_vectors.json");
        serde_json::from_str(&text).expect("parse fixtures/ipath_vectors.json")
    }

    /// The on-chain form of a string without validation (for feeding `from_word`).
    fn raw_word(s: &str) -> Option<B256> {
        let bytes = s.as_bytes();
        (bytes.len() <= 32).then(|| {
            let mut word = [0u8; 32];
            word[..bytes.len()].copy_from_slice(bytes);
            B256::new(word)
        })
    }

    #[test]
    fn shared_vectors() {
        let v = vectors();
        for s in &v.valid_segments {
            let parsed = Segment::new(s).unwrap_or_else(|e| panic!("{s:?} should be valid: {e}"));
            assert_eq!(parsed.as_str(), s);
            assert_eq!(parsed.to_string(), *s);
            let word = raw_word(s).expect("fits");
            assert_eq!(parsed.to_word(), word);
            assert_eq!(Segment::from_word(word), Ok(parsed), "{s:?} as bytes32");
        }
        for s in &v.invalid_segments {
            assert!(Segment::new(s).is_err(), "{s:?} should be invalid");
            if let Some(word) = raw_word(s) {
                assert!(Segment::from_word(word).is_err(), "{s:?} as bytes32 should be invalid");
            }
        }
        for s in &v.too_long_segments {
            assert_eq!(Segment::new(s), Err(SegmentError::TooLong { len: s.len() }), "{s:?}");
        }
        for s in &v.valid_paths {
            let path: IPath = s.parse().unwrap_or_else(|e| panic!("{s:?} should be valid: {e}"));
            assert_eq!(path.to_string(), *s);
            let (z, c, r) = path.to_words();
            assert_eq!(IPath::from_words(z, c, r), Ok(path));
            // Every concrete path is also a pattern matching exactly itself.
            let pattern: Pattern = s.parse().expect("a path is a pattern");
            assert_eq!(pattern, Pattern::Path(path));
        }
        for s in &v.invalid_paths {
            assert!(s.parse::<IPath>().is_err(), "{s:?} should be an invalid path");
        }
        for s in &v.valid_patterns {
            let pattern: Pattern =
                s.parse().unwrap_or_else(|e| panic!("{s:?} should be a valid pattern: {e}"));
            // Display gives the short form, which parses back to the same pattern.
            assert_eq!(pattern.to_string().parse::<Pattern>(), Ok(pattern), "{s:?}");
            let (z, c, r) = pattern.to_words();
            assert_eq!(Pattern::from_words(z, c, r), Ok(pattern), "{s:?} as words");
        }
        for s in &v.invalid_patterns {
            assert!(s.parse::<Pattern>().is_err(), "{s:?} should be an invalid pattern");
        }
    }

    #[test]
    fn errors_name_the_segment_and_reason() {
        let err = "zone.ch*n.x".parse::<IPath>().expect_err("bad char");
        assert_eq!(
            err,
            IPathError::Segment {
                position: Position::Chain,
                segment: "ch*n".into(),
                reason: SegmentError::BadChar { ch: '*', index: 2 },
            }
        );
        assert_eq!(
            err.to_string(),
            "chain segment \"ch*n\" has '*' at byte 2; only A-Z, a-z, 0-9, '_' and '-' are allowed"
        );
        assert_eq!(
            "zone..r".parse::<IPath>(),
            Err(IPathError::Segment {
                position: Position::Chain,
                segment: String::new(),
                reason: SegmentError::Empty
            })
        );
        assert_eq!(
            "zone.chain.*".parse::<IPath>(),
            Err(IPathError::Segment {
                position: Position::Resource,
                segment: "*".into(),
                reason: SegmentError::Wildcard
            })
        );
        assert_eq!(
            "a.b".parse::<IPath>(),
            Err(IPathError::SegmentCount { input: "a.b".into(), found: 2 })
        );
        assert_eq!(
            "zone.*.res".parse::<Pattern>(),
            Err(IPathError::WildcardNotTrailing {
                position: Position::Resource,
                segment: "res".into()
            })
        );
        assert_eq!(
            "zone.chain".parse::<Pattern>(),
            Err(IPathError::Incomplete { input: "zone.chain".into() })
        );
        assert_eq!(
            Segment::new("café"),
            Err(SegmentError::BadChar { ch: 'é', index: 3 }),
            "byte offsets are UTF-8"
        );
    }

    #[test]
    fn words_validate_like_the_contract() {
        // Zero bytes in the middle: not the canonical encoding of any name.
        let mut word = [0u8; 32];
        word[0] = b'a';
        word[2] = b'b';
        assert_eq!(Segment::from_word(B256::new(word)), Err(SegmentError::BadPadding { index: 2 }));
        assert_eq!(Segment::from_word(B256::ZERO), Err(SegmentError::Empty));
        // A full 32-byte name has no padding at all.
        let full = seg("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
        assert_eq!(Segment::from_word(full.to_word()), Ok(full));
        // firstInvalidInPattern: a concrete segment after '*' is reported at its own position.
        let z = seg("zone").to_word();
        assert_eq!(
            Pattern::from_words(WILDCARD, z, WILDCARD),
            Err(IPathError::WildcardNotTrailing {
                position: Position::Chain,
                segment: "zone".into()
            })
        );
        assert_eq!(
            Pattern::from_words(z, WILDCARD, z),
            Err(IPathError::WildcardNotTrailing {
                position: Position::Resource,
                segment: "zone".into()
            })
        );
        assert_eq!(Pattern::from_words(z, WILDCARD, WILDCARD), Ok(Pattern::Zone(seg("zone"))));
        // A bad zone is reported first, like the contract, even when a '*' is misplaced later.
        assert!(matches!(
            Pattern::from_words(B256::ZERO, WILDCARD, z),
            Err(IPathError::Segment { position: Position::Zone, .. })
        ));
        assert_eq!(
            Pattern::from_words(z, B256::ZERO, WILDCARD),
            Err(IPathError::Segment {
                position: Position::Chain,
                segment: String::new(),
                reason: SegmentError::Empty
            })
        );
    }

    #[test]
    fn matching_is_exact_per_segment() {
        let path: IPath = "zoneA.chainA.ledger".parse().expect("path");
        let yes = ["*", "zoneA.*", "zoneA.chainA.*", "zoneA.chainA.ledger", "zoneA.*.*"];
        let no = ["zoneA2.*", "zone.*", "zoneA.chain.*", "zoneA.chainA.ledge", "zoneB.chainA.*"];
        for p in yes {
            assert!(p.parse::<Pattern>().expect("pattern").matches(&path), "{p}");
        }
        for p in no {
            assert!(!p.parse::<Pattern>().expect("pattern").matches(&path), "{p}");
        }
        for p in Pattern::covering(&path) {
            assert!(p.matches(&path));
        }
    }

    #[test]
    fn keys_follow_abi_encode() {
        let path: IPath = "z.c.r".parse().expect("path");
        let mut encoded = Vec::new();
        for w in [path.zone.to_word(), path.chain.to_word()] {
            encoded.extend_from_slice(w.as_slice());
        }
        assert_eq!(path.chain_key(), keccak256(&encoded));
        encoded.extend_from_slice(path.resource.to_word().as_slice());
        assert_eq!(path.pattern_key(), keccak256(&encoded));
        assert_eq!(WILDCARD.as_slice()[..2], [b'*', 0]);
        let any = Pattern::Any.key();
        assert_eq!(any, keccak256([WILDCARD.as_slice(); 3].concat()));
    }
}

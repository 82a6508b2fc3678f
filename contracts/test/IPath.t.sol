// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {IPath} from "../src/libraries/IPath.sol";
import {ResourceOps} from "../src/libraries/ResourceOps.sol";

/// @notice Exposes the internal library functions as external calls.
contract IPathHarness {
    function isSegment(bytes32 segment) external pure returns (bool) {
        return IPath.isSegment(segment);
    }

    function firstInvalid(bytes32 zone, bytes32 chain, bytes32 resource) external pure returns (uint8) {
        return IPath.firstInvalid(zone, chain, resource);
    }

    function firstInvalidInPattern(bytes32 zone, bytes32 chain, bytes32 resource)
        external
        pure
        returns (uint8)
    {
        return IPath.firstInvalidInPattern(zone, chain, resource);
    }

    function chainKey(bytes32 zone, bytes32 chain) external pure returns (bytes32) {
        return IPath.chainKey(zone, chain);
    }

    function patternKey(bytes32 zone, bytes32 chain, bytes32 resource) external pure returns (bytes32) {
        return IPath.patternKey(zone, chain, resource);
    }

    function wildcard() external pure returns (bytes32) {
        return IPath.WILDCARD;
    }

    function isSingle(uint8 op) external pure returns (bool) {
        return ResourceOps.isSingle(op);
    }

    function isSet(uint8 ops) external pure returns (bool) {
        return ResourceOps.isSet(ops);
    }
}

/// @notice Builders and an independent reference model of iPath segments, shared by the forge suites.
library SegmentGen {
    /// The 64 allowed characters, in no particular order (the reference looks them up, it does not
    /// compare ranges like the library does).
    bytes internal constant ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

    /// @notice A valid segment of `len` (1..32) characters drawn from the alphabet by `seed`.
    function segment(uint256 seed, uint256 len) internal pure returns (bytes32 s) {
        require(len >= 1 && len <= 32, "SegmentGen: len");
        for (uint256 i; i < len; ++i) {
            bytes1 c = ALPHABET[uint256(keccak256(abi.encode(seed, i))) % 64];
            s |= bytes32(c) >> (i * 8);
        }
    }

    /// @notice Number of leading non-zero bytes.
    function length(bytes32 s) internal pure returns (uint256 len) {
        while (len < 32 && s[len] != 0) ++len;
    }

    /// @notice The first `len` bytes of `s`, zero-padded.
    function prefix(bytes32 s, uint256 len) internal pure returns (bytes32) {
        if (len == 0) return bytes32(0);
        if (len >= 32) return s;
        return s & ~bytes32(type(uint256).max >> (len * 8));
    }

    /// @notice Sets byte `i` of `s` to `c`.
    function withByte(bytes32 s, uint256 i, bytes1 c) internal pure returns (bytes32) {
        bytes32 mask = bytes32(bytes1(0xff)) >> (i * 8);
        return (s & ~mask) | (bytes32(c) >> (i * 8));
    }

    function isAllowedChar(bytes1 c) internal pure returns (bool) {
        if (c == 0) return false;
        bytes memory alphabet = ALPHABET;
        for (uint256 i; i < alphabet.length; ++i) {
            if (alphabet[i] == c) return true;
        }
        return false;
    }

    /// @notice Reference: 1-32 allowed characters, left-aligned, zero bytes only after the last one.
    function refIsSegment(bytes32 s) internal pure returns (bool) {
        uint256 len = length(s);
        if (len == 0) return false;
        for (uint256 i; i < len; ++i) {
            if (!isAllowedChar(s[i])) return false;
        }
        for (uint256 i = len; i < 32; ++i) {
            if (s[i] != 0) return false;
        }
        return true;
    }

    /// @notice Reference: position of the first segment that is not concrete, or 3.
    function refFirstInvalid(bytes32[3] memory segs) internal pure returns (uint8) {
        for (uint8 i; i < 3; ++i) {
            if (!refIsSegment(segs[i])) return i;
        }
        return 3;
    }

    /// @notice Reference: a pattern segment is concrete or `*`, and once a `*` appears every later
    /// segment is `*`. Returns the first offending position, or 3.
    function refFirstInvalidInPattern(bytes32[3] memory segs) internal pure returns (uint8) {
        bool wild;
        for (uint8 i; i < 3; ++i) {
            if (segs[i] == bytes32("*")) {
                wild = true;
            } else if (wild || !refIsSegment(segs[i])) {
                return i;
            }
        }
        return 3;
    }

    /// @notice Left-aligns up to 32 bytes.
    function toBytes32(bytes memory b) internal pure returns (bytes32 out) {
        require(b.length <= 32, "SegmentGen: too long");
        for (uint256 i; i < b.length; ++i) {
            out |= bytes32(b[i]) >> (i * 8);
        }
    }

    /// @dev Splits `s` on '.'; the shorthand `zone.*` / `*` of a pattern expands to three segments.
    /// Returns ok = false when the entry has no bytes32 form (wrong number of segments, a segment
    /// longer than 32 bytes); an empty segment becomes bytes32(0).
    function parse(string memory s, bool pattern) internal pure returns (bool ok, bytes32[3] memory segs) {
        bytes memory b = bytes(s);
        uint256 n = 1;
        for (uint256 i; i < b.length; ++i) {
            if (b[i] == ".") ++n;
        }
        bytes[] memory parts = new bytes[](n);
        uint256 start;
        uint256 k;
        for (uint256 i; i <= b.length; ++i) {
            if (i == b.length || b[i] == ".") {
                bytes memory part = new bytes(i - start);
                for (uint256 j; j < part.length; ++j) {
                    part[j] = b[start + j];
                }
                parts[k++] = part;
                start = i + 1;
            }
        }
        bool shorthand = pattern && n < 3 && keccak256(parts[n - 1]) == keccak256("*");
        if (n != 3 && !shorthand) return (false, segs);
        for (uint256 i; i < 3; ++i) {
            bytes memory part = i < n ? parts[i] : bytes("*");
            if (part.length > 32) return (false, segs);
            segs[i] = toBytes32(part);
        }
        return (true, segs);
    }
}

contract IPathTest is Test {
    IPathHarness internal h;

    bytes32 internal constant W = "*";

    function setUp() public {
        h = new IPathHarness();
    }

    // ---------------------------------------------------------------- unit

    function test_wildcard_isStar() public view {
        assertEq(h.wildcard(), bytes32("*"));
        assertEq(h.wildcard(), bytes32(uint256(0x2a) << 248));
    }

    function test_isSegment_acceptsEveryAllowedCharAlone() public view {
        bytes memory alphabet = SegmentGen.ALPHABET;
        for (uint256 i; i < alphabet.length; ++i) {
            assertTrue(h.isSegment(bytes32(alphabet[i])), "single allowed char");
        }
    }

    function test_isSegment_rejectsEveryOtherByteAlone() public view {
        for (uint256 c = 1; c < 256; ++c) {
            bytes1 b = bytes1(uint8(c));
            assertEq(h.isSegment(bytes32(b)), SegmentGen.isAllowedChar(b), "single byte");
        }
    }

    function test_isSegment_boundaries() public view {
        assertFalse(h.isSegment(bytes32(0)), "empty");
        assertFalse(h.isSegment(W), "wildcard");
        assertTrue(h.isSegment("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"), "32 bytes");
        // Range edges around the allowed classes.
        assertFalse(h.isSegment("/"), "0x2f");
        assertFalse(h.isSegment(":"), "0x3a");
        assertFalse(h.isSegment("@"), "0x40");
        assertFalse(h.isSegment("["), "0x5b");
        assertFalse(h.isSegment("`"), "0x60");
        assertFalse(h.isSegment("{"), "0x7b");
        assertFalse(h.isSegment("."), "dot");
        assertFalse(h.isSegment(" "), "space");
        // Zero byte first, then characters: not left-aligned.
        assertFalse(h.isSegment(bytes32(uint256(0x61))), "right-aligned a");
        // A zero byte inside the name.
        assertFalse(h.isSegment(SegmentGen.withByte("ab", 3, "c")), "byte after padding");
        assertFalse(h.isSegment(SegmentGen.withByte("ab", 31, "c")), "last byte after padding");
    }

    function test_firstInvalid_positions() public view {
        assertEq(h.firstInvalid("z", "c", "r"), 3);
        assertEq(h.firstInvalid(0, "c", "r"), 0);
        assertEq(h.firstInvalid("z", W, "r"), 1);
        assertEq(h.firstInvalid("z", "c", W), 2);
        assertEq(h.firstInvalid(W, W, W), 0);
        assertEq(h.firstInvalid("z", "c.d", 0), 1);
    }

    function test_firstInvalidInPattern_positions() public view {
        assertEq(h.firstInvalidInPattern("z", "c", "r"), 3);
        assertEq(h.firstInvalidInPattern("z", "c", W), 3);
        assertEq(h.firstInvalidInPattern("z", W, W), 3);
        assertEq(h.firstInvalidInPattern(W, W, W), 3);
        assertEq(h.firstInvalidInPattern(W, "c", "r"), 1);
        assertEq(h.firstInvalidInPattern(W, W, "r"), 2);
        assertEq(h.firstInvalidInPattern(W, "c", W), 1);
        assertEq(h.firstInvalidInPattern("z", W, "r"), 2);
        assertEq(h.firstInvalidInPattern(0, W, W), 0);
        assertEq(h.firstInvalidInPattern("z", 0, W), 1);
        assertEq(h.firstInvalidInPattern("z", "c", 0), 2);
        assertEq(h.firstInvalidInPattern("z*", W, W), 0);
        assertEq(h.firstInvalidInPattern("z", "**", W), 1);
        assertEq(h.firstInvalidInPattern("z", "c", "**"), 2);
        assertEq(h.firstInvalidInPattern("**", W, W), 0);
        assertEq(h.firstInvalidInPattern("z", "c", "*a"), 2);
        assertEq(h.firstInvalidInPattern("z", "a*", W), 1);
        assertEq(h.firstInvalidInPattern("*a", W, W), 0);
        assertEq(h.firstInvalidInPattern(W, "**", W), 1);
        assertEq(h.firstInvalidInPattern(W, W, "**"), 2);
    }

    function test_keys_areDistinctPerSegment() public view {
        assertEq(h.chainKey("z", "c"), keccak256(abi.encode(bytes32("z"), bytes32("c"))));
        assertEq(h.patternKey("z", "c", "r"), keccak256(abi.encode(bytes32("z"), bytes32("c"), bytes32("r"))));
        assertTrue(h.patternKey("z", "c", W) != h.patternKey("z", "c", "r"), "wildcard is literal");
        assertTrue(h.chainKey("ab", "c") != h.chainKey("a", "bc"), "no concatenation ambiguity");
    }

    function test_resourceOps_constants() public pure {
        assertEq(ResourceOps.GET_DATA, 1);
        assertEq(ResourceOps.SET_DATA, 2);
        assertEq(ResourceOps.CALL, 4);
        assertEq(ResourceOps.SEND_TX, 8);
        assertEq(ResourceOps.EVENT, 16);
        assertEq(ResourceOps.TWO_PHASE, 32);
        assertEq(ResourceOps.HTLC, 64);
        assertEq(ResourceOps.ALL, 127);
    }

    function test_resourceOps_isSingleAndIsSet_exhaustive() public view {
        for (uint256 v; v < 256; ++v) {
            uint8 op = uint8(v);
            uint256 bits;
            for (uint256 b; b < 8; ++b) {
                if ((v >> b) & 1 == 1) ++bits;
            }
            bool defined = v < 128;
            assertEq(h.isSingle(op), defined && bits == 1, "isSingle");
            assertEq(h.isSet(op), defined && bits >= 1, "isSet");
        }
    }

    // ---------------------------------------------------------------- fuzz: isSegment

    function testFuzz_isSegment_matchesReferenceOnRandomBytes(bytes32 s) public view {
        assertEq(h.isSegment(s), SegmentGen.refIsSegment(s));
    }

    function testFuzz_isSegment_acceptsConstructedValid(uint256 seed, uint256 len) public view {
        len = bound(len, 1, 32);
        bytes32 s = SegmentGen.segment(seed, len);
        assertEq(SegmentGen.length(s), len, "length");
        assertTrue(SegmentGen.refIsSegment(s), "reference");
        assertTrue(h.isSegment(s), "library");
    }

    function testFuzz_isSegment_rejectsOneBadChar(uint256 seed, uint256 len, uint256 pos, uint8 bad)
        public
        view
    {
        len = bound(len, 1, 32);
        pos = bound(pos, 0, len - 1);
        bytes1 c = bytes1(uint8(bound(bad, 1, 255)));
        if (SegmentGen.isAllowedChar(c)) c = bytes1(uint8(c) | 0x80); // 0x80.. are never allowed
        bytes32 s = SegmentGen.withByte(SegmentGen.segment(seed, len), pos, c);
        assertFalse(SegmentGen.refIsSegment(s), "reference");
        assertFalse(h.isSegment(s), "library");
    }

    function testFuzz_isSegment_rejectsByteAfterPadding(uint256 seed, uint256 len, uint256 pos, uint8 extra)
        public
        view
    {
        len = bound(len, 1, 30);
        pos = bound(pos, len + 1, 31); // at least one zero byte between the name and `extra`
        bytes1 c = bytes1(uint8(bound(extra, 1, 255)));
        bytes32 s = SegmentGen.withByte(SegmentGen.segment(seed, len), pos, c);
        assertFalse(SegmentGen.refIsSegment(s), "reference");
        assertFalse(h.isSegment(s), "library");
    }

    function testFuzz_isSegment_rejectsLeadingZero(bytes32 s) public view {
        s = SegmentGen.withByte(s, 0, 0);
        assertFalse(h.isSegment(s));
    }

    function testFuzz_isSegment_extendingValidByAllowedCharStaysValid(uint256 seed, uint256 len, uint256 ci)
        public
        view
    {
        len = bound(len, 1, 31);
        bytes32 s = SegmentGen.segment(seed, len);
        bytes32 t = SegmentGen.withByte(s, len, SegmentGen.ALPHABET[ci % 64]);
        assertTrue(h.isSegment(t), "extension");
        assertTrue(t != s, "distinct encoding");
    }

    // ---------------------------------------------------------------- fuzz: paths and patterns

    /// @dev Segment of a given kind: 0 random bytes, 1 valid, 2 wildcard, 3 empty, 4 valid with a bad
    /// char, 5 valid with trailing garbage, 6 `*` followed by another `*` or an allowed character.
    function _craft(uint256 kind, uint256 seed) internal pure returns (bytes32) {
        kind %= 7;
        uint256 len = 1 + (seed % 32);
        if (kind == 0) return keccak256(abi.encode("random", seed));
        if (kind == 1) return SegmentGen.segment(seed, len);
        if (kind == 2) return W;
        if (kind == 3) return bytes32(0);
        if (kind == 4) return SegmentGen.withByte(SegmentGen.segment(seed, len), seed % len, ".");
        if (kind == 5) return len < 31 ? SegmentGen.withByte(SegmentGen.segment(seed, len), 31, "x") : W;
        bytes1 c = (seed >> 16) % 2 == 0 ? bytes1("*") : SegmentGen.ALPHABET[seed % 64];
        return SegmentGen.withByte(W, 1 + (seed % 31), c);
    }

    function testFuzz_firstInvalid_matchesReference(uint256 kinds, uint256 seed) public view {
        bytes32[3] memory segs;
        for (uint256 i; i < 3; ++i) {
            segs[i] = _craft(kinds >> (8 * i), uint256(keccak256(abi.encode(seed, i))));
        }
        assertEq(h.firstInvalid(segs[0], segs[1], segs[2]), SegmentGen.refFirstInvalid(segs));
    }

    function testFuzz_firstInvalidInPattern_matchesReference(uint256 kinds, uint256 seed) public view {
        bytes32[3] memory segs;
        for (uint256 i; i < 3; ++i) {
            segs[i] = _craft(kinds >> (8 * i), uint256(keccak256(abi.encode(seed, i))));
        }
        assertEq(
            h.firstInvalidInPattern(segs[0], segs[1], segs[2]), SegmentGen.refFirstInvalidInPattern(segs)
        );
    }

    function testFuzz_firstInvalidInPattern_matchesReferenceOnRandomBytes(bytes32 z, bytes32 c, bytes32 r)
        public
        view
    {
        bytes32[3] memory segs = [z, c, r];
        assertEq(h.firstInvalidInPattern(z, c, r), SegmentGen.refFirstInvalidInPattern(segs));
        assertEq(h.firstInvalid(z, c, r), SegmentGen.refFirstInvalid(segs));
    }

    function testFuzz_concretePathIsAlsoAValidPattern(uint256 seed, uint256 a, uint256 b, uint256 c)
        public
        view
    {
        bytes32 z = SegmentGen.segment(seed, bound(a, 1, 32));
        bytes32 ch = SegmentGen.segment(uint256(keccak256(abi.encode(seed, 1))), bound(b, 1, 32));
        bytes32 r = SegmentGen.segment(uint256(keccak256(abi.encode(seed, 2))), bound(c, 1, 32));
        assertEq(h.firstInvalid(z, ch, r), 3);
        assertEq(h.firstInvalidInPattern(z, ch, r), 3);
        assertEq(h.firstInvalidInPattern(z, ch, W), 3);
        assertEq(h.firstInvalidInPattern(z, W, W), 3);
        // A wildcard where a concrete path is required.
        assertEq(h.firstInvalid(z, ch, W), 2);
        assertEq(h.firstInvalid(z, W, r), 1);
        // A non-trailing wildcard.
        assertEq(h.firstInvalidInPattern(z, W, r), 2);
        assertEq(h.firstInvalidInPattern(W, ch, r), 1);
        assertEq(h.firstInvalidInPattern(W, W, r), 2);
    }

    // ---------------------------------------------------------------- shared vectors

    string internal constant VECTORS = "../fixtures/ipath_vectors.json";

    function _strings(string memory json, string memory key) internal pure returns (string[] memory) {
        return abi.decode(vm.parseJson(json, key), (string[]));
    }

    function test_vectors_segments() public view {
        string memory json = vm.readFile(VECTORS);
        string[] memory valid = _strings(json, ".validSegments");
        string[] memory invalid = _strings(json, ".invalidSegments");
        string[] memory tooLong = _strings(json, ".tooLongSegments");
        assertGt(valid.length, 0, "valid vectors");
        assertGt(invalid.length, 0, "invalid vectors");
        for (uint256 i; i < valid.length; ++i) {
            bytes memory b = bytes(valid[i]);
            assertLe(b.length, 32, valid[i]);
            bytes32 s = SegmentGen.toBytes32(b);
            assertTrue(h.isSegment(s), string.concat("valid segment rejected: ", valid[i]));
            assertTrue(SegmentGen.refIsSegment(s), string.concat("reference disagrees: ", valid[i]));
        }
        for (uint256 i; i < invalid.length; ++i) {
            bytes memory b = bytes(invalid[i]);
            assertLe(b.length, 32, "invalid segment vectors must fit a bytes32");
            bytes32 s = SegmentGen.toBytes32(b);
            assertFalse(h.isSegment(s), string.concat("invalid segment accepted: ", invalid[i]));
            assertFalse(SegmentGen.refIsSegment(s), string.concat("reference disagrees: ", invalid[i]));
        }
        // Longer than a bytes32: no on-chain form at all, so nothing to classify here; but the same
        // characters cut to 32 bytes are a valid segment, proving length is the only fault.
        for (uint256 i; i < tooLong.length; ++i) {
            bytes memory b = bytes(tooLong[i]);
            assertGt(b.length, 32, "too-long vectors are longer than 32 bytes");
            bytes memory cut = new bytes(32);
            for (uint256 j; j < 32; ++j) {
                cut[j] = b[j];
            }
            assertTrue(h.isSegment(SegmentGen.toBytes32(cut)), "too-long vector cut to 32 bytes");
        }
    }

    function test_vectors_paths() public view {
        string memory json = vm.readFile(VECTORS);
        string[] memory valid = _strings(json, ".validPaths");
        string[] memory invalid = _strings(json, ".invalidPaths");
        assertGt(valid.length, 0, "valid vectors");
        for (uint256 i; i < valid.length; ++i) {
            (bool ok, bytes32[3] memory s) = SegmentGen.parse(valid[i], false);
            assertTrue(ok, string.concat("valid path not representable: ", valid[i]));
            assertEq(h.firstInvalid(s[0], s[1], s[2]), 3, string.concat("valid path rejected: ", valid[i]));
            // A concrete path is a pattern too.
            assertEq(h.firstInvalidInPattern(s[0], s[1], s[2]), 3, valid[i]);
        }
        uint256 checked;
        for (uint256 i; i < invalid.length; ++i) {
            (bool ok, bytes32[3] memory s) = SegmentGen.parse(invalid[i], false);
            if (!ok) continue; // wrong number of segments: not representable on chain
            ++checked;
            assertLt(
                h.firstInvalid(s[0], s[1], s[2]), 3, string.concat("invalid path accepted: ", invalid[i])
            );
            assertEq(h.firstInvalid(s[0], s[1], s[2]), SegmentGen.refFirstInvalid(s), invalid[i]);
        }
        assertGt(checked, 0, "no invalid path was representable");
    }

    function test_vectors_patterns() public view {
        string memory json = vm.readFile(VECTORS);
        string[] memory valid = _strings(json, ".validPatterns");
        string[] memory invalid = _strings(json, ".invalidPatterns");
        assertGt(valid.length, 0, "valid vectors");
        for (uint256 i; i < valid.length; ++i) {
            (bool ok, bytes32[3] memory s) = SegmentGen.parse(valid[i], true);
            assertTrue(ok, string.concat("valid pattern not representable: ", valid[i]));
            assertEq(
                h.firstInvalidInPattern(s[0], s[1], s[2]),
                3,
                string.concat("valid pattern rejected: ", valid[i])
            );
        }
        uint256 checked;
        for (uint256 i; i < invalid.length; ++i) {
            (bool ok, bytes32[3] memory s) = SegmentGen.parse(invalid[i], true);
            if (!ok) continue;
            ++checked;
            uint8 got = h.firstInvalidInPattern(s[0], s[1], s[2]);
            assertLt(got, 3, string.concat("invalid pattern accepted: ", invalid[i]));
            assertEq(got, SegmentGen.refFirstInvalidInPattern(s), invalid[i]);
        }
        assertGt(checked, 0, "no invalid pattern was representable");
    }

    function test_vectors_parserExpandsShorthand() public pure {
        (bool ok, bytes32[3] memory s) = SegmentGen.parse("zone.*", true);
        assertTrue(ok);
        assertEq(s[0], bytes32("zone"));
        assertEq(s[1], W);
        assertEq(s[2], W);
        (ok, s) = SegmentGen.parse("*", true);
        assertTrue(ok);
        assertEq(s[0], W);
        assertEq(s[2], W);
        (ok,) = SegmentGen.parse("zone.*", false);
        assertFalse(ok, "no shorthand for concrete paths");
        (ok, s) = SegmentGen.parse("zone..r", false);
        assertTrue(ok);
        assertEq(s[1], bytes32(0));
        (ok,) = SegmentGen.parse("a.b.c.d", true);
        assertFalse(ok);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Signatures
/// @notice EIP-712 domain hashing and strict secp256k1 signature recovery shared by the contracts that
/// accept user-signed requests.
library Signatures {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /// Upper bound of `s` for canonical (low-s) signatures, secp256k1n / 2 (EIP-2).
    uint256 internal constant MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    function domainSeparator(
        bytes32 nameHash,
        bytes32 versionHash,
        uint256 chainId,
        address verifyingContract
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, nameHash, versionHash, chainId, verifyingContract));
    }

    function typedDigest(bytes32 separator, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", separator, structHash));
    }

    /// @notice Why a signature was refused, so callers can name the fault in their own errors.
    enum Fault {
        None,
        BadLength,
        BadV,
        HighS,
        NoSigner
    }

    /// @notice The signer of `digest` from a 65-byte `r || s || v` signature, with `Fault.None`; or
    /// address(0) and the first fault: wrong length, v other than 27/28, a high `s` (the malleable twin
    /// of a valid signature), or nothing recovered.
    function tryRecover(bytes32 digest, bytes calldata signature) internal pure returns (address, Fault) {
        if (signature.length != 65) return (address(0), Fault.BadLength);
        // abi.decode reads the two leading words and ignores the trailing v byte.
        (bytes32 r, bytes32 s) = abi.decode(signature, (bytes32, bytes32));
        uint8 v = uint8(signature[64]);
        if (v != 27 && v != 28) return (address(0), Fault.BadV);
        if (uint256(s) > MAX_S) return (address(0), Fault.HighS);
        address signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) return (address(0), Fault.NoSigner);
        return (signer, Fault.None);
    }

    /// @notice `tryRecover` without the reason: address(0) for any refused signature.
    function recover(bytes32 digest, bytes calldata signature) internal pure returns (address signer) {
        (signer,) = tryRecover(digest, signature);
    }
}

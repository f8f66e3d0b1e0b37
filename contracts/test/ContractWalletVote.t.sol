// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Community} from "../Community.sol";
import {VM} from "./Vm.sol";

/// @notice A contract wallet (ERC-1271) whose owner's key approves what it signs, as a Safe or a
/// smart account does.
contract OwnedWallet {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError failure, ) = ECDSA.tryRecover(hash, signature);
        return failure == ECDSA.RecoverError.NoError && signer == owner ? this.isValidSignature.selector : bytes4(0);
    }
}

/// @notice A member that is a contract wallet votes by signature: its ERC-1271 answer is what
/// counts, a stranger's signature and a replay are refused.
contract ContractWalletVoteTest {
    uint256 private constant _OWNER_KEY = 0xA11CE;
    uint256 private constant _STRANGER_KEY = 0xB0B;

    function test_contractWalletVotesBySignature() public {
        OwnedWallet wallet = new OwnedWallet(VM.addr(_OWNER_KEY));
        address[] memory founders = new address[](3);
        founders[0] = address(wallet);
        founders[1] = address(this);
        founders[2] = address(0xBEEF);
        Community c = new Community("wallets", founders, 50, 50, 3600, bytes32(0));
        uint256 pid = _proposeCharter(c);
        bytes32 digest = _ballotDigest(c, pid, 1, address(wallet), c.nonces(address(wallet)));

        bytes memory stranger = _sign(_STRANGER_KEY, digest);
        (bool ok, ) = address(c).call(abi.encodeCall(c.castVoteBySig, (pid, 1, address(wallet), stranger)));
        require(!ok, "a stranger's signature counted for the wallet");

        bytes memory approved = _sign(_OWNER_KEY, digest);
        c.castVoteBySig(pid, 1, address(wallet), approved);
        require(c.hasVoted(pid, address(wallet)), "the wallet's vote was not recorded");
        (uint256 against, uint256 forVotes, uint256 abstain) = c.proposalVotes(pid);
        require(forVotes == 1 && against == 0 && abstain == 0, "wrong tally");
        require(c.nonces(address(wallet)) == 1, "the ballot's nonce was not consumed");

        (ok, ) = address(c).call(abi.encodeCall(c.castVoteBySig, (pid, 1, address(wallet), approved)));
        require(!ok, "a replayed ballot counted");
    }

    function _proposeCharter(Community c) private returns (uint256) {
        address[] memory targets = new address[](1);
        targets[0] = address(c);
        uint256[] memory values = new uint256[](1);
        bytes[] memory calldatas = new bytes[](1);
        calldatas[0] = abi.encodeWithSignature("setCharter(bytes32)", keccak256("a new charter"));
        return c.propose(targets, values, calldatas, "A new charter");
    }

    function _ballotDigest(
        Community c,
        uint256 pid,
        uint8 support,
        address voter,
        uint256 nonce
    ) private view returns (bytes32) {
        (, string memory name, string memory version, uint256 chainId, address verifying, , ) = c.eip712Domain();
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifying
            )
        );
        bytes32 ballot = keccak256(abi.encode(c.BALLOT_TYPEHASH(), pid, support, voter, nonce));
        return keccak256(abi.encodePacked("\x19\x01", domain, ballot));
    }

    function _sign(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}

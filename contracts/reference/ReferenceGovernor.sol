// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

// Reference for scripts/bench_gas.py only: a plain OpenZeppelin Governor 5.x with a votes token
// that gives each member one vote, and a registry the governor adds members to. It is never
// deployed by kiez itself; it exists so that our gas figures are measured side by side.

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Votes} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @notice One non-transferable-in-practice NFT per member, one vote each, on a timestamp clock
/// (the same clock kiez uses).
contract MemberVotes is ERC721, EIP712, ERC721Votes {
    constructor(address[] memory members) ERC721("Members", "MBR") EIP712("Members", "1") {
        for (uint256 i = 0; i < members.length; ++i) {
            _mint(members[i], i + 1);
        }
    }

    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function _update(address to, uint256 tokenId, address auth)
        internal
        override(ERC721, ERC721Votes)
        returns (address)
    {
        return super._update(to, tokenId, auth);
    }

    function _increaseBalance(address account, uint128 amount) internal override(ERC721, ERC721Votes) {
        super._increaseBalance(account, amount);
    }
}

/// @notice The governor's target: the same decision kiez's AddMember makes.
contract MemberRegistry {
    address public immutable governor;
    mapping(address account => bool) public isMember;

    error OnlyGovernor(address caller);

    event MemberAdded(address indexed member);

    constructor(address governor_) {
        governor = governor_;
    }

    function addMember(address account) external {
        if (msg.sender != governor) revert OnlyGovernor(msg.sender);
        isMember[account] = true;
        emit MemberAdded(account);
    }
}

/// @notice OpenZeppelin's standard Governor composition (as its wizard generates it, without a
/// timelock): settings, simple counting, token votes, quorum as a fraction of supply.
contract ReferenceGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction
{
    constructor(IVotes token, uint32 period, uint256 quorumPct)
        Governor("Reference")
        GovernorSettings(0, period, 1)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(quorumPct)
    {}

    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }
}

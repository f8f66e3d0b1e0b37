// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {Community} from "../Community.sol";
import {CommunityHandler} from "./CommunityHandler.sol";
import {FuzzSelector} from "./Vm.sol";

/// @notice Stateful fuzzing of the Community contract's invariants (`npx forge test`): forge calls
/// random sequences of CommunityHandler's actions (proposals, direct and signed votes, ballot
/// replays, executions in any state and of calls nobody proposed, calls the rules refuse, joins by
/// request and by invitation, leaving, moderators, app keys, time passing) and checks every invariant_* function after each call. The handler's model says what
/// the rules allow; these functions compare the contract with it. Runs and depth are in
/// foundry.toml ([invariant]), small enough for every test run.
contract CommunityInvariantsTest {
    CommunityHandler internal handler;
    Community internal community;

    function setUp() public {
        handler = new CommunityHandler();
        community = handler.community();
    }

    /// @notice Only the handler is fuzzed; calling the contract directly from random senders would
    /// mostly be refused at the membership check and teach the model nothing.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice The handler's actions (its public views are not actions).
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory s = new bytes4[](15);
        s[0] = CommunityHandler.warp.selector;
        s[1] = CommunityHandler.requestToJoin.selector;
        s[2] = CommunityHandler.withdrawJoinRequest.selector;
        s[3] = CommunityHandler.propose.selector;
        s[4] = CommunityHandler.joinBySignature.selector;
        s[5] = CommunityHandler.castVote.selector;
        s[6] = CommunityHandler.castVoteBySig.selector;
        s[7] = CommunityHandler.replayBallot.selector;
        s[8] = CommunityHandler.execute.selector;
        s[9] = CommunityHandler.leaveCommunity.selector;
        s[10] = CommunityHandler.addKey.selector;
        s[11] = CommunityHandler.addKeyBySig.selector;
        s[12] = CommunityHandler.revokeKey.selector;
        s[13] = CommunityHandler.moderatorHide.selector;
        s[14] = CommunityHandler.forbiddenCall.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    /// @notice No call succeeded that the rules refuse (votes, proposals, executions, joins,
    /// leaving, keys, direct decision calls), and proposal ids, numbers and proposers are
    /// OpenZeppelin's; the handler records the first call that broke a rule.
    function invariant_noCallBreaksTheRules() public view {
        string memory why = handler.ruleViolation();
        require(bytes(why).length == 0, why);
    }

    /// @notice A proposal's tallies never exceed its electorate, which is the members at its
    /// creation (less the subject of a removal).
    function invariant_talliesWithinElectorate() public view {
        for (uint256 i = 0; i < handler.trackedCount(); ++i) {
            CommunityHandler.Tracked memory t = handler.tracked(i);
            Community.ProposalView memory p = community.getProposal(t.id);
            require(p.eligibleVoters == t.eligibleAtCreation, "electorate is not the members at creation");
            require(p.againstVotes + p.forVotes + p.abstainVotes <= p.eligibleVoters, "tallies exceed the electorate");
        }
    }

    /// @notice Each counted vote is one account's only vote on that proposal: the tallies are
    /// exactly the votes the handler saw accepted, one per distinct voter, and hasVoted agrees.
    function invariant_eachVoteCountsOnce() public view {
        uint256 actors = handler.actorCount();
        for (uint256 i = 0; i < handler.trackedCount(); ++i) {
            CommunityHandler.Tracked memory t = handler.tracked(i);
            (uint256 against, uint256 yes, uint256 abstain) = community.proposalVotes(t.id);
            require(against == t.tally[0] && yes == t.tally[1] && abstain == t.tally[2], "tallies differ from the votes cast");
            uint256 voters = 0;
            for (uint256 a = 0; a < actors; ++a) {
                bool voted = t.voted & (1 << a) != 0;
                require(community.hasVoted(t.id, handler.actor(a)) == voted, "hasVoted differs from the votes cast");
                if (voted) ++voters;
            }
            require(against + yes + abstain == voters, "a voter was counted more than once");
        }
    }

    /// @notice States only move forward: Active to Defeated or Succeeded, Succeeded to Executed.
    function invariant_statesOnlyMoveForward() public view {
        string memory why = handler.transitionViolation();
        require(bytes(why).length == 0, why);
    }

    /// @notice A proposal is executed at most once, and exactly the executed ones say Executed
    /// (that execution needed Succeeded first is checked by the handler at the call).
    function invariant_executedAtMostOnce() public view {
        for (uint256 i = 0; i < handler.trackedCount(); ++i) {
            CommunityHandler.Tracked memory t = handler.tracked(i);
            require(t.executions <= 1, "a proposal was executed twice");
            bool executed = community.state(t.id) == IGovernor.ProposalState.Executed;
            require(executed == (t.executions == 1), "Executed state differs from the executions seen");
        }
    }

    /// @notice Members, moderators, app keys, hidden posts and the charter are exactly what the
    /// allowed paths made of them, and the community never runs out of members.
    function invariant_membersAndKeysFollowTheRules() public view {
        uint256 members = 0;
        for (uint256 a = 0; a < handler.actorCount(); ++a) {
            bool member = handler.memberMask() & (1 << a) != 0;
            require(community.isMember(handler.actor(a)) == member, "membership differs from the allowed paths");
            bool moderator = handler.moderatorMask() & (1 << a) != 0;
            require(community.isModerator(handler.actor(a)) == moderator, "moderators differ from the allowed paths");
            if (member) ++members;
        }
        require(community.memberCount() == members && members >= 1, "member count is off");
        for (uint256 k = 0; k < handler.keyCount(); ++k) {
            bytes32 key = handler.keyAt(k);
            (address owner, bool active, , ) = community.keyInfo(key);
            require(owner == handler.keyOwner(key), "key owner differs from the allowed paths");
            require(active == (owner != address(0) && !handler.keyRevoked(key)), "key state differs");
        }
        for (uint256 i = 0; i < handler.postCount(); ++i) {
            bool hidden = handler.hiddenMask() & (1 << i) != 0;
            require(community.isHidden(bytes32(i + 1)) == hidden, "hidden posts differ from the allowed paths");
        }
        require(community.charterHash() == handler.charter(), "charter differs from the executed proposals");
    }

    /// @notice Nonces only grow, by exactly one per accepted signature.
    function invariant_noncesOnlyGrow() public view {
        for (uint256 a = 0; a < handler.actorCount(); ++a) {
            require(community.nonces(handler.actor(a)) == handler.consumedNonces(a), "nonce differs from signatures used");
        }
    }

    /// @notice The handler's paths work: a fixed sequence (the seeds chosen for its pickers) admits
    /// a member by vote, removes one, grants a moderator who hides a post, hides one and sets the
    /// charter by vote, sees a duplicate proposal and every forbidden call refused, and uses every
    /// by-signature path, with no rule broken. Fuzzing reaches these states only now and then, so
    /// this keeps a change of the contract's surface from leaving the handler silently shallow.
    function test_handlerReachesEveryPath() public {
        require(community.DOMAIN_SEPARATOR() == handler.domainSeparator(), "not OpenZeppelin's EIP-712 domain");
        handler.requestToJoin(3, "hello");
        _decide(0, 0); // actor 0 proposes to admit actor 3; actors 0 and 1 vote for it
        _decide(0, 2); // actor 0 proposes their own removal; actors 1 and 2 decide it
        _decide(1, 6); // actor 1 proposes to make actor 1 a moderator
        handler.moderatorHide(1, 0); // post 1
        _decide(1, 4); // actor 1 proposes to hide post 2
        _decide(1, 5); // actor 1 proposes charter 1
        handler.propose(1, 5, 1); // the same call and description again: refused
        for (uint256 v = 0; v < 6; ++v) {
            handler.forbiddenCall(1, v, v);
        }
        handler.joinBySignature(1, 4, 5); // actor 1 invites actor 4; actor 5 relays
        handler.castVoteBySig(1, 1, 0, 5);
        handler.replayBallot(0);
        handler.addKey(1, 0);
        handler.addKeyBySig(2, 1, 5);
        handler.revokeKey(1, 0);
        handler.withdrawJoinRequest(4);
        handler.leaveCommunity(2);
        string[16] memory paths = [
            "requestToJoin", "propose(addMember)", "castVote", "execute", "admitted", "propose(removeMember)",
            "removed", "granted", "moderatorHide", "hidden", "charterSet", "duplicateRefused",
            "requestToJoinBySig", "castVoteBySig", "addKeyBySig", "revokeKey"
        ];
        for (uint256 i = 0; i < paths.length; ++i) {
            require(handler.successes(paths[i]) > 0, string.concat("path not reached: ", paths[i]));
        }
        require(handler.successes("forbiddenCallRefused") == 6, "a forbidden call was not refused");
        require(handler.successes("withdrawJoinRequest") > 0 && handler.successes("leaveCommunity") > 0, "leaving");
        invariant_noCallBreaksTheRules();
        invariant_membersAndKeysFollowTheRules();
        invariant_noncesOnlyGrow();
        invariant_eachVoteCountsOnce();
        invariant_executedAtMostOnce();
    }

    /// @dev `proposer` proposes (kind by `kindSeed`, subject the first eligible actor), the first two
    /// eligible members vote for it, and it is executed as proposed.
    function _decide(uint256 proposer, uint256 kindSeed) private {
        handler.propose(proposer, kindSeed, 1);
        handler.castVote(1, 1, 0);
        handler.castVote(1, 1, 0);
        handler.execute(1, 0, 2);
    }
}

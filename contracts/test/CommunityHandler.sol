// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {Community} from "../Community.sol";
import {VM, Vm} from "./Vm.sol";

/// @notice Drives one Community through its public entry points as six accounts (three founders,
/// three outsiders), the way forge's invariant fuzzer calls it: every action picks its accounts and
/// arguments from the fuzzed numbers, sends the call as that account and keeps a ghost model of
/// what the rules allow. A call that succeeds where the rules forbid it is recorded as a
/// violation; the invariant test then compares the contract's state with the model.
/// @dev Every call goes through try/catch, so a refused call is an ordinary outcome (the rules
/// refuse many of the fuzzer's calls) and never ends a run. Proposals are made the way an
/// OpenZeppelin Governor tool makes them: propose() of one decision call of the contract, executed
/// with the same call and the description's hash. The handler computes proposal ids, the EIP-712
/// domain and the signed structs itself, from OpenZeppelin's definitions, rather than asking the
/// contract, so that a contract that drifted from them fails here.
contract CommunityHandler {
    uint256 internal constant ACTORS = 6;
    uint256 internal constant FOUNDERS = 3;
    uint256 internal constant KEYS = 8;
    uint256 internal constant POSTS = 4;
    uint256 internal constant MAX_TRACKED = 20;
    uint32 internal constant PERIOD = 600;
    string internal constant NAME = "fuzz";

    uint8 internal constant ACTIVE = uint8(IGovernor.ProposalState.Active);
    uint8 internal constant DEFEATED = uint8(IGovernor.ProposalState.Defeated);
    uint8 internal constant SUCCEEDED = uint8(IGovernor.ProposalState.Succeeded);
    uint8 internal constant EXECUTED = uint8(IGovernor.ProposalState.Executed);

    /// @dev OpenZeppelin's EIP712 domain and Governor's Ballot, and kiez's signed structs.
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant BALLOT_TYPEHASH =
        keccak256("Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)");
    bytes32 internal constant INVITATION_TYPEHASH =
        keccak256("Invitation(address inviter,uint256 nonce,uint64 expiry,uint32 maxUses)");
    bytes32 internal constant JOIN_REQUEST_TYPEHASH =
        keccak256("JoinRequest(address applicant,bytes32 introHash,bytes32 invitation,uint256 nonce,uint256 deadline)");
    bytes32 internal constant ADD_KEY_TYPEHASH = keccak256("AddKey(address owner,bytes32 key,uint256 nonce,uint256 deadline)");
    /// @dev IGovernor's events, whose first data word (or only one) is the proposal id.
    bytes32 internal constant PROPOSAL_CREATED =
        keccak256("ProposalCreated(uint256,address,address[],uint256[],string[],bytes[],uint256,uint256,string)");
    bytes32 internal constant VOTE_CAST = keccak256("VoteCast(address,uint256,uint8,uint256,string)");
    bytes32 internal constant PROPOSAL_EXECUTED = keccak256("ProposalExecuted(uint256)");

    /// @notice What the model knows about one proposal the handler created.
    struct Tracked {
        uint256 id;
        bytes call; // the decision call: calldatas[0] of propose and execute
        bytes32 descriptionHash;
        bytes32 subject; // the account (as bytes32), post or charter the call is about
        Community.ProposalKind kind;
        uint256 eligibleAtCreation; // members when created (less the subject of a removal)
        uint256 electorate; // bitmask of actors who may still vote on it
        uint256 voted; // bitmask of actors whose vote was counted
        uint256[3] tally; // against, for, abstain: votes the handler saw counted
        uint8 lastState;
        uint256 executions;
    }

    /// @notice The last ballot signature that was counted, kept to replay it.
    struct Ballot {
        uint256 proposalId;
        uint8 support;
        address voter;
        bytes signature;
    }

    Community public immutable community;
    uint256 public now_;

    address[ACTORS] internal _actors;
    uint256[ACTORS] internal _keys;
    Tracked[] internal _tracked;
    Ballot internal _lastBallot;

    uint256 public memberMask; // the model's members
    uint256 public joinRequestMask; // the model's pending join requests
    uint256 public moderatorMask; // the model's moderators
    uint256 public hiddenMask; // the model's hidden posts (bit i: post i + 1)
    bytes32 public charter; // the model's charter hash
    uint256[ACTORS] internal _nonces; // signatures the model saw consumed
    uint256[ACTORS] internal _seenNonces; // nonces() at the last observation
    mapping(bytes32 key => address owner) public keyOwner;
    mapping(bytes32 key => bool revoked) public keyRevoked;
    mapping(address applicant => uint256 slot) internal _bySigProposal; // 1 + index, 0: none
    uint256 internal _invitationNonce;

    /// @notice The first rule a successful call broke ("" while none did).
    string public ruleViolation;
    /// @notice The first proposal state change that went backwards ("" while none did).
    string public transitionViolation;
    /// @notice Calls that succeeded, per action (and refusals the test wants to see), so that the
    /// fuzzer's reach of every path can be checked.
    mapping(string action => uint256 count) public successes;

    constructor() {
        now_ = 1_000_000;
        VM.warp(now_);
        address[] memory founders = new address[](FOUNDERS);
        for (uint256 i = 0; i < ACTORS; ++i) {
            _keys[i] = 0xA11CE + i;
            _actors[i] = VM.addr(_keys[i]);
            if (i < FOUNDERS) {
                founders[i] = _actors[i];
                memberMask |= 1 << i;
            }
        }
        community = new Community(NAME, founders, 50, 50, PERIOD, bytes32(0));
    }

    modifier step() {
        VM.warp(now_);
        _;
        _observe();
    }

    // ------------------------------------------------------------------ actions

    /// @notice Let time pass: up to two voting periods. The clock moves before the observation,
    /// so that the states a deadline settles are seen before the next call changes them.
    function warp(uint256 seconds_) external step {
        now_ += 1 + (seconds_ % (2 * PERIOD));
        VM.warp(now_);
    }

    function requestToJoin(uint256 who, bytes32 intro) external step {
        uint256 a = who % ACTORS;
        VM.prank(_actors[a]);
        try community.requestToJoin(intro) {
            _allow(!_isMember(a), "a member filed a join request");
            joinRequestMask |= 1 << a;
            ++successes["requestToJoin"];
        } catch {}
    }

    function withdrawJoinRequest(uint256 who) external step {
        uint256 a = who % ACTORS;
        VM.prank(_actors[a]);
        try community.withdrawJoinRequest() {
            _allow(joinRequestMask & (1 << a) != 0, "withdrew a join request that did not exist");
            joinRequestMask &= ~(1 << a);
            ++successes["withdrawJoinRequest"];
        } catch {}
    }

    /// @notice Propose an admission, a removal, a hide, a charter or a moderator, as a member or
    /// not, with one of four descriptions: the same call and description twice is the same id,
    /// which OpenZeppelin's Governor refuses the second time.
    function propose(uint256 who, uint256 kindSeed, uint256 subjectSeed) external step {
        if (_tracked.length >= MAX_TRACKED) return;
        uint256 a = who % ACTORS;
        // Admissions, removals and moderators twice as often: they change the membership.
        uint256 k = [uint256(0), 0, 1, 1, 2, 3, 4, 4][kindSeed % 8];
        (bytes memory data, bytes32 subject, Community.ProposalKind kind, bool allowed) = _decision(k, subjectSeed);
        uint256 d = (kindSeed >> 3) % 4;
        string memory description = d == 0 ? "" : string.concat("try ", Strings.toString(d));
        bytes32 descriptionHash = keccak256(bytes(description));
        uint256 expected = _proposalId(data, descriptionHash);
        bool duplicate = _find(expected) != 0;
        allowed = allowed && _isMember(a) && !duplicate;
        string memory action = string.concat("propose(", _kindName(kind), ")");
        VM.recordLogs();
        VM.prank(_actors[a]);
        try community.propose(_one(address(community)), new uint256[](1), _one(data), description) returns (uint256 id) {
            _allow(id == expected, "propose: the id is not OpenZeppelin's hashProposal of the call");
            _allow(_emitted(PROPOSAL_CREATED, id), "propose: no IGovernor ProposalCreated of the id");
            _created(id, data, descriptionHash, subject, kind, a, allowed, action);
        } catch {
            if (duplicate) ++successes["duplicateRefused"];
        }
    }

    /// @notice A member invites an applicant, and a third account relays the signed join request.
    function joinBySignature(uint256 inviterSeed, uint256 applicantSeed, uint256 relayer) external step {
        if (_tracked.length >= MAX_TRACKED) return;
        uint256 inv = inviterSeed % ACTORS;
        uint256 a = applicantSeed % ACTORS;
        Community.Invitation memory invitation = Community.Invitation({
            inviter: _actors[inv],
            nonce: ++_invitationNonce,
            expiry: uint64(now_ + 1 days),
            maxUses: 1
        });
        bytes32 id = keccak256(
            abi.encode(INVITATION_TYPEHASH, invitation.inviter, invitation.nonce, invitation.expiry, invitation.maxUses)
        );
        bytes memory invitationSig = _sign(inv, id);
        bytes32 intro = bytes32(applicantSeed);
        bytes32 request = keccak256(
            abi.encode(JOIN_REQUEST_TYPEHASH, _actors[a], intro, id, community.nonces(_actors[a]), now_ + 1 hours)
        );
        bytes memory applicantSig = _sign(a, request);
        bool allowed = _isMember(inv) && !_isMember(a) && !_bySigStillOpen(a);
        // The proposal is addMember(applicant) with an empty description, or, if that id exists
        // already, with the proposal's number appended.
        bytes memory data = abi.encodeCall(Community.addMember, (_actors[a]));
        bytes32 descriptionHash = keccak256("");
        if (_find(_proposalId(data, descriptionHash)) != 0) {
            descriptionHash = keccak256(bytes(string.concat(" (proposal ", Strings.toString(_tracked.length + 1), ")")));
        }
        uint256 expected = _proposalId(data, descriptionHash);
        VM.recordLogs();
        VM.prank(_actors[relayer % ACTORS]);
        try community.requestToJoinBySig(_actors[a], intro, invitation, invitationSig, now_ + 1 hours, applicantSig)
        returns (uint256 proposalId) {
            ++_nonces[a];
            joinRequestMask |= 1 << a;
            _allow(proposalId == expected, "requestToJoinBySig: the id is not that of addMember(applicant)");
            _allow(_emitted(PROPOSAL_CREATED, proposalId), "requestToJoinBySig: no IGovernor ProposalCreated");
            Community.ProposalKind kind = Community.ProposalKind.AddMember;
            _created(proposalId, data, descriptionHash, _subjectOf(a), kind, inv, allowed, "requestToJoinBySig");
            _bySigProposal[_actors[a]] = _tracked.length;
        } catch {}
    }

    /// @notice Vote directly (support 3 is invalid and must be refused).
    function castVote(uint256 who, uint256 proposalSeed, uint256 supportSeed) external step {
        if (_tracked.length == 0) return;
        uint256 p = _pickInState(proposalSeed, ACTIVE);
        uint256 a = _pickVoter(p, who);
        uint8 support = _pickSupport(supportSeed, true);
        bool allowed = _mayVote(p, a, support);
        VM.recordLogs();
        VM.prank(_actors[a]);
        try community.castVote(_tracked[p].id, support) {
            _counted(p, a, support, allowed, "castVote");
        } catch {}
    }

    /// @notice Vote by an EIP-712 ballot signature that another account relays.
    function castVoteBySig(uint256 who, uint256 proposalSeed, uint256 supportSeed, uint256 relayer) external step {
        if (_tracked.length == 0) return;
        uint256 p = _pickInState(proposalSeed, ACTIVE);
        uint256 a = _pickVoter(p, who);
        uint8 support = _pickSupport(supportSeed, false);
        uint256 id = _tracked[p].id;
        bytes32 ballot = keccak256(abi.encode(BALLOT_TYPEHASH, id, support, _actors[a], community.nonces(_actors[a])));
        bytes memory signature = _sign(a, ballot);
        bool allowed = _mayVote(p, a, support);
        VM.recordLogs();
        VM.prank(_actors[relayer % ACTORS]);
        try community.castVoteBySig(id, support, _actors[a], signature) {
            ++_nonces[a];
            _lastBallot = Ballot({proposalId: id, support: support, voter: _actors[a], signature: signature});
            _counted(p, a, support, allowed, "castVoteBySig");
        } catch {}
    }

    /// @notice Relay the last counted ballot again: its nonce is spent, so it must be refused.
    function replayBallot(uint256 relayer) external step {
        Ballot memory b = _lastBallot;
        if (b.voter == address(0)) return;
        VM.prank(_actors[relayer % ACTORS]);
        try community.castVoteBySig(b.proposalId, b.support, b.voter, b.signature) {
            _allow(false, "a replayed ballot was counted");
        } catch {}
    }

    /// @notice Execute any proposal, in any state, as proposed; one time in eight with another
    /// description, one in eight with another call (its last bit flipped, which may be another
    /// proposal's call): whatever is executed must be a proposal that succeeded, once.
    function execute(uint256 proposalSeed, uint256 who, uint256 tamperSeed) external step {
        if (_tracked.length == 0) return;
        Tracked storage t = _tracked[_pickInState(proposalSeed, SUCCEEDED)];
        bytes memory data = t.call;
        bytes32 descriptionHash = t.descriptionHash;
        if (tamperSeed % 8 == 0) descriptionHash ^= bytes32(uint256(1));
        if (tamperSeed % 8 == 1) data = _flipLastBit(data);
        uint256 slot = _find(_proposalId(data, descriptionHash));
        uint8 before = slot == 0 ? 0 : uint8(community.state(_tracked[slot - 1].id));
        VM.recordLogs();
        VM.prank(_actors[who % ACTORS]);
        try community.execute(_one(address(community)), new uint256[](1), _one(data), descriptionHash) returns (
            uint256 id
        ) {
            _allow(slot != 0, "executed a call and description that nobody proposed");
            if (slot == 0) return;
            Tracked storage e = _tracked[slot - 1];
            _allow(id == e.id, "execute returned another proposal's id");
            _allow(_emitted(PROPOSAL_EXECUTED, id), "execute: no IGovernor ProposalExecuted of the id");
            _allow(before == SUCCEEDED, "executed a proposal that had not succeeded");
            _allow(e.executions == 0, "executed a proposal twice");
            ++e.executions;
            _applied(e);
            ++successes["execute"];
        } catch {}
    }

    /// @notice A moderator hides a post at once; anyone else, or a hidden post, must be refused.
    function moderatorHide(uint256 who, uint256 postSeed) external step {
        uint256 a = _pickFrom(moderatorMask, who);
        uint256 post = postSeed % POSTS;
        VM.prank(_actors[a]);
        try community.moderatorHide(bytes32(post + 1), "") {
            _allow(moderatorMask & (1 << a) != 0, "a post was hidden by someone who is no moderator");
            _allow(hiddenMask & (1 << post) == 0, "a moderator hid a hidden post");
            hiddenMask |= 1 << post;
            ++successes["moderatorHide"];
        } catch {}
    }

    /// @notice Calls nobody may make, mostly as a member: a decision function called directly
    /// (only the contract's own execution may), and propose() of anything but exactly one
    /// supported call of the contract with value 0 and its exact arguments.
    function forbiddenCall(uint256 who, uint256 variant, uint256 subjectSeed) external step {
        uint256 a = _pickFrom(memberMask, who);
        (bytes memory data, , , ) = _decision([uint256(0), 1, 3, 4][subjectSeed % 4], subjectSeed >> 2);
        address[] memory targets = _one(address(community));
        uint256[] memory values = new uint256[](1);
        bytes[] memory calldatas = _one(data);
        uint256 v = variant % 6;
        if (v == 0) {
            VM.prank(_actors[a]);
            (bool ok, ) = address(community).call(data);
            _allow(!ok, "a decision function ran outside the execution of a proposal");
            if (!ok) ++successes["forbiddenCallRefused"];
            return;
        }
        if (v == 1) targets[0] = _actors[a];
        if (v == 2) values[0] = 1;
        if (v == 3) {
            targets = new address[](2);
            (targets[0], targets[1]) = (address(community), address(community));
            values = new uint256[](2);
            calldatas = new bytes[](2);
            (calldatas[0], calldatas[1]) = (data, data);
        }
        if (v == 4) calldatas[0] = abi.encodeCall(Community.castVote, (1, 1));
        if (v == 5) calldatas[0] = abi.encodePacked(data, uint256(0));
        VM.prank(_actors[a]);
        try community.propose(targets, values, calldatas, "forbidden") {
            _allow(false, "propose accepted something other than one decision call of the contract");
        } catch {
            ++successes["forbiddenCallRefused"];
        }
    }

    function leaveCommunity(uint256 who) external step {
        uint256 a = who % ACTORS;
        bool allowed = _isMember(a) && _memberCount() > 1;
        VM.prank(_actors[a]);
        try community.leaveCommunity() {
            _allow(allowed, "left without being a member, or as the last one");
            _drop(a);
            ++successes["leaveCommunity"];
        } catch {}
    }

    function addKey(uint256 who, uint256 keySeed) external step {
        uint256 a = who % ACTORS;
        bytes32 key = _key(keySeed);
        VM.prank(_actors[a]);
        try community.addKey(key) {
            _keyAdded(a, key, "addKey");
        } catch {}
    }

    /// @notice Register a key by the owner's AddKey signature, relayed by any account.
    function addKeyBySig(uint256 who, uint256 keySeed, uint256 relayer) external step {
        uint256 a = who % ACTORS;
        bytes32 key = _key(keySeed);
        uint256 deadline = now_ + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(ADD_KEY_TYPEHASH, _actors[a], key, community.nonces(_actors[a]), deadline)
        );
        bytes memory signature = _sign(a, structHash);
        VM.prank(_actors[relayer % ACTORS]);
        try community.addKeyBySig(_actors[a], key, deadline, signature) {
            ++_nonces[a];
            _keyAdded(a, key, "addKeyBySig");
        } catch {}
    }

    function revokeKey(uint256 who, uint256 keySeed) external step {
        uint256 a = who % ACTORS;
        bytes32 key = _key(keySeed);
        VM.prank(_actors[a]);
        try community.revokeKey(key) {
            _allow(keyOwner[key] == _actors[a] && !keyRevoked[key], "revoked a key that was not the caller's live key");
            keyRevoked[key] = true;
            ++successes["revokeKey"];
        } catch {}
    }

    // ------------------------------------------------------------------ what the test reads

    function trackedCount() external view returns (uint256) {
        return _tracked.length;
    }

    function tracked(uint256 i) external view returns (Tracked memory) {
        return _tracked[i];
    }

    function actor(uint256 i) external view returns (address) {
        return _actors[i];
    }

    function actorCount() external pure returns (uint256) {
        return ACTORS;
    }

    /// @notice Signatures of `actor(i)` that the model saw the contract accept.
    function consumedNonces(uint256 i) external view returns (uint256) {
        return _nonces[i];
    }

    function keyAt(uint256 i) external pure returns (bytes32) {
        return _key(i);
    }

    function keyCount() external pure returns (uint256) {
        return KEYS;
    }

    function postCount() external pure returns (uint256) {
        return POSTS;
    }

    /// @notice OpenZeppelin's EIP-712 domain separator for the community, computed here.
    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(NAME)), keccak256("1"), block.chainid, address(community))
        );
    }

    // ------------------------------------------------------------------ the model

    /// @dev The decision call of kind `k` (0 admission, 1 removal, 2 hide, 3 charter, 4 moderator)
    /// about the subject `seed` picks, and whether the rules allow proposing it (from a member).
    function _decision(
        uint256 k,
        uint256 seed
    ) private view returns (bytes memory data, bytes32 subject, Community.ProposalKind kind, bool allowed) {
        uint256 s = _pickFrom(k == 0 ? joinRequestMask & ~memberMask : memberMask, seed);
        subject = _subjectOf(s);
        if (k == 0) {
            data = abi.encodeCall(Community.addMember, (_actors[s]));
            return (data, subject, Community.ProposalKind.AddMember, !_isMember(s) && joinRequestMask & (1 << s) != 0);
        }
        if (k == 1) {
            data = abi.encodeCall(Community.removeMember, (_actors[s]));
            return (data, subject, Community.ProposalKind.RemoveMember, _isMember(s) && _memberCount() >= 3);
        }
        if (k == 2) {
            uint256 post = seed % POSTS;
            data = abi.encodeCall(Community.hidePost, (bytes32(post + 1)));
            return (data, bytes32(post + 1), Community.ProposalKind.HidePost, hiddenMask & (1 << post) == 0);
        }
        if (k == 3) {
            data = abi.encodeCall(Community.setCharter, (bytes32(seed)));
            return (data, bytes32(seed), Community.ProposalKind.SetCharter, true);
        }
        data = abi.encodeCall(Community.grantModerator, (_actors[s]));
        allowed = _isMember(s) && moderatorMask & (1 << s) == 0;
        return (data, subject, Community.ProposalKind.GrantModerator, allowed);
    }

    function _kindName(Community.ProposalKind kind) private pure returns (string memory) {
        if (kind == Community.ProposalKind.AddMember) return "addMember";
        if (kind == Community.ProposalKind.RemoveMember) return "removeMember";
        if (kind == Community.ProposalKind.HidePost) return "hidePost";
        if (kind == Community.ProposalKind.SetCharter) return "setCharter";
        return "grantModerator";
    }

    /// @dev OpenZeppelin's hashProposal of one call of the community with value 0.
    function _proposalId(bytes memory data, bytes32 descriptionHash) private view returns (uint256) {
        return uint256(keccak256(abi.encode(_one(address(community)), new uint256[](1), _one(data), descriptionHash)));
    }

    /// @dev 1 + the index of the tracked proposal `id`, 0 if none: every proposal the community
    /// has is one the handler created.
    function _find(uint256 id) private view returns (uint256) {
        for (uint256 i = 0; i < _tracked.length; ++i) {
            if (_tracked[i].id == id) return i + 1;
        }
        return 0;
    }

    function _created(
        uint256 id,
        bytes memory data,
        bytes32 descriptionHash,
        bytes32 subject,
        Community.ProposalKind kind,
        uint256 proposer,
        bool allowed,
        string memory action
    ) private {
        _allow(allowed, string.concat(action, ": proposed against the rules"));
        _allow(community.proposalProposer(id) == _actors[proposer], string.concat(action, ": wrong proposer"));
        uint256 electorate = memberMask;
        if (kind == Community.ProposalKind.RemoveMember) electorate &= ~(1 << _indexOf(subject));
        Tracked storage t = _tracked.push();
        t.id = id;
        t.call = data;
        t.descriptionHash = descriptionHash;
        t.subject = subject;
        t.kind = kind;
        t.eligibleAtCreation = _popcount(electorate);
        t.electorate = electorate;
        t.lastState = uint8(community.state(id));
        if (t.lastState != ACTIVE) _transition("a new proposal was not Active");
        Community.ProposalView memory v = community.getProposal(id);
        _allow(v.number == _tracked.length && v.kind == kind, string.concat(action, ": wrong number or kind"));
        ++successes[action];
    }

    function _counted(uint256 p, uint256 a, uint8 support, bool allowed, string memory action) private {
        _allow(allowed, string.concat(action, ": a vote was counted that the rules refuse"));
        Tracked storage t = _tracked[p];
        _allow(_emitted(VOTE_CAST, t.id), string.concat(action, ": no IGovernor VoteCast of the proposal"));
        t.voted |= 1 << a;
        ++t.tally[support];
        ++successes[action];
    }

    /// @dev The effects of an executed proposal on the model, and whether the rules allowed them.
    function _applied(Tracked storage t) private {
        if (t.kind == Community.ProposalKind.AddMember) {
            uint256 a = _indexOf(t.subject);
            _allow(!_isMember(a) && joinRequestMask & (1 << a) != 0, "admitted without a join request");
            memberMask |= 1 << a;
            joinRequestMask &= ~(1 << a);
            ++successes["admitted"];
        } else if (t.kind == Community.ProposalKind.RemoveMember) {
            uint256 a = _indexOf(t.subject);
            _allow(_isMember(a) && _memberCount() >= 3, "removed a member below three members");
            _drop(a);
            ++successes["removed"];
        } else if (t.kind == Community.ProposalKind.GrantModerator) {
            uint256 a = _indexOf(t.subject);
            _allow(_isMember(a) && moderatorMask & (1 << a) == 0, "made a moderator of a non-member or twice");
            moderatorMask |= 1 << a;
            ++successes["granted"];
        } else if (t.kind == Community.ProposalKind.HidePost) {
            uint256 post = uint256(t.subject) - 1;
            _allow(hiddenMask & (1 << post) == 0, "a proposal hid a hidden post");
            hiddenMask |= 1 << post;
            ++successes["hidden"];
        } else if (t.kind == Community.ProposalKind.SetCharter) {
            charter = t.subject;
            ++successes["charterSet"];
        }
    }

    /// @dev A member who leaves or is removed loses their vote on every proposal created before,
    /// and their moderator rights.
    function _drop(uint256 a) private {
        memberMask &= ~(1 << a);
        moderatorMask &= ~(1 << a);
        for (uint256 i = 0; i < _tracked.length; ++i) {
            _tracked[i].electorate &= ~(1 << a);
        }
    }

    function _keyAdded(uint256 a, bytes32 key, string memory action) private {
        _allow(_isMember(a) && keyOwner[key] == address(0), string.concat(action, ": key registered against the rules"));
        keyOwner[key] = _actors[a];
        ++successes[action];
    }

    function _mayVote(uint256 p, uint256 a, uint8 support) private view returns (bool) {
        Tracked storage t = _tracked[p];
        return support < 3 &&
            _isMember(a) &&
            t.electorate & (1 << a) != 0 &&
            t.voted & (1 << a) == 0 &&
            uint8(community.state(t.id)) == ACTIVE;
    }

    // ------------------------------------------------------------------ choosing (biased to reach deep states)

    /// @dev Three times in four an eligible member who has not voted yet (if any), else anyone:
    /// uniform choices would rarely let a proposal pass within a run's depth.
    function _pickVoter(uint256 p, uint256 seed) private view returns (uint256) {
        return _pickFrom(_tracked[p].electorate & memberMask & ~_tracked[p].voted, seed);
    }

    /// @dev Mostly for (one against or abstain defeats a removal among three), sometimes against
    /// or abstain; `invalid` adds the out-of-range value 3, which must be refused.
    function _pickSupport(uint256 seed, bool invalid) private pure returns (uint8) {
        uint256 r = seed % (invalid ? 8 : 7);
        if (r < 5) return uint8(Community.VoteType.For);
        if (r == 5) return uint8(Community.VoteType.Against);
        return r == 6 ? uint8(Community.VoteType.Abstain) : 3;
    }

    /// @dev Three times in four a proposal in `wanted` state (if any), else any: votes go to open
    /// proposals, executions to those that succeeded.
    function _pickInState(uint256 seed, uint8 wanted) private view returns (uint256) {
        uint256 n = _tracked.length;
        if (seed % 4 != 0) {
            for (uint256 i = 0; i < n; ++i) {
                uint256 j = ((seed >> 2) + i) % n;
                if (uint8(community.state(_tracked[j].id)) == wanted) return j;
            }
        }
        return (seed >> 2) % n;
    }

    /// @dev Three times in four an actor of `mask` (outsiders with a join request, for an
    /// admission; members, for a removal), else anyone.
    function _pickFrom(uint256 mask, uint256 seed) private pure returns (uint256) {
        if (seed % 4 == 0 || mask == 0) return (seed >> 2) % ACTORS;
        return _nthBit(mask, (seed >> 2) % _popcount(mask));
    }

    function _nthBit(uint256 mask, uint256 n) private pure returns (uint256) {
        for (uint256 i = 0; i < 256; ++i) {
            if (mask & (1 << i) != 0) {
                if (n == 0) return i;
                --n;
            }
        }
        revert("no such bit");
    }

    /// @dev Whether the applicant's last by-signature proposal can still admit them (the contract
    /// refuses a second by-signature request then).
    function _bySigStillOpen(uint256 a) private view returns (bool) {
        uint256 slot = _bySigProposal[_actors[a]];
        if (slot == 0) return false;
        uint8 st = uint8(community.state(_tracked[slot - 1].id));
        return st == ACTIVE || st == SUCCEEDED;
    }

    /// @dev After every action: proposal states may only move forward, nonces only grow.
    function _observe() private {
        for (uint256 i = 0; i < _tracked.length; ++i) {
            Tracked storage t = _tracked[i];
            uint8 current = uint8(community.state(t.id));
            uint8 last = t.lastState;
            bool forward = current == last ||
                (last == ACTIVE && (current == DEFEATED || current == SUCCEEDED)) ||
                (last == SUCCEEDED && current == EXECUTED);
            if (!forward) _transition("a proposal's state went backwards or skipped");
            t.lastState = current;
        }
        for (uint256 a = 0; a < ACTORS; ++a) {
            uint256 n = community.nonces(_actors[a]);
            if (n < _seenNonces[a]) _allow(false, "a nonce went down");
            _seenNonces[a] = n;
        }
    }

    /// @dev Whether the community emitted an event `topic` whose first data word is `id`, among
    /// the logs recorded since the action's recordLogs.
    function _emitted(bytes32 topic, uint256 id) private returns (bool) {
        Vm.Log[] memory logs = VM.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            bool ours = log.emitter == address(community) && log.topics.length > 0 && log.topics[0] == topic;
            if (ours && log.data.length >= 32 && uint256(bytes32(log.data)) == id) return true;
        }
        return false;
    }

    function _allow(bool ok, string memory why) private {
        if (!ok && bytes(ruleViolation).length == 0) ruleViolation = why;
    }

    function _transition(string memory why) private {
        if (bytes(transitionViolation).length == 0) transitionViolation = why;
    }

    /// @dev Actor `a`'s EIP-712 signature (r, s, v) of `structHash` in the community's domain.
    function _sign(uint256 a, bytes32 structHash) private view returns (bytes memory) {
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(_keys[a], digest);
        return abi.encodePacked(r, s, v);
    }

    function _one(address target) private pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = target;
    }

    function _one(bytes memory data) private pure returns (bytes[] memory list) {
        list = new bytes[](1);
        list[0] = data;
    }

    function _flipLastBit(bytes memory data) private pure returns (bytes memory copy) {
        copy = bytes.concat(data);
        copy[copy.length - 1] ^= 0x01;
    }

    function _isMember(uint256 a) private view returns (bool) {
        return memberMask & (1 << a) != 0;
    }

    function _memberCount() private view returns (uint256) {
        return _popcount(memberMask);
    }

    function _subjectOf(uint256 a) private view returns (bytes32) {
        return bytes32(uint256(uint160(_actors[a])));
    }

    function _indexOf(bytes32 subject) private view returns (uint256) {
        for (uint256 i = 0; i < ACTORS; ++i) {
            if (_subjectOf(i) == subject) return i;
        }
        revert("subject is not an actor");
    }

    function _key(uint256 seed) private pure returns (bytes32) {
        return keccak256(abi.encode("key", seed % KEYS));
    }

    function _popcount(uint256 mask) private pure returns (uint256 n) {
        for (; mask != 0; mask &= mask - 1) ++n;
    }
}

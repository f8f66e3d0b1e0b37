// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC6372} from "@openzeppelin/contracts/interfaces/IERC6372.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title kiez Community: membership, app keys and moderation of one micro-community, decided by vote
/// @notice One member, one vote. Members propose decisions (add or remove a member, hide or unhide
/// a post, change the rules, set the charter, grant or revoke a moderator, set the media or the
/// guest policy); the members who were members when a proposal was created vote on it; anyone
/// executes a proposal that succeeded.
/// Membership can never run dry: the last member cannot leave, and a vote can never shrink the
/// community below two members, so there is always a member who can propose and admit others.
/// A removal is decided by the others: its subject does not vote on it and is not counted in its
/// electorate, and it needs the for votes of at least two of them, so no member is removed by one
/// other member alone.
/// Nodes of the kiez network follow this contract's events and enforce the outcome off-chain.
/// Nobody but the members who choose to pay needs ether: a newcomer joins under a member's signed
/// invitation (requestToJoinBySig) and registers their app key by signature (addKeyBySig), and
/// anyone may relay either; every by-signature call uses the same EIP-712 domain and the same
/// per-account nonces as castVoteBySig. Signers may be contract wallets (ERC-1271).
/// @dev An OpenZeppelin IGovernor: tools that know only its ABI create, vote on, read and execute
/// kiez proposals. A proposal is one call of one of this contract's decision functions (addMember,
/// removeMember, hidePost, ...), which only the contract itself may call, through execute();
/// propose() refuses any other call (UnsupportedCall). Ids are OpenZeppelin's hashProposal; each
/// proposal also gets a sequential number (ProposalNumbered) so people can say "proposal 7".
/// Differences, each deliberate:
///  - voting starts at creation (no voting delay) and the electorate is fixed then: the members
///    at that moment, by join order;
///  - a proposal is decided as soon as the votes still outstanding can no longer change its outcome
///    (early decision), which matters in a community of five people with a week-long voting period;
///  - proposals are never queued or canceled: Canceled, Queued and Expired are never returned;
///  - vote params are not used (castVote*WithParams accept only empty params).
/// Signatures go through OpenZeppelin's EIP712 and ECDSA (SignatureChecker's ERC-1271 for contract
/// wallets, asked only when the ECDSA check fails, so an ordinary voter pays no code lookup): a
/// signed ballot costs about 200 gas more than with the hand-written recovery they replace
/// (scripts/bench_gas.py). Nonces stay in the member record instead of OpenZeppelin's Nonces,
/// which would cost a first signed ballot a fresh slot (about 22k gas).
/// Storage is laid out so that a vote touches three slots: the voter's member record, the
/// proposal's core record (tallies live beside the timing data) and the voter's vote bitmap,
/// which is allocated when the account asks to join; no vote ever pays for a fresh storage slot.
contract Community is IGovernor, EIP712 {
    using Checkpoints for Checkpoints.Trace208;

    // ------------------------------------------------------------------ types

    /// @notice The decision a proposal executes when it succeeds (one per decision function).
    enum ProposalKind {
        AddMember,
        RemoveMember,
        HidePost,
        UnhidePost,
        ChangeRules,
        SetCharter,
        GrantModerator,
        RevokeModerator,
        SetMediaPolicy,
        SetGuestPolicy
    }

    /// @notice Vote types, as in GovernorCountingSimple (Bravo).
    enum VoteType {
        Against,
        For,
        Abstain
    }

    /// @dev One storage slot per account that ever asked to join or founded: what a vote reads and
    /// writes, so that a vote touches this slot and the proposal's only. The current (or last)
    /// membership period starts at joinedAt and ends at MemberLedger.leftAt; earlier periods are in
    /// _pastMembership.
    struct Member {
        bool active;
        bool moderator;
        uint24 joinIndex; // order of joining; eligible on proposals created later
        uint24 account; // 1-based index in _accounts, assigned once (0: none yet)
        uint40 joinedAt;
        uint40 requestedAt; // pending join request (0: none)
        uint24 voteWord; // which word of proposal numbers voteBits holds (older words: _votedBits)
        uint88 voteBits; // bit (number % _IDS_PER_WORD): voted on proposal `number`
    }

    /// @dev The rest of an account's record, in a slot allocated with the Member's (allocated = 1),
    /// so that a nonce or a departure updates an existing slot.
    struct MemberLedger {
        uint40 leftAt;
        uint48 nonce; // EIP-712 nonce (ballots, join requests, keys); survives leaving and re-joining
        uint8 allocated;
    }

    /// @dev One storage slot: everything kept about a proposal (what it decides is in its id).
    struct ProposalCore {
        uint32 start; // seconds after deployment
        uint32 duration;
        uint24 number; // sequential, for people; indexes the voters' vote bitmaps (0: no proposal)
        uint24 forVotes;
        uint24 againstVotes;
        uint24 abstainVotes;
        uint24 memberEpoch; // members with joinIndex < memberEpoch may vote
        uint24 eligible; // members who may vote on it
        uint8 quorumPct;
        uint8 thresholdPct;
        uint24 proposer; // account index of the proposer
        uint8 flags; // kind (low 7 bits) | _EXECUTED
    }

    /// @dev One storage slot (224 of 256 bits): the settings and counters read by every proposal,
    /// and the media and guest policies.
    struct Config {
        uint24 proposalCount;
        uint24 memberCount;
        uint24 nextJoinIndex;
        uint24 accountCount;
        uint8 quorumPct;
        uint8 thresholdPct;
        uint32 votingPeriod;
        uint8 maxAttachments; // attachments a post may carry: 0..4
        uint32 maxAttachmentKiB; // size cap of one attachment in KiB: 1..2048
        uint8 guestInviters; // 0 any member, 1 moderators only
        uint32 maxGuestPassSeconds; // 0..90 days
    }

    /// @notice An app key (ed25519 public key) authorised by a member to sign posts.
    struct AppKey {
        address owner;
        uint48 addedAt;
        uint48 revokedAt;
    }

    /// @notice A member's signed invitation: it lets a newcomer's join request be relayed by anyone
    /// and opens the AddMember proposal in the inviter's name. `nonce` is a random id the inviter
    /// picks, so several invitations can be open at once.
    struct Invitation {
        address inviter;
        uint256 nonce;
        uint64 expiry;
        uint32 maxUses;
    }

    /// @dev One storage slot per invitation that was used or revoked.
    struct InvitationState {
        uint32 uses;
        bool revoked;
    }

    /// @notice Everything about a proposal in one call, for clients.
    struct ProposalView {
        uint256 id;
        uint256 number;
        ProposalKind kind;
        ProposalState state;
        uint256 voteStart;
        uint256 voteEnd;
        uint256 againstVotes;
        uint256 forVotes;
        uint256 abstainVotes;
        uint256 eligibleVoters;
        uint256 quorumPct;
        uint256 thresholdPct;
    }

    // ------------------------------------------------------------------ constants

    /// @notice EIP-712 type of a signed vote; the same string as OpenZeppelin's Governor.
    bytes32 public constant BALLOT_TYPEHASH =
        keccak256("Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)");
    /// @notice EIP-712 type of a signed vote with reason and params, as in OpenZeppelin's Governor.
    bytes32 public constant EXTENDED_BALLOT_TYPEHASH =
        keccak256("ExtendedBallot(uint256 proposalId,uint8 support,address voter,uint256 nonce,string reason,bytes params)");
    /// @notice EIP-712 type of a member's invitation; its struct hash is the invitation's id.
    bytes32 public constant INVITATION_TYPEHASH =
        keccak256("Invitation(address inviter,uint256 nonce,uint64 expiry,uint32 maxUses)");
    /// @notice EIP-712 type of a newcomer's join request under an invitation.
    bytes32 public constant JOIN_REQUEST_TYPEHASH =
        keccak256("JoinRequest(address applicant,bytes32 introHash,bytes32 invitation,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a member's authorisation of an app key.
    bytes32 public constant ADD_KEY_TYPEHASH =
        keccak256("AddKey(address owner,bytes32 key,uint256 nonce,uint256 deadline)");
    /// @notice Version of the kiez protocol; part of the EIP-712 domain of every signed ballot.
    string public constant PROTOCOL_VERSION = "1";
    uint32 public constant MIN_VOTING_PERIOD = 60;
    uint32 public constant MAX_VOTING_PERIOD = 365 days;
    /// @notice The longest guest pass a community may allow.
    uint32 public constant MAX_GUEST_PASS_SECONDS = 90 days;
    /// @dev For votes a removal needs, from members other than its subject; so a removal can be
    /// proposed and executed only while the community has at least _MIN_REMOVAL_VOTES + 1 members.
    uint256 private constant _MIN_REMOVAL_VOTES = 2;
    /// @dev The protocol's ceiling on attachments per post; a community may vote a lower cap.
    uint8 private constant _MAX_ATTACHMENTS = 4;
    /// @dev The protocol's ceiling on one attachment's size, in KiB (2 MiB); a community may vote a
    /// lower cap.
    uint32 private constant _MAX_ATTACHMENT_KIB = 2048;
    /// @dev The guest pass nodes allow until a community votes a policy (7 days, as the nodes).
    uint32 private constant _DEFAULT_GUEST_PASS_SECONDS = 7 days;
    uint256 private constant _MAX_MEMBERS_EVER = type(uint24).max;
    uint256 private constant _MAX_PROPOSALS = type(uint24).max;
    /// @dev Votes are recorded in per-account bitmaps of 88 proposal numbers: the newest word an
    /// account voted in sits in its Member slot, earlier ones move to _votedBits.
    uint256 private constant _IDS_PER_WORD = 88;
    uint8 private constant _EXECUTED = 0x80;

    // ------------------------------------------------------------------ storage

    /// @notice Block in which the community was founded; clients scan events from here.
    uint256 public immutable deploymentBlock;
    /// @dev Proposal times are stored as seconds after this one.
    uint256 private immutable _origin;

    Config private _config;
    bytes32 private _charterHash;

    mapping(address account => Member) private _members;
    mapping(address account => MemberLedger) private _ledgers;
    mapping(uint256 index => address) private _accounts;
    mapping(address voter => mapping(uint256 word => uint256 bits)) private _votedBits;
    mapping(uint256 proposalId => ProposalCore) private _proposals;
    mapping(uint256 proposalId => address) private _removalSubjects;
    mapping(bytes32 key => AppKey) private _appKeys;
    mapping(bytes32 postId => bool) private _hidden;
    mapping(address applicant => bytes32) private _introHashes;
    /// @dev The AddMember proposal an applicant's last by-signature request opened.
    mapping(address applicant => uint256 proposalId) private _requestProposals;
    mapping(bytes32 invitation => InvitationState) private _invitations;
    /// @dev Member count (low 24 bits) and quorum percent (next 8) over time, for quorum(timepoint).
    Checkpoints.Trace208 private _electorate;
    /// @dev Earlier membership periods of accounts that left and re-joined (1 member, 0 not).
    mapping(address account => Checkpoints.Trace208) private _pastMembership;
    /// @dev The proposal being executed, for the decision functions' events.
    uint256 private transient _executing;

    // ------------------------------------------------------------------ events

    /// @notice `member` became a member (proposalId 0: a founding member).
    event MemberAdded(address indexed member, uint256 indexed proposalId, uint256 joinIndex);
    /// @notice `member` was removed by proposal `proposalId`.
    event MemberRemoved(address indexed member, uint256 indexed proposalId);
    /// @notice `member` left of their own accord.
    event MemberLeft(address indexed member);
    /// @notice `applicant` asked to join; `introHash` is the hash of their introduction text.
    event JoinRequested(address indexed applicant, bytes32 introHash);
    /// @notice Invitation `invitation` of `inviter` admitted a join request of `applicant`; it has
    /// now been used `uses` times.
    event InvitationUsed(bytes32 indexed invitation, address indexed inviter, address indexed applicant, uint32 uses);
    /// @notice `inviter` revoked their invitation `invitation`; it admits no more join requests.
    event InvitationRevoked(bytes32 indexed invitation, address indexed inviter);
    /// @notice `applicant` withdrew their join request.
    event JoinRequestWithdrawn(address indexed applicant);
    /// @notice `owner` authorised the ed25519 app key `key` to sign posts.
    event KeyAdded(address indexed owner, bytes32 indexed key);
    /// @notice `owner` revoked `key`; messages it signs from now on are refused.
    event KeyRevoked(address indexed owner, bytes32 indexed key);
    /// @notice Emitted right after IGovernor's ProposalCreated: proposal `proposalId` is number
    /// `number`, and `eligibleVoters` members may vote on it (every member, except the subject of a
    /// removal).
    event ProposalNumbered(uint256 indexed number, uint256 proposalId, uint256 eligibleVoters);
    /// @notice `postId` is hidden: by moderator `moderator` (proposalId 0), or by proposal `proposalId`.
    event PostHidden(bytes32 indexed postId, address indexed moderator, uint256 indexed proposalId, string reason);
    /// @notice `postId` is visible again, by proposal `proposalId`.
    event PostUnhidden(bytes32 indexed postId, uint256 indexed proposalId);
    /// @notice The voting rules changed (by proposal `proposalId`; 0 at deployment).
    event RulesChanged(
        uint256 indexed proposalId,
        uint8 oldQuorumPct,
        uint8 newQuorumPct,
        uint8 oldThresholdPct,
        uint8 newThresholdPct,
        uint32 oldVotingPeriod,
        uint32 newVotingPeriod
    );
    /// @notice The charter (hash of the community's rules text) changed.
    event CharterChanged(uint256 indexed proposalId, bytes32 oldCharterHash, bytes32 newCharterHash);
    /// @notice `account` may now hide posts at once.
    event ModeratorGranted(address indexed account, uint256 indexed proposalId);
    /// @notice `account` may no longer hide posts (revoked by proposal, or lost with membership).
    event ModeratorRevoked(address indexed account, uint256 indexed proposalId);
    /// @notice The media policy changed (by proposal `proposalId`; 0 at deployment): a post may carry
    /// at most `newMaxAttachments` attachments of at most `newMaxAttachmentKiB` KiB each. Nodes judge
    /// a post by the policy in force when it was signed.
    event MediaPolicyChanged(
        uint256 indexed proposalId,
        uint8 oldMaxAttachments,
        uint8 newMaxAttachments,
        uint32 oldMaxAttachmentKiB,
        uint32 newMaxAttachmentKiB
    );
    /// @notice Who may invite guests (`inviters`: 0 any member, 1 moderators only) and the longest
    /// guest pass, in seconds, changed by vote. Until the first change nodes use their default.
    event GuestPolicyChanged(uint8 inviters, uint32 maxPassSeconds);

    // ------------------------------------------------------------------ errors

    error NoFounders();
    error ZeroAddress();
    error DuplicateFounder(address account);
    error NotAMember(address account);
    error AlreadyMember(address account);
    error MemberLimitReached(uint256 limit);
    error NoJoinRequest(address account);
    error ProposalLimitReached(uint256 limit);
    error NotEligible(uint256 number, address voter, uint256 joinedAt, uint256 proposalCreatedAt);
    error AlreadyVoted(uint256 number, address voter);
    error VotingClosed(uint256 number, ProposalState state, uint256 deadline);
    error NotExecutable(uint256 number, ProposalState state);
    error InvalidVoteType(uint8 support);
    /// @notice The signature is not `signer`'s over these exact fields, domain and nonce.
    error InvalidSignature(address signer);
    error InvalidRules(uint8 quorumPct, uint8 thresholdPct, uint32 votingPeriod);
    error InvalidKey();
    error KeyAlreadyRegistered(bytes32 key, address owner);
    error UnknownKey(bytes32 key);
    error NotKeyOwner(bytes32 key, address caller, address owner);
    error KeyAlreadyRevoked(bytes32 key, uint256 revokedAt);
    error NotModerator(address account);
    error AlreadyModerator(address account);
    error PostAlreadyHidden(bytes32 postId);
    error PostNotHidden(bytes32 postId);
    /// @notice A media policy outside the protocol's ceiling: maxAttachments must be 0..4 and
    /// maxAttachmentKiB 1..2048 (2 MiB).
    error InvalidMediaPolicy(uint8 maxAttachments, uint32 maxAttachmentKiB);
    /// @notice A guest policy out of range: inviters 0 (any member) or 1 (moderators), passes of at
    /// most MAX_GUEST_PASS_SECONDS.
    error InvalidGuestPolicy(uint8 inviters, uint32 maxPassSeconds);
    /// @notice `account` is the community's only member and cannot leave: a community without
    /// members could never decide anything again. They can admit someone first.
    error LastMember(address account);
    /// @notice Removing `account` needs at least `minMembers` members (the subject and two others
    /// who decide it); the community has `memberCount`.
    error TooFewMembersToRemove(address account, uint256 memberCount, uint256 minMembers);
    /// @notice `voter` is the subject of removal proposal `number`; the other members decide it.
    error VoteOnOwnRemoval(uint256 number, address voter);
    /// @notice A signed request whose `deadline` has passed.
    error SignatureExpired(uint256 deadline);
    /// @notice Invitation `invitation` expired at `expiry`.
    error InvitationExpired(bytes32 invitation, uint64 expiry);
    /// @notice Invitation `invitation` was already used its `maxUses` times.
    error InvitationUsedUp(bytes32 invitation, uint32 maxUses);
    /// @notice Invitation `invitation` was revoked by its inviter.
    error InvitationIsRevoked(bytes32 invitation);
    /// @notice The inviter `inviter` is not a member (any more), so their invitations admit nobody.
    error InviterNotMember(address inviter);
    /// @notice `applicant` already has a join request whose proposal `number` is still open or
    /// passed and awaits execution.
    error JoinAlreadyRequested(address applicant, uint256 number);
    /// @notice Only the inviter `inviter` may revoke invitation `invitation`; `caller` tried.
    error NotInviter(bytes32 invitation, address caller, address inviter);
    /// @notice A kiez proposal is exactly one call (`calls` were given) of this contract.
    error OneCallPerProposal(uint256 calls);
    /// @notice propose() accepts only a call of one of this contract's decision functions (addMember,
    /// removeMember, hidePost, unhidePost, changeRules, setCharter, grantModerator, revokeModerator,
    /// setMediaPolicy, setGuestPolicy) on this contract, with value 0 and exactly its arguments.
    error UnsupportedCall(address target, uint256 value, bytes4 selector);
    /// @notice Proposals are never queued (no timelock) or canceled in kiez.
    error NotSupported();
    /// @notice getVotes and quorum answer for past and present times only.
    error FutureLookup(uint256 timepoint, uint48 clock);

    // ------------------------------------------------------------------ modifiers

    /// @dev Membership is checked before anything about the proposal itself, so a non-member
    /// always learns first that they are not a member.
    modifier onlyMember() {
        _requireMember(msg.sender);
        _;
    }

    /// @dev A decision function runs only as the execution of a proposal that passed.
    modifier onlyGovernance() {
        if (msg.sender != address(this)) revert GovernorOnlyExecutor(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ construction

    /// @param name_ Community name; also the EIP-712 domain name of signed ballots.
    /// @param founders Founding members (at least one, no duplicates).
    /// @param quorumPct Percent of eligible members that must vote (for, against or abstain): 1..100.
    /// @param thresholdPct Percent of for+against votes that must be for: 50..100 (and for > against).
    /// @param period Seconds a proposal stays open: MIN_VOTING_PERIOD..MAX_VOTING_PERIOD.
    /// @param charter Hash of the community's rules text (may be zero).
    constructor(
        string memory name_,
        address[] memory founders,
        uint8 quorumPct,
        uint8 thresholdPct,
        uint32 period,
        bytes32 charter
    ) EIP712(name_, PROTOCOL_VERSION) {
        if (founders.length == 0) revert NoFounders();
        _checkRules(quorumPct, thresholdPct, period);
        deploymentBlock = block.number;
        _origin = block.timestamp;
        _config = Config({
            proposalCount: 0,
            memberCount: 0,
            nextJoinIndex: 0,
            accountCount: 0,
            quorumPct: quorumPct,
            thresholdPct: thresholdPct,
            votingPeriod: period,
            maxAttachments: _MAX_ATTACHMENTS,
            maxAttachmentKiB: _MAX_ATTACHMENT_KIB,
            guestInviters: 0,
            maxGuestPassSeconds: _DEFAULT_GUEST_PASS_SECONDS
        });
        emit RulesChanged(0, 0, quorumPct, 0, thresholdPct, 0, period);
        // Nodes build the policy from events alone, so the default is announced like a vote's.
        emit MediaPolicyChanged(0, 0, _MAX_ATTACHMENTS, 0, _MAX_ATTACHMENT_KIB);
        for (uint256 i = 0; i < founders.length; ++i) {
            address founder = founders[i];
            if (founder == address(0)) revert ZeroAddress();
            if (_members[founder].active) revert DuplicateFounder(founder);
            _members[founder].account = _newAccount(founder);
            // Others' ledgers are allocated by their join requests (_fileRequest).
            _ledgers[founder].allocated = 1;
            _addMember(founder, 0);
        }
        if (charter != bytes32(0)) {
            _charterHash = charter;
            emit CharterChanged(0, bytes32(0), charter);
        }
    }

    // ------------------------------------------------------------------ membership

    /// @notice Ask to join. Members see the request and may propose to add you.
    /// @dev Refused (MemberLimitReached, ProposalLimitReached) once no admission could ever pass,
    /// so that nobody pays for a request that can never be granted. The request also allocates the
    /// applicant's account record and vote bitmap, so that their admission and votes write no fresh
    /// storage slot: who asks to join pays for their own storage.
    /// @param introHash Hash of a short introduction text (the text itself travels off-chain).
    function requestToJoin(bytes32 introHash) external {
        if (_members[msg.sender].active) revert AlreadyMember(msg.sender);
        _checkLimits();
        _fileRequest(msg.sender, introHash);
    }

    /// @notice File `applicant`'s join request from their EIP-712 JoinRequest signature under a
    /// member's signed invitation, and open the AddMember proposal for them with the inviter as
    /// proposer (the invitation is the inviter's endorsement). Anyone may send it and pay for it;
    /// every field is signed, so the sender can change nothing.
    /// @dev Consumes `nonces(applicant)`. The inviter must be a member now; the invitation must not
    /// be expired, revoked or used up. A second request while the first one's proposal is open (or
    /// passed, awaiting execution) is refused (JoinAlreadyRequested); after a defeat it is allowed.
    /// @param applicant The newcomer; needs no balance.
    /// @param introHash Hash of their introduction text.
    /// @param invitation The inviter's invitation.
    /// @param invitationSignature The inviter's signature of `invitation`.
    /// @param deadline Last second at which the applicant's signature is accepted.
    /// @param applicantSignature The applicant's signature of the JoinRequest.
    /// @return proposalId The AddMember proposal opened for the applicant.
    function requestToJoinBySig(
        address applicant,
        bytes32 introHash,
        Invitation calldata invitation,
        bytes calldata invitationSignature,
        uint256 deadline,
        bytes calldata applicantSignature
    ) external returns (uint256 proposalId) {
        // Signed deadlines span minutes to days; a block producer's seconds of timestamp leeway change
        // nothing.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        bytes32 id = invitationId(invitation);
        uint48 nonce = _ledgers[applicant].nonce;
        bytes32 structHash = keccak256(
            abi.encode(JOIN_REQUEST_TYPEHASH, applicant, introHash, id, uint256(nonce), deadline)
        );
        _requireSigner(_hashTypedDataV4(structHash), applicantSignature, applicant);
        _ledgers[applicant].nonce = nonce + 1;
        uint32 uses = _useInvitation(id, invitation, invitationSignature);
        if (_members[applicant].active) revert AlreadyMember(applicant);
        _checkCanRequest(applicant);
        _fileRequest(applicant, introHash);
        emit InvitationUsed(id, invitation.inviter, applicant, uses);
        address inviter = invitation.inviter;
        bytes memory data = abi.encodeCall(this.addMember, (applicant));
        proposalId = _openProposal(data, "", ProposalKind.AddMember, address(0), inviter, true);
        _requestProposals[applicant] = proposalId;
    }

    /// @notice Revoke one of your invitations: it admits no further join requests (those it
    /// already admitted stay). Works after you left.
    function revokeInvitation(Invitation calldata invitation) external {
        bytes32 id = invitationId(invitation);
        if (msg.sender != invitation.inviter) revert NotInviter(id, msg.sender, invitation.inviter);
        InvitationState storage st = _invitations[id];
        if (st.revoked) revert InvitationIsRevoked(id);
        st.revoked = true;
        emit InvitationRevoked(id, invitation.inviter);
    }

    /// @notice Withdraw your own join request.
    function withdrawJoinRequest() external {
        Member storage m = _members[msg.sender];
        if (m.requestedAt == 0) revert NoJoinRequest(msg.sender);
        m.requestedAt = 0;
        emit JoinRequestWithdrawn(msg.sender);
    }

    /// @notice Leave the community at once. Your app keys stay registered but nodes refuse new
    /// messages from non-members; you lose your vote on every open proposal. The last member
    /// cannot leave (LastMember): someone must remain who can admit others.
    function leaveCommunity() external {
        _requireMember(msg.sender);
        if (_config.memberCount == 1) revert LastMember(msg.sender);
        _dropMember(msg.sender, 0);
        emit MemberLeft(msg.sender);
    }

    // ------------------------------------------------------------------ app keys

    /// @notice Authorise an ed25519 public key to sign posts on your behalf. A key can be
    /// registered once, ever: a revoked key never comes back, and nobody else can claim it.
    function addKey(bytes32 key) external {
        _addKey(msg.sender, key);
    }

    /// @notice Authorise `key` for member `owner` from their EIP-712 AddKey signature; anyone may
    /// send it and pay for it, and can change nothing that was signed.
    /// @dev Consumes `nonces(owner)`.
    /// @param owner The member whose key it becomes; needs no balance.
    /// @param key The ed25519 public key.
    /// @param deadline Last second at which the signature is accepted.
    /// @param signature The owner's signature of the AddKey.
    function addKeyBySig(address owner, bytes32 key, uint256 deadline, bytes calldata signature) external {
        // Signed deadlines span minutes to days; a block producer's seconds of timestamp leeway change
        // nothing.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        uint48 nonce = _ledgers[owner].nonce;
        bytes32 structHash = keccak256(abi.encode(ADD_KEY_TYPEHASH, owner, key, uint256(nonce), deadline));
        _requireSigner(_hashTypedDataV4(structHash), signature, owner);
        _ledgers[owner].nonce = nonce + 1;
        _addKey(owner, key);
    }

    /// @notice Revoke one of your app keys; needs no vote, and works after you left.
    /// Posts it signed before now stay valid; later ones are refused.
    function revokeKey(bytes32 key) external {
        AppKey storage k = _appKeys[key];
        address owner = k.owner;
        if (owner == address(0)) revert UnknownKey(key);
        if (owner != msg.sender) revert NotKeyOwner(key, msg.sender, owner);
        if (k.revokedAt != 0) revert KeyAlreadyRevoked(key, k.revokedAt);
        k.revokedAt = uint48(block.timestamp);
        emit KeyRevoked(owner, key);
    }

    // ------------------------------------------------------------------ moderation

    /// @notice A moderator hides a post at once; the hide is logged and any member may propose to
    /// overturn it (UnhidePost).
    function moderatorHide(bytes32 postId, string calldata reason) external {
        Member memory m = _members[msg.sender];
        // Flags of the Member record, no time: Slither taints the record, which stores joinedAt.
        // slither-disable-next-line timestamp
        if (!m.active || !m.moderator) revert NotModerator(msg.sender);
        if (_hidden[postId]) revert PostAlreadyHidden(postId);
        _hidden[postId] = true;
        emit PostHidden(postId, msg.sender, 0, reason);
    }

    // ------------------------------------------------------------------ proposals

    /// @notice IGovernor: propose exactly one call (`targets = [this]`, `values = [0]`) of one of
    /// this contract's decision functions; anything else is refused (UnsupportedCall). Members only.
    function propose(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description
    ) external returns (uint256) {
        _requireMember(msg.sender);
        if (targets.length != values.length || targets.length != calldatas.length) {
            revert GovernorInvalidProposalLength(targets.length, calldatas.length, values.length);
        }
        if (targets.length != 1) revert OneCallPerProposal(targets.length);
        bytes memory data = calldatas[0];
        if (targets[0] != address(this) || values[0] != 0) revert UnsupportedCall(targets[0], values[0], bytes4(data));
        (ProposalKind kind, address removed) = _checkDecision(data);
        return _openProposal(data, description, kind, removed, msg.sender, false);
    }

    // ------------------------------------------------------------------ voting

    /// @notice Vote on `proposalId`: 0 against, 1 for, 2 abstain. Returns the weight (always 1).
    function castVote(uint256 proposalId, uint8 support) external returns (uint256) {
        return _castVote(proposalId, msg.sender, support, "");
    }

    /// @notice Vote with a reason that is recorded in the VoteCast event.
    function castVoteWithReason(
        uint256 proposalId,
        uint8 support,
        string calldata reason
    ) external returns (uint256) {
        return _castVote(proposalId, msg.sender, support, reason);
    }

    /// @notice IGovernor: as castVoteWithReason; kiez counts no params, so `params` must be empty.
    function castVoteWithReasonAndParams(
        uint256 proposalId,
        uint8 support,
        string calldata reason,
        bytes calldata params
    ) external returns (uint256) {
        if (params.length != 0) revert GovernorInvalidVoteParams();
        return _castVote(proposalId, msg.sender, support, reason);
    }

    /// @notice Cast `voter`'s vote from an EIP-712 Ballot signature; anyone may relay it.
    /// @dev The ballot carries the voter's current nonce, which this call consumes.
    function castVoteBySig(
        uint256 proposalId,
        uint8 support,
        address voter,
        bytes calldata signature
    ) external returns (uint256) {
        uint48 nonce = _ledgers[voter].nonce;
        bytes32 structHash = keccak256(abi.encode(BALLOT_TYPEHASH, proposalId, support, voter, uint256(nonce)));
        _requireSigner(_hashTypedDataV4(structHash), signature, voter);
        _ledgers[voter].nonce = nonce + 1;
        return _castVote(proposalId, voter, support, "");
    }

    /// @notice IGovernor: cast `voter`'s vote with a reason from an EIP-712 ExtendedBallot
    /// signature; `params` must be empty.
    function castVoteWithReasonAndParamsBySig(
        uint256 proposalId,
        uint8 support,
        address voter,
        string calldata reason,
        bytes calldata params,
        bytes calldata signature
    ) external returns (uint256) {
        if (params.length != 0) revert GovernorInvalidVoteParams();
        uint48 nonce = _ledgers[voter].nonce;
        bytes32 structHash = keccak256(
            abi.encode(
                EXTENDED_BALLOT_TYPEHASH,
                proposalId,
                support,
                voter,
                uint256(nonce),
                keccak256(bytes(reason)),
                keccak256(params)
            )
        );
        _requireSigner(_hashTypedDataV4(structHash), signature, voter);
        _ledgers[voter].nonce = nonce + 1;
        return _castVote(proposalId, voter, support, reason);
    }

    /// @notice IGovernor: execute a proposal that succeeded, given as proposed. Anyone may call it,
    /// once; it makes the proposal's one call, to this contract.
    // IGovernor declares execute payable, so it is; it refuses any value (GovernorDisabledDeposit),
    // and the contract has no receive or fallback function, so no call leaves ether in it.
    // slither-disable-next-line locked-ether
    function execute(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        bytes32 descriptionHash
    ) external payable returns (uint256 proposalId) {
        if (msg.value != 0) revert GovernorDisabledDeposit();
        proposalId = _hashProposal(targets, values, calldatas, descriptionHash);
        ProposalCore storage p = _proposals[proposalId];
        ProposalCore memory core = p;
        if (core.number == 0) revert GovernorNonexistentProposal(proposalId);
        ProposalState current = _state(core);
        if (current != ProposalState.Succeeded) revert NotExecutable(core.number, current);
        p.flags = core.flags | _EXECUTED;
        // Before the decision's own events, as kiez always emitted it (OpenZeppelin emits it after
        // its calls; both are in the same transaction, and a failing call reverts both).
        emit ProposalExecuted(proposalId);
        _executing = proposalId;
        // The id commits to targets = [this], values = [0] and one decision call (see propose).
        (bool ok, bytes memory returned) = address(this).call(calldatas[0]);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(returned, 32), mload(returned))
            }
        }
    }

    /// @notice IGovernor: proposals need no queuing in kiez (no timelock); always refused.
    function queue(address[] calldata, uint256[] calldata, bytes[] calldata, bytes32) external pure returns (uint256) {
        revert NotSupported();
    }

    /// @notice IGovernor: kiez proposals cannot be canceled; always refused.
    function cancel(address[] calldata, uint256[] calldata, bytes[] calldata, bytes32) external pure returns (uint256) {
        revert NotSupported();
    }

    /// @notice IGovernor: the id of a proposal (keccak256 of the abi-encoded arguments, as in
    /// OpenZeppelin's Governor).
    function hashProposal(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        bytes32 descriptionHash
    ) external pure returns (uint256) {
        return _hashProposal(targets, values, calldatas, descriptionHash);
    }

    /// @notice IGovernor: the id of a proposal, as hashProposal.
    function getProposalId(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        bytes32 descriptionHash
    ) external pure returns (uint256) {
        return _hashProposal(targets, values, calldatas, descriptionHash);
    }

    /// @notice The id of `invitation`: its EIP-712 struct hash (what applicants sign and what
    /// invitationUses and the invitation events are keyed by).
    function invitationId(Invitation calldata invitation) public pure returns (bytes32) {
        return keccak256(
            abi.encode(INVITATION_TYPEHASH, invitation.inviter, invitation.nonce, invitation.expiry, invitation.maxUses)
        );
    }

    // ------------------------------------------------------------------ decisions

    /// @notice Decision: admit `account`, who asked to join. Only through a passed proposal.
    function addMember(address account) external onlyGovernance {
        _checkAdd(account);
        _addMember(account, _executing);
    }

    /// @notice Decision: remove member `account`. Only through a passed proposal.
    function removeMember(address account) external onlyGovernance {
        // Members may have left since the vote; a vote never takes the community below two.
        _checkRemove(account);
        uint256 id = _executing;
        _dropMember(account, id);
        emit MemberRemoved(account, id);
    }

    /// @notice Decision: hide post `postId`. Only through a passed proposal.
    function hidePost(bytes32 postId) external onlyGovernance {
        if (_hidden[postId]) revert PostAlreadyHidden(postId);
        _hidden[postId] = true;
        emit PostHidden(postId, address(0), _executing, "");
    }

    /// @notice Decision: show hidden post `postId` again. Only through a passed proposal.
    function unhidePost(bytes32 postId) external onlyGovernance {
        if (!_hidden[postId]) revert PostNotHidden(postId);
        _hidden[postId] = false;
        emit PostUnhidden(postId, _executing);
    }

    /// @notice Decision: new voting rules, for proposals created from now on.
    function changeRules(uint8 quorumPct, uint8 thresholdPct, uint32 period) external onlyGovernance {
        _checkRules(quorumPct, thresholdPct, period);
        Config memory c = _config;
        _config.quorumPct = quorumPct;
        _config.thresholdPct = thresholdPct;
        _config.votingPeriod = period;
        _recordElectorate(c.memberCount, quorumPct);
        emit RulesChanged(_executing, c.quorumPct, quorumPct, c.thresholdPct, thresholdPct, c.votingPeriod, period);
    }

    /// @notice Decision: a new charter (hash of the community's rules text).
    function setCharter(bytes32 newCharterHash) external onlyGovernance {
        bytes32 old = _charterHash;
        _charterHash = newCharterHash;
        emit CharterChanged(_executing, old, newCharterHash);
    }

    /// @notice Decision: make member `account` a moderator.
    function grantModerator(address account) external onlyGovernance {
        _checkGrant(account);
        _members[account].moderator = true;
        emit ModeratorGranted(account, _executing);
    }

    /// @notice Decision: take moderator rights from `account`.
    function revokeModerator(address account) external onlyGovernance {
        _checkRevoke(account);
        _members[account].moderator = false;
        emit ModeratorRevoked(account, _executing);
    }

    /// @notice Decision: a new media policy: how many attachments a post may carry (0..4) and how
    /// large each may be (1..2048 KiB). It applies to posts signed after execution; nodes never
    /// accept more than the protocol's ceiling, so only lower caps can be voted.
    function setMediaPolicy(uint8 maxAttachments, uint32 maxAttachmentKiB) external onlyGovernance {
        _checkMediaPolicy(maxAttachments, maxAttachmentKiB);
        Config memory c = _config;
        _config.maxAttachments = maxAttachments;
        _config.maxAttachmentKiB = maxAttachmentKiB;
        emit MediaPolicyChanged(_executing, c.maxAttachments, maxAttachments, c.maxAttachmentKiB, maxAttachmentKiB);
    }

    /// @notice Decision: who may invite guests (`inviters`: 0 any member, 1 moderators only) and
    /// the longest guest pass in seconds (at most MAX_GUEST_PASS_SECONDS; 0: no passes).
    function setGuestPolicy(uint8 inviters, uint32 maxPassSeconds) external onlyGovernance {
        _checkGuestPolicy(inviters, maxPassSeconds);
        _config.guestInviters = inviters;
        _config.maxGuestPassSeconds = maxPassSeconds;
        emit GuestPolicyChanged(inviters, maxPassSeconds);
    }

    // ------------------------------------------------------------------ views

    /// @notice Community name (the EIP-712 domain name).
    function name() external view returns (string memory) {
        return _EIP712Name();
    }

    /// @notice EIP-712 domain version (the kiez protocol version).
    function version() external pure returns (string memory) {
        return PROTOCOL_VERSION;
    }

    /// @notice ERC-165: IGovernor and ERC-165 itself.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IGovernor).interfaceId || interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IERC6372).interfaceId;
    }

    /// @notice ERC-6372 clock: seconds.
    function clock() public view returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372 clock mode.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice IGovernor counting mode: Bravo support values; all three count toward quorum.
    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() external pure returns (string memory) {
        return "support=bravo&quorum=for,against,abstain";
    }

    /// @notice Current EIP-712 domain separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice How often invitation `invitation` was used, and whether its inviter revoked it.
    function invitationUses(bytes32 invitation) external view returns (uint32 uses, bool revoked) {
        InvitationState memory st = _invitations[invitation];
        return (st.uses, st.revoked);
    }

    /// @notice Next EIP-712 nonce of `account` (ballots, join requests and key authorisations).
    function nonces(address account) external view returns (uint256) {
        return _ledgers[account].nonce;
    }

    /// @notice Whether `account` is currently a member.
    function isMember(address account) external view returns (bool) {
        return _members[account].active;
    }

    /// @notice Number of current members.
    function memberCount() external view returns (uint256) {
        return _config.memberCount;
    }

    /// @notice Membership record of `account` (all zero for someone who never joined).
    function memberInfo(
        address account
    ) external view returns (bool active, bool moderator, uint256 joinIndex, uint256 joinedAt) {
        Member memory m = _members[account];
        return (m.active, m.moderator, m.joinIndex, m.joinedAt);
    }

    /// @notice Whether `account` is a member with moderator rights.
    function isModerator(address account) external view returns (bool) {
        Member memory m = _members[account];
        // Flags of the Member record, no time: Slither taints the record, which stores joinedAt.
        // slither-disable-next-line timestamp
        return m.active && m.moderator;
    }

    /// @notice The pending join request of `applicant` (requestedAt 0: none).
    function joinRequest(address applicant) external view returns (bytes32 introHash, uint256 requestedAt) {
        uint256 since = _members[applicant].requestedAt;
        // A sentinel: requestedAt is 0 only when there is no request, as a block's timestamp is never 0.
        // slither-disable-next-line incorrect-equality,timestamp
        return since == 0 ? (bytes32(0), 0) : (_introHashes[applicant], since);
    }

    /// @notice Owner and state of an app key. `active` is true while it is not revoked; whether the
    /// owner is still a member is a separate question (isMember).
    function keyInfo(
        bytes32 key
    ) external view returns (address owner, bool active, uint256 addedAt, uint256 revokedAt) {
        AppKey memory k = _appKeys[key];
        // A sentinel: revokedAt is 0 until revoked, as a block's timestamp is never 0.
        // slither-disable-next-line incorrect-equality,timestamp
        return (k.owner, k.owner != address(0) && k.revokedAt == 0, k.addedAt, k.revokedAt);
    }

    /// @notice Whether `postId` is hidden.
    function isHidden(bytes32 postId) external view returns (bool) {
        return _hidden[postId];
    }

    /// @notice Current rules.
    /// @return quorumPct Percent of eligible members that must vote.
    /// @return thresholdPct Percent of for+against votes that must be for.
    /// @return period Seconds a new proposal stays open.
    function rules() external view returns (uint8 quorumPct, uint8 thresholdPct, uint32 period) {
        Config memory c = _config;
        return (c.quorumPct, c.thresholdPct, c.votingPeriod);
    }

    /// @notice Current media policy: the caps every post's attachments must respect.
    /// @return maxAttachments Attachments a post may carry.
    /// @return maxAttachmentKiB Size cap of one attachment, in KiB.
    function mediaPolicy() external view returns (uint8 maxAttachments, uint32 maxAttachmentKiB) {
        Config memory c = _config;
        return (c.maxAttachments, c.maxAttachmentKiB);
    }

    /// @notice Current guest policy (until the first vote: any member invites, passes of 7 days).
    function guestPolicy() external view returns (uint8 inviters, uint32 maxPassSeconds) {
        Config memory c = _config;
        return (c.guestInviters, c.maxGuestPassSeconds);
    }

    /// @notice IGovernor: seconds between proposal and start of voting (always 0).
    function votingDelay() external pure returns (uint256) {
        return 0;
    }

    /// @notice IGovernor: seconds a new proposal stays open.
    function votingPeriod() external view returns (uint256) {
        return _config.votingPeriod;
    }

    /// @notice IGovernor: votes needed to propose: 1, that is, members propose.
    function proposalThreshold() external pure returns (uint256) {
        return 1;
    }

    /// @notice IGovernor: votes needed for quorum by the rules and membership in force at
    /// `timepoint` (a removal's electorate is one smaller: its subject does not vote).
    function quorum(uint256 timepoint) external view returns (uint256) {
        _requireNotFuture(timepoint);
        uint256 packed = _electorate.upperLookup(uint48(timepoint));
        return (uint256(uint24(packed)) * uint8(packed >> 24) + 99) / 100;
    }

    /// @notice IGovernor: 1 if `account` was a member at `timepoint`, else 0.
    function getVotes(address account, uint256 timepoint) public view returns (uint256) {
        _requireNotFuture(timepoint);
        Member memory m = _members[account];
        if (m.joinedAt != 0 && timepoint >= m.joinedAt) return m.active || timepoint < _ledgers[account].leftAt ? 1 : 0;
        return _pastMembership[account].upperLookup(uint48(timepoint));
    }

    /// @notice IGovernor: as getVotes (kiez counts no params).
    function getVotesWithParams(address account, uint256 timepoint, bytes calldata) external view returns (uint256) {
        return getVotes(account, timepoint);
    }

    /// @notice Hash of the community's rules text.
    function charterHash() external view returns (bytes32) {
        return _charterHash;
    }

    /// @notice Number of proposals ever created; their numbers run from 1 to this.
    function proposalCount() external view returns (uint256) {
        return _config.proposalCount;
    }

    /// @notice IGovernor: state of `proposalId` (GovernorNonexistentProposal for an unknown id).
    function state(uint256 proposalId) external view returns (ProposalState) {
        return _state(_existing(proposalId));
    }

    /// @notice IGovernor: when the proposal was created (its electorate is fixed at that moment);
    /// 0 for an unknown id.
    function proposalSnapshot(uint256 proposalId) external view returns (uint256) {
        ProposalCore memory core = _proposals[proposalId];
        return core.number == 0 ? 0 : _origin + core.start;
    }

    /// @notice IGovernor: last second at which votes are accepted; 0 for an unknown id.
    function proposalDeadline(uint256 proposalId) external view returns (uint256) {
        ProposalCore memory core = _proposals[proposalId];
        return core.number == 0 ? 0 : _voteEnd(core);
    }

    /// @notice IGovernor: who proposed `proposalId` (the inviter, for a by-signature join request);
    /// address(0) for an unknown id.
    function proposalProposer(uint256 proposalId) external view returns (address) {
        return _accounts[_proposals[proposalId].proposer];
    }

    /// @notice IGovernor: kiez proposals are never queued: 0.
    function proposalEta(uint256) external pure returns (uint256) {
        return 0;
    }

    /// @notice IGovernor: kiez proposals are never queued: false.
    function proposalNeedsQueuing(uint256) external pure returns (bool) {
        return false;
    }

    /// @notice IGovernor (GovernorCountingSimple): tallies in Bravo order; zeros for an unknown id.
    function proposalVotes(
        uint256 proposalId
    ) external view returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes) {
        ProposalCore memory core = _proposals[proposalId];
        return (core.againstVotes, core.forVotes, core.abstainVotes);
    }

    /// @notice IGovernor: whether `account` voted on `proposalId` (false for an unknown id).
    function hasVoted(uint256 proposalId, address account) external view returns (bool) {
        uint256 number = _proposals[proposalId].number;
        if (number == 0) return false;
        Member memory m = _members[account];
        uint256 word = number / _IDS_PER_WORD;
        // Which word of vote bits holds the number, no time: Slither taints the Member record, which
        // stores times.
        // slither-disable-next-line incorrect-equality,timestamp
        uint256 bits = word == m.voteWord ? m.voteBits : _votedBits[account][word];
        return bits & _voteBit(number) != 0;
    }

    /// @notice Whether `account` is entitled to vote on `proposalId`: a member who joined before it
    /// was created and is not the subject of this removal (whether voting is still open is state()).
    function canVote(uint256 proposalId, address account) external view returns (bool) {
        ProposalCore memory core = _existing(proposalId);
        Member memory m = _members[account];
        return m.active && m.joinIndex < core.memberEpoch && !_isRemovalOf(proposalId, core, account);
    }

    /// @notice Everything about one proposal.
    function getProposal(uint256 proposalId) external view returns (ProposalView memory) {
        ProposalCore memory core = _existing(proposalId);
        return ProposalView({
            id: proposalId,
            number: core.number,
            kind: _kind(core),
            state: _state(core),
            voteStart: _origin + core.start,
            voteEnd: _voteEnd(core),
            againstVotes: core.againstVotes,
            forVotes: core.forVotes,
            abstainVotes: core.abstainVotes,
            eligibleVoters: core.eligible,
            quorumPct: core.quorumPct,
            thresholdPct: core.thresholdPct
        });
    }

    // ------------------------------------------------------------------ internals

    /// @dev Opens a proposal of the one decision `call` in `proposer`'s name (the sender, or the
    /// inviter of a by-signature join request); the caller checked that the proposer may propose.
    /// An id that exists is refused as in OpenZeppelin, except for a by-signature join request
    /// (`rename`), whose proposal then adds its number to the description.
    function _openProposal(
        bytes memory data,
        string memory description,
        ProposalKind kind,
        address removed,
        address proposer,
        bool rename
    ) private returns (uint256 id) {
        Config memory c = _config;
        uint256 number = uint256(c.proposalCount) + 1;
        if (number > _MAX_PROPOSALS) revert ProposalLimitReached(_MAX_PROPOSALS);
        address[] memory targets = new address[](1);
        targets[0] = address(this);
        uint256[] memory values = new uint256[](1);
        bytes[] memory calldatas = new bytes[](1);
        calldatas[0] = data;
        id = uint256(keccak256(abi.encode(targets, values, calldatas, keccak256(bytes(description)))));
        if (_proposals[id].number != 0) {
            if (!rename) revert GovernorUnexpectedProposalState(id, _state(_proposals[id]), bytes32(0));
            description = string.concat(description, " (proposal ", Strings.toString(number), ")");
            id = uint256(keccak256(abi.encode(targets, values, calldatas, keccak256(bytes(description)))));
            if (_proposals[id].number != 0) revert GovernorUnexpectedProposalState(id, _state(_proposals[id]), 0);
        }
        _config.proposalCount = uint24(number);
        uint256 start;
        unchecked {
            start = block.timestamp - _origin; // the clock never runs back past the deployment
        }
        // The subject of a removal (a member, checked by the caller) does not vote on it.
        uint24 eligible = c.memberCount;
        if (removed != address(0)) {
            eligible -= 1;
            _removalSubjects[id] = removed;
        }
        _storeNewProposal(
            _proposals[id],
            ProposalCore({
                start: uint32(start),
                duration: c.votingPeriod,
                number: uint24(number),
                forVotes: 0,
                againstVotes: 0,
                abstainVotes: 0,
                memberEpoch: c.nextJoinIndex,
                eligible: eligible,
                quorumPct: c.quorumPct,
                thresholdPct: c.thresholdPct,
                proposer: _members[proposer].account,
                flags: uint8(kind)
            })
        );
        uint256 voteStart = block.timestamp;
        uint256 voteEnd;
        unchecked {
            voteEnd = voteStart + c.votingPeriod;
        }
        emit ProposalCreated(id, proposer, targets, values, new string[](1), calldatas, voteStart, voteEnd, description);
        emit ProposalNumbered(number, id, eligible);
    }

    /// @dev Writes a new proposal's record with one SSTORE. The compiler writes a struct literal
    /// field by field, a read and a write per field (about 2,000 gas for ProposalCore's twelve).
    /// The shifts follow Solidity's packing: the first field in the lowest bits. The tallies of a
    /// new proposal are 0.
    function _storeNewProposal(ProposalCore storage p, ProposalCore memory c) private {
        uint256 word = uint256(c.start) |
            (uint256(c.duration) << 32) |
            (uint256(c.number) << 64) |
            (uint256(c.memberEpoch) << 160) |
            (uint256(c.eligible) << 184) |
            (uint256(c.quorumPct) << 208) |
            (uint256(c.thresholdPct) << 216) |
            (uint256(c.proposer) << 224) |
            (uint256(c.flags) << 248);
        assembly ("memory-safe") {
            sstore(p.slot, word)
        }
    }

    function _hashProposal(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        bytes32 descriptionHash
    ) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(targets, values, calldatas, descriptionHash)));
    }

    /// @dev Which decision `data` is, checked as its execution would check it now (so that nobody
    /// votes on what could not be executed). Returns the member a removal is about.
    function _checkDecision(bytes memory data) private view returns (ProposalKind kind, address removed) {
        bytes4 selector = bytes4(data);
        uint256 arg0 = _arg(data, 0);
        if (selector == this.addMember.selector && _args(data, 1) && arg0 >> 160 == 0) {
            _checkAdd(address(uint160(arg0)));
            return (ProposalKind.AddMember, address(0));
        }
        if (selector == this.removeMember.selector && _args(data, 1) && arg0 >> 160 == 0) {
            removed = address(uint160(arg0));
            _checkRemove(removed);
            return (ProposalKind.RemoveMember, removed);
        }
        if (selector == this.hidePost.selector && _args(data, 1)) {
            if (_hidden[bytes32(arg0)]) revert PostAlreadyHidden(bytes32(arg0));
            return (ProposalKind.HidePost, address(0));
        }
        if (selector == this.unhidePost.selector && _args(data, 1)) {
            if (!_hidden[bytes32(arg0)]) revert PostNotHidden(bytes32(arg0));
            return (ProposalKind.UnhidePost, address(0));
        }
        if (selector == this.setCharter.selector && _args(data, 1)) return (ProposalKind.SetCharter, address(0));
        if (selector == this.grantModerator.selector && _args(data, 1) && arg0 >> 160 == 0) {
            _checkGrant(address(uint160(arg0)));
            return (ProposalKind.GrantModerator, address(0));
        }
        if (selector == this.revokeModerator.selector && _args(data, 1) && arg0 >> 160 == 0) {
            _checkRevoke(address(uint160(arg0)));
            return (ProposalKind.RevokeModerator, address(0));
        }
        uint256 arg1 = _arg(data, 1);
        if (selector == this.changeRules.selector && _args(data, 3) && arg0 >> 8 == 0 && arg1 >> 8 == 0) {
            uint256 period = _arg(data, 2);
            if (period >> 32 == 0) {
                _checkRules(uint8(arg0), uint8(arg1), uint32(period));
                return (ProposalKind.ChangeRules, address(0));
            }
        }
        if (selector == this.setMediaPolicy.selector && _args(data, 2) && arg0 >> 8 == 0 && arg1 >> 32 == 0) {
            _checkMediaPolicy(uint8(arg0), uint32(arg1));
            return (ProposalKind.SetMediaPolicy, address(0));
        }
        if (selector == this.setGuestPolicy.selector && _args(data, 2) && arg0 >> 8 == 0 && arg1 >> 32 == 0) {
            _checkGuestPolicy(uint8(arg0), uint32(arg1));
            return (ProposalKind.SetGuestPolicy, address(0));
        }
        revert UnsupportedCall(address(this), 0, selector);
    }

    /// @dev Whether `call` is a selector and exactly `count` words of arguments.
    function _args(bytes memory data, uint256 count) private pure returns (bool) {
        unchecked {
            return data.length == 4 + 32 * count; // count is 1, 2 or 3
        }
    }

    /// @dev Argument word `i` of `call` (0 past its end).
    function _arg(bytes memory data, uint256 i) private pure returns (uint256 word) {
        unchecked {
            if (data.length < 36 + 32 * i) return 0; // i is 0, 1 or 2
        }
        assembly ("memory-safe") {
            word := mload(add(add(data, 36), mul(i, 32)))
        }
    }

    function _castVote(
        uint256 proposalId,
        address voter,
        uint8 support,
        string memory reason
    ) private returns (uint256) {
        ProposalCore storage p = _proposals[proposalId];
        ProposalCore memory core = p;
        if (core.number == 0) revert GovernorNonexistentProposal(proposalId);
        ProposalState current = _state(core);
        if (current != ProposalState.Active) revert VotingClosed(core.number, current, _voteEnd(core));
        Member memory m = _members[voter];
        if (!m.active) revert NotAMember(voter);
        if (m.joinIndex >= core.memberEpoch) revert NotEligible(core.number, voter, m.joinedAt, _origin + core.start);
        // The kind is tested here first so that a vote on any other proposal skips the lookup.
        if (_isRemovalOf(proposalId, core, voter)) revert VoteOnOwnRemoval(core.number, voter);

        _recordVote(voter, m, core.number);

        // Unchecked: a tally is at most the electorate, which is below 2**24 (_MAX_MEMBERS_EVER).
        unchecked {
            if (support == uint8(VoteType.For)) {
                p.forVotes = core.forVotes + 1;
            } else if (support == uint8(VoteType.Against)) {
                p.againstVotes = core.againstVotes + 1;
            } else if (support == uint8(VoteType.Abstain)) {
                p.abstainVotes = core.abstainVotes + 1;
            } else {
                revert InvalidVoteType(support);
            }
        }
        emit VoteCast(voter, proposalId, support, 1, reason);
        return 1;
    }

    /// @dev The whole rule set. A proposal succeeds when (a) at least quorumPct percent of its
    /// eligible members voted, (b) for*100 >= thresholdPct*(for+against), (c) for > against and,
    /// for a removal, (d) for >= _MIN_REMOVAL_VOTES (its subject is not among the eligible).
    /// Before the deadline it is decided early once the outstanding votes (eligible - cast) can no
    /// longer change that outcome in either direction.
    // Voting periods are timed by design (ERC-6372 mode=timestamp, 60 s or more): a block producer's
    // seconds of timestamp leeway move the close of a vote by those seconds only.
    // slither-disable-next-line timestamp
    function _state(ProposalCore memory core) private view returns (ProposalState) {
        if (core.flags & _EXECUTED != 0) return ProposalState.Executed;
        // Unchecked: tallies and the electorate are below 2**24 and percentages at most 100, so
        // nothing here comes near 2**256.
        unchecked {
        uint256 yes = core.forVotes;
        uint256 no = core.againstVotes;
        uint256 cast = yes + no + core.abstainVotes;
        bool quorumReached = cast * 100 >= uint256(core.eligible) * core.quorumPct;
        if (block.timestamp > _voteEnd(core)) {
            return quorumReached && _approved(yes, no, core.thresholdPct)
                ? _removalFloor(core, yes, ProposalState.Succeeded)
                : ProposalState.Defeated;
        }
        uint256 outstanding = core.eligible > cast ? core.eligible - cast : 0;
        if (quorumReached && _approved(yes, no + outstanding, core.thresholdPct)) {
            return _removalFloor(core, yes, ProposalState.Succeeded);
        }
        if (!_approved(yes + outstanding, no, core.thresholdPct)) return ProposalState.Defeated;
        return _removalFloor(core, yes + outstanding, ProposalState.Active);
        }
    }

    /// @dev Rule (d): `outcome` stands unless this is a removal whose for votes (`yes`: cast, or at
    /// most reachable while Active) fall short of _MIN_REMOVAL_VOTES. A removal that met (a) to (c)
    /// early with fewer has no vote outstanding, so it is Defeated, not Active.
    function _removalFloor(
        ProposalCore memory core,
        uint256 yes,
        ProposalState outcome
    ) private pure returns (ProposalState) {
        return _kind(core) == ProposalKind.RemoveMember && yes < _MIN_REMOVAL_VOTES ? ProposalState.Defeated : outcome;
    }

    function _approved(uint256 yes, uint256 no, uint256 thresholdPct) private pure returns (bool) {
        unchecked {
            return yes > no && yes * 100 >= thresholdPct * (yes + no);
        }
    }

    function _kind(ProposalCore memory core) private pure returns (ProposalKind) {
        return ProposalKind(core.flags & ~_EXECUTED);
    }

    function _voteEnd(ProposalCore memory core) private view returns (uint256) {
        unchecked {
            return _origin + core.start + core.duration;
        }
    }

    function _newAccount(address account) private returns (uint24 index) {
        index = _config.accountCount + 1;
        _config.accountCount = index;
        _accounts[index] = account;
    }

    /// @dev Records a join request; allocates the account's index and its vote bitmap word for the
    /// proposals to come (sentinel bit 0), so that its admission and votes update existing slots.
    function _fileRequest(address applicant, bytes32 introHash) private {
        Member memory m = _members[applicant];
        // A sentinel: account is 0 until the first join request or founding (indexes start at 1);
        // Slither taints the Member record, which stores times.
        // slither-disable-next-line incorrect-equality,timestamp
        if (m.account == 0) m.account = _newAccount(applicant);
        m.requestedAt = uint40(block.timestamp);
        _members[applicant] = m;
        _introHashes[applicant] = introHash;
        _ledgers[applicant].allocated = 1;
        emit JoinRequested(applicant, introHash);
    }

    // Checkpoints.push returns the history's previous and new values; neither is needed here.
    // slither-disable-next-line unused-return
    function _addMember(address account, uint256 proposalId) private {
        Config memory c = _config;
        if (c.nextJoinIndex == _MAX_MEMBERS_EVER) revert MemberLimitReached(_MAX_MEMBERS_EVER);
        Member memory m = _members[account];
        // A sentinel: joinedAt is 0 only for an account that never joined, as a block's timestamp is
        // never 0.
        // slither-disable-next-line timestamp
        if (m.joinedAt != 0) {
            // Re-joining: the earlier period moves to the account's history.
            Checkpoints.Trace208 storage past = _pastMembership[account];
            past.push(uint48(m.joinedAt), 1);
            past.push(uint48(_ledgers[account].leftAt), 0);
        }
        m.active = true;
        m.moderator = false;
        m.joinIndex = c.nextJoinIndex;
        m.joinedAt = uint40(block.timestamp);
        m.requestedAt = 0;
        _members[account] = m;
        uint24 count = c.memberCount + 1;
        _config.memberCount = count;
        _config.nextJoinIndex = c.nextJoinIndex + 1;
        _recordElectorate(count, c.quorumPct);
        emit MemberAdded(account, proposalId, c.nextJoinIndex);
    }

    function _dropMember(address account, uint256 proposalId) private {
        Member storage m = _members[account];
        if (m.moderator) {
            m.moderator = false;
            emit ModeratorRevoked(account, proposalId);
        }
        m.active = false;
        _ledgers[account].leftAt = uint40(block.timestamp);
        Config memory c = _config;
        _config.memberCount = c.memberCount - 1;
        _recordElectorate(c.memberCount - 1, c.quorumPct);
    }

    function _recordElectorate(uint24 count, uint8 quorumPct) private {
        // Checkpoints.push returns the history's previous and new values; neither is needed here.
        // slither-disable-next-line unused-return
        _electorate.push(uint48(block.timestamp), uint208(count) | (uint208(quorumPct) << 24));
    }

    function _addKey(address owner, bytes32 key) private {
        _requireMember(owner);
        if (key == bytes32(0)) revert InvalidKey();
        address current = _appKeys[key].owner;
        if (current != address(0)) revert KeyAlreadyRegistered(key, current);
        _appKeys[key] = AppKey({owner: owner, addedAt: uint48(block.timestamp), revokedAt: 0});
        emit KeyAdded(owner, key);
    }

    /// @dev Checks the inviter's signature and the invitation's state, and counts one use.
    function _useInvitation(
        bytes32 id,
        Invitation calldata invitation,
        bytes calldata signature
    ) private returns (uint32 uses) {
        address inviter = invitation.inviter;
        _requireSigner(_hashTypedDataV4(id), signature, inviter);
        if (!_members[inviter].active) revert InviterNotMember(inviter);
        // Invitations expire after hours or days; a block producer's seconds of timestamp leeway change
        // nothing.
        // slither-disable-next-line timestamp
        if (block.timestamp > invitation.expiry) revert InvitationExpired(id, invitation.expiry);
        InvitationState memory st = _invitations[id];
        if (st.revoked) revert InvitationIsRevoked(id);
        if (st.uses >= invitation.maxUses) revert InvitationUsedUp(id, invitation.maxUses);
        uses = st.uses + 1;
        _invitations[id].uses = uses;
    }

    function _checkLimits() private view {
        Config memory c = _config;
        if (c.nextJoinIndex == _MAX_MEMBERS_EVER) revert MemberLimitReached(_MAX_MEMBERS_EVER);
        if (c.proposalCount >= _MAX_PROPOSALS) revert ProposalLimitReached(_MAX_PROPOSALS);
    }

    /// @dev The limits requestToJoin checks, and no second by-signature request while the first
    /// one's proposal can still admit the applicant.
    function _checkCanRequest(address applicant) private view {
        _checkLimits();
        uint256 previous = _requestProposals[applicant];
        if (previous != 0) {
            ProposalCore memory core = _proposals[previous];
            ProposalState st = _state(core);
            if (st == ProposalState.Active || st == ProposalState.Succeeded) {
                revert JoinAlreadyRequested(applicant, core.number);
            }
        }
    }

    function _checkAdd(address account) private view {
        Member memory m = _members[account];
        if (m.active) revert AlreadyMember(account);
        // A sentinel: requestedAt is 0 only when there is no request, as a block's timestamp is never 0.
        // slither-disable-next-line incorrect-equality,timestamp
        if (m.requestedAt == 0) revert NoJoinRequest(account);
    }

    /// @dev A removal needs a member as its subject and _MIN_REMOVAL_VOTES other members who can
    /// decide it.
    function _checkRemove(address account) private view {
        _requireMember(account);
        uint256 count = _config.memberCount;
        if (count < _MIN_REMOVAL_VOTES + 1) {
            revert TooFewMembersToRemove(account, count, _MIN_REMOVAL_VOTES + 1);
        }
    }

    function _checkGrant(address account) private view {
        Member memory m = _members[account];
        if (!m.active) revert NotAMember(account);
        if (m.moderator) revert AlreadyModerator(account);
    }

    function _checkRevoke(address account) private view {
        Member memory m = _members[account];
        // Flags of the Member record, no time: Slither taints the record, which stores joinedAt.
        // slither-disable-next-line timestamp
        if (!m.active || !m.moderator) revert NotModerator(account);
    }

    function _requireMember(address account) private view {
        if (!_members[account].active) revert NotAMember(account);
    }

    function _requireNotFuture(uint256 timepoint) private view {
        // ERC-6372 mode=timestamp: the block's timestamp is the clock, and a lookup of a later time is
        // refused as OpenZeppelin's Votes refuses it.
        // slither-disable-next-line timestamp
        if (timepoint > block.timestamp) revert FutureLookup(timepoint, uint48(block.timestamp));
    }

    /// @dev Whether `proposalId` is a proposal to remove `account` (its subject is stored, for
    /// removals only).
    function _isRemovalOf(uint256 proposalId, ProposalCore memory core, address account) private view returns (bool) {
        return _kind(core) == ProposalKind.RemoveMember && _removalSubjects[proposalId] == account;
    }

    function _existing(uint256 proposalId) private view returns (ProposalCore memory core) {
        core = _proposals[proposalId];
        if (core.number == 0) revert GovernorNonexistentProposal(proposalId);
    }

    /// @dev Marks `voter`'s vote on proposal `number`, refusing a second one. A vote in the word the
    /// Member slot holds (or a newer one, which replaces it) touches no other slot; the word it
    /// replaces moves to _votedBits once per 88 proposals, and a vote in an older word, on a
    /// proposal still open after newer ones, is recorded there.
    function _recordVote(address voter, Member memory m, uint256 number) private {
        uint256 word = number / _IDS_PER_WORD;
        uint256 bit = _voteBit(number);
        if (word == m.voteWord) {
            if (m.voteBits & bit != 0) revert AlreadyVoted(number, voter);
            _members[voter].voteBits = uint88(m.voteBits | bit);
        } else if (word > m.voteWord) {
            if (m.voteBits != 0) _votedBits[voter][m.voteWord] |= m.voteBits;
            Member storage stored = _members[voter];
            stored.voteWord = uint24(word);
            stored.voteBits = uint88(bit);
        } else {
            uint256 bits = _votedBits[voter][word];
            if (bits & bit != 0) revert AlreadyVoted(number, voter);
            _votedBits[voter][word] = bits | bit;
        }
    }

    function _voteBit(uint256 number) private pure returns (uint256) {
        unchecked {
            return uint256(1) << (number % _IDS_PER_WORD);
        }
    }

    function _checkRules(uint8 quorumPct, uint8 thresholdPct, uint32 period) private pure {
        if (
            quorumPct == 0 ||
            quorumPct > 100 ||
            thresholdPct < 50 ||
            thresholdPct > 100 ||
            period < MIN_VOTING_PERIOD ||
            period > MAX_VOTING_PERIOD
        ) revert InvalidRules(quorumPct, thresholdPct, period);
    }

    /// @dev The protocol's ceiling: a community may vote lower caps, never higher ones, and not a
    /// zero size (a post with no attachments is expressed as maxAttachments 0).
    function _checkMediaPolicy(uint8 maxAttachments, uint32 maxAttachmentKiB) private pure {
        if (maxAttachments > _MAX_ATTACHMENTS || maxAttachmentKiB == 0 || maxAttachmentKiB > _MAX_ATTACHMENT_KIB) {
            revert InvalidMediaPolicy(maxAttachments, maxAttachmentKiB);
        }
    }

    function _checkGuestPolicy(uint8 inviters, uint32 maxPassSeconds) private pure {
        if (inviters > 1 || maxPassSeconds > MAX_GUEST_PASS_SECONDS) revert InvalidGuestPolicy(inviters, maxPassSeconds);
    }

    /// @dev `signature` must be `account`'s over `digest`: an ECDSA signature (65 bytes, low s,
    /// OpenZeppelin's ECDSA) of the account's key, or else, for a contract wallet, its ERC-1271
    /// answer. The ECDSA check comes first so that an ordinary account pays no code lookup.
    function _requireSigner(bytes32 digest, bytes calldata signature, address account) private view {
        // The third value is the argument of ECDSA's error; after any error the ERC-1271 check decides.
        // slither-disable-next-line unused-return
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == account && account != address(0)) return;
        if (!SignatureChecker.isValidERC1271SignatureNowCalldata(account, digest, signature)) {
            revert InvalidSignature(account);
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title kiez Community: membership, app keys and moderation of one micro-community, decided by vote
/// @notice One member, one vote. Members propose typed decisions (add or remove a member, hide or
/// unhide a post, change the rules, set the charter, grant or revoke a moderator, set the media
/// policy); the members who were members when a proposal was created vote on it; anyone executes a
/// proposal that succeeded.
/// Membership can never run dry: the last member cannot leave, and a vote can never shrink the
/// community below two members, so there is always a member who can propose and admit others.
/// A removal is decided by the others: its subject does not vote on it and is not counted in its
/// electorate, and it needs the for votes of at least two of them, so no member is removed by one
/// other member alone.
/// Nodes of the kiez network follow this contract's events and enforce the outcome off-chain.
/// Nobody but the members who choose to pay needs ether: a newcomer joins under a member's signed
/// invitation (requestToJoinBySig) and registers their app key by signature (addKeyBySig), and
/// anyone may relay either; every by-signature call uses the same EIP-712 domain and the same
/// per-account nonces as castVoteBySig.
/// @dev The voting surface follows OpenZeppelin's IGovernor names and semantics where they apply
/// (castVote, castVoteWithReason, castVoteBySig with an EIP-712 Ballot and per-voter nonce, state,
/// hasVoted, proposalVotes, proposalSnapshot, proposalDeadline, ProposalState order, ERC-6372
/// timestamp clock). Differences, each deliberate:
///  - a proposal is typed and executes one built-in action instead of arbitrary calls; as in
///    OpenZeppelin, its id is a hash of what it decides (hashProposal), and execute() takes the
///    decided subject again instead of the contract storing it, so a proposal costs one storage
///    slot; each proposal also has a sequential number (1, 2, 3, ...) so people can say
///    "proposal 7" (the number is in ProposalCreated and getProposal);
///  - voting starts at creation (no voting delay): eligibility is fixed by join order, not by a
///    token checkpoint, so there is nothing to wait for;
///  - a proposal is decided as soon as the votes still outstanding can no longer change its outcome
///    (early decision), which matters in a community of five people with a week-long voting period;
///  - proposals cannot be canceled, so Canceled, Queued and Expired are never returned.
/// Storage is laid out so that a vote touches three slots: the voter's member record, the
/// proposal's core record (tallies live beside the timing data) and the voter's vote bitmap,
/// which is allocated when the member joins; no vote ever pays for a fresh storage slot.
contract Community {
    // ------------------------------------------------------------------ types

    /// @notice Same order as OpenZeppelin's IGovernor.ProposalState so tools can read it unchanged.
    enum ProposalState {
        Pending,
        Active,
        Canceled,
        Defeated,
        Succeeded,
        Queued,
        Expired,
        Executed
    }

    /// @notice The decision a proposal executes when it succeeds.
    enum ProposalKind {
        AddMember,
        RemoveMember,
        HidePost,
        UnhidePost,
        ChangeRules,
        SetCharter,
        GrantModerator,
        RevokeModerator,
        SetMediaPolicy
    }

    /// @notice Vote types, as in GovernorCountingSimple (Bravo).
    enum VoteType {
        Against,
        For,
        Abstain
    }

    /// @dev One storage slot per member.
    struct Member {
        bool active;
        bool moderator;
        uint24 joinIndex; // order of joining; eligible on proposals created later
        uint48 joinedAt;
        uint64 nonce; // EIP-712 nonce (ballots, join requests, keys); survives leaving and re-joining
    }

    /// @dev One storage slot: everything kept about a proposal (its subject is in its id).
    struct ProposalCore {
        uint40 voteStart;
        uint40 voteEnd;
        uint24 number; // sequential, for people; indexes the voters' vote bitmaps
        uint24 forVotes;
        uint24 againstVotes;
        uint24 abstainVotes;
        uint24 memberEpoch; // members with joinIndex < memberEpoch may vote
        uint24 eligible; // number of members when the proposal was created
        uint8 quorumPct;
        uint8 thresholdPct;
        ProposalKind kind;
        bool executed;
    }

    /// @dev One storage slot (200 of 256 bits): the settings read by every proposal, the counters,
    /// and the media policy, which sits here because the slot had room: a slot of its own would cost
    /// every deployment another 22k gas.
    struct Config {
        uint64 proposalCount;
        uint24 memberCount;
        uint24 nextJoinIndex;
        uint8 quorumPct;
        uint8 thresholdPct;
        uint32 votingPeriod;
        uint8 maxAttachments; // attachments a post may carry: 0..4
        uint32 maxAttachmentKiB; // size cap of one attachment in KiB: 1..2048
    }

    /// @notice An app key (ed25519 public key) authorised by a member to sign posts.
    struct AppKey {
        address owner;
        uint48 addedAt;
        uint48 revokedAt;
    }

    /// @notice A non-member's request to join, visible to members.
    struct JoinRequest {
        bytes32 introHash;
        uint48 requestedAt;
        uint24 proposalNumber; // the AddMember proposal a by-signature request opened (0: none)
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
    /// @notice EIP-712 type of a member's invitation; its struct hash is the invitation's id.
    bytes32 public constant INVITATION_TYPEHASH =
        keccak256("Invitation(address inviter,uint256 nonce,uint64 expiry,uint32 maxUses)");
    /// @notice EIP-712 type of a newcomer's join request under an invitation.
    bytes32 public constant JOIN_REQUEST_TYPEHASH =
        keccak256("JoinRequest(address applicant,bytes32 introHash,bytes32 invitation,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a member's authorisation of an app key.
    bytes32 public constant ADD_KEY_TYPEHASH =
        keccak256("AddKey(address owner,bytes32 key,uint256 nonce,uint256 deadline)");
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @notice Version of the kiez protocol; part of the EIP-712 domain of every signed ballot.
    string public constant PROTOCOL_VERSION = "1";
    uint32 public constant MIN_VOTING_PERIOD = 60;
    uint32 public constant MAX_VOTING_PERIOD = 365 days;
    /// @dev For votes a removal needs, from members other than its subject; so a removal can be
    /// proposed and executed only while the community has at least _MIN_REMOVAL_VOTES + 1 members.
    uint256 private constant _MIN_REMOVAL_VOTES = 2;
    /// @dev The protocol's ceiling on attachments per post; a community may vote a lower cap.
    uint8 private constant _MAX_ATTACHMENTS = 4;
    /// @dev The protocol's ceiling on one attachment's size, in KiB (2 MiB); a community may vote a
    /// lower cap.
    uint32 private constant _MAX_ATTACHMENT_KIB = 2048;
    uint256 private constant _MAX_MEMBERS_EVER = type(uint24).max;
    uint256 private constant _MAX_PROPOSALS = type(uint24).max;
    /// @dev Upper bound of a valid ECDSA s value (secp256k1n / 2); higher values are malleable.
    uint256 private constant _S_MAX = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    /// @dev Votes are recorded in per-member bitmaps of 255 proposal numbers; bit 0 of every word is a
    /// sentinel that keeps an allocated word non-zero, so recording a vote never pays for a fresh slot.
    uint256 private constant _IDS_PER_WORD = 255;

    // ------------------------------------------------------------------ storage

    /// @notice Block in which the community was founded; clients scan events from here.
    uint256 public immutable deploymentBlock;

    string private _name;
    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;

    Config private _config;
    bytes32 private _charterHash;

    mapping(address account => Member) private _members;
    mapping(address voter => mapping(uint256 word => uint256 bits)) private _votedBits;
    mapping(uint256 proposalId => ProposalCore) private _proposals;
    mapping(bytes32 key => AppKey) private _appKeys;
    mapping(bytes32 postId => bool) private _hidden;
    mapping(address applicant => JoinRequest) private _joinRequests;
    mapping(bytes32 invitation => InvitationState) private _invitations;

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
    /// @notice Proposal number `number` was created; `subject` is its kind-specific argument
    /// (an address in the low 20 bytes, a post id, a charter hash, packed rules, or a packed media
    /// policy: maxAttachments << 32 | maxAttachmentKiB). `eligibleVoters` is the number of members
    /// who may vote on it: every member, except the subject of a removal.
    event ProposalCreated(
        uint256 indexed proposalId,
        uint256 indexed number,
        address indexed proposer,
        ProposalKind kind,
        bytes32 subject,
        uint256 voteStart,
        uint256 voteEnd,
        uint256 eligibleVoters,
        string description
    );
    /// @notice `voter` voted on `proposalId` (support: 0 against, 1 for, 2 abstain), as in IGovernor.
    event VoteCast(address indexed voter, uint256 indexed proposalId, uint8 support, uint256 weight, string reason);
    /// @notice `proposalId` was executed.
    event ProposalExecuted(uint256 indexed proposalId);
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

    // ------------------------------------------------------------------ errors

    error NoFounders();
    error ZeroAddress();
    error DuplicateFounder(address account);
    error NotAMember(address account);
    error AlreadyMember(address account);
    error MemberLimitReached(uint256 limit);
    error NoJoinRequest(address account);
    error ProposalLimitReached(uint256 limit);
    error UnknownProposal(uint256 proposalId);
    error NotEligible(uint256 number, address voter, uint256 joinedAt, uint256 proposalCreatedAt);
    error AlreadyVoted(uint256 number, address voter);
    error VotingClosed(uint256 number, ProposalState state, uint256 deadline);
    error NotExecutable(uint256 number, ProposalState state);
    error SubjectMismatch(uint256 number, bytes32 subject);
    error InvalidVoteType(uint8 support);
    error InvalidSignatureLength(uint256 length);
    error MalleableSignature(bytes32 s);
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

    // ------------------------------------------------------------------ modifiers

    /// @dev Membership is checked before anything about the proposal itself, so a non-member
    /// always learns first that they are not a member.
    modifier onlyMember() {
        _requireMember(msg.sender);
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
    ) {
        if (founders.length == 0) revert NoFounders();
        _checkRules(quorumPct, thresholdPct, period);
        _name = name_;
        deploymentBlock = block.number;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
        _config = Config({
            proposalCount: 0,
            memberCount: 0,
            nextJoinIndex: 0,
            quorumPct: quorumPct,
            thresholdPct: thresholdPct,
            votingPeriod: period,
            maxAttachments: _MAX_ATTACHMENTS,
            maxAttachmentKiB: _MAX_ATTACHMENT_KIB
        });
        emit RulesChanged(0, 0, quorumPct, 0, thresholdPct, 0, period);
        // Nodes build the policy from events alone, so the default is announced like a vote's.
        emit MediaPolicyChanged(0, 0, _MAX_ATTACHMENTS, 0, _MAX_ATTACHMENT_KIB);
        for (uint256 i = 0; i < founders.length; ++i) {
            address founder = founders[i];
            if (founder == address(0)) revert ZeroAddress();
            if (_members[founder].active) revert DuplicateFounder(founder);
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
    /// so that nobody pays for a request that can never be granted. A community always has a
    /// member who can propose (see leaveCommunity and TooFewMembersToRemove), so these limits are
    /// the only such case.
    /// @param introHash Hash of a short introduction text (the text itself travels off-chain).
    function requestToJoin(bytes32 introHash) external {
        if (_members[msg.sender].active) revert AlreadyMember(msg.sender);
        Config memory c = _config;
        if (c.nextJoinIndex == _MAX_MEMBERS_EVER) revert MemberLimitReached(_MAX_MEMBERS_EVER);
        if (c.proposalCount >= _MAX_PROPOSALS) revert ProposalLimitReached(_MAX_PROPOSALS);
        _joinRequests[msg.sender] = JoinRequest({
            introHash: introHash,
            requestedAt: uint48(block.timestamp),
            proposalNumber: 0
        });
        emit JoinRequested(msg.sender, introHash);
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
    /// @param invitationSignature The inviter's 65-byte signature of `invitation`.
    /// @param deadline Last second at which the applicant's signature is accepted.
    /// @param applicantSignature The applicant's 65-byte signature of the JoinRequest.
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
        uint64 nonce = _members[applicant].nonce;
        bytes32 structHash = keccak256(
            abi.encode(JOIN_REQUEST_TYPEHASH, applicant, introHash, id, uint256(nonce), deadline)
        );
        _requireSigner(_hashTypedData(structHash), applicantSignature, applicant);
        _members[applicant].nonce = nonce + 1;
        uint32 uses = _useInvitation(id, invitation, invitationSignature);
        if (_members[applicant].active) revert AlreadyMember(applicant);
        uint24 number = _checkCanRequest(applicant);
        bytes32 subject = bytes32(uint256(uint160(applicant)));
        _joinRequests[applicant] = JoinRequest({
            introHash: introHash,
            requestedAt: uint48(block.timestamp),
            proposalNumber: number
        });
        emit JoinRequested(applicant, introHash);
        emit InvitationUsed(id, invitation.inviter, applicant, uses);
        // No description; an empty calldata slice, so that _openProposal reads every proposal's
        // description from calldata (copying it to memory cost each proposal ~350 gas).
        string calldata none = string(applicantSignature[0:0]);
        proposalId = _openProposal(ProposalKind.AddMember, subject, invitation.inviter, none);
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
        // A sentinel: requestedAt is 0 only when there is no request, as a block's timestamp is never 0.
        // slither-disable-next-line incorrect-equality,timestamp
        if (_joinRequests[msg.sender].requestedAt == 0) revert NoJoinRequest(msg.sender);
        delete _joinRequests[msg.sender];
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
    /// @dev Consumes `nonces(owner)`; 65-byte low-s signatures only.
    /// @param owner The member whose key it becomes; needs no balance.
    /// @param key The ed25519 public key.
    /// @param deadline Last second at which the signature is accepted.
    /// @param signature The owner's 65-byte signature of the AddKey.
    function addKeyBySig(address owner, bytes32 key, uint256 deadline, bytes calldata signature) external {
        // Signed deadlines span minutes to days; a block producer's seconds of timestamp leeway change
        // nothing.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        uint64 nonce = _members[owner].nonce;
        bytes32 structHash = keccak256(abi.encode(ADD_KEY_TYPEHASH, owner, key, uint256(nonce), deadline));
        _requireSigner(_hashTypedData(structHash), signature, owner);
        _members[owner].nonce = nonce + 1;
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

    /// @notice Propose to add `account`, who must have requested to join.
    function proposeAddMember(address account, string calldata description) external onlyMember returns (uint256) {
        if (_members[account].active) revert AlreadyMember(account);
        if (_joinRequests[account].requestedAt == 0) revert NoJoinRequest(account);
        return _propose(ProposalKind.AddMember, bytes32(uint256(uint160(account))), description);
    }

    /// @notice Propose to remove member `account`. The others decide: `account` may not vote on it
    /// (VoteOnOwnRemoval) and is not counted in its electorate, so quorum and threshold are over
    /// the other members, and it passes only with at least two for votes. The community needs at
    /// least three members, when proposed and when executed (TooFewMembersToRemove).
    function proposeRemoveMember(address account, string calldata description) external onlyMember returns (uint256) {
        _requireMember(account);
        _requireRemovable(account);
        return _propose(ProposalKind.RemoveMember, bytes32(uint256(uint160(account))), description);
    }

    /// @notice Propose to hide the post `postId` (the kiez message id) from every feed.
    function proposeHidePost(bytes32 postId, string calldata reason) external onlyMember returns (uint256) {
        if (_hidden[postId]) revert PostAlreadyHidden(postId);
        return _propose(ProposalKind.HidePost, postId, reason);
    }

    /// @notice Propose to show a hidden post again (overturns a moderator's or a vote's hide).
    function proposeUnhidePost(bytes32 postId, string calldata reason) external onlyMember returns (uint256) {
        if (!_hidden[postId]) revert PostNotHidden(postId);
        return _propose(ProposalKind.UnhidePost, postId, reason);
    }

    /// @notice Propose new voting rules; they apply to proposals created after execution.
    function proposeChangeRules(
        uint8 quorumPct,
        uint8 thresholdPct,
        uint32 period,
        string calldata description
    ) external onlyMember returns (uint256) {
        _checkRules(quorumPct, thresholdPct, period);
        bytes32 subject = bytes32((uint256(quorumPct) << 48) | (uint256(thresholdPct) << 32) | uint256(period));
        return _propose(ProposalKind.ChangeRules, subject, description);
    }

    /// @notice Propose a new charter: the hash of the community's rules text.
    function proposeSetCharter(bytes32 newCharterHash, string calldata description) external onlyMember returns (uint256) {
        return _propose(ProposalKind.SetCharter, newCharterHash, description);
    }

    /// @notice Propose to make member `account` a moderator.
    function proposeGrantModerator(address account, string calldata description) external onlyMember returns (uint256) {
        Member memory m = _members[account];
        if (!m.active) revert NotAMember(account);
        if (m.moderator) revert AlreadyModerator(account);
        return _propose(ProposalKind.GrantModerator, bytes32(uint256(uint160(account))), description);
    }

    /// @notice Propose to take moderator rights from `account`.
    function proposeRevokeModerator(address account, string calldata description) external onlyMember returns (uint256) {
        Member memory m = _members[account];
        if (!m.active || !m.moderator) revert NotModerator(account);
        return _propose(ProposalKind.RevokeModerator, bytes32(uint256(uint160(account))), description);
    }

    /// @notice Propose a new media policy: how many attachments a post may carry and how large each
    /// may be. It applies to posts signed after execution; nodes never accept more than the
    /// protocol's ceiling (4 attachments of 2048 KiB), so only lower caps can be voted.
    /// @param maxAttachments Attachments per post: 0 (none) to 4.
    /// @param maxAttachmentKiB Size cap of one attachment in KiB: 1 to 2048 (2 MiB).
    /// @param description Why: shown to voters.
    /// @return The new proposal's id.
    function proposeSetMediaPolicy(
        uint8 maxAttachments,
        uint32 maxAttachmentKiB,
        string calldata description
    ) external onlyMember returns (uint256) {
        _checkMediaPolicy(maxAttachments, maxAttachmentKiB);
        bytes32 subject = bytes32((uint256(maxAttachments) << 32) | uint256(maxAttachmentKiB));
        return _propose(ProposalKind.SetMediaPolicy, subject, description);
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

    /// @notice Cast `voter`'s vote from an EIP-712 Ballot signature; anyone may relay it.
    /// @dev The ballot carries the voter's current nonce, which this call consumes. 65-byte
    /// signatures only; high-s (malleable) signatures are refused.
    function castVoteBySig(
        uint256 proposalId,
        uint8 support,
        address voter,
        bytes calldata signature
    ) external returns (uint256) {
        uint64 nonce = _members[voter].nonce;
        bytes32 structHash = keccak256(abi.encode(BALLOT_TYPEHASH, proposalId, support, voter, uint256(nonce)));
        _requireSigner(_hashTypedData(structHash), signature, voter);
        _members[voter].nonce = nonce + 1;
        return _castVote(proposalId, voter, support, "");
    }

    /// @notice Execute a proposal that succeeded. Anyone may call it, once.
    /// @param subject The proposal's subject, as in its ProposalCreated event; checked against the id.
    function execute(uint256 proposalId, bytes32 subject) external {
        ProposalCore storage p = _proposals[proposalId];
        ProposalCore memory core = p;
        if (core.voteStart == 0) revert UnknownProposal(proposalId);
        // No time here: Slither taints all of ProposalCore, which stores voteStart and voteEnd.
        // slither-disable-next-line timestamp
        if (hashProposal(core.number, core.kind, subject) != proposalId) revert SubjectMismatch(core.number, subject);
        ProposalState current = _state(core);
        if (current != ProposalState.Succeeded) revert NotExecutable(core.number, current);
        p.executed = true;
        emit ProposalExecuted(proposalId);
        _apply(proposalId, core.kind, subject);
    }

    /// @notice The id of proposal number `number` of kind `kind` about `subject` (as in
    /// OpenZeppelin's Governor, the id commits to what the proposal decides).
    function hashProposal(uint256 number, ProposalKind kind, bytes32 subject) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(number, kind, subject)));
    }

    /// @notice The id of `invitation`: its EIP-712 struct hash (what applicants sign and what
    /// invitationUses and the invitation events are keyed by).
    function invitationId(Invitation calldata invitation) public pure returns (bytes32) {
        return keccak256(
            abi.encode(INVITATION_TYPEHASH, invitation.inviter, invitation.nonce, invitation.expiry, invitation.maxUses)
        );
    }

    // ------------------------------------------------------------------ views

    /// @notice Community name (the EIP-712 domain name).
    function name() external view returns (string memory) {
        return _name;
    }

    /// @notice EIP-712 domain version (the kiez protocol version).
    function version() external pure returns (string memory) {
        return PROTOCOL_VERSION;
    }

    /// @notice ERC-6372 clock: seconds.
    function clock() external view returns (uint48) {
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

    /// @notice EIP-5267 description of the EIP-712 domain of every signed ballot, invitation, join request and key authorisation.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name_,
            string memory version_,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", _name, PROTOCOL_VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @notice Current EIP-712 domain separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @notice How often invitation `invitation` was used, and whether its inviter revoked it.
    function invitationUses(bytes32 invitation) external view returns (uint32 uses, bool revoked) {
        InvitationState memory st = _invitations[invitation];
        return (st.uses, st.revoked);
    }

    /// @notice Next EIP-712 nonce of `account` (ballots, join requests and key authorisations).
    function nonces(address account) external view returns (uint256) {
        return _members[account].nonce;
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
        JoinRequest memory r = _joinRequests[applicant];
        return (r.introHash, r.requestedAt);
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

    /// @notice IGovernor: seconds between proposal and start of voting (always 0).
    function votingDelay() external pure returns (uint256) {
        return 0;
    }

    /// @notice IGovernor: seconds a new proposal stays open.
    function votingPeriod() external view returns (uint256) {
        return _config.votingPeriod;
    }

    /// @notice Hash of the community's rules text.
    function charterHash() external view returns (bytes32) {
        return _charterHash;
    }

    /// @notice Number of proposals ever created; their numbers run from 1 to this.
    function proposalCount() external view returns (uint256) {
        return _config.proposalCount;
    }

    /// @notice IGovernor: state of `proposalId`.
    function state(uint256 proposalId) external view returns (ProposalState) {
        return _state(_existing(proposalId));
    }

    /// @notice IGovernor: when the proposal was created (its electorate is fixed at that moment).
    function proposalSnapshot(uint256 proposalId) external view returns (uint256) {
        return _existing(proposalId).voteStart;
    }

    /// @notice IGovernor: last second at which votes are accepted.
    function proposalDeadline(uint256 proposalId) external view returns (uint256) {
        return _existing(proposalId).voteEnd;
    }

    /// @notice IGovernor (GovernorCountingSimple): tallies in Bravo order.
    function proposalVotes(
        uint256 proposalId
    ) external view returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes) {
        ProposalCore memory core = _existing(proposalId);
        return (core.againstVotes, core.forVotes, core.abstainVotes);
    }

    /// @notice Votes needed for quorum on `proposalId`.
    function quorumVotes(uint256 proposalId) external view returns (uint256) {
        ProposalCore memory core = _existing(proposalId);
        return (uint256(core.eligible) * core.quorumPct + 99) / 100;
    }

    /// @notice IGovernor: whether `account` voted on `proposalId`.
    function hasVoted(uint256 proposalId, address account) external view returns (bool) {
        uint256 number = _existing(proposalId).number;
        // No time here: Slither taints all of ProposalCore, which stores voteStart and voteEnd.
        // slither-disable-next-line timestamp
        return _votedBits[account][number / _IDS_PER_WORD] & _voteBit(number) != 0;
    }

    /// @notice Whether `account` is entitled to vote on `proposalId`: a member who joined before it
    /// was created and is not the subject of this removal (whether voting is still open is state()).
    function canVote(uint256 proposalId, address account) external view returns (bool) {
        ProposalCore memory core = _existing(proposalId);
        Member memory m = _members[account];
        // Flags of the Member record, no time: Slither taints the record, which stores joinedAt.
        // slither-disable-next-line timestamp
        return m.active && m.joinIndex < core.memberEpoch && !_isRemovalOf(proposalId, core, account);
    }

    /// @notice Everything about one proposal.
    function getProposal(uint256 proposalId) external view returns (ProposalView memory) {
        ProposalCore memory core = _existing(proposalId);
        return ProposalView({
            id: proposalId,
            number: core.number,
            kind: core.kind,
            state: _state(core),
            voteStart: core.voteStart,
            voteEnd: core.voteEnd,
            againstVotes: core.againstVotes,
            forVotes: core.forVotes,
            abstainVotes: core.abstainVotes,
            eligibleVoters: core.eligible,
            quorumPct: core.quorumPct,
            thresholdPct: core.thresholdPct
        });
    }

    // ------------------------------------------------------------------ internals

    function _propose(ProposalKind kind, bytes32 subject, string calldata description) private returns (uint256) {
        return _openProposal(kind, subject, msg.sender, description);
    }

    /// @dev Opens a proposal in `proposer`'s name (the sender, or the inviter of a by-signature
    /// join request); the caller has checked that the proposer may propose.
    function _openProposal(
        ProposalKind kind,
        bytes32 subject,
        address proposer,
        string calldata description
    ) private returns (uint256) {
        Config memory c = _config;
        uint256 number = uint256(c.proposalCount) + 1;
        if (number > _MAX_PROPOSALS) revert ProposalLimitReached(_MAX_PROPOSALS);
        _config.proposalCount = uint64(number);
        uint256 id = hashProposal(number, kind, subject);
        uint40 start = uint40(block.timestamp);
        uint40 end = start + c.votingPeriod;
        // The subject of a removal (a member, checked by the caller) does not vote on it.
        uint24 eligible = kind == ProposalKind.RemoveMember ? c.memberCount - 1 : c.memberCount;
        _proposals[id] = ProposalCore({
            voteStart: start,
            voteEnd: end,
            number: uint24(number),
            forVotes: 0,
            againstVotes: 0,
            abstainVotes: 0,
            memberEpoch: c.nextJoinIndex,
            eligible: eligible,
            quorumPct: c.quorumPct,
            thresholdPct: c.thresholdPct,
            kind: kind,
            executed: false
        });
        emit ProposalCreated(id, number, proposer, kind, subject, start, end, eligible, description);
        return id;
    }

    // The kind and bitmap checks use no time; Slither taints all of ProposalCore, which stores voteStart.
    // slither-disable-next-line timestamp
    function _castVote(
        uint256 proposalId,
        address voter,
        uint8 support,
        string memory reason
    ) private returns (uint256) {
        ProposalCore storage p = _proposals[proposalId];
        ProposalCore memory core = p;
        if (core.voteStart == 0) revert UnknownProposal(proposalId);
        ProposalState current = _state(core);
        if (current != ProposalState.Active) revert VotingClosed(core.number, current, core.voteEnd);
        Member memory m = _members[voter];
        if (!m.active) revert NotAMember(voter);
        if (m.joinIndex >= core.memberEpoch) revert NotEligible(core.number, voter, m.joinedAt, core.voteStart);
        // The kind is tested here first so that a vote on any other proposal skips the call.
        if (core.kind == ProposalKind.RemoveMember && _isRemovalOf(proposalId, core, voter)) {
            revert VoteOnOwnRemoval(core.number, voter);
        }

        uint256 word = core.number / _IDS_PER_WORD;
        uint256 bit = _voteBit(core.number);
        uint256 bits = _votedBits[voter][word];
        if (bits & bit != 0) revert AlreadyVoted(core.number, voter);
        _votedBits[voter][word] = bits | bit;

        if (support == uint8(VoteType.For)) {
            p.forVotes = core.forVotes + 1;
        } else if (support == uint8(VoteType.Against)) {
            p.againstVotes = core.againstVotes + 1;
        } else if (support == uint8(VoteType.Abstain)) {
            p.abstainVotes = core.abstainVotes + 1;
        } else {
            revert InvalidVoteType(support);
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
        if (core.executed) return ProposalState.Executed;
        uint256 yes = core.forVotes;
        uint256 no = core.againstVotes;
        uint256 cast = yes + no + core.abstainVotes;
        bool quorumReached = cast * 100 >= uint256(core.eligible) * core.quorumPct;
        if (block.timestamp > core.voteEnd) {
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

    /// @dev Rule (d): `outcome` stands unless this is a removal whose for votes (`yes`: cast, or at
    /// most reachable while Active) fall short of _MIN_REMOVAL_VOTES. A removal that met (a) to (c)
    /// early with fewer has no vote outstanding, so it is Defeated, not Active.
    function _removalFloor(
        ProposalCore memory core,
        uint256 yes,
        ProposalState outcome
    ) private pure returns (ProposalState) {
        // Compares the kind (an enum) and an id; Slither taints all of ProposalCore, which stores voteStart.
        // slither-disable-next-line incorrect-equality,timestamp
        return core.kind == ProposalKind.RemoveMember && yes < _MIN_REMOVAL_VOTES ? ProposalState.Defeated : outcome;
    }

    function _approved(uint256 yes, uint256 no, uint256 thresholdPct) private pure returns (bool) {
        // Vote counts only; Slither's taint comes from the callers' ProposalCore, which stores timestamps.
        // slither-disable-next-line timestamp
        return yes > no && yes * 100 >= thresholdPct * (yes + no);
    }

    function _apply(uint256 proposalId, ProposalKind kind, bytes32 subject) private {
        address account = address(uint160(uint256(subject)));
        if (kind == ProposalKind.AddMember) {
            if (_members[account].active) revert AlreadyMember(account);
            // A sentinel: requestedAt is 0 only when there is no request, as a block's timestamp is never 0.
            // slither-disable-next-line incorrect-equality,timestamp
            if (_joinRequests[account].requestedAt == 0) revert NoJoinRequest(account);
            _addMember(account, proposalId);
        } else if (kind == ProposalKind.RemoveMember) {
            _requireMember(account);
            // Members may have left since the vote; a vote never takes the community below two.
            _requireRemovable(account);
            _dropMember(account, proposalId);
            emit MemberRemoved(account, proposalId);
        } else if (kind == ProposalKind.HidePost) {
            if (_hidden[subject]) revert PostAlreadyHidden(subject);
            _hidden[subject] = true;
            emit PostHidden(subject, address(0), proposalId, "");
        } else if (kind == ProposalKind.UnhidePost) {
            if (!_hidden[subject]) revert PostNotHidden(subject);
            _hidden[subject] = false;
            emit PostUnhidden(subject, proposalId);
        } else if (kind == ProposalKind.ChangeRules) {
            uint256 packed = uint256(subject);
            uint8 q = uint8(packed >> 48);
            uint8 t = uint8(packed >> 32);
            uint32 period = uint32(packed);
            Config memory c = _config;
            _config.quorumPct = q;
            _config.thresholdPct = t;
            _config.votingPeriod = period;
            emit RulesChanged(proposalId, c.quorumPct, q, c.thresholdPct, t, c.votingPeriod, period);
        } else if (kind == ProposalKind.SetCharter) {
            bytes32 old = _charterHash;
            _charterHash = subject;
            emit CharterChanged(proposalId, old, subject);
        } else if (kind == ProposalKind.SetMediaPolicy) {
            // The subject was checked when proposed and the id commits to it, so it is in range.
            uint256 packed = uint256(subject);
            uint8 count = uint8(packed >> 32);
            uint32 kib = uint32(packed);
            Config memory c = _config;
            _config.maxAttachments = count;
            _config.maxAttachmentKiB = kib;
            emit MediaPolicyChanged(proposalId, c.maxAttachments, count, c.maxAttachmentKiB, kib);
        } else if (kind == ProposalKind.GrantModerator) {
            Member storage m = _members[account];
            if (!m.active) revert NotAMember(account);
            if (m.moderator) revert AlreadyModerator(account);
            m.moderator = true;
            emit ModeratorGranted(account, proposalId);
        } else {
            // RevokeModerator, the only kind left.
            Member storage m = _members[account];
            if (!m.active || !m.moderator) revert NotModerator(account);
            m.moderator = false;
            emit ModeratorRevoked(account, proposalId);
        }
    }

    function _addMember(address account, uint256 proposalId) private {
        Config memory c = _config;
        if (c.nextJoinIndex == _MAX_MEMBERS_EVER) revert MemberLimitReached(_MAX_MEMBERS_EVER);
        Member storage m = _members[account];
        m.active = true;
        m.moderator = false;
        m.joinIndex = c.nextJoinIndex;
        m.joinedAt = uint48(block.timestamp);
        _config.memberCount = c.memberCount + 1;
        _config.nextJoinIndex = c.nextJoinIndex + 1;
        // Allocate the vote bitmap word for the proposals to come (sentinel bit 0), so that the
        // member's votes update an existing slot instead of paying for a new one.
        uint256 word = (uint256(c.proposalCount) + 1) / _IDS_PER_WORD;
        _votedBits[account][word] |= 1;
        // A sentinel: requestedAt is 0 only when there is no request, as a block's timestamp is never 0.
        // slither-disable-next-line timestamp
        if (_joinRequests[account].requestedAt != 0) delete _joinRequests[account];
        emit MemberAdded(account, proposalId, c.nextJoinIndex);
    }

    function _dropMember(address account, uint256 proposalId) private {
        Member storage m = _members[account];
        if (m.moderator) {
            m.moderator = false;
            emit ModeratorRevoked(account, proposalId);
        }
        m.active = false;
        _config.memberCount -= 1;
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
        _requireSigner(_hashTypedData(id), signature, inviter);
        if (!_members[inviter].active) revert InviterNotMember(inviter);
        // Signed deadlines span minutes to days; a block producer's seconds of timestamp leeway change
        // nothing.
        // slither-disable-next-line timestamp
        if (block.timestamp > invitation.expiry) revert InvitationExpired(id, invitation.expiry);
        InvitationState memory st = _invitations[id];
        if (st.revoked) revert InvitationIsRevoked(id);
        if (st.uses >= invitation.maxUses) revert InvitationUsedUp(id, invitation.maxUses);
        uses = st.uses + 1;
        _invitations[id].uses = uses;
    }

    /// @dev The limits requestToJoin checks, and no second by-signature request while the first
    /// one's proposal can still admit the applicant. Returns the number the new proposal will get.
    function _checkCanRequest(address applicant) private view returns (uint24) {
        Config memory c = _config;
        if (c.nextJoinIndex == _MAX_MEMBERS_EVER) revert MemberLimitReached(_MAX_MEMBERS_EVER);
        if (c.proposalCount >= _MAX_PROPOSALS) revert ProposalLimitReached(_MAX_PROPOSALS);
        uint24 previous = _joinRequests[applicant].proposalNumber;
        // A proposal number, no time: Slither taints the JoinRequest record, which stores requestedAt.
        // slither-disable-next-line timestamp
        if (previous != 0) {
            uint256 id = hashProposal(previous, ProposalKind.AddMember, bytes32(uint256(uint160(applicant))));
            ProposalState st = _state(_proposals[id]);
            if (st == ProposalState.Active || st == ProposalState.Succeeded) {
                revert JoinAlreadyRequested(applicant, previous);
            }
        }
        return uint24(c.proposalCount + 1);
    }

    function _requireMember(address account) private view {
        if (!_members[account].active) revert NotAMember(account);
    }

    /// @dev A removal needs its subject and _MIN_REMOVAL_VOTES other members who can decide it.
    function _requireRemovable(address account) private view {
        uint256 count = _config.memberCount;
        if (count < _MIN_REMOVAL_VOTES + 1) {
            revert TooFewMembersToRemove(account, count, _MIN_REMOVAL_VOTES + 1);
        }
    }

    /// @dev Whether `proposalId` is a proposal to remove `account`: the id commits to the subject,
    /// so this needs no stored subject, and costs a hash only on removal proposals.
    function _isRemovalOf(uint256 proposalId, ProposalCore memory core, address account) private pure returns (bool) {
        // Compares the kind (an enum) and an id; Slither taints all of ProposalCore, which stores voteStart.
        // slither-disable-next-line incorrect-equality,timestamp
        return core.kind == ProposalKind.RemoveMember &&
            hashProposal(core.number, core.kind, bytes32(uint256(uint160(account)))) == proposalId;
    }

    function _existing(uint256 proposalId) private view returns (ProposalCore memory core) {
        core = _proposals[proposalId];
        // A sentinel: an unknown proposal is all zeros; a real one starts at its block's timestamp, never 0.
        // slither-disable-next-line incorrect-equality,timestamp
        if (core.voteStart == 0) revert UnknownProposal(proposalId);
    }

    function _voteBit(uint256 number) private pure returns (uint256) {
        // Not randomness: number % 255 picks the proposal's bit in the voter's bitmap word.
        // slither-disable-next-line weak-prng
        return uint256(1) << (1 + (number % _IDS_PER_WORD));
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

    function _domainSeparator() private view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(
            abi.encode(
                _DOMAIN_TYPEHASH,
                keccak256(bytes(_name)),
                keccak256(bytes(PROTOCOL_VERSION)),
                block.chainid,
                address(this)
            )
        );
    }

    function _hashTypedData(bytes32 structHash) private view returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", _domainSeparator(), structHash));
    }

    /// @dev `signature` must be `account`'s over `digest`; ecrecover answers address(0) for
    /// garbage, which never stands for an account 0x0.
    function _requireSigner(bytes32 digest, bytes calldata signature, address account) private pure {
        address signer = _recover(digest, signature);
        // Compares addresses; Slither's taint reaches the signer through the signed deadline and nonce.
        // slither-disable-next-line timestamp
        if (signer == address(0) || signer != account) revert InvalidSignature(account);
    }

    /// @dev ecrecover with the checks OpenZeppelin's ECDSA makes: 65 bytes, low s, v in {27, 28},
    /// non-zero result. Anything else is refused with an error that says which check failed.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        if (signature.length != 65) revert InvalidSignatureLength(signature.length);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > _S_MAX) revert MalleableSignature(s);
        if (v != 27 && v != 28) return address(0);
        signer = ecrecover(digest, v, r, s);
    }
}

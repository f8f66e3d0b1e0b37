"""Gasless onboarding on a real Anvil chain: a newcomer with no ether joins through a relayer under
a member's signed invitation, and registers their app key the same way. Everything a relayer could
change, replay or malleate is refused with the contract's typed error, and changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from functools import cache

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from governance import errors
from governance.accounts import dev_account
from governance.anvil import Anvil
from governance.ballot import BallotDomain, malleate
from governance.client import CommunityClient
from governance.devchain import DevCommunity
from governance.events import InvitationRevoked, InvitationUsed, JoinRequested, KeyAdded, MemberAdded
from governance.invitations import (
    Invitation,
    SignedInvitation,
    SignedJoinRequest,
    recover_invitation,
    recover_join_request,
    sign_invitation,
    sign_join_request,
    sign_key_authorisation,
)
from governance.types import Address, ProposalKind, ProposalState, Support, subject_address

INTRO = keccak(text="hello, I live on the third floor")
APP_KEY = keccak(text="the newcomer's ed25519 key")
RELAYER = 9  # funded, never a member: pays for others
HOUR = 3600

account = cache(dev_account)


@pytest.fixture
def relayer(community: DevCommunity) -> CommunityClient:
    return community.client(account(RELAYER))


@pytest.fixture
def domain(relayer: CommunityClient) -> BallotDomain:
    return relayer.ballot_domain()


def newcomer() -> LocalAccount:
    """A fresh account that has never held ether."""
    created: LocalAccount = Account.create()
    return created


def invite(relayer: CommunityClient, domain: BallotDomain, inviter: int = 0, uses: int = 1) -> SignedInvitation:
    expiry = relayer.chain_time() + 7 * 24 * HOUR
    inv = Invitation(Address(account(inviter).address), secrets.randbits(256), expiry, uses)
    return sign_invitation(account(inviter), domain, inv)


def join_request(
    relayer: CommunityClient, domain: BallotDomain, who: LocalAccount, signed_inv: SignedInvitation
) -> SignedJoinRequest:
    deadline = relayer.chain_time() + HOUR
    return sign_join_request(who, domain, INTRO, signed_inv, deadline, relayer.nonce(who.address))


def balance(relayer: CommunityClient, address: str) -> int:
    return int(relayer.w3.eth.get_balance(address))  # type: ignore[arg-type]


def test_newcomer_without_ether_joins_and_adds_a_key_through_a_relayer(
    community: DevCommunity, relayer: CommunityClient, domain: BallotDomain
) -> None:
    me = newcomer()
    assert balance(relayer, me.address) == 0
    signed_inv = invite(relayer, domain)
    request = join_request(relayer, domain, me, signed_inv)
    assert recover_invitation(domain, signed_inv) == account(0).address
    assert recover_join_request(domain, request, 0) == me.address

    created, result = relayer.request_to_join_by_sig(request)
    assert created.proposer == account(0).address
    assert created.kind is ProposalKind.ADD_MEMBER
    assert subject_address(created.subject) == me.address
    used = result.first(InvitationUsed)
    assert (used.invitation, used.inviter, used.applicant, used.uses) == (
        signed_inv.invitation.id,
        account(0).address,
        me.address,
        1,
    )
    assert result.first(JoinRequested).applicant == me.address
    assert relayer.invitation_uses(signed_inv.invitation.id) == (1, False)
    assert relayer.nonce(me.address) == 1

    for voter in (0, 1):
        community.client(account(voter)).cast_vote(created.proposal_id, Support.FOR)
    assert relayer.state(created.proposal_id) is ProposalState.SUCCEEDED
    relayer.execute(created).first(MemberAdded)
    assert relayer.is_member(me.address)

    auth = sign_key_authorisation(me, domain, me.address, APP_KEY, relayer.nonce(me.address), request.deadline)
    added = relayer.add_key_by_sig(auth).first(KeyAdded)
    assert (added.owner, added.key) == (me.address, APP_KEY)
    assert relayer.key_info(APP_KEY).owner == me.address
    assert balance(relayer, me.address) == 0


def test_relayer_cannot_change_any_signed_field(relayer: CommunityClient, domain: BallotDomain) -> None:
    me = newcomer()
    signed_inv = invite(relayer, domain, uses=2)
    request = join_request(relayer, domain, me, signed_inv)
    inv = signed_inv.invitation
    other = newcomer()
    tampered = [
        (replace(request, intro_hash=keccak(text="something else")), me.address),
        (replace(request, applicant=Address(other.address)), other.address),
        (replace(request, deadline=request.deadline + 1), me.address),
        (replace(request, invitation=replace(signed_inv, invitation=replace(inv, expiry=inv.expiry + 1))), inv.inviter),
        (replace(request, invitation=replace(signed_inv, invitation=replace(inv, max_uses=99))), inv.inviter),
    ]
    for changed, signer in tampered:
        # A changed invitation changes its id, so the applicant's signature no longer fits either:
        # whichever check runs first refuses it.
        with pytest.raises(errors.InvalidSignature) as refused:
            relayer.request_to_join_by_sig(changed)
        assert refused.value.signer in {signer, me.address, other.address}
    assert relayer.nonce(me.address) == 0
    assert relayer.invitation_uses(inv.id) == (0, False)
    assert relayer.join_request(me.address) is None


def test_invitation_changed_with_a_matching_applicant_signature_is_refused(
    relayer: CommunityClient, domain: BallotDomain
) -> None:
    """The applicant signs the changed invitation's id, but the inviter never signed it."""
    me = newcomer()
    signed_inv = invite(relayer, domain)
    forged = replace(signed_inv, invitation=replace(signed_inv.invitation, max_uses=1000))
    with pytest.raises(errors.InvalidSignature) as refused:
        relayer.request_to_join_by_sig(join_request(relayer, domain, me, forged))
    assert refused.value.signer == account(0).address


def test_replay_malleated_and_expired_signatures_are_refused(
    anvil: Anvil, relayer: CommunityClient, domain: BallotDomain
) -> None:
    me = newcomer()
    signed_inv = invite(relayer, domain, uses=3)
    request = join_request(relayer, domain, me, signed_inv)
    with pytest.raises(errors.InvalidSignature):
        relayer.request_to_join_by_sig(replace(request, signature=malleate(request.signature)))
    high_inv = replace(signed_inv, signature=malleate(signed_inv.signature))
    with pytest.raises(errors.InvalidSignature):
        relayer.request_to_join_by_sig(replace(request, invitation=high_inv))
    relayer.request_to_join_by_sig(request)
    with pytest.raises(errors.InvalidSignature):  # the nonce moved on
        relayer.request_to_join_by_sig(request)

    late = newcomer()
    stale = join_request(relayer, domain, late, signed_inv)
    anvil.advance_time(HOUR + 5)
    with pytest.raises(errors.SignatureExpired) as expired:
        relayer.request_to_join_by_sig(stale)
    assert expired.value.deadline == stale.deadline
    assert relayer.invitation_uses(signed_inv.invitation.id) == (1, False)


def test_expired_invitation_is_refused(anvil: Anvil, relayer: CommunityClient, domain: BallotDomain) -> None:
    inv = Invitation(Address(account(0).address), 7, relayer.chain_time() + 60, 1)
    signed_inv = sign_invitation(account(0), domain, inv)
    anvil.advance_time(120)
    with pytest.raises(errors.InvitationExpired) as refused:
        relayer.request_to_join_by_sig(join_request(relayer, domain, newcomer(), signed_inv))
    assert (refused.value.invitation, refused.value.expiry) == (inv.id, inv.expiry)


def test_used_up_invitation_is_refused(relayer: CommunityClient, domain: BallotDomain) -> None:
    signed_inv = invite(relayer, domain, uses=1)
    relayer.request_to_join_by_sig(join_request(relayer, domain, newcomer(), signed_inv))
    with pytest.raises(errors.InvitationUsedUp) as refused:
        relayer.request_to_join_by_sig(join_request(relayer, domain, newcomer(), signed_inv))
    assert (refused.value.invitation, refused.value.max_uses) == (signed_inv.invitation.id, 1)


def test_revoked_invitation_is_refused(community: DevCommunity, relayer: CommunityClient, domain: BallotDomain) -> None:
    signed_inv = invite(relayer, domain, uses=5)
    with pytest.raises(errors.NotInviter):
        community.client(account(1)).revoke_invitation(signed_inv.invitation)
    revoked = community.client(account(0)).revoke_invitation(signed_inv.invitation).first(InvitationRevoked)
    assert (revoked.invitation, revoked.inviter) == (signed_inv.invitation.id, account(0).address)
    assert relayer.invitation_uses(signed_inv.invitation.id) == (0, True)
    with pytest.raises(errors.InvitationIsRevoked):
        relayer.request_to_join_by_sig(join_request(relayer, domain, newcomer(), signed_inv))
    with pytest.raises(errors.InvitationIsRevoked):
        community.client(account(0)).revoke_invitation(signed_inv.invitation)


def test_invitation_of_a_member_who_left_is_refused(
    community: DevCommunity, relayer: CommunityClient, domain: BallotDomain
) -> None:
    signed_inv = invite(relayer, domain, inviter=2)
    community.client(account(2)).leave()
    with pytest.raises(errors.InviterNotMember) as refused:
        relayer.request_to_join_by_sig(join_request(relayer, domain, newcomer(), signed_inv))
    assert refused.value.inviter == account(2).address


def test_second_request_while_the_first_is_open_is_refused(relayer: CommunityClient, domain: BallotDomain) -> None:
    me = newcomer()
    signed_inv = invite(relayer, domain, uses=2)
    created, _ = relayer.request_to_join_by_sig(join_request(relayer, domain, me, signed_inv))
    with pytest.raises(errors.JoinAlreadyRequested) as refused:
        relayer.request_to_join_by_sig(join_request(relayer, domain, me, signed_inv))
    assert refused.value.number == created.number
    assert relayer.nonce(me.address) == 1


def test_non_member_cannot_add_a_key_by_signature(anvil: Anvil, relayer: CommunityClient, domain: BallotDomain) -> None:
    stranger = newcomer()
    deadline = relayer.chain_time() + HOUR
    auth = sign_key_authorisation(stranger, domain, stranger.address, APP_KEY, 0, deadline)
    with pytest.raises(errors.NotAMember):
        relayer.add_key_by_sig(auth)
    member = account(1)
    good = sign_key_authorisation(member, domain, member.address, APP_KEY, relayer.nonce(member.address), deadline)
    with pytest.raises(errors.InvalidSignature):
        relayer.add_key_by_sig(replace(good, key=keccak(text="another key")))
    with pytest.raises(errors.InvalidSignature):
        relayer.add_key_by_sig(replace(good, signature=malleate(good.signature)))
    relayer.add_key_by_sig(good)
    with pytest.raises(errors.InvalidSignature):  # replay: the nonce moved on
        relayer.add_key_by_sig(replace(good, key=keccak(text="k2")))
    late = sign_key_authorisation(
        member, domain, member.address, keccak(text="k3"), relayer.nonce(member.address), deadline
    )
    anvil.advance_time(HOUR + 5)
    with pytest.raises(errors.SignatureExpired):
        relayer.add_key_by_sig(late)


def test_after_a_defeat_the_newcomer_may_ask_again(
    community: DevCommunity, relayer: CommunityClient, domain: BallotDomain
) -> None:
    me = newcomer()
    first, _ = relayer.request_to_join_by_sig(join_request(relayer, domain, me, invite(relayer, domain)))
    for voter in (0, 1):
        community.client(account(voter)).cast_vote(first.proposal_id, Support.AGAINST)
    assert relayer.state(first.proposal_id) is ProposalState.DEFEATED
    again, _ = relayer.request_to_join_by_sig(join_request(relayer, domain, me, invite(relayer, domain, inviter=1)))
    assert again.number == first.number + 1
    assert again.proposer == account(1).address

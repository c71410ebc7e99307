"""A small seeded soak (``make soak`` runs the full one): jobs from several users with random faults
and concurrent top-ups; nothing lost, nothing charged or granted twice, refunds match failures,
and no secret anywhere in logs, events, job documents or RunPod inputs."""

import pytest

from devstack.soak import run_soak

pytestmark = pytest.mark.e2e


def test_a_small_seeded_soak_loses_nothing_and_charges_nothing_twice(stack):
    report = run_soak(stack, jobs=30, users=6, seed=7)
    print("\n".join(report.lines()))
    assert report.submitted == 30 and report.lost == [], report.lines()
    assert not report.double_charges and not report.double_grants and not report.balance_mismatches, report.lines()
    assert report.refunds == report.refundable_failures, report.lines()
    assert report.secrets_found == [], report.secrets_found
    assert sum(report.faults.values()) >= 3, report.faults
    assert report.ok

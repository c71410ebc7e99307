"""The cost table's arithmetic (bench_gpu --clips): dollars per clip and margin per plan."""

import pytest

from schemas.jobs import Quality
from worker_image import bench_clips, bench_gpu, costs


def test_each_plan_earns_its_price_over_its_credits_in_usd():
    prices = costs.PriceList.default(usd_per_billing_unit=1.27)

    assert prices.per_credit_usd["starter"] == pytest.approx(10.36 / 80 * 1.27)
    assert prices.per_credit_usd["studio"] == pytest.approx(59.50 / 500 * 1.27)
    assert prices.per_credit_usd["top-up"] == pytest.approx(0.25 * 1.27)


def test_a_clip_costs_its_gpu_seconds_and_its_margin_is_against_its_credits():
    prices = costs.PriceList({"plan": 0.15, "top-up": 0.30})

    cost = costs.clip_cost(15, Quality.STANDARD, gpu_seconds=300.0, prices=prices, gpu_price_per_second_usd=0.001)

    assert (cost.usd, cost.credits) == (pytest.approx(0.30), 3)
    assert cost.margins == {"plan": pytest.approx((0.45 - 0.30) / 0.45), "top-up": pytest.approx((0.90 - 0.30) / 0.90)}
    assert cost.worst_margin == pytest.approx(1 / 3)


def test_a_clip_that_costs_more_than_it_earns_has_a_negative_margin_and_break_even_says_where():
    prices = costs.PriceList({"plan": 0.10})

    assert costs.clip_cost(5, Quality.FAST, 200.0, prices, 0.001).margins["plan"] == pytest.approx(-1.0)
    assert costs.break_even_gpu_seconds(10, Quality.STANDARD, prices, 0.001) == pytest.approx(200.0)


def test_timed_steps_are_extrapolated_to_the_products_steps_in_every_segment():
    assert bench_clips.extrapolated_total(total_s=20.0, step_s=2.0, timed_steps=2, product_steps=50, segments=3) == 308.0


def test_every_switch_row_maps_to_worker_settings():
    rows = {name: bench_clips.switch_settings(name) for name in bench_clips.SWITCHES}

    assert not rows["eager"].wan_compile and rows["compile"].wan_compile
    assert rows["compile+fbc"].wan_step_cache == "first-block" and rows["compile+fp8"].wan_fp8
    assert bench_gpu.main  # the GPU script imports on a machine without a GPU

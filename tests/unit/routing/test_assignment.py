from datetime import UTC, datetime, timedelta

from daiban_routing.domain.assignment import Duty, Holding, Post, WindowCandidate, choose, holding, post_of

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def window(number: str, *, a: bool = True, b: bool = True, load: int = 0) -> WindowCandidate:
    return WindowCandidate(f"w{number}", number, f"a{number}", f"b{number}", a, b, load)


def test_the_a_post_on_duty_gets_the_task() -> None:
    got = choose([window("01")])
    assert (got.window_number, got.staff_id, got.post) == ("01", "a01", Post.a)


def test_the_b_post_takes_over_when_the_a_post_is_absent() -> None:
    got = choose([window("01", a=False)])
    assert (got.staff_id, got.post) == ("b01", Post.b)


def test_with_nobody_on_duty_the_task_waits_in_the_queue() -> None:
    got = choose([window("01", a=False, b=False)])
    assert (got.window_number, got.staff_id, got.post) == ("01", None, Post.queue)
    assert choose([]).post is Post.queue


def test_work_spreads_across_windows_of_one_department() -> None:
    assert choose([window("01", load=3), window("02", load=1)]).window_number == "02"
    assert choose([window("01", load=1), window("02", load=1)]).window_number == "01"


def test_a_staffed_window_beats_an_idle_unstaffed_one() -> None:
    got = choose([window("01", a=False, b=False), window("02", a=False, load=5)])
    assert (got.window_number, got.post) == ("02", Post.b)


def test_duty_follows_absences() -> None:
    leave = Duty(True, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert not leave.at(NOW)
    assert leave.at(NOW + timedelta(days=2))
    assert not Duty(False).at(NOW)
    assert not Duty(True, NOW - timedelta(hours=1), None).at(NOW)


def test_only_the_holder_acts_and_the_other_post_takes_over_while_the_holder_is_away() -> None:
    assert holding(None, "b01", holder_at_work=False) is Holding.free
    assert holding("a01", "a01", holder_at_work=True) is Holding.own
    assert holding("a01", "b01", holder_at_work=True) is Holding.held
    assert holding("a01", "b01", holder_at_work=False) is Holding.take_over


def test_a_new_holder_fills_their_own_post() -> None:
    assert post_of("b01", "a01", "b01", Post.a) is Post.b
    assert post_of("a01", "a01", "b01", Post.queue) is Post.a
    assert post_of("c01", "a01", "b01", Post.b) is Post.b

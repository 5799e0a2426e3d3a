"""Who gets a task at the deciding org unit: a window of the department, its A post or B post."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Post(StrEnum):
    a = "a"
    b = "b"
    queue = "queue"

    @property
    def label(self) -> str:
        return {Post.a: "A岗", Post.b: "B岗", Post.queue: "窗口队列"}[self]


@dataclass(frozen=True, slots=True)
class Duty:
    """A staff member's duty status: on duty unless switched off or inside an absence."""

    on_duty: bool
    absent_from: datetime | None = None
    absent_until: datetime | None = None

    def at(self, moment: datetime) -> bool:
        if not self.on_duty:
            return False
        if self.absent_from is None:
            return True
        # An absence without an end lasts until someone switches the person back on duty.
        return not (self.absent_from <= moment and (self.absent_until is None or moment < self.absent_until))


@dataclass(frozen=True, slots=True)
class WindowCandidate:
    window_id: str
    number: str
    a_post: str | None
    b_post: str | None
    a_on_duty: bool
    b_on_duty: bool
    open_tasks: int


@dataclass(frozen=True, slots=True)
class Assignment:
    window_id: str | None
    window_number: str | None
    staff_id: str | None
    post: Post


def _post_of(window: WindowCandidate) -> tuple[Post, str | None]:
    if window.a_post is not None and window.a_on_duty:
        return Post.a, window.a_post
    if window.b_post is not None and window.b_on_duty:
        return Post.b, window.b_post
    return Post.queue, None


def choose(windows: Sequence[WindowCandidate]) -> Assignment:
    """The window and person for a new task.

    Windows where someone is on duty come first (A post before B post); among equals the one
    with the fewest open tasks, so work spreads across the windows serving one department; the
    window number breaks ties so the choice is reproducible. With nobody on duty anywhere the
    task waits in the least loaded window's queue.
    """
    if not windows:
        return Assignment(None, None, None, Post.queue)
    rank = {Post.a: 0, Post.b: 1, Post.queue: 2}

    def key(window: WindowCandidate) -> tuple[int, int, str]:
        return rank[_post_of(window)[0]], window.open_tasks, window.number

    best = min(windows, key=key)
    post, staff = _post_of(best)
    return Assignment(best.window_id, best.number, staff, post)


class Holding(StrEnum):
    """What a person of the window taking up a task means for whoever holds it (AB岗)."""

    free = "free"  # nobody holds it (it waits in the queue): the person takes it
    own = "own"  # the person holds it already
    take_over = "take_over"  # another holds it and is away: the person takes it over
    held = "held"  # another holds it and is at work: only they may act on it


def holding(holder: str | None, actor: str, *, holder_at_work: bool) -> Holding:
    """Only the holder acts on a task; the other post takes it over while the holder is away."""
    if holder is None:
        return Holding.free
    if holder == actor:
        return Holding.own
    return Holding.held if holder_at_work else Holding.take_over


def post_of(staff_id: str, a_post: str | None, b_post: str | None, current: Post) -> Post:
    """The post a new holder fills at the window; anyone else of the window leaves it as it was."""
    if staff_id == a_post:
        return Post.a
    if staff_id == b_post:
        return Post.b
    return current

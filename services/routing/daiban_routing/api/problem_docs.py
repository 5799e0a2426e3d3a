"""The errors routing's routes answer, as the OpenAPI document shows them (recorded answers)."""

from __future__ import annotations

from daiban_common.idempotency import KEY_REUSED
from daiban_common.openapi import ProblemDoc, problem_responses
from daiban_common.staffdir import NOT_IN_DIRECTORY_DOC

TASK_NOT_FOUND = ProblemDoc(404, "No such task in the caller's subtree", detail="任务不存在")
CASE_NOT_FOUND = ProblemDoc(404, "No such case in the caller's subtree", detail="办件不存在")
ORG_NOT_FOUND = ProblemDoc(404, "No such org unit in the caller's subtree", detail="区划单位不存在")
RECORD_NOT_FOUND = ProblemDoc(404, "No such record in the caller's subtree", detail="记录不存在")
NOT_YOUR_WINDOW = ProblemDoc(
    403,
    "The task belongs to a window the caller does not staff (neither its A nor its B post)",
    detail="该任务属于01号窗口，您不是该窗口或其B岗的工作人员",
)
CLAIMED_BY_OTHER = ProblemDoc(
    409,
    "Another person on duty holds the task: only its holder acts on it (the B post takes over while "
    "the holder is on leave or off duty)",
    title="Another person on duty holds the task",
    detail="该任务由在岗的秦月承办，只有承办人可以办理；承办人请假或不在岗时，B岗方可接办",
)
NOT_IN_DIRECTORY = NOT_IN_DIRECTORY_DOC
NO_WINDOW = ProblemDoc(
    409,
    "The task has no window to reassign within",
    detail="该任务尚无办理窗口，请先在目录中为该部门设置窗口",
)
NOT_OF_WINDOW = ProblemDoc(
    422,
    "The person does not work at the task's window, or is away",
    errors=[("staff_id", "该工作人员不是01号窗口的工作人员")],
)
ALREADY_DECIDED = ProblemDoc(409, "The task is decided already", detail="该任务已作出决定，不能重复决定")
PAUSED = ProblemDoc(
    409,
    "The clock is paused: resume it (or wait for the supplement) first",
    detail="办件处于暂停计时状态，请先恢复计时（或等待补正）再作决定",
)
SECOND_SUPPLEMENT = ProblemDoc(
    409,
    "A supplement was asked for once already (一次性告知)",
    detail="补正只能一次性告知：本办件已要求过一次补正",
)
RESULT_REQUIRED = ProblemDoc(
    422, "An approval needs its result", errors=[("result", "准予办理须填写办理结果，例如证照编号")]
)
ALREADY_PAUSED = ProblemDoc(409, "The clock is paused already", detail="办件已在暂停计时中，请先恢复计时")
PROCEDURE_NOT_ALLOWED = ProblemDoc(
    422,
    "The item allows no such special procedure",
    errors=[("procedure", "本事项不适用“现场勘察”，可用的特别程序：无")],
)
NOT_PAUSED = ProblemDoc(409, "The clock is not paused", detail="办件未处于暂停计时状态，无需恢复")
SECOND_EXTENSION = ProblemDoc(
    409, "A case is extended once at most", detail="每个办件只能延期一次，本办件已延期5个工作日"
)
DEPARTMENT_IN_USE = ProblemDoc(
    409, "A window still serves the department", detail="仍有窗口办理该部门业务（01号），请先调整窗口"
)
WINDOW_IN_USE = ProblemDoc(409, "The window still has open tasks", detail="该窗口仍有未办结的任务，不能删除")
SAME_KEY = ProblemDoc(
    409,
    "A record with the same code and other content exists (the same content again answers 200)",
    detail="370285101000的部门township.civil_affairs已存在内容不同的同编号记录；修改请用 PUT",
)

CLAIM = problem_responses(TASK_NOT_FOUND, NOT_IN_DIRECTORY, NOT_YOUR_WINDOW, CLAIMED_BY_OTHER)
DECIDE = problem_responses(
    TASK_NOT_FOUND,
    NOT_IN_DIRECTORY,
    NOT_YOUR_WINDOW,
    CLAIMED_BY_OTHER,
    ALREADY_DECIDED,
    PAUSED,
    SECOND_SUPPLEMENT,
    RESULT_REQUIRED,
)
PAUSE = problem_responses(
    TASK_NOT_FOUND,
    NOT_IN_DIRECTORY,
    NOT_YOUR_WINDOW,
    CLAIMED_BY_OTHER,
    ALREADY_PAUSED,
    ALREADY_DECIDED,
    PROCEDURE_NOT_ALLOWED,
)
RESUME = problem_responses(TASK_NOT_FOUND, NOT_IN_DIRECTORY, NOT_YOUR_WINDOW, NOT_PAUSED)
REASSIGN = problem_responses(TASK_NOT_FOUND, NOT_IN_DIRECTORY, ALREADY_DECIDED, NO_WINDOW, NOT_OF_WINDOW)
EXTENSION = problem_responses(CASE_NOT_FOUND, NOT_IN_DIRECTORY, SECOND_EXTENSION, KEY_REUSED)
CASE = problem_responses(CASE_NOT_FOUND)
HOME_VISIT = problem_responses(CASE_NOT_FOUND, KEY_REUSED)
PUBLIC_ORG_NOT_FOUND = ProblemDoc(
    404,
    "No such org unit in the county's directory",
    detail="区划单位370285101999不存在",
    errors=[("org", "目录中没有该区划单位")],
)
BAD_SCHEDULE = ProblemDoc(
    422,
    "A day of the schedule is outside the year, both a day off and a working day, or a weekday "
    "listed as a make-up working day",
    errors=[("workdays[0]", "2031-02-03本是工作日，不能列为调休上班日")],
)
